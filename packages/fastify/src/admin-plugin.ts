import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Ajv } from 'ajv';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { AdaptiveTtl, Advisor, AlertManager, CacheAnalytics } from '@stratacache/analytics';
import { adminCache, type AdminCache } from './admin/cache-port';
import { bearer, TokenTable, type AdminRole, type AdminToken } from './admin/auth';
import { adminErrorHandler, registerAdminRoutes, type AdminSources } from './admin/routes';
import { BreakerTimeline } from './admin/timeline';
import { registerLive } from './admin/live';
import type { AdminWarming } from './admin/warming';
import { registerDashboard } from './dashboard/page';

export interface StrataAdminOptions {
  /** A CacheService, TieredCache, ShardRouter, a list of layers, or an {@link AdminCache}. */
  cache: unknown;
  /** Bearer tokens with roles. At least one. */
  tokens: readonly AdminToken[];
  analytics?: CacheAnalytics;
  alerts?: AlertManager;
  advisor?: Advisor;
  adaptive?: AdaptiveTtl;
  warming?: AdminWarming;
  /** Prefix of the admin routes (default `/cache`). */
  prefix?: string;
  /** Path of the Prometheus text (default `/metrics`, read role; `false` = not served). */
  metricsPath?: string | false;
  /** @fastify/rate-limit options for the admin routes (default 300 per minute per IP); `false` = off. */
  rateLimit?: { max: number; timeWindow: number | string } | false;
  /**
   * OpenAPI UI under `<prefix>/docs`, document at `<prefix>/docs/json`. `true` (default): served to
   * a `read` token like every admin route; `'public'`: served without a token; `false`: not served.
   */
  openapi?: boolean | 'public';
  /** Dashboard auto-refresh (default 30 000 ms) and the breaker / memory sampling period (default 10 000 ms, 0 = only on reads). */
  refreshMs?: number;
  sampleMs?: number;
  /** Period of the live numbers on `<prefix>/dashboard/events` (server-sent events; default 2000 ms). */
  liveMs?: number;
  /** Stop alerts / adaptive TTL and close analytics (and `cache.close()` if any) when Fastify closes (default false: the caller owns them). */
  close?: boolean;
}

export interface StrataAdminDecoration {
  prefix: string;
  cache: AdminCache;
  /** Role of a presented token, or undefined (constant-time compare). */
  roleOf(token: string): AdminRole | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    strataAdmin: StrataAdminDecoration;
  }
}

/** Ajv for the admin routes: unknown fields are rejected (not silently removed), query strings coerced. */
function validatorCompiler(): (opts: { schema: object; httpPart?: string }) => (data: unknown) => boolean {
  const make = (coerce: boolean) => new Ajv({ allErrors: false, useDefaults: true, coerceTypes: coerce, removeAdditional: false, strict: false });
  const body = make(false);
  const query = make(true);
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : query).compile(schema) as (data: unknown) => boolean;
}

const adminPlugin: FastifyPluginAsync<StrataAdminOptions> = async (app, opts) => {
  const prefix = (opts.prefix ?? '/cache').replace(/\/+$/, '');
  if (!/^(\/[A-Za-z0-9._~-]+)*$/.test(prefix)) throw new TypeError(`stratacache admin: bad prefix ${JSON.stringify(opts.prefix)}`);
  if (!Array.isArray(opts.tokens) || opts.tokens.length === 0) throw new TypeError('stratacache admin: `tokens` needs at least one { token, role }');
  if (opts.openapi !== undefined && typeof opts.openapi !== 'boolean' && opts.openapi !== 'public') throw new TypeError(`stratacache admin: openapi must be true, false or 'public'`);
  const docsPublic = opts.openapi === 'public';
  const table = new TokenTable(opts.tokens);
  const cache = adminCache(opts.cache);
  const timeline = new BreakerTimeline();
  const sources: AdminSources = {
    cache,
    analytics: opts.analytics,
    alerts: opts.alerts,
    advisor: opts.advisor,
    adaptive: opts.adaptive,
    warming: opts.warming,
    timeline,
    refreshMs: opts.refreshMs ?? 30_000,
  };
  app.decorate('strataAdmin', { prefix, cache, roleOf: (t: string) => table.match(t)?.role } satisfies StrataAdminDecoration);

  let timer: NodeJS.Timeout | undefined;
  const sampleMs = opts.sampleMs ?? 10_000;
  if (opts.analytics && sampleMs > 0) {
    const a = opts.analytics;
    timer = setInterval(() => {
      void a.overview().then((o) => timeline.sample(o.circuits, o.redis), () => undefined);
    }, sampleMs);
    timer.unref();
  }
  app.addHook('onClose', async () => {
    if (timer) clearInterval(timer);
    if (!opts.close) return;
    opts.alerts?.stop();
    opts.adaptive?.stop();
    await opts.analytics?.close();
    await (opts.cache as { close?: () => Promise<void> }).close?.();
  });

  await app.register(async (scope: FastifyInstance) => {
    scope.setValidatorCompiler(validatorCompiler());
    scope.setErrorHandler(adminErrorHandler);
    scope.setNotFoundHandler((req, reply) => void reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));
    if (opts.rateLimit !== false) await scope.register(rateLimit, { max: opts.rateLimit?.max ?? 300, timeWindow: opts.rateLimit?.timeWindow ?? '1 minute' });
    await scope.register(helmet, {
      global: true,
      contentSecurityPolicy: { directives: { 'upgrade-insecure-requests': null, 'img-src': ["'self'", 'data:'] } },
    });
    // auth: every route of this scope needs `read` unless its config says otherwise. A route-level
    // hook appended after the rate limiter's, so token guessing is rate limited too. Installed before
    // the OpenAPI plugins so that their routes get it as well.
    const authHook = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const need = req.routeOptions.config.strataRole;
      if (need === false || need === undefined) return;
      const token = bearer(req.headers.authorization);
      const who = token === undefined ? undefined : table.match(token);
      if (!who) {
        await reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="stratacache"')
          .send({ statusCode: 401, error: 'Unauthorized', message: token === undefined ? 'missing bearer token (Authorization: Bearer <token>)' : 'unknown token' });
        return;
      }
      req.strataAdmin = who;
      if (need === 'admin' && who.role !== 'admin') {
        await reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: `this route needs the admin role (token ${who.name} has ${who.role})` });
      }
    };
    scope.addHook('onRoute', (route) => {
      // the OpenAPI document lists every admin route and body: read role unless `openapi: 'public'`
      route.config = { strataRole: docsPublic && route.url.startsWith(`${prefix}/docs`) ? false : 'read', ...(route.config ?? {}) };
      const prev = route.onRequest;
      route.onRequest = [...(prev === undefined ? [] : Array.isArray(prev) ? prev : [prev]), authHook] as typeof route.onRequest;
    });

    if (opts.openapi !== false) {
      await scope.register(swagger, {
        openapi: {
          info: { title: 'stratacache admin API', version: '0.1.0', description: 'Cache admin routes, analytics and dashboard data. Bearer tokens: `read` or `admin`.' },
          components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
        },
      });
      await scope.register(swaggerUi, { routePrefix: `${prefix}/docs`, staticCSP: true });
    }

    await scope.register(
      async (routes) => {
        registerAdminRoutes(routes, sources);
        registerLive(routes, opts.analytics, opts.liveMs ?? 2_000);
      },
      { prefix },
    );
    registerDashboard(scope, prefix);
    if (opts.metricsPath !== false) {
      const a = opts.analytics;
      scope.get(opts.metricsPath ?? '/metrics', { schema: { tags: ['metrics'], summary: 'Prometheus text exposition', security: [{ bearerAuth: [] }] } }, async (_req, reply) => {
        if (!a) return reply.code(501).send({ statusCode: 501, error: 'Not Implemented', message: 'metrics need `analytics` (a CacheAnalytics) passed to the plugin' });
        return reply.type(a.registry.contentType).send(await a.metrics());
      });
    }
  });
};

/**
 * The stratacache admin plugin: admin routes under `prefix` (bearer tokens with `read` / `admin`
 * roles, rate-limited, validated), `GET /metrics`, the dashboard page and the OpenAPI document.
 */
export const strataAdmin = fp(adminPlugin, { fastify: '5.x', name: '@stratacache/fastify-admin' });
