import { toMs, type Duration, type NamespaceRef } from '@stratacache/core';
import { RouteCacheOptionsError } from './errors';
import type { RouteCacheLayer } from './layer';
import type { RouteRequest } from './request';

/** A static value or one computed from the request (`req` is the framework's request). */
export type PerRequest<T> = T | ((req: RouteRequest) => T);

/** What a write route invalidates after a 2xx response (each list static or computed from the request). */
export interface InvalidationSpec {
  /** Tags (values cached with these tags are invalidated). */
  tags?: PerRequest<readonly string[]>;
  /** Cache namespaces, `'entity'`, `'entity:operation'` or `{ entity, operation }`. */
  namespaces?: PerRequest<readonly (string | NamespaceRef)[]>;
  /** Exact cache keys (relative or full). */
  keys?: PerRequest<readonly string[]>;
  /** Cached routes, `'GET /users/:id'` or `'/users/:id'` (= GET): every cached variant of them (of the request's tenant). */
  routes?: PerRequest<readonly string[]>;
}

/** Per-route settings (Fastify `config.cache`, Express `rc.route(config)`); each overrides the global one. */
export interface RouteCacheConfig {
  /** Time to live of a cached response. Default: the global `ttl` (`'1m'`). */
  ttl?: Duration;
  /** Keep a response this long past its TTL so a TieredCache can serve it as `STALE`. Default 0. */
  grace?: Duration;
  /** Custom identifier instead of path + query (the method, route, `vary` headers and tenant are still part of the key). */
  key?: (req: RouteRequest) => string | Record<string, unknown>;
  /** Tags stored with the response (invalidate them from write routes or the cache). */
  tags?: PerRequest<readonly string[]>;
  /** Request headers whose values are part of the key (`accept-language`, …). Added to the global list. */
  vary?: readonly string[];
  /** Query parameters that are not part of the key (e.g. tracking parameters). Added to the global list. */
  ignoreQuery?: readonly string[];
  /** Methods cached (read routes). Default `['GET', 'HEAD']`. */
  methods?: readonly string[];
  /** Response statuses stored. Default: every 2xx. */
  statuses?: readonly number[];
  /** Add `_cache: { hit, source, key }` to JSON object bodies. Default false. */
  metadata?: boolean;
  /** Invalidations to run after a 2xx response of a write (non-cached method) on this route. */
  invalidates?: InvalidationSpec;
}

export interface RouteCacheOptions extends Omit<RouteCacheConfig, 'invalidates' | 'key'> {
  /** The cache: a CacheService, a TieredCache or a ShardRouter tenant cache (anything with getOrSet + invalidate). */
  cache: RouteCacheLayer;
  /** The tenant of a request (part of every key and of route invalidation). Default: none. */
  tenant?: (req: RouteRequest) => string | undefined;
  /** The cache of a tenant (e.g. `(t) => router.forTenant(t)`); default: `cache` for every tenant. */
  forTenant?: (tenant: string) => RouteCacheLayer;
  /** First part of every route key. Default `'route'`. */
  namespace?: string;
  /** Query parameter that bypasses the cache when `false` / `0`. Default `'use_cache'`; `false` disables. */
  bypassQuery?: string | false;
  /** Request header that bypasses the cache when present with `1` / `true` / `no-cache`. Default `'x-cache-bypass'`; `false` disables. */
  bypassHeader?: string | false;
  /** Response header that carries `HIT | MISS | STALE | BYPASS`. Default `'x-cache'`; `false` disables. */
  statusHeader?: string | false;
  /** Response headers stored with the body (besides these, none are). Default: content-type, content-encoding, content-language, cache-control, etag, last-modified, vary, link. */
  storeHeaders?: readonly string[];
  /** Largest body stored (bytes); larger responses are served, not stored. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Called with errors the cache layer reports during invalidation (never thrown at the request). */
  onError?: (err: unknown, req: RouteRequest) => void;
}

export const DEFAULT_STORE_HEADERS: readonly string[] = Object.freeze([
  'content-type',
  'content-encoding',
  'content-language',
  'cache-control',
  'etag',
  'last-modified',
  'vary',
  'link',
]);

export const ROUTE_CACHE_DEFAULTS = Object.freeze({
  ttl: '1m',
  namespace: 'route',
  bypassQuery: 'use_cache',
  bypassHeader: 'x-cache-bypass',
  statusHeader: 'x-cache',
  methods: Object.freeze<string[]>(['GET', 'HEAD']),
  maxBodyBytes: 1024 * 1024,
  metadata: false,
});

/** A route's settings merged with the global ones and validated. */
export interface ResolvedRouteConfig {
  ttlMs: number;
  graceMs: number;
  key: RouteCacheConfig['key'];
  tags: RouteCacheConfig['tags'];
  vary: readonly string[];
  ignoreQuery: ReadonlySet<string>;
  methods: ReadonlySet<string>;
  statuses: ReadonlySet<number> | undefined;
  metadata: boolean;
  invalidates: InvalidationSpec | undefined;
}

export interface ResolvedOptions {
  cache: RouteCacheLayer;
  tenant: RouteCacheOptions['tenant'];
  forTenant: RouteCacheOptions['forTenant'];
  namespace: string;
  bypassQuery: string | false;
  bypassHeader: string | false;
  statusHeader: string | false;
  storeHeaders: ReadonlySet<string>;
  maxBodyBytes: number;
  onError: RouteCacheOptions['onError'];
  defaults: ResolvedRouteConfig;
}

const ROUTE_KEYS = new Set(['ttl', 'grace', 'key', 'tags', 'vary', 'ignoreQuery', 'methods', 'statuses', 'metadata', 'invalidates']);
const GLOBAL_KEYS = new Set([
  ...[...ROUTE_KEYS].filter((k) => k !== 'invalidates' && k !== 'key'),
  'cache',
  'tenant',
  'forTenant',
  'namespace',
  'bypassQuery',
  'bypassHeader',
  'statusHeader',
  'storeHeaders',
  'maxBodyBytes',
  'onError',
]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function fail(where: string, msg: string): never {
  throw new RouteCacheOptionsError(`${where}${msg}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function duration(v: unknown, name: string, where: string): number {
  try {
    return toMs(v as Duration, name);
  } catch (err) {
    throw new RouteCacheOptionsError(`${where}${(err as Error).message}`, { cause: err });
  }
}

function stringList(v: unknown, name: string, where: string, lower: boolean, token = true): string[] {
  if (!Array.isArray(v)) fail(where, `${name} must be an array of strings`);
  return v.map((s: unknown) => {
    if (typeof s !== 'string' || s.length === 0 || (token && !TOKEN.test(s))) fail(where, `${name}: invalid entry ${JSON.stringify(s)}`);
    return lower ? s.toLowerCase() : s;
  });
}

function perRequestList(v: unknown, name: string, where: string): void {
  if (v === undefined || typeof v === 'function') return;
  if (!Array.isArray(v)) fail(where, `${name} must be an array or a function of the request`);
  for (const s of v) {
    const ok = typeof s === 'string' ? s.length > 0 : isObject(s) && typeof s.entity === 'string' && name === 'namespaces';
    if (!ok) fail(where, `${name}: invalid entry ${JSON.stringify(s)}`);
  }
}

function checkInvalidates(v: unknown, where: string): InvalidationSpec | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) fail(where, 'invalidates must be an object { tags, namespaces, keys, routes }');
  for (const k of Object.keys(v)) if (!['tags', 'namespaces', 'keys', 'routes'].includes(k)) fail(where, `invalidates: unknown field "${k}"`);
  for (const k of ['tags', 'namespaces', 'keys', 'routes']) perRequestList(v[k], `invalidates.${k}`, where);
  return v;
}

/** Validates a per-route config and merges it over `base`. Throws {@link RouteCacheOptionsError}. */
export function resolveRouteConfig(config: unknown, base: ResolvedRouteConfig, where = 'route cache config: '): ResolvedRouteConfig {
  if (config === undefined || config === true) return base;
  if (!isObject(config)) fail(where, 'must be true, false or an object');
  for (const k of Object.keys(config)) if (!ROUTE_KEYS.has(k)) fail(where, `unknown option "${k}"`);
  const c = config as RouteCacheConfig;
  const out: ResolvedRouteConfig = { ...base };
  if (c.ttl !== undefined) {
    out.ttlMs = duration(c.ttl, 'ttl', where);
    if (out.ttlMs <= 0) fail(where, 'ttl must be > 0');
  }
  if (c.grace !== undefined) out.graceMs = duration(c.grace, 'grace', where);
  if (c.key !== undefined) {
    if (typeof c.key !== 'function') fail(where, 'key must be a function (req) => string | object');
    out.key = c.key;
  }
  if (c.tags !== undefined) {
    perRequestList(c.tags, 'tags', where);
    out.tags = c.tags;
  }
  if (c.vary !== undefined) out.vary = [...new Set([...base.vary, ...stringList(c.vary, 'vary', where, true)])].sort();
  if (c.ignoreQuery !== undefined) out.ignoreQuery = new Set([...base.ignoreQuery, ...stringList(c.ignoreQuery, 'ignoreQuery', where, false, false)]);
  if (c.methods !== undefined) out.methods = new Set(stringList(c.methods, 'methods', where, false).map((m) => m.toUpperCase()));
  if (c.statuses !== undefined) {
    if (!Array.isArray(c.statuses) || !c.statuses.every((s) => Number.isInteger(s) && s >= 100 && s <= 599)) {
      fail(where, 'statuses must be an array of HTTP status codes (100-599)');
    }
    out.statuses = new Set(c.statuses);
  }
  if (c.metadata !== undefined) {
    if (typeof c.metadata !== 'boolean') fail(where, 'metadata must be a boolean');
    out.metadata = c.metadata;
  }
  if (c.invalidates !== undefined) out.invalidates = checkInvalidates(c.invalidates, where);
  return out;
}

function optionalName(v: unknown, name: string, def: string): string | false {
  if (v === undefined) return def;
  if (v === false) return false;
  if (typeof v !== 'string' || v.length === 0 || !TOKEN.test(v)) fail('route cache options: ', `${name} must be a non-empty name or false`);
  return name === 'bypassQuery' ? v : v.toLowerCase();
}

/** Validates the global options and fills the defaults. Throws {@link RouteCacheOptionsError}. */
export function resolveOptions(opts: unknown): ResolvedOptions {
  const where = 'route cache options: ';
  if (!isObject(opts)) fail(where, 'must be an object with a `cache`');
  for (const k of Object.keys(opts)) if (!GLOBAL_KEYS.has(k)) fail(where, `unknown option "${k}"`);
  const o = opts as unknown as RouteCacheOptions;
  const cache = o.cache as unknown;
  if (!isObject(cache) || typeof cache.getOrSet !== 'function' || typeof cache.invalidate !== 'function') {
    fail(where, 'cache must be a CacheService, TieredCache or tenant cache (an object with getOrSet and invalidate)');
  }
  for (const f of ['tenant', 'forTenant', 'onError'] as const) {
    if (o[f] !== undefined && typeof o[f] !== 'function') fail(where, `${f} must be a function`);
  }
  const namespace = o.namespace ?? ROUTE_CACHE_DEFAULTS.namespace;
  if (typeof namespace !== 'string' || namespace.length === 0 || namespace.includes(':')) fail(where, 'namespace must be a non-empty string without ":"');
  let maxBodyBytes = ROUTE_CACHE_DEFAULTS.maxBodyBytes;
  if (o.maxBodyBytes !== undefined) {
    if (!Number.isInteger(o.maxBodyBytes) || o.maxBodyBytes < 0) fail(where, 'maxBodyBytes must be an integer >= 0');
    maxBodyBytes = o.maxBodyBytes;
  }
  const storeHeaders = new Set(o.storeHeaders === undefined ? DEFAULT_STORE_HEADERS : stringList(o.storeHeaders, 'storeHeaders', where, true));
  for (const h of ['set-cookie', 'content-length', 'transfer-encoding', 'connection']) storeHeaders.delete(h);
  const base: ResolvedRouteConfig = {
    ttlMs: toMs(ROUTE_CACHE_DEFAULTS.ttl, 'ttl'),
    graceMs: 0,
    key: undefined,
    tags: undefined,
    vary: [],
    ignoreQuery: new Set(),
    methods: new Set(ROUTE_CACHE_DEFAULTS.methods),
    statuses: undefined,
    metadata: false,
    invalidates: undefined,
  };
  const defaults = resolveRouteConfig(
    Object.fromEntries(Object.entries(o).filter(([k]) => ROUTE_KEYS.has(k))),
    base,
    where,
  );
  const bypassQuery = optionalName(o.bypassQuery, 'bypassQuery', ROUTE_CACHE_DEFAULTS.bypassQuery);
  if (bypassQuery !== false) (defaults.ignoreQuery as Set<string>).add(bypassQuery);
  return {
    cache: o.cache,
    tenant: o.tenant,
    forTenant: o.forTenant,
    namespace,
    bypassQuery,
    bypassHeader: optionalName(o.bypassHeader, 'bypassHeader', ROUTE_CACHE_DEFAULTS.bypassHeader),
    statusHeader: optionalName(o.statusHeader, 'statusHeader', ROUTE_CACHE_DEFAULTS.statusHeader),
    storeHeaders,
    maxBodyBytes,
    onError: o.onError,
    defaults,
  };
}
