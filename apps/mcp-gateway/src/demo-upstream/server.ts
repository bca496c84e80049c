import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { DemoContext } from './context';
import { seedCrm, type CrmData, type SeedOptions, type User } from './data';
import { activityRoutes } from './routes/activities';
import { attachmentRoutes } from './routes/attachments';
import { calendarRoutes } from './routes/calendar';
import { contactRoutes } from './routes/contacts';
import { controlRoutes } from './routes/control';
import { estimateRoutes } from './routes/estimates';
import { jobRoutes } from './routes/jobs';
import { taskRoutes } from './routes/tasks';
import { userRoutes } from './routes/users';
import { webhookRegistrationRoutes } from './routes/webhooks';
import { WebhookEmitter, type WebhookTarget } from './webhook-emitter';

export interface LatencyRange {
  minMs: number;
  maxMs: number;
}

export interface DemoUpstreamOptions {
  /** Simulated latency of every API call. Default: `DEMO_LATENCY` env or 300–800 ms uniform. */
  latency?: LatencyRange | number;
  /** Seed of the deterministic data set. */
  seed?: SeedOptions;
  /** Where signed webhooks are sent on writes (in addition to those registered with `POST /webhooks`). */
  webhookTargets?: WebhookTarget[];
  /** Refuse calls without a known API key (`X-Api-Key` or `Authorization: Bearer`). Default true. */
  requireApiKey?: boolean;
  /** Fastify logger (default off). */
  logger?: boolean;
}

/** How the upstream misbehaves on purpose (tests, load tester): `error` = 503, `hang` = no answer for 30 s. */
export type ChaosMode = 'ok' | 'error' | 'hang';

export interface DemoUpstreamStats {
  /** API calls served (control routes `/__*` excluded). */
  total: number;
  reads: number;
  writes: number;
  /** Calls by `METHOD /route/:param`. */
  byRoute: Record<string, number>;
  webhooksSent: number;
  webhooksFailed: number;
}

export interface DemoUpstream {
  readonly app: FastifyInstance;
  readonly data: CrmData;
  readonly emitter: WebhookEmitter;
  /** Base URL, available after `listen()`. */
  url: string;
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
  stats(): DemoUpstreamStats;
  resetStats(): void;
  chaos(mode: ChaosMode): void;
  setLatency(latency: LatencyRange | number): void;
}

/** Parses `DEMO_LATENCY`: `0`, `250` or `300-800` (ms). */
export function parseLatency(value: string | undefined, fallback: LatencyRange = { minMs: 300, maxMs: 800 }): LatencyRange {
  if (value === undefined || value.trim() === '') return fallback;
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(value);
  if (!m) throw new Error(`DEMO_LATENCY must be "<ms>" or "<min>-<max>" (got "${value}")`);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  return { minMs: Math.min(min, max), maxMs: Math.max(min, max) };
}

const toRange = (l: LatencyRange | number): LatencyRange => (typeof l === 'number' ? { minMs: l, maxMs: l } : l);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A small CRM-like REST API (jobs, contacts, estimates, attachments, activities,
 * users, tasks, calendar, webhook registrations) with deterministic seed data,
 * simulated latency, a call counter (`GET /__stats`) and signed webhooks on writes.
 * This file holds what applies to every route (latency, chaos, API keys, counting, errors);
 * each resource is one Fastify plugin in `routes/`.
 */
export function createDemoUpstream(opts: DemoUpstreamOptions = {}): DemoUpstream {
  const data = seedCrm(opts.seed);
  let latency = toRange(opts.latency ?? parseLatency(process.env['DEMO_LATENCY']));
  let chaosMode: ChaosMode = 'ok';
  const requireKey = opts.requireApiKey ?? true;
  const counters: DemoUpstreamStats = { total: 0, reads: 0, writes: 0, byRoute: {}, webhooksSent: 0, webhooksFailed: 0 };
  const emitter = new WebhookEmitter({
    targets: () => [
      ...(opts.webhookTargets ?? []),
      ...data.webhooks.map((w) => ({ url: w.url, secret: w.secret, events: w.events })),
    ],
    onResult: (ok) => {
      if (ok) counters.webhooksSent++;
      else counters.webhooksFailed++;
    },
  });
  let seq = 1000;
  const nextId = (kind: string): string => `${kind}-${++seq}`;

  // forceCloseConnections: close() must not wait for a keep-alive socket whose request was in flight
  const app = Fastify({ logger: opts.logger ?? false, forceCloseConnections: true });
  const isControl = (req: FastifyRequest): boolean => req.url.startsWith('/__');

  app.addHook('onRequest', async (req, reply) => {
    if (isControl(req)) return;
    const route = `${req.method} ${req.routeOptions.url ?? req.url}`;
    counters.total++;
    counters.byRoute[route] = (counters.byRoute[route] ?? 0) + 1;
    if (req.method === 'GET') counters.reads++;
    else counters.writes++;
    const { minMs, maxMs } = latency;
    const delay = minMs + Math.random() * (maxMs - minMs);
    if (delay > 0) await sleep(delay);
    if (chaosMode === 'error') {
      return reply.code(503).send({ error: 'unavailable', message: 'demo upstream is failing on purpose (chaos)' });
    }
    if (chaosMode === 'hang') {
      // hangs until chaos is turned off, the upstream closes, or 30 s pass (polling keeps close() fast)
      const until = Date.now() + 30_000;
      while (chaosMode === 'hang' && Date.now() < until) await sleep(50);
      return reply.code(504).send({ error: 'timeout', message: 'demo upstream hung on purpose (chaos)' });
    }
    if (requireKey && req.url !== '/health') {
      const user = userFor(req);
      if (!user) return reply.code(401).send({ error: 'unauthorized', message: 'missing or unknown API key' });
    }
    return undefined;
  });

  function userFor(req: FastifyRequest): User | undefined {
    const header = req.headers['x-api-key'];
    let key = Array.isArray(header) ? header[0] : header;
    const auth = req.headers.authorization;
    if (!key && auth?.startsWith('Bearer ')) key = auth.slice(7).trim();
    return key ? data.users.find((u) => u.api_key === key) : undefined;
  }

  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    void reply.code(status).send({ error: status === 400 ? 'bad_request' : 'error', message: err.message });
  });

  // one encapsulated plugin per resource; the hooks and error handler above apply to all of them
  void app.register(controlRoutes, {
    stats,
    resetStats,
    setChaos: (mode: ChaosMode) => {
      chaosMode = mode;
    },
  });
  const ctx: DemoContext = { data, emitter, nextId, userFor, jobExists: (id) => data.jobs.some((j) => j.id === id) };
  for (const plugin of [userRoutes, contactRoutes, jobRoutes, estimateRoutes, attachmentRoutes, activityRoutes, taskRoutes, calendarRoutes, webhookRegistrationRoutes]) {
    void app.register(plugin, ctx);
  }

  function stats(): DemoUpstreamStats {
    return { ...counters, byRoute: { ...counters.byRoute } };
  }
  function resetStats(): void {
    Object.assign(counters, { total: 0, reads: 0, writes: 0, byRoute: {}, webhooksSent: 0, webhooksFailed: 0 });
  }

  const upstream: DemoUpstream = {
    app,
    data,
    emitter,
    url: '',
    async listen(port = 0, host = '127.0.0.1') {
      await app.listen({ port, host });
      const addr = app.server.address();
      const p = typeof addr === 'object' && addr ? addr.port : port;
      upstream.url = `http://${host}:${p}`;
      return upstream.url;
    },
    async close() {
      chaosMode = 'ok';
      await emitter.drain();
      await app.close();
    },
    stats,
    resetStats,
    chaos(mode) {
      chaosMode = mode;
    },
    setLatency(l) {
      latency = toRange(l);
    },
  };
  return upstream;
}
