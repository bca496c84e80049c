import type { Factory as CoreFactory, GetOrSetOptions as CoreGetOrSetOptions, SetOptions } from '@stratacache/core';
import type { BusStats } from './invalidation-bus';
import type { FactoryContext } from './factory-context';
import type { L1Policy } from './l1-cache';
import type { GetOrSetPolicy } from './options';

/**
 * A `getOrSet` factory: core's `Factory` shape, given tiered's richer context (which extends core's
 * `FactoryContext`), so any core factory can be passed to TieredCache as is.
 */
export type Factory<T> = (ctx: FactoryContext<NoInfer<T>>) => T | Promise<T>;

/** Per-call options of `getOrSet`: core's `GetOrSetOptions` plus tiered's policy (timeouts, grace, refresh-ahead, …). */
export interface GetOrSetOptions extends CoreGetOrSetOptions, GetOrSetPolicy {
  /**
   * `true`: skip L1 and L2 (and the fail-safe throttle) and call the factory now — still once per key
   * across concurrent callers; its value is cached as usual. Default `false`.
   */
  forceFresh?: boolean;
}

/** Options of `set`: core's `SetOptions`. `ttl: 0` = do not cache: the key is removed everywhere and `set` resolves `{ ok: false, reason: 'bypass' }`. */
export type TieredSetOptions = SetOptions;

export interface TieredStats {
  l1Hits: number;
  l2Hits: number;
  /** Reads answered by the origin (factory) or with nothing. */
  misses: number;
  /** Reads answered with a stale value (expired, within grace). */
  stale: number;
  /** (l1Hits + l2Hits) / all reads. */
  hitRate: number;
  factoryCalls: number;
  factoryErrors: number;
  factoryTimeouts: number;
  softTimeouts: number;
  backgroundRefreshes: number;
  refreshAhead: number;
  /** Cross-process stampede followers that got the leader's value from L2. */
  lockFollowers: number;
  /** Followers that gave up after `lockWait` (or the read's budget) and called the factory. */
  lockWaitTimeouts: number;
  errors: number;
  l1: { enabled: boolean; size: number; bytes: number; maxEntries: number; maxBytes: number; policy: L1Policy | 'off'; evictions: number; rejected: number };
  bus: BusStats | undefined;
  /** Event listener calls that threw (see the `onListenerError` option); the cache calls were not affected. */
  listenerErrors: number;
  /** Hits since the last `sampled_hit` of each source (the next one stands for them too): 0 .. hitSampleEvery − 1. */
  sampledHitsPending: { l1: number; l2: number };
}

// One shape across layers: a core factory is a tiered factory (compile-time check).
type Assignable<A, B extends A> = B;
export type CoreFactoryFitsTiered<T> = Assignable<Factory<T>, CoreFactory<T>>;
