import { randomUUID } from 'node:crypto';
import type { InvalidateResult } from '@stratacache/core';
import { isBypass, isStorable, requestForbidsStore, type XCache } from './cacheability';
import { invalidationTargets, routeTarget, runInvalidations } from './invalidation';
import type { RouteCacheLayer, RouteFactoryContext, RouteGetOrSetOptions } from './layer';
import { resolveOptions, resolveRouteConfig, type ResolvedOptions, type ResolvedRouteConfig, type RouteCacheConfig, type RouteCacheOptions } from './options';
import { headerValue, type CapturedResponse, type RouteRequest } from './request';
import { REVALIDATE_HEADER } from './revalidate';
import { buildRouteKey } from './route-key';
import { asStored, toStored, withMetadata, type CacheMetadata, type StoredResponse } from './stored-response';

/** The request is not handled by route caching (no config, or a method neither cached nor invalidating). */
export interface PassDecision {
  action: 'pass';
}

/** Answer from the cache: the adapter sends this response and does not run the handler. */
export interface ServeDecision {
  action: 'serve';
  xCache: XCache;
  status: number;
  /** Stored headers (lower-case names). Set `content-length` from `body`. */
  headers: readonly [string, string][];
  /** The body to send (with `_cache` when enabled); send no body for HEAD. */
  body: Buffer;
  meta: CacheMetadata;
}

/** Run the handler; then call `complete` with the response (or `abort` if there will be none). */
export interface RunDecision {
  action: 'run';
  /** The `x-cache` value to send (`undefined` for write routes). */
  xCache: XCache | undefined;
  /** The relative cache key (read routes). */
  key: string | undefined;
  /**
   * Call exactly once with the handler's response, before sending it: stores it when storable (and
   * releases concurrent requests waiting on this one), runs a write route's invalidations after a
   * 2xx, and resolves the body to send (with `_cache` when enabled).
   */
  complete(res: CapturedResponse): Promise<Buffer | undefined>;
  /** The response will never be completed (error, aborted request): releases waiting requests. Idempotent. */
  abort(): void;
}

export type RouteDecision = PassDecision | ServeDecision | RunDecision;

/**
 * Runs the route again for a request already answered with a stale entry (Fastify: `inject`;
 * Express: `loopbackRevalidate`, a GET to its own server), with `REVALIDATE_HEADER` set to the
 * engine's `revalidationToken`, and resolves its response — stored when storable. Without it a stale entry stays `STALE` until its
 * grace period ends.
 */
export type Revalidate = () => Promise<CapturedResponse | undefined>;

const PASS: PassDecision = Object.freeze({ action: 'pass' });
const NOOP = (): void => undefined;

/** High-resolution epoch ms (fractional), so "produced before this request started" is exact within a process. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Framework-neutral route caching. Adapters (Fastify, Express) turn a request into a
 * {@link RouteRequest}, call {@link RouteCache.decide} and follow the decision.
 *
 * A miss runs through the layer's `getOrSet`: its factory lets this request's handler run and
 * resolves with the captured response, so N concurrent misses of one key run the handler once
 * (the others wait for it, and get `x-cache: MISS` with its response when it is storable, or run
 * their own handler when it is not).
 */
export class RouteCache {
  readonly options: ResolvedOptions;
  /**
   * Random per engine: an adapter's own re-run of a stale route carries it in `REVALIDATE_HEADER`
   * (`x-stratacache-revalidate`), and `decide` lets such a request through (handler runs, nothing
   * read or stored here: the revalidation stores it). A client cannot guess it.
   */
  readonly revalidationToken: string = randomUUID();

  constructor(options: RouteCacheOptions) {
    this.options = resolveOptions(options);
  }

  /** The layer given as `cache`. */
  get cache(): RouteCacheLayer {
    return this.options.cache;
  }

  /** Validates a per-route config (`true`, an object, or `undefined` = the globals) once, at route registration. */
  route(config?: RouteCacheConfig | true, where?: string): ResolvedRouteConfig {
    return resolveRouteConfig(config, this.options.defaults, where);
  }

  /** The tenant of a request and the layer that serves it. */
  layerOf(req: RouteRequest): { tenant: string | undefined; layer: RouteCacheLayer } {
    const tenant = this.options.tenant?.(req);
    if (tenant !== undefined && (typeof tenant !== 'string' || tenant.length === 0)) {
      return { tenant: undefined, layer: this.options.cache };
    }
    const layer = tenant !== undefined && this.options.forTenant ? this.options.forTenant(tenant) : this.options.cache;
    return { tenant, layer };
  }

  /** The relative cache key of a request on a route. */
  keyOf(req: RouteRequest, cfg: ResolvedRouteConfig = this.options.defaults): string {
    return buildRouteKey(req, cfg, this.options.namespace, this.layerOf(req).tenant);
  }

  /** Invalidates every cached variant of a route (`'GET /users/:id'` or `'/users/:id'`) of a tenant (or of the untenanted space). */
  invalidateRoute(route: string, tenant?: string): Promise<InvalidateResult> {
    const layer = tenant !== undefined && this.options.forTenant ? this.options.forTenant(tenant) : this.options.cache;
    return runInvalidations(layer, [routeTarget(this.options.namespace, route, tenant)]);
  }

  /** What to do with a request on a route configured with `cfg` (`undefined` = route not cached). */
  async decide(req: RouteRequest, cfg: ResolvedRouteConfig | undefined, revalidate?: Revalidate): Promise<RouteDecision> {
    if (cfg === undefined) return PASS;
    if (req.headers[REVALIDATE_HEADER] === this.revalidationToken) return PASS;
    if (!cfg.methods.has(req.method)) return cfg.invalidates === undefined ? PASS : this.writeRun(req, cfg);
    const { tenant, layer } = this.layerOf(req);
    const key = buildRouteKey(req, cfg, this.options.namespace, tenant);
    if (isBypass(req, this.options)) return this.plainRun('BYPASS', key, cfg);
    // Hit path: a route entry still fresh for this route in a TieredCache's L1 is served at once,
    // without getOrSet's single-flight machinery (promises, closures, a race). Anything else — not
    // in L1, or past the route's TTL (stale: revalidation applies) — takes the full read below.
    if (layer.getL1 !== undefined) {
      const rec = asStored(layer.getL1(key));
      if (rec !== undefined && rec.e > now()) return this.serve(rec, cfg, { hit: true, source: 'l1', key }, 'HIT');
    }
    return this.readThrough(req, cfg, layer, key, revalidate);
  }

  private serve(rec: StoredResponse, cfg: ResolvedRouteConfig, meta: CacheMetadata, xCache: XCache): ServeDecision {
    let body = rec.b;
    if (cfg.metadata) {
      const contentType = rec.h.find(([n]) => n === 'content-type')?.[1];
      body = withMetadata(rec.b, contentType, meta);
    }
    return { action: 'serve', xCache, status: rec.s, headers: rec.h, body, meta };
  }

  private async readThrough(req: RouteRequest, cfg: ResolvedRouteConfig, layer: RouteCacheLayer, key: string, revalidate: Revalidate | undefined): Promise<RouteDecision> {
    const started = now();
    const head = req.method === 'HEAD';
    let answered = false;
    let completed = false;
    let signalRun: (v: 'run') => void = NOOP;
    const ran = new Promise<'run'>((r) => (signalRun = r));
    let release: (v: StoredResponse | undefined) => void = NOOP;
    const captured = new Promise<StoredResponse | undefined>((r) => (release = r));

    let factoryWaiting = false;
    /** A fresh response for a request that was already answered (background refresh of a stale entry). */
    const refreshed = (): Promise<StoredResponse | undefined> =>
      revalidate === undefined
        ? Promise.resolve(undefined)
        : revalidate().then(
            (res) => (res !== undefined && isStorable(res, cfg, this.options.maxBodyBytes) ? toStored(res, res.body as Buffer, this.options.storeHeaders, now(), cfg.ttlMs) : undefined),
            () => undefined,
          );
    const factory = (ctx: RouteFactoryContext): unknown => {
      // A HEAD response has no body to store.
      if (head) return ctx.skip();
      // Already answered from the cache (stale-while-revalidate): the adapter re-runs the route, if it can.
      // A stale copy exists (TieredCache grace) and the adapter can re-run the route: refresh in the
      // background instead of holding this request (the layer serves it the stale copy).
      if (answered || (revalidate !== undefined && ctx.staleValue !== undefined)) {
        return refreshed().then((rec) => (rec === undefined ? ctx.skip() : rec));
      }
      factoryWaiting = true;
      signalRun('run');
      return captured.then((rec) => (rec === undefined ? ctx.skip() : rec));
    };
    /** This request will not run its handler as the leader: a factory already waiting on it gets a refresh or nothing. */
    const notLeading = (): void => {
      if (!factoryWaiting || completed) return;
      completed = true;
      void refreshed().then(release);
    };
    const opts: RouteGetOrSetOptions = { ttl: cfg.ttlMs };
    if (cfg.graceMs > 0) opts.grace = cfg.graceMs;
    const tags = typeof cfg.tags === 'function' ? cfg.tags(req) : cfg.tags;
    if (tags !== undefined && tags.length > 0) opts.tags = tags;

    const inL1 = layer.hasInL1?.(key) ?? false;
    let first: 'run' | { v: unknown } | { err: unknown };
    try {
      const p = layer.getOrSet<unknown>(key, factory, opts);
      first = await Promise.race([ran, p.then((v) => ({ v }), (err: unknown) => ({ err }))]);
    } catch (err) {
      first = { err };
    }
    if (first === 'run') {
      // This request leads: its handler runs, `complete` stores the response and releases the followers.
      const storeForbidden = requestForbidsStore(req);
      return {
        action: 'run',
        xCache: 'MISS',
        key,
        complete: (res) => {
          if (completed) return Promise.resolve(res.body);
          completed = true;
          const ok = !storeForbidden && isStorable(res, cfg, this.options.maxBodyBytes);
          release(ok ? toStored(res, res.body as Buffer, this.options.storeHeaders, now(), cfg.ttlMs) : undefined);
          return Promise.resolve(this.meta(res.body, headerValue(res.headers, 'content-type'), cfg, { hit: false, source: 'origin', key }));
        },
        abort: () => {
          if (completed) return;
          completed = true;
          release(undefined);
        },
      };
    }
    answered = true;
    notLeading();
    const rec = 'v' in first ? asStored(first.v) : undefined;
    if (rec === undefined) {
      // The layer failed, the leader's response was not storable, or HEAD missed: run this request's own handler.
      return this.plainRun('MISS', key, cfg);
    }
    const hit = rec.t < started;
    const stale = hit && rec.e <= now();
    return this.serve(rec, cfg, { hit, source: !hit ? 'origin' : stale ? 'stale' : inL1 ? 'l1' : 'l2', key }, !hit ? 'MISS' : stale ? 'STALE' : 'HIT');
  }

  private meta(body: Buffer | undefined, contentType: string | undefined, cfg: ResolvedRouteConfig, meta: CacheMetadata): Buffer | undefined {
    return cfg.metadata && body !== undefined ? withMetadata(body, contentType, meta) : body;
  }

  /** Runs the handler without reading or storing (bypass, HEAD miss, a non-storable leader). */
  private plainRun(xCache: XCache, key: string, cfg: ResolvedRouteConfig): RunDecision {
    return {
      action: 'run',
      xCache,
      key,
      complete: (res) => Promise.resolve(this.meta(res.body, headerValue(res.headers, 'content-type'), cfg, { hit: false, source: 'origin', key })),
      abort: NOOP,
    };
  }

  /** A write on a route with `invalidates`: after a 2xx, the declared targets are invalidated before the response is sent. */
  private writeRun(req: RouteRequest, cfg: ResolvedRouteConfig): RunDecision {
    const spec = cfg.invalidates;
    return {
      action: 'run',
      xCache: undefined,
      key: undefined,
      complete: async (res) => {
        if (spec === undefined || res.status < 200 || res.status > 299) return res.body;
        try {
          const { tenant, layer } = this.layerOf(req);
          const r = await runInvalidations(layer, invalidationTargets(spec, req, this.options.namespace, tenant));
          if (!r.ok) this.options.onError?.(new Error(`route invalidation incomplete: ${r.reason ?? 'error'}`), req);
        } catch (err) {
          this.options.onError?.(err, req);
        }
        return res.body;
      },
      abort: NOOP,
    };
  }
}
