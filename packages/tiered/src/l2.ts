import type { CacheService } from '@stratacache/core';

/**
 * What TieredCache needs from its L2: a subset of core's `CacheService` (the exact signatures, so
 * results — `SetResult`, `InvalidateResult`, tri-state reads — are the same in both layers).
 */
export type L2Cache = Pick<
  CacheService,
  | 'store'
  | 'prefix'
  | 'keys'
  | 'key'
  | 'fullPattern'
  | 'ttlPolicy'
  | 'maxTtlMs'
  | 'opTimeoutMs'
  | 'readEntry'
  | 'setEntry'
  | 'delete'
  | 'invalidate'
  | 'clear'
  | 'refreshBarriers'
  | 'now'
  | 'stamp'
  // not used by TieredCache itself: observers (analytics) subscribe to the L2 events through it
  | 'on'
> &
  // the fused miss (issue 13): optional, so an older L2 (or a test double) keeps the separate calls
  Partial<Pick<CacheService, 'lockedReads' | 'readOrLock' | 'writeAndRelease' | 'extendLock' | 'boundedReads'>>;

/** One invalidation target of `TieredCache.invalidate` (exactly one field). */
export interface L2InvalidateTarget {
  key?: string;
  pattern?: string;
  tag?: string;
  namespace?: { entity: string; operation?: string };
}
