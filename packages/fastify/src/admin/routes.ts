import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Aggregate, AlertManager, CacheAnalytics, Advisor, AdaptiveTtl, TrendRange } from '@stratacache/analytics';
import type { AdminCache, AdminInvalidateTarget } from './cache-port';
import type { AdminRole } from './auth';
import { isWarmingResult, type AdminWarming } from './warming';
import type { BreakerTimeline } from './timeline';
import {
  acknowledgeParams,
  anyObject,
  emptyQuery,
  invalidateBody,
  invalidateResultSchema,
  limitQuery,
  optimizeBody,
  performanceQuery,
  rangeQuery,
  responses,
  warmingBody,
} from './schemas';

/** What the admin routes read from (all but `cache` optional: their routes answer 501 without). */
export interface AdminSources {
  cache: AdminCache;
  analytics?: CacheAnalytics | undefined;
  alerts?: AlertManager | undefined;
  advisor?: Advisor | undefined;
  adaptive?: AdaptiveTtl | undefined;
  warming?: AdminWarming | undefined;
  timeline: BreakerTimeline;
  refreshMs: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the admin auth hook: who called (token name, never the token) and with which role. */
    strataAdmin?: { role: AdminRole; name: string };
  }
  interface FastifyContextConfig {
    /** Role an admin route needs (`read` unless said otherwise; `false` = public). */
    strataRole?: AdminRole | false;
  }
}

export class NotConfigured extends Error {
  readonly statusCode = 501;
  constructor(what: string, how: string) {
    super(`${what} is not configured on this server: ${how}`);
    this.name = 'NotConfigured';
  }
}

function need<T>(value: T | undefined, what: string, how: string): T {
  if (value === undefined) throw new NotConfigured(what, how);
  return value;
}

const tags = (t: string) => ({ tags: [t], security: [{ bearerAuth: [] }] });
const ANALYTICS_HOW = 'pass `analytics` (a CacheAnalytics) to the plugin';

/** The admin routes (`/health`, `/stats`, …) relative to the plugin's prefix. */
export function registerAdminRoutes(app: FastifyInstance, src: AdminSources): void {
  const analytics = () => need(src.analytics, 'analytics', ANALYTICS_HOW);
  const admin = { strataRole: 'admin' as const };

  app.get('/auth/whoami', { schema: { ...tags('auth'), summary: 'Role of the presented token', response: responses({ type: 'object', properties: { role: { type: 'string' }, name: { type: 'string' } } }) } }, async (req) => req.strataAdmin);

  app.get('/health', { schema: { ...tags('cache'), summary: 'Cache health (503 when not ok)', querystring: emptyQuery } }, async (_req, reply) => {
    const h = await src.cache.health().catch((err: Error) => ({ ok: false, error: err.message }));
    return reply.code(h.ok ? 200 : 503).send(h);
  });

  app.get('/stats', { schema: { ...tags('cache'), summary: 'Cache statistics', querystring: emptyQuery } }, async () => ({ cache: await src.cache.stats(), local: src.analytics ? (await src.analytics.overview()).local : undefined }));

  app.post('/clear', { config: admin, schema: { ...tags('cache'), summary: 'Clears the whole cache (admin)', response: responses(invalidateResultSchema, [403]) } }, async (req, reply) => {
    const r = await src.cache.clear();
    req.log.warn({ by: req.strataAdmin?.name, ok: r.ok }, 'stratacache admin: cache cleared');
    return reply.code(r.ok ? 200 : 502).send(r);
  });

  app.post<{ Body: AdminInvalidateTarget }>(
    '/invalidate',
    { config: admin, schema: { ...tags('cache'), summary: 'Invalidates one key, pattern, tag or namespace (admin)', body: invalidateBody, response: responses(invalidateResultSchema, [403]) } },
    async (req, reply) => {
      const r = await src.cache.invalidate(req.body);
      req.log.info({ by: req.strataAdmin?.name, target: Object.keys(req.body).join('+'), ok: r.ok }, 'stratacache admin: invalidate');
      return reply.code(r.ok ? 200 : 502).send(r);
    },
  );

  app.get<{ Querystring: { limit: number } }>('/analytics/top-queries', { schema: { ...tags('analytics'), summary: 'Busiest keys (bounded top-K)', querystring: limitQuery } }, async (req) => ({ keys: analytics().topKeys(req.query.limit) }));

  app.get<{ Querystring: { range: TrendRange } }>('/analytics/performance', { schema: { ...tags('analytics'), summary: 'Time, origin calls and cost saved', querystring: performanceQuery } }, async (req) => analytics().performanceReport(req.query.range));

  app.get('/analytics/recommendations', { schema: { ...tags('analytics'), summary: 'TTL, key normalisation and warming advice', querystring: emptyQuery } }, async () => ({
    recommendations: need(src.advisor, 'the advisor', 'pass `advisor` (analytics.startAdvisor().advisor)').recommendations(),
  }));

  app.get<{ Querystring: { limit: number } }>('/alerts', { schema: { ...tags('alerts'), summary: 'Active alerts and history', querystring: limitQuery } }, async (req) => {
    const alerts = need(src.alerts, 'alerts', 'pass `alerts` (analytics.startAlerts(...))');
    return { active: alerts.activeAlerts(), history: alerts.alertHistory(req.query.limit) };
  });

  app.post<{ Params: { id: string } }>(
    '/alerts/:id/acknowledge',
    { config: admin, schema: { ...tags('alerts'), summary: 'Acknowledges an alert (admin)', params: acknowledgeParams, response: responses(anyObject, [403, 404]) } },
    async (req, reply) => {
      const alerts = need(src.alerts, 'alerts', 'pass `alerts` (analytics.startAlerts(...))');
      if (!alerts.acknowledge(req.params.id, req.strataAdmin?.name ?? 'unknown')) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no alert ${req.params.id}` });
      return { acknowledged: alerts.alertHistory(500).find((a) => a.id === req.params.id) ?? { id: req.params.id } };
    },
  );

  app.get<{ Querystring: { range: TrendRange } }>('/trends', { schema: { ...tags('analytics'), summary: 'Trend points summed over every instance', querystring: rangeQuery } }, async (req) => analytics().trend(req.query.range));

  app.get<{ Querystring: { limit: number } }>('/invalidations', { schema: { ...tags('analytics'), summary: 'Invalidation history, newest first', querystring: limitQuery } }, async (req) => ({ invalidations: await analytics().invalidations(req.query.limit) }));

  app.get('/invalidations/stats', { schema: { ...tags('analytics'), summary: 'Invalidations per entity', querystring: emptyQuery } }, async () => analytics().invalidationStats());

  const WARM_HOW = 'pass `warming` ({ warm(keys), stats() }) to the plugin';
  app.post<{ Body: { keys: string[] } }>('/warming', { config: admin, schema: { ...tags('warming'), summary: 'Queues keys for warming (admin); 422 when none could be queued', body: warmingBody, response: responses(anyObject, [403, 501]) } }, async (req, reply) => {
    const w = need(src.warming, 'warming', WARM_HOW);
    const result = await w.warm(req.body.keys);
    if (isWarmingResult(result)) {
      req.log.info({ by: req.strataAdmin?.name, queued: result.queued.length, rejected: result.rejected.length }, 'stratacache admin: warming');
      if (result.queued.length === 0) {
        const first = result.rejected[0];
        return reply.code(422).send({ statusCode: 422, error: 'Unprocessable Entity', message: `no key could be queued${first ? `: ${first.message}` : ''}`, result });
      }
      return reply.code(202).send({ accepted: result.queued.length, result });
    }
    return reply.code(202).send({ accepted: req.body.keys.length, result: result ?? null });
  });

  app.get('/warming/queue', { schema: { ...tags('warming'), summary: 'Warming queue state', querystring: emptyQuery } }, async () => ({ queue: await need(src.warming, 'warming', WARM_HOW).stats() }));

  app.post<{ Body: { dryRun?: boolean } | null }>('/optimize', { config: admin, schema: { ...tags('analytics'), summary: 'Applies the TTL advice once (admin)', body: optimizeBody, response: responses(anyObject, [403, 501]) } }, async (req) => {
    const adaptive = need(src.adaptive, 'adaptive TTL', 'pass `adaptive` (analytics.startAdvisor({ autoApply }).adaptive)');
    if (req.body?.dryRun) return { dryRun: true, recommendations: src.advisor?.recommendations() ?? [] };
    const changes = adaptive.evaluate();
    req.log.info({ by: req.strataAdmin?.name, changes: changes.length }, 'stratacache admin: optimize');
    return { dryRun: false, changes };
  });

  app.get('/dashboard/data', { schema: { ...tags('dashboard'), summary: 'Everything the dashboard page shows', querystring: emptyQuery } }, async (req) => dashboardData(src, req));
}

/** Per-entity rows of an aggregate (all instances), busiest first, at most 20. */
function entityRows(by: Aggregate['byEntity']): Aggregate['byEntity'][string][] {
  return Object.values(by)
    .sort((x, y) => y.requests - x.requests || (x.entity < y.entity ? -1 : 1))
    .slice(0, 20);
}

/** One JSON document for the page: overview, trend, per-entity breakdown, alerts, invalidations, warming, breaker timeline. */
async function dashboardData(src: AdminSources, req: FastifyRequest): Promise<Record<string, unknown>> {
  const a = src.analytics;
  const [overview, trend, aggregate, invalidations, warming] = await Promise.all([
    a?.overview(),
    a?.trend('1h'),
    a?.aggregate('1h'),
    a?.invalidations(20),
    src.warming ? Promise.resolve(src.warming.stats()).catch((e: Error) => ({ error: e.message })) : undefined,
  ]);
  if (overview) src.timeline.sample(overview.circuits, overview.redis);
  return {
    generatedAt: Date.now(),
    refreshMs: src.refreshMs,
    role: req.strataAdmin?.role,
    configured: { analytics: !!a, alerts: !!src.alerts, advisor: !!src.advisor, adaptive: !!src.adaptive, warming: !!src.warming },
    overview: overview && { local: overview.local, circuits: overview.circuits, redis: overview.redis ?? null, invalidationsByKind: overview.invalidationsByKind },
    topQueries: overview?.topKeys.slice(0, 20) ?? [],
    entities: aggregate ? entityRows(aggregate.byEntity) : [],
    trend: trend ?? null,
    alerts: src.alerts ? { active: src.alerts.activeAlerts(), history: src.alerts.alertHistory(20) } : null,
    invalidations: invalidations ?? [],
    warming: warming === undefined ? null : { queue: warming },
    timeline: src.timeline.points(),
  };
}

/** Sends 501 / 4xx errors as `{ statusCode, error, message }`, 5xx without internals. */
export function adminErrorHandler(err: Error & { statusCode?: number; validation?: unknown }, req: FastifyRequest, reply: FastifyReply): void {
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  if (status >= 500 && status !== 501) req.log.error({ err: { message: err.message, name: err.name } }, 'stratacache admin route failed');
  const error = status === 501 ? 'Not Implemented' : status >= 500 ? 'Internal Server Error' : status === 429 ? 'Too Many Requests' : status === 404 ? 'Not Found' : 'Bad Request';
  void reply.code(status).send({ statusCode: status, error, message: status >= 500 && status !== 501 ? 'internal error' : err.message });
}
