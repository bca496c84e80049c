import type { ShardRouter } from '@stratacache/shard';
import type { TieredStats } from '@stratacache/tiered';

/** What the collector reads from caches' `stats()` in `'counted'` mode (hits, L1 evictions, pending samples). */

/**
 * Hits and L1 evictions of every tenant cache of a router, from `stats()`: a wrapper's own (`l1Hits` /
 * `l2Hits`, `l1.evictions`), else the CacheService's hits.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function* routerHits(router: ShardRouter<any>): Iterable<{ id: string; shard: string; tenant: string | undefined } & Counts> {
  for (const s of router.stats()) {
    const own = s.cacheStats as Partial<TieredStats> | undefined;
    const id = sourceId(s.shard, s.tenant);
    if (own !== undefined && typeof own.l1Hits === 'number' && typeof own.l2Hits === 'number') {
      yield { id, shard: s.shard, tenant: s.tenant, ...tieredCounts(own as TieredStats) };
    } else {
      yield { id, shard: s.shard, tenant: s.tenant, l1: 0, l2: s.stats.hits, ev: 0, pend1: 0, pend2: s.stats.sampledHitsPending ?? 0 };
    }
  }
}

/** What the collector reads from a cache's `stats()`: hits, L1 evictions, hits since the last sample per source. */
export interface Counts {
  l1: number;
  l2: number;
  ev: number;
  pend1: number;
  pend2: number;
}

export function tieredCounts(st: TieredStats): Counts {
  const p = st.sampledHitsPending as TieredStats['sampledHitsPending'] | undefined;
  return { l1: st.l1Hits, l2: st.l2Hits, ev: st.l1?.evictions ?? 0, pend1: p?.l1 ?? 0, pend2: p?.l2 ?? 0 };
}

export function sourceId(shard: string, tenant: string | undefined): string {
  return `${shard}\u0000${tenant ?? ''}`;
}

/**
 * What was already taken from one cache's `stats()` (hits, L1 evictions), the hits attributed to
 * entities by `sampled_hit` events since the last sync (`attr1` / `attr2`), and the hits the next
 * sample of each source stands for that were already counted (`skip1` / `skip2`: those before attach,
 * or those counted under `'all'` at the last sync).
 */
export interface Seen {
  l1: number;
  l2: number;
  ev: number;
  attr1: number;
  attr2: number;
  skip1: number;
  skip2: number;
}

export function newSeen(c: Counts): Seen {
  return { l1: c.l1, l2: c.l2, ev: c.ev, attr1: 0, attr2: 0, skip1: c.pend1, skip2: c.pend2 };
}

export const ZERO: Counts = { l1: 0, l2: 0, ev: 0, pend1: 0, pend2: 0 };
