import { CacheService } from '@stratacache/core';
import { TieredCache, type TieredCacheOptions } from '@stratacache/tiered';
import type { ShardCacheContext } from './shard-router';

/**
 * A {@link TieredCache} (L1 in-process + the shard's CacheService as L2) handed out per tenant by a
 * `ShardRouter` built with {@link tieredCaches}. `close()` closes both tiers; the shard connection
 * itself stays owned by the router.
 */
export class TieredTenantCache extends TieredCache {
  /** The tenant's L2 CacheService (on the tenant's shard). */
  readonly service: CacheService;

  constructor(service: CacheService, options?: TieredCacheOptions) {
    super(service, options);
    this.service = service;
  }

  override async close(timeoutMs?: number): Promise<void> {
    await super.close(timeoutMs);
    await this.service.close();
  }
}

/** Default L1 byte bound of a tiered cache (`@stratacache/tiered`'s `l1.maxBytes` default). */
const TIERED_L1_DEFAULT_BYTES = 64 * 1024 * 1024;

/**
 * `createCache` factory for `ShardRouter`: every tenant gets a two-tier cache whose L2 is a
 * CacheService on its shard. Tenants of a shard share its connections (one command connection,
 * one subscriber connection carrying every tenant's bus channel `{prefix}:{tenant}:__tiered_bus`)
 * and its breaker; each has its own key space. A tenant's L1 is bounded by its share of the
 * router's L1 budget (`ctx.l1MaxBytes`; no L1 when the budget is used up).
 *
 * ```ts
 * const router = new ShardRouter({ shards, createCache: tieredCaches({ l1: { ttl: '5s' } }) });
 * await router.forTenant('stamford').getOrSet('user:1', loadUser); // L1 -> L2 (stamford's Redis) -> origin
 * ```
 */
export function tieredCaches(
  options?: TieredCacheOptions | ((ctx: ShardCacheContext) => TieredCacheOptions | undefined),
): (ctx: ShardCacheContext) => TieredTenantCache {
  return (ctx) => {
    const opts = typeof options === 'function' ? options(ctx) : options;
    return new TieredTenantCache(new CacheService(ctx.options), withL1Share(opts, ctx.l1MaxBytes));
  };
}

/** The tenant's options with its L1 bounded by its share of the router's budget. */
function withL1Share(opts: TieredCacheOptions | undefined, share: number): TieredCacheOptions {
  const o: TieredCacheOptions = { ...(opts ?? {}) };
  if (o.l1 === false) return o;
  if (share <= 0) {
    o.l1 = false;
    return o;
  }
  const l1 = { ...(o.l1 ?? {}) };
  l1.maxBytes = Math.min(l1.maxBytes ?? TIERED_L1_DEFAULT_BYTES, share);
  o.l1 = l1;
  return o;
}
