import type { FastifyInstance } from 'fastify';
import type { CacheAnalytics } from '@stratacache/analytics';

/** At most this many live streams at once per plugin (the rest get 503). */
export const MAX_LIVE_STREAMS = 20;

/**
 * `GET <prefix>/dashboard/events`: server-sent events with this process's live numbers (requests,
 * hit rate, per-source p99, circuits) every `liveMs`. Bearer auth like every admin route (the page
 * reads it with `fetch`, which can send the header). Streams end when Fastify closes.
 */
export function registerLive(app: FastifyInstance, analytics: CacheAnalytics | undefined, liveMs: number): void {
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...streams]) end();
  });
  app.get('/dashboard/events', { schema: { tags: ['dashboard'], summary: 'Live numbers (text/event-stream)', security: [{ bearerAuth: [] }] } }, async (req, reply) => {
    if (!analytics) return reply.code(501).send({ statusCode: 501, error: 'Not Implemented', message: 'analytics is not configured on this server: pass `analytics` (a CacheAnalytics) to the plugin' });
    if (streams.size >= MAX_LIVE_STREAMS) return reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', message: `too many live streams (max ${MAX_LIVE_STREAMS})` });
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
    const send = async (): Promise<void> => {
      const o = await analytics.overview();
      const l = o.local;
      const body = { t: Date.now(), requests: l.requests, hits: l.hits, hitRate: l.hitRate, originCalls: l.originCalls, p99: { l1: l.latency.l1.p99, l2: l.latency.l2.p99, origin: l.latency.origin.p99 }, circuits: o.circuits };
      if (!res.writableEnded) res.write(`event: overview\ndata: ${JSON.stringify(body)}\n\n`);
    };
    const timer = setInterval(() => void send().catch(() => undefined), liveMs);
    const end = (): void => {
      clearInterval(timer);
      streams.delete(end);
      if (!res.writableEnded) res.end();
    };
    streams.add(end);
    req.raw.on('close', end);
    await send().catch(() => undefined);
  });
}
