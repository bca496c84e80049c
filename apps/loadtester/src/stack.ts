// What a gateway scenario runs against: either a gateway already listening on loopback (`--url`),
// or a stack this process starts itself: the demo CRM upstream + the MCP gateway (in process),
// backed by a real redis-server from the test harness (`--redis harness`, the default), a given
// Redis URL, or the embedded store (`--redis none`).
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createDemoUpstream, createGateway, defaultManifestPath, loadConfig, loadManifest, type CompiledManifest, type DemoUpstream, type Gateway } from '@stratacache/mcp-gateway';
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { requireLoopback } from './loopback';
import { errorType, type Outcome } from './recorder';

export interface StackOptions {
  /** MCP endpoint of a running gateway (loopback only). When set, nothing is started. */
  url?: string | undefined;
  /** Base URL of that gateway's upstream, to read its call counter (`GET /__stats`). */
  upstreamUrl?: string | undefined;
  /** 'harness' (start redis-server), 'none' (embedded store) or a redis:// URL (loopback only). */
  redis: string;
  /** MCP sessions (clients) to open; requests are spread over them round robin. */
  sessions: number;
  /** Simulated upstream latency of the in-process demo CRM, ms. */
  upstreamLatencyMs: number;
  /** API key sent as x-api-key. */
  apiKey: string;
  /** Per-request timeout, ms. */
  requestTimeoutMs: number;
  /** Changes the manifest before the in-process gateway starts (e.g. a short TTL). */
  manifest?: ((m: CompiledManifest) => void) | undefined;
  webhookSecret?: string;
}

export interface Stack {
  mcpUrl: string;
  upstream: DemoUpstream | undefined;
  redis: StandaloneRedis | undefined;
  gateway: Gateway | undefined;
  sessions: Client[];
  /** Calls a tool on session i % sessions; returns where the answer came from. */
  call(i: number, name: string, args: Record<string, unknown>): Promise<Outcome & { text?: string }>;
  /** Read (GET) calls the upstream has served so far (null when it cannot be read). */
  upstreamReads(): Promise<number | null>;
  close(): Promise<void>;
}

export const WEBHOOK_SECRET = 'loadtester-webhook-secret-0123456789';

export async function startStack(opts: StackOptions): Promise<Stack> {
  let upstream: DemoUpstream | undefined;
  let redis: StandaloneRedis | undefined;
  let gateway: Gateway | undefined;
  let mcpUrl: string;
  let statsUrl: string | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  const sessions: Client[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(sessions.map((c) => c.close().catch(() => undefined)));
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    if (opts.url) {
      mcpUrl = requireLoopback(opts.url, '--url').toString();
      if (opts.upstreamUrl) statsUrl = new URL('/__stats', requireLoopback(opts.upstreamUrl, '--upstream-url')).toString();
    } else {
      let redisUrl: string | undefined;
      if (opts.redis === 'harness') {
        redis = await startStandalone();
        closers.push(() => redis!.close());
        redisUrl = redis.url;
      } else if (opts.redis !== 'none') {
        requireLoopback(opts.redis, '--redis');
        redisUrl = opts.redis;
      }
      const targets: { url: string; secret: string }[] = [];
      const up = createDemoUpstream({ latency: opts.upstreamLatencyMs, webhookTargets: targets });
      upstream = up;
      await up.listen(0, '127.0.0.1');
      closers.push(() => up.close());
      const secret = opts.webhookSecret ?? WEBHOOK_SECRET;
      const config = loadConfig({
        UPSTREAM_URL: up.url,
        WEBHOOK_SECRET: secret,
        KEY_SECRET: 'loadtester-key-secret-0123456789',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        CACHE_PREFIX: `lt${Math.random().toString(36).slice(2, 8)}`,
        MAX_SESSIONS: String(Math.max(1000, opts.sessions * 2)),
        ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
      });
      const manifest = loadManifest(config.manifestPath ?? defaultManifestPath());
      opts.manifest?.(manifest);
      const quiet = new Writable({ write: (_c, _e, cb) => cb() });
      const gw = await createGateway(config, { manifest, logDestination: quiet });
      gateway = gw;
      const base = await gw.listen(0, '127.0.0.1');
      closers.push(() => gw.close({ drainMs: 0 }));
      targets.push({ url: `${base}/webhooks/crm`, secret });
      mcpUrl = `${base}/mcp`;
    }
    for (let s = 0; s < opts.sessions; s++) {
      const client = new Client({ name: 'stratacache-load', version: '0.1.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { 'x-api-key': opts.apiKey } } }));
      sessions.push(client);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    mcpUrl,
    upstream,
    redis,
    gateway,
    sessions,
    async call(i, name, args) {
      try {
        const r = (await sessions[i % sessions.length]!.callTool({ name, arguments: args }, undefined, { timeout: opts.requestTimeoutMs })) as {
          content?: { text?: string }[];
          isError?: boolean;
          _meta?: Record<string, unknown>;
        };
        const text = (r.content ?? []).map((c) => c.text ?? '').join('\n');
        if (r.isError) return { ok: false, errorType: `tool error: ${text.slice(0, 40)}` };
        const src = r._meta?.['stratacache/source'];
        return { ok: true, source: src === 'cache' || src === 'origin' || src === 'stale' ? src : undefined, text };
      } catch (err) {
        return { ok: false, errorType: errorType(err) };
      }
    },
    async upstreamReads() {
      if (upstream) return upstream.stats().reads;
      if (!statsUrl) return null;
      try {
        const res = await fetch(statsUrl, { signal: AbortSignal.timeout(5000) });
        const body = (await res.json()) as { reads?: unknown };
        return typeof body.reads === 'number' ? body.reads : null;
      } catch {
        return null;
      }
    },
    close,
  };
}
