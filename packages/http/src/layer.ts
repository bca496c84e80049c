import type { Duration, InvalidateResult } from '@stratacache/core';

/**
 * What route caching needs from a cache: `getOrSet` (with its single-flight) and `invalidate`.
 * `CacheService` (core), `TieredCache` (tiered) and a `ShardRouter` tenant cache all fit as they are.
 * Keys given to it are relative (`{namespace}:{METHOD route}:{identifier}`): the layer adds its prefix.
 */
export interface RouteCacheLayer {
  getOrSet<T>(key: string, factory: (ctx: RouteFactoryContext) => T | Promise<T>, options?: RouteGetOrSetOptions): Promise<T>;
  invalidate(target: RouteInvalidateTarget): Promise<InvalidateResult>;
  /** TieredCache: whether L1 holds the key (used only to report `source: 'l1'`). */
  hasInL1?(key: string): boolean;
  /**
   * TieredCache: a fresh L1 copy, synchronously (counted as an L1 hit), else `undefined`. The hit
   * path of route caching: a fresh route entry found here is served without `getOrSet`'s machinery.
   */
  getL1?(key: string): unknown;
}

/** The part of a getOrSet factory context route caching uses (both core's and tiered's have it). */
export interface RouteFactoryContext {
  /** TieredCache: the stale value (within grace) the layer will serve while this factory refreshes it. */
  readonly staleValue?: unknown;
  // `unknown` return: core's skip() returns void, tiered's returns a marker to be returned by the factory
  skip(): unknown;
}

export interface RouteGetOrSetOptions {
  ttl?: Duration;
  grace?: Duration;
  tags?: readonly string[];
}

/** One invalidation target (exactly one field), the shape both CacheService and TieredCache accept. */
export interface RouteInvalidateTarget {
  key?: string;
  tag?: string;
  namespace?: { entity: string; operation?: string };
}
