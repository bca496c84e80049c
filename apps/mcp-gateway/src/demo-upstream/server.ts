import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { seedCrm, type CrmData, type Job, type SeedOptions, type User } from './data';
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
const nowIso = (): string => new Date().toISOString();

interface Paging {
  page?: number;
  limit?: number;
}
const pagingSchema = {
  page: { type: 'integer', minimum: 1, default: 1 },
  limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
} as const;

function paginate<T>(items: T[], q: Paging): { data: T[]; page: number; limit: number; total: number } {
  const page = q.page ?? 1;
  const limit = q.limit ?? 20;
  return { data: items.slice((page - 1) * limit, page * limit), page, limit, total: items.length };
}

function notFound(reply: FastifyReply, what: string, id: string): FastifyReply {
  return reply.code(404).send({ error: 'not_found', message: `${what} ${id} not found` });
}

/**
 * A small CRM-like REST API (jobs, contacts, estimates, attachments, activities,
 * users, tasks, calendar, webhook registrations) with deterministic seed data,
 * simulated latency, a call counter (`GET /__stats`) and signed webhooks on writes.
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
  const publicUser = (u: User): Omit<User, 'api_key'> => {
    const { api_key: _k, ...rest } = u;
    return rest;
  };

  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    void reply.code(status).send({ error: status === 400 ? 'bad_request' : 'error', message: err.message });
  });

  // ---- control routes (not counted, no latency) ----
  app.get('/__stats', async () => stats());
  app.post('/__stats/reset', async () => {
    resetStats();
    return { ok: true };
  });
  app.post<{ Body: { mode: ChaosMode } }>(
    '/__chaos',
    { schema: { body: { type: 'object', required: ['mode'], properties: { mode: { enum: ['ok', 'error', 'hang'] } } } } },
    async (req) => {
      chaosMode = req.body.mode;
      return { mode: chaosMode };
    },
  );
  app.get('/health', async () => ({ ok: true }));

  // ---- users ----
  app.get('/me', async (req, reply) => {
    const u = userFor(req);
    return u ? { ...publicUser(u), tasks_open: data.tasks.filter((t) => t.assignee_id === u.id && t.status === 'open').length } : reply.code(401).send({ error: 'unauthorized', message: 'no API key' });
  });
  app.get('/users', async () => ({ data: data.users.map(publicUser), total: data.users.length }));
  app.get<{ Params: { id: string } }>('/users/:id', async (req, reply) => {
    const u = data.users.find((x) => x.id === req.params.id);
    return u ? publicUser(u) : notFound(reply, 'user', req.params.id);
  });

  // ---- contacts ----
  app.get<{ Querystring: Paging & { search?: string } }>(
    '/contacts',
    { schema: { querystring: { type: 'object', properties: { ...pagingSchema, search: { type: 'string' } } } } },
    async (req) => {
      const s = req.query.search?.toLowerCase();
      const items = s ? data.contacts.filter((c) => `${c.name} ${c.email} ${c.company}`.toLowerCase().includes(s)) : data.contacts;
      return paginate(items, req.query);
    },
  );
  app.get<{ Params: { id: string } }>('/contacts/:id', async (req, reply) => {
    const c = data.contacts.find((x) => x.id === req.params.id);
    return c ?? notFound(reply, 'contact', req.params.id);
  });
  app.get<{ Params: { id: string } }>('/contacts/:id/jobs', async (req, reply) => {
    if (!data.contacts.some((x) => x.id === req.params.id)) return notFound(reply, 'contact', req.params.id);
    const items = data.jobs.filter((j) => j.contact_id === req.params.id);
    return { data: items, total: items.length };
  });
  const contactBody = {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1 },
      email: { type: 'string', minLength: 3 },
      phone: { type: 'string' },
      company: { type: 'string' },
    },
  } as const;
  app.post<{ Body: { name: string; email: string; phone?: string; company?: string } }>(
    '/contacts',
    { schema: { body: { ...contactBody, required: ['name', 'email'] } } },
    async (req, reply) => {
      const t = nowIso();
      const c = { id: nextId('contact'), phone: '', company: '', ...req.body, created_at: t, updated_at: t };
      data.contacts.push(c);
      emitter.emit('contact.created', 'contact', c.id);
      return reply.code(201).send(c);
    },
  );
  app.patch<{ Params: { id: string }; Body: Record<string, string> }>(
    '/contacts/:id',
    { schema: { body: { ...contactBody, minProperties: 1 } } },
    async (req, reply) => {
      const c = data.contacts.find((x) => x.id === req.params.id);
      if (!c) return notFound(reply, 'contact', req.params.id);
      Object.assign(c, req.body, { updated_at: nowIso() });
      emitter.emit('contact.updated', 'contact', c.id);
      return c;
    },
  );

  // ---- jobs ----
  app.get<{ Querystring: Paging & { status?: string; contact_id?: string; assigned_user_id?: string } }>(
    '/jobs',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { ...pagingSchema, status: { type: 'string' }, contact_id: { type: 'string' }, assigned_user_id: { type: 'string' } },
        },
      },
    },
    async (req) => {
      const q = req.query;
      const items = data.jobs.filter(
        (j) =>
          (!q.status || j.status === q.status) &&
          (!q.contact_id || j.contact_id === q.contact_id) &&
          (!q.assigned_user_id || j.assigned_user_id === q.assigned_user_id),
      );
      return paginate(items, q);
    },
  );
  app.get<{ Params: { id: string } }>('/jobs/:id', async (req, reply) => {
    const j = data.jobs.find((x) => x.id === req.params.id);
    return j ?? notFound(reply, 'job', req.params.id);
  });
  const jobStatus = { enum: ['lead', 'scheduled', 'in_progress', 'completed', 'cancelled'] };
  const jobBody = {
    type: 'object',
    additionalProperties: false,
    properties: {
      title: { type: 'string', minLength: 1 },
      status: jobStatus,
      contact_id: { type: 'string' },
      assigned_user_id: { type: 'string' },
      address: { type: 'string' },
      scheduled_for: { type: 'string' },
    },
  } as const;
  app.post<{ Body: Partial<Job> & { title: string; contact_id: string } }>(
    '/jobs',
    { schema: { body: { ...jobBody, required: ['title', 'contact_id'] } } },
    async (req, reply) => {
      if (!data.contacts.some((c) => c.id === req.body.contact_id)) {
        return reply.code(422).send({ error: 'unprocessable', message: `contact ${req.body.contact_id} does not exist` });
      }
      const t = nowIso();
      const j: Job = {
        id: nextId('job'),
        status: 'lead',
        assigned_user_id: 'user-2',
        address: '',
        scheduled_for: t,
        ...req.body,
        created_at: t,
        updated_at: t,
      };
      data.jobs.push(j);
      emitter.emit('job.created', 'job', j.id, { contact_id: j.contact_id });
      return reply.code(201).send(j);
    },
  );
  app.patch<{ Params: { id: string }; Body: Partial<Job> }>(
    '/jobs/:id',
    { schema: { body: { ...jobBody, minProperties: 1 } } },
    async (req, reply) => {
      const j = data.jobs.find((x) => x.id === req.params.id);
      if (!j) return notFound(reply, 'job', req.params.id);
      const before = j.status;
      Object.assign(j, req.body, { updated_at: nowIso() });
      if (req.body.status && req.body.status !== before) {
        data.activities.push({
          id: nextId('activity'),
          job_id: j.id,
          user_id: userFor(req)?.id ?? 'user-1',
          kind: 'status_change',
          text: `Status changed from ${before} to ${j.status}`,
          created_at: j.updated_at,
        });
      }
      emitter.emit('job.updated', 'job', j.id, { contact_id: j.contact_id });
      return j;
    },
  );
  app.delete<{ Params: { id: string } }>('/jobs/:id', async (req, reply) => {
    const i = data.jobs.findIndex((x) => x.id === req.params.id);
    if (i < 0) return notFound(reply, 'job', req.params.id);
    const [j] = data.jobs.splice(i, 1);
    emitter.emit('job.deleted', 'job', req.params.id, { contact_id: j?.contact_id });
    return reply.code(204).send();
  });

  // ---- estimates ----
  const jobExists = (id: string): boolean => data.jobs.some((j) => j.id === id);
  app.get<{ Params: { id: string } }>('/jobs/:id/estimates', async (req, reply) => {
    if (!jobExists(req.params.id)) return notFound(reply, 'job', req.params.id);
    const items = data.estimates.filter((e) => e.job_id === req.params.id);
    return { data: items, total: items.length };
  });
  app.get<{ Params: { id: string } }>('/estimates/:id', async (req, reply) => {
    const e = data.estimates.find((x) => x.id === req.params.id);
    return e ?? notFound(reply, 'estimate', req.params.id);
  });
  const lineSchema = {
    type: 'array',
    minItems: 1,
    items: {
      type: 'object',
      required: ['description', 'amount_cents'],
      properties: { description: { type: 'string' }, amount_cents: { type: 'integer', minimum: 0 } },
    },
  } as const;
  app.post<{ Params: { id: string }; Body: { lines: { description: string; amount_cents: number }[] } }>(
    '/jobs/:id/estimates',
    { schema: { body: { type: 'object', required: ['lines'], properties: { lines: lineSchema } } } },
    async (req, reply) => {
      if (!jobExists(req.params.id)) return notFound(reply, 'job', req.params.id);
      const t = nowIso();
      const e = {
        id: nextId('estimate'),
        job_id: req.params.id,
        lines: req.body.lines,
        amount_cents: req.body.lines.reduce((s, l) => s + l.amount_cents, 0),
        status: 'draft' as const,
        created_at: t,
        updated_at: t,
      };
      data.estimates.push(e);
      emitter.emit('estimate.created', 'estimate', e.id, { job_id: e.job_id });
      return reply.code(201).send(e);
    },
  );
  app.patch<{ Params: { id: string }; Body: { status?: 'draft' | 'sent' | 'accepted' | 'declined'; lines?: { description: string; amount_cents: number }[] } }>(
    '/estimates/:id',
    {
      schema: {
        body: {
          type: 'object',
          minProperties: 1,
          additionalProperties: false,
          properties: { status: { enum: ['draft', 'sent', 'accepted', 'declined'] }, lines: lineSchema },
        },
      },
    },
    async (req, reply) => {
      const e = data.estimates.find((x) => x.id === req.params.id);
      if (!e) return notFound(reply, 'estimate', req.params.id);
      if (req.body.status) e.status = req.body.status;
      if (req.body.lines) {
        e.lines = req.body.lines;
        e.amount_cents = e.lines.reduce((s, l) => s + l.amount_cents, 0);
      }
      e.updated_at = nowIso();
      emitter.emit('estimate.updated', 'estimate', e.id, { job_id: e.job_id });
      return e;
    },
  );

  // ---- attachments ----
  app.get<{ Params: { id: string } }>('/jobs/:id/attachments', async (req, reply) => {
    if (!jobExists(req.params.id)) return notFound(reply, 'job', req.params.id);
    const items = data.attachments.filter((a) => a.job_id === req.params.id);
    return { data: items, total: items.length };
  });
  app.post<{ Params: { id: string }; Body: { filename: string; content_type?: string; size_bytes?: number } }>(
    '/jobs/:id/attachments',
    {
      schema: {
        body: {
          type: 'object',
          required: ['filename'],
          properties: { filename: { type: 'string', minLength: 1 }, content_type: { type: 'string' }, size_bytes: { type: 'integer', minimum: 0 } },
        },
      },
    },
    async (req, reply) => {
      if (!jobExists(req.params.id)) return notFound(reply, 'job', req.params.id);
      const a = {
        id: nextId('attachment'),
        job_id: req.params.id,
        filename: req.body.filename,
        content_type: req.body.content_type ?? 'application/octet-stream',
        size_bytes: req.body.size_bytes ?? 0,
        created_at: nowIso(),
      };
      data.attachments.push(a);
      emitter.emit('attachment.created', 'attachment', a.id, { job_id: a.job_id });
      return reply.code(201).send(a);
    },
  );
  app.delete<{ Params: { id: string } }>('/attachments/:id', async (req, reply) => {
    const i = data.attachments.findIndex((x) => x.id === req.params.id);
    if (i < 0) return notFound(reply, 'attachment', req.params.id);
    const [a] = data.attachments.splice(i, 1);
    emitter.emit('attachment.deleted', 'attachment', req.params.id, { job_id: a?.job_id });
    return reply.code(204).send();
  });

  // ---- activities ----
  app.get<{ Params: { id: string } }>('/jobs/:id/activities', async (req, reply) => {
    if (!jobExists(req.params.id)) return notFound(reply, 'job', req.params.id);
    const items = data.activities.filter((a) => a.job_id === req.params.id);
    return { data: items, total: items.length };
  });
  app.post<{ Params: { id: string }; Body: { kind?: 'note' | 'call' | 'email'; text: string } }>(
    '/jobs/:id/activities',
    {
      schema: {
        body: {
          type: 'object',
          required: ['text'],
          properties: { kind: { enum: ['note', 'call', 'email'] }, text: { type: 'string', minLength: 1 } },
        },
      },
    },
    async (req, reply) => {
      if (!jobExists(req.params.id)) return notFound(reply, 'job', req.params.id);
      const a = {
        id: nextId('activity'),
        job_id: req.params.id,
        user_id: userFor(req)?.id ?? 'user-1',
        kind: req.body.kind ?? ('note' as const),
        text: req.body.text,
        created_at: nowIso(),
      };
      data.activities.push(a);
      emitter.emit('activity.created', 'activity', a.id, { job_id: a.job_id });
      return reply.code(201).send(a);
    },
  );

  // ---- tasks ----
  app.get<{ Querystring: Paging & { assignee_id?: string; status?: string; job_id?: string } }>(
    '/tasks',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { ...pagingSchema, assignee_id: { type: 'string' }, status: { type: 'string' }, job_id: { type: 'string' } },
        },
      },
    },
    async (req) => {
      const q = req.query;
      const items = data.tasks.filter(
        (t) => (!q.assignee_id || t.assignee_id === q.assignee_id) && (!q.status || t.status === q.status) && (!q.job_id || t.job_id === q.job_id),
      );
      return paginate(items, q);
    },
  );
  app.post<{ Body: { title: string; assignee_id: string; job_id?: string; due_at?: string } }>(
    '/tasks',
    {
      schema: {
        body: {
          type: 'object',
          required: ['title', 'assignee_id'],
          properties: { title: { type: 'string', minLength: 1 }, assignee_id: { type: 'string' }, job_id: { type: 'string' }, due_at: { type: 'string' } },
        },
      },
    },
    async (req, reply) => {
      const t = nowIso();
      const task = {
        id: nextId('task'),
        job_id: req.body.job_id ?? null,
        assignee_id: req.body.assignee_id,
        title: req.body.title,
        status: 'open' as const,
        due_at: req.body.due_at ?? t,
        created_at: t,
        updated_at: t,
      };
      data.tasks.push(task);
      emitter.emit('task.created', 'task', task.id, { job_id: task.job_id, assignee_id: task.assignee_id });
      return reply.code(201).send(task);
    },
  );
  app.patch<{ Params: { id: string }; Body: { title?: string; status?: 'open' | 'done'; due_at?: string } }>(
    '/tasks/:id',
    {
      schema: {
        body: {
          type: 'object',
          minProperties: 1,
          additionalProperties: false,
          properties: { title: { type: 'string', minLength: 1 }, status: { enum: ['open', 'done'] }, due_at: { type: 'string' } },
        },
      },
    },
    async (req, reply) => {
      const task = data.tasks.find((x) => x.id === req.params.id);
      if (!task) return notFound(reply, 'task', req.params.id);
      Object.assign(task, req.body, { updated_at: nowIso() });
      emitter.emit('task.updated', 'task', task.id, { job_id: task.job_id, assignee_id: task.assignee_id });
      return task;
    },
  );

  // ---- calendar ----
  app.get<{ Querystring: { user_id?: string; from?: string; to?: string } }>(
    '/calendar',
    { schema: { querystring: { type: 'object', properties: { user_id: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } } } } },
    async (req) => {
      const q = req.query;
      const items = data.calendar.filter(
        (e) => (!q.user_id || e.user_id === q.user_id) && (!q.from || e.starts_at >= q.from) && (!q.to || e.starts_at < q.to),
      );
      return { data: items, total: items.length };
    },
  );

  // ---- webhook registrations ----
  app.get('/webhooks', async () => ({ data: data.webhooks.map(({ secret: _s, ...w }) => w) }));
  app.post<{ Body: { url: string; secret: string; events?: string[] } }>(
    '/webhooks',
    {
      schema: {
        body: {
          type: 'object',
          required: ['url', 'secret'],
          properties: { url: { type: 'string', pattern: '^https?://' }, secret: { type: 'string', minLength: 8 }, events: { type: 'array', items: { type: 'string' } } },
        },
      },
    },
    async (req, reply) => {
      const w = { id: nextId('webhook'), url: req.body.url, secret: req.body.secret, events: req.body.events ?? ['*'], created_at: nowIso() };
      data.webhooks.push(w);
      const { secret: _s, ...shown } = w;
      return reply.code(201).send(shown);
    },
  );
  app.delete<{ Params: { id: string } }>('/webhooks/:id', async (req, reply) => {
    const i = data.webhooks.findIndex((x) => x.id === req.params.id);
    if (i < 0) return notFound(reply, 'webhook', req.params.id);
    data.webhooks.splice(i, 1);
    return reply.code(204).send();
  });

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
