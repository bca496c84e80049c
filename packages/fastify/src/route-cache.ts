import { CacheService } from '@stratacache/core';
import {
  REVALIDATE_HEADER,
  RouteCache,
  RouteCacheOptionsError,
  type CapturedResponse,
  type ResolvedRouteConfig,
  type RouteCacheConfig,
  type RouteCacheLayer,
  type RouteCacheOptions,
  type RouteRequest,
  type RunDecision,
} from '@stratacache/http';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, onSendHookHandler, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** The cache the route caching uses (given as `cache`, or the CacheService the plugin created). */
    cache: RouteCacheLayer;
    /** The route-caching engine (keys, `invalidateRoute`, options). */
    routeCache: RouteCache;
  }
  interface FastifyContextConfig {
    /** Route caching of this route: `true` (the plugin's defaults), settings, or `false` (never cached). */
    cache?: boolean | RouteCacheConfig;
  }
  interface FastifyRequest {
    /** @internal Route-caching state of the request (set while its handler runs). */
    stratacacheRoute: RunDecision | null;
  }
}

/** Options of {@link stratacacheRoutes}. */
export interface StratacacheRoutesOptions extends Omit<RouteCacheOptions, 'cache'> {
  /** The cache (CacheService, TieredCache, tenant cache). Default: a CacheService the plugin creates (and closes on `onClose`). */
  cache?: RouteCacheLayer;
  /** Redis URL of the CacheService created when `cache` is not given. Default: the embedded memory store. */
  redis?: string;
  /** Key prefix of the CacheService created when `cache` is not given. Default `'sc'`. */
  prefix?: string;
  /** Close the given `cache` on `onClose` too (it has a `close()`). Default false: a cache you pass is yours. */
  closeCache?: boolean;
  /** Cache every GET/HEAD route unless its `config.cache` is `false`. Default false: only routes with `config.cache`. */
  all?: boolean;
  /**
   * The route phase at whose end hits are answered (the hook is appended to each cached route's own
   * list, after the app's and the route's hooks of that phase). Default `'preHandler'`: every auth /
   * validation hook runs first. `'onRequest'` answers earlier (no body parsing, no validation); use it
   * only when no later hook guards the route.
   */
  hook?: 'onRequest' | 'preHandler';
}

const OWN_KEYS = new Set(['cache', 'redis', 'prefix', 'closeCache', 'all', 'hook']);

function toRouteRequest(request: FastifyRequest): RouteRequest {
  return {
    method: request.method,
    route: request.routeOptions.url ?? request.url.split('?')[0] ?? '/',
    url: request.url,
    headers: request.headers,
    raw: request,
  };
}

function payloadBytes(payload: unknown): Buffer | undefined {
  if (payload === null || payload === undefined) return Buffer.alloc(0);
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (Buffer.isBuffer(payload)) return payload;
  return undefined; // a stream: not captured, not stored
}

function asList(v: unknown): unknown[] {
  return v === undefined || v === null ? [] : Array.isArray(v) ? [...(v as unknown[])] : [v];
}

function closeOf(cache: unknown): (() => Promise<unknown>) | undefined {
  const c = (cache as { close?: unknown }).close;
  return typeof c === 'function' ? () => Promise.resolve((c as () => unknown).call(cache)) : undefined;
}

const plugin: FastifyPluginAsync<StratacacheRoutesOptions> = async (fastify: FastifyInstance, opts: StratacacheRoutesOptions) => {
  if (opts === null || typeof opts !== 'object') throw new RouteCacheOptionsError('stratacacheRoutes options must be an object');
  const { cache: given, redis, prefix, closeCache = false, all = false, hook = 'preHandler' } = opts;
  if (redis !== undefined && typeof redis !== 'string') throw new RouteCacheOptionsError('redis must be a Redis URL string');
  if (typeof closeCache !== 'boolean') throw new RouteCacheOptionsError('closeCache must be a boolean');
  if (typeof all !== 'boolean') throw new RouteCacheOptionsError('all must be a boolean');
  if (hook !== 'onRequest' && hook !== 'preHandler') throw new RouteCacheOptionsError(`hook must be 'onRequest' or 'preHandler', got ${JSON.stringify(hook)}`);
  if (given !== undefined && (redis !== undefined || prefix !== undefined)) {
    throw new RouteCacheOptionsError('give either `cache` or `redis` / `prefix` (for the CacheService the plugin creates), not both');
  }
  const rest = Object.fromEntries(Object.entries(opts).filter(([k]) => !OWN_KEYS.has(k))) as Omit<RouteCacheOptions, 'cache'>;
  let owned: CacheService | undefined;
  let cache = given;
  if (cache === undefined) {
    try {
      owned = new CacheService({ ...(redis !== undefined ? { redis } : {}), ...(prefix !== undefined ? { prefix } : {}) });
    } catch (err) {
      throw new RouteCacheOptionsError(`could not create the CacheService: ${(err as Error).message}`, { cause: err });
    }
    cache = owned;
  }
  let engine: RouteCache;
  try {
    engine = new RouteCache({ ...rest, cache });
  } catch (err) {
    await owned?.close();
    throw err;
  }

  fastify.decorate('cache', cache);
  fastify.decorate('routeCache', engine);
  fastify.decorateRequest('stratacacheRoute', null);

  // Per-route config, resolved once per route (validated at registration too, so a bad config fails `ready()`).
  const resolved = new WeakMap<object, ResolvedRouteConfig | null>();
  const configOf = (config: { cache?: unknown } | undefined, method: string, url: string): ResolvedRouteConfig | null => {
    const c = config?.cache;
    if (c === false || (c === undefined && !all)) return null;
    return engine.route(c as RouteCacheConfig | true, `route ${method} ${url}: config.cache: `);
  };
  const routeConfig = (request: FastifyRequest): ResolvedRouteConfig | null => {
    const config = request.routeOptions.config as { cache?: unknown } | undefined;
    if (config === undefined) return null;
    let r = resolved.get(config);
    if (r === undefined) {
      r = configOf(config, request.method, request.routeOptions.url ?? request.url);
      resolved.set(config, r);
    }
    return r;
  };

  const statusHeader = engine.options.statusHeader;
  // Stale-while-revalidate: a request answered with a stale entry is re-run in the background through
  // `inject` (same URL and headers, so the same auth and key), marked so that it passes through.
  const token = engine.revalidationToken;
  const revalidate = (request: FastifyRequest) => async (): Promise<CapturedResponse | undefined> => {
    const r = await fastify.inject({ method: 'GET', url: request.url, headers: { ...request.headers, [REVALIDATE_HEADER]: token } });
    return { status: r.statusCode, headers: r.headers, body: r.rawPayload };
  };
  const answer = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (request.headers[REVALIDATE_HEADER] === token) return undefined;
    const cfg = routeConfig(request);
    if (cfg === null) return undefined;
    const d = await engine.decide(toRouteRequest(request), cfg, revalidate(request));
    if (d.action === 'pass') return undefined;
    if (d.action === 'run') {
      request.stratacacheRoute = d;
      if (statusHeader !== false && d.xCache !== undefined) void reply.header(statusHeader, d.xCache);
      return undefined;
    }
    void reply.code(d.status);
    for (const [name, value] of d.headers) void reply.header(name, value);
    if (statusHeader !== false) void reply.header(statusHeader, d.xCache);
    return reply.send(d.body);
  };

  // The hook that answers hits is added to each cached route, *after* the route's own hooks of that
  // phase: a route-level `preHandler: auth` still runs before a hit is served (an app-level hook
  // would run first). Routes that are not cached get no hook at all.
  fastify.addHook('onRoute', (route: RouteOptions) => {
    if (configOf(route.config, String(route.method), route.url) === null) return;
    const list = asList(route[hook]);
    if (list.includes(answer)) return; // the HEAD route Fastify copies from a GET route already has it
    list.push(answer);
    const r = route as unknown as Record<string, unknown>;
    r[hook] = list;
    r.onSend = [...asList(r.onSend), store];
    r.onResponse = [...asList(r.onResponse), release];
    r.onRequestAbort = [...asList(r.onRequestAbort), releaseOnAbort];
  });

  const store: onSendHookHandler = (request, reply, payload, done) => {
    const d = request.stratacacheRoute;
    if (d === null) return done(null, payload);
    request.stratacacheRoute = null;
    const body = payloadBytes(payload);
    d.complete({ status: reply.statusCode, headers: reply.getHeaders(), body }).then(
      (out) => done(null, out === body ? payload : out),
      () => done(null, payload),
    );
  };
  const release = (request: FastifyRequest, _reply: FastifyReply, done: () => void): void => {
    const d = request.stratacacheRoute;
    if (d !== null) {
      request.stratacacheRoute = null;
      d.abort();
    }
    done();
  };
  const releaseOnAbort = (request: FastifyRequest, done: () => void): void => release(request, undefined as unknown as FastifyReply, done);

  fastify.addHook('onClose', async () => {
    if (owned !== undefined) await owned.close();
    else if (closeCache) await closeOf(cache)?.();
  });
};

/**
 * Route caching for a Fastify 5 app. Registers hooks on the whole app (fastify-plugin: not
 * encapsulated), decorates `fastify.cache` and `fastify.routeCache`, and closes what it owns on
 * `onClose`. Cache a route with `config: { cache: { ttl: '30s', vary: ['accept-language'] } }`.
 */
export const stratacacheRoutes = fp(plugin, { name: '@stratacache/fastify/routes', fastify: '5.x' });
