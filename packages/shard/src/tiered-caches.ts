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

/**
 * `createCache` factory for `ShardRouter`: every tenant gets a two-tier cache whose L2 is a
 * CacheService on its shard (own connection and breaker per shard, own key space, own invalidation
 * bus channel `{prefix}:{tenant}:__tiered_bus`).
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
    return new TieredTenantCache(new CacheService(ctx.options), opts);
  };
}
