// Types and option validation of ShardRouter (the router itself is in shard-router.ts).
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from '@stratacache/breaker';
import {
  CacheService,
  MemoryStore,
  type CacheEvent,
  type CacheServiceOptions,
  type HealthReport,
  type Store,
  type Duration,
  toMs,
} from '@stratacache/core';
import { ShardConfigError } from './errors';
import type { ConnectionConfig, ConnectionKind } from './shard-config';
import type { TieredEvent } from '@stratacache/tiered';
import { TENANT_LIMIT_DEFAULTS, type TenantLimits } from './tenant-registry';

/** CacheService options shared by every shard (the router supplies `store`, `breaker` and `prefix`). */
export interface ShardCacheOptions extends Omit<CacheServiceOptions, 'store' | 'redis' | 'prefix' | 'breaker'> {
  /** Options of each shard's own circuit breaker (an instance cannot be shared across shards). */
  breaker?: Omit<CircuitBreakerOptions, 'name'>;
}

/** A shard: one connection form plus optional per-shard cache options (merged over `cache`). */
export type ShardDefinition = ConnectionConfig & { cache?: ShardCacheOptions };

/** Everything a {@link ShardRouter} hands to `createCache` to build a tenant's cache. */
export interface ShardCacheContext {
  /** Shard id. */
  shard: string;
  /** Tenant id, or `undefined` for the shard-level cache (`forShard`). */
  tenant: string | undefined;
  /** The shard's store (shared by every tenant of the shard; owned by the router). */
  store: Store;
  /** The shard's circuit breaker (shared by every tenant of the shard). */
  breaker: CircuitBreaker;
  /** Ready-to-use CacheService options: `{ ...cache, ...shard.cache, store, breaker, prefix }`. */
  options: CacheServiceOptions;
  /**
   * This cache's share of the router's L1 budget in bytes (`min(tenantL1MaxBytes, what is left of
   * l1MaxBytes)`; 0 = no L1). A cache with an in-process tier must stay within it (`tieredCaches` does).
   */
  l1MaxBytes: number;
}

/** What a router hands out per tenant. `CacheService` by default; anything closable (e.g. a tiered cache). */
export interface ShardCache {
  close(): Promise<void>;
}

/** Options of {@link ShardRouter}. */
export interface ShardRouterOptions<C extends ShardCache = CacheService> {
  /** Named shards (at least one). A tenant whose name is a shard id uses that shard. */
  shards: Record<string, ShardDefinition>;
  /** Explicit tenant -> shard mapping (e.g. `{ acme: 'shared' }`). */
  tenants?: Record<string, string>;
  /** Shard for tenants that are neither mapped nor named like a shard. Without it they are an error. */
  defaultShard?: string;
  /** Key prefix. Default `'sc'`. */
  prefix?: string;
  /**
   * `'tenant'` (default): every tenant gets its own key space `{prefix}:{tenant}:…` (tenants sharing a
   * shard never see each other's keys; `clear()` clears one tenant). `'shard'`: tenants of a shard
   * share one CacheService and key space `{prefix}:…`.
   */
  keyspace?: 'tenant' | 'shard';
  /** CacheService options for every shard (per-shard `cache` wins). */
  cache?: ShardCacheOptions;
  /** `CLIENT SETNAME` prefix for connections the router creates (`{name}:{shard}`). Default `'stratacache'`. */
  connectionName?: string;
  /** Tenant caches alive at once; a new tenant beyond it (after idle ones were evicted) gets `TenantLimitError`. Default 1000. */
  maxTenants?: number;
  /**
   * A tenant cache not asked for with `forTenant` for this long is closed and forgotten (the next
   * `forTenant` builds a fresh one). Do not keep a tenant cache across requests: ask the router each
   * time. `0` = never. Default `'10m'`.
   */
  tenantIdleTimeout?: Duration;
  /** L1 bytes all tenant caches may use together (each gets `ctx.l1MaxBytes`). Default 256 MiB. */
  l1MaxBytes?: number;
  /** L1 bytes one tenant cache may use at most. Default 16 MiB. */
  tenantL1MaxBytes?: number;
  /**
   * Builds the per-tenant cache. Default: `new CacheService(ctx.options)`. Hook for an upper layer,
   * e.g. `(ctx) => new TieredCache(new CacheService(ctx.options))`.
   */
  createCache?: (ctx: ShardCacheContext) => C;
}

/** Health of one shard in {@link ShardRouter.health}. */
export interface ShardHealth {
  shard: string;
  /** Connection form and redacted target, e.g. `redis://user:***@host:6379`. */
  kind: ConnectionKind;
  target: string;
  /** `'idle'`: no tenant used this shard yet, so no connection was opened. */
  status: HealthReport['status'] | 'idle';
  circuit: CircuitState | undefined;
  pingMs: number | undefined;
  connected: boolean;
  /** Tenants explicitly mapped to this shard (plus the shard's own name when used as a tenant). */
  tenants: string[];
}

/** Result of {@link ShardRouter.health}. */
export interface RouterHealth {
  /** `ok`: every opened shard ok; `down`: every opened shard down; else `degraded`. */
  status: 'ok' | 'degraded' | 'down';
  shards: Record<string, ShardHealth>;
}

/** Listener of router-wide cache events, with the shard and tenant that emitted them. */
/** An event forwarded by the router: core's `CacheEvent` (layer `'l2'`, or a CacheService tenant cache) or a wrapper's own event (e.g. tiered's, with `source: 'stale'`). */
export type RouterEvent = CacheEvent | TieredEvent;

/** Where a forwarded event comes from; `layer`: `'cache'` = the tenant cache itself, `'l2'` = the CacheService under a wrapper. */
export interface RouterEventOrigin {
  shard: string;
  tenant: string | undefined;
  layer: 'cache' | 'l2';
}

export type RouterEventListener = (event: RouterEvent, origin: RouterEventOrigin) => void;

/** What the router holds per tenant: {@link ShardRouter.resources}. */
export interface RouterResources {
  /** Tenant caches alive now, and the cap. */
  tenants: number;
  maxTenants: number;
  /** L1 bytes reserved by the live caches, and the budget. */
  l1Reserved: number;
  l1MaxBytes: number;
  /** Tenant caches closed for being idle since the router was built. */
  evicted: number;
  /** Shards with an open store (each: one command connection, plus one subscriber connection once a bus subscribed). */
  openShards: number;
}

export const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Per-shard breaker defaults (the shared `cache.breaker` and a shard's `cache.breaker` override them). */
export const SHARD_BREAKER_DEFAULTS = Object.freeze({
  failureThreshold: 5,
  monitoringWindow: 30_000,
  resetTimeout: 5_000,
  halfOpenMaxCalls: 1,
});

/** The L2 CacheService of a cache: itself, or the `service` of a wrapper such as TieredTenantCache. */
export function serviceOf(cache: unknown): CacheService | undefined {
  if (cache instanceof CacheService) return cache;
  const inner = (cache as { service?: unknown }).service;
  return inner instanceof CacheService ? inner : undefined;
}

export function resolveLimits(o: ShardRouterOptions<ShardCache>): TenantLimits {
  const d = TENANT_LIMIT_DEFAULTS;
  const int = (v: unknown, name: string, fallback: number, min: number): number => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new ShardConfigError('invalid-option', name, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  let idle = d.idleTimeoutMs;
  if (o.tenantIdleTimeout !== undefined) {
    try {
      idle = toMs(o.tenantIdleTimeout, 'tenantIdleTimeout');
    } catch (e) {
      throw new ShardConfigError('invalid-option', 'tenantIdleTimeout', errorMessage(e), { cause: e });
    }
  }
  return {
    maxTenants: int(o.maxTenants, 'maxTenants', d.maxTenants, 1),
    idleTimeoutMs: idle,
    l1MaxBytes: int(o.l1MaxBytes, 'l1MaxBytes', d.l1MaxBytes, 0),
    tenantL1MaxBytes: int(o.tenantL1MaxBytes, 'tenantL1MaxBytes', d.tenantL1MaxBytes, 0),
  };
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Builds (and closes) a throw-away CacheService on a timer-less MemoryStore, so invalid CacheService
 * options (`opTimeout: -1`, a bad TTL rule…) fail when the router is constructed, not on first use.
 */
export function validateCacheServiceOptions(cache: ShardCacheOptions, breaker: CircuitBreaker, prefix: string, path: string): void {
  let probe: CacheService | undefined;
  try {
    probe = new CacheService({ ...cache, store: new MemoryStore({ sweepIntervalMs: 0 }), breaker, prefix });
  } catch (e) {
    throw new ShardConfigError('invalid-option', path, errorMessage(e), { cause: e });
  }
  void probe.close();
}

export function checkTenantId(tenant: unknown, path: string): void {
  if (typeof tenant !== 'string' || !ID.test(tenant)) {
    throw new ShardConfigError('invalid-option', path, `tenant ids are 1-64 characters: letters, digits, "_", "-", "." (got ${JSON.stringify(tenant)})`);
  }
}

export function checkCacheOptions(cache: unknown, path: string): ShardCacheOptions {
  if (cache === undefined) return {};
  if (!cache || typeof cache !== 'object' || Array.isArray(cache)) {
    throw new ShardConfigError('invalid-option', path, 'must be an object of CacheService options');
  }
  for (const k of ['store', 'redis', 'prefix'] as const) {
    if ((cache as Record<string, unknown>)[k] !== undefined) {
      throw new ShardConfigError('conflicting-options', `${path}.${k}`, `"${k}" is set by the router per shard; configure connections in \`shards\`${k === 'prefix' ? ' and the prefix at the top level' : ''}`);
    }
  }
  const b = (cache as { breaker?: unknown }).breaker;
  if (b instanceof CircuitBreaker) {
    throw new ShardConfigError('invalid-option', `${path}.breaker`, 'give breaker options, not an instance: every shard gets its own breaker');
  }
  return cache;
}
