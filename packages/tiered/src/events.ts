import type { CacheEvent } from '@stratacache/core';

/** Where a value came from: L1, L2, the origin (factory), or a stale value within grace. */
export type TieredSource = 'l1' | 'l2' | 'origin' | 'stale';

export type TieredEventType =
  | 'hit'
  | 'miss'
  | 'set'
  | 'delete'
  | 'invalidate'
  | 'error'
  | 'origin'
  | 'stale'
  | 'refresh'
  | 'bus'
  | 'sampled_hit'
  | 'l2_read';

/**
 * Same shape as core's `CacheEvent`, with `source` widened to `'stale'` and a few tiered types:
 * `stale` (a stale value was served; `kind`: 'swr' | 'soft-timeout' | 'fail-safe' | 'fail-safe-throttled'), `refresh` (a
 * background refresh started; `kind`: 'stale' | 'ahead'), `bus` (a bus message was applied or the
 * bus changed state; `kind`: message type, 'down' or 'reconnect'), `sampled_hit` (every
 * `hitSampleEvery`-th L1 or L2 hit, `source` 'l1' | 'l2', `count`: the hits it stands for), `l2_read`
 * (one L2 read: `latencyMs` around core's `readEntry`, `kind`: 'hit' | 'miss' | 'unknown'; timed only
 * while someone listens to `l2_read`). As in core, `key` is the full
 * store key (with prefix) and `entity` / `operation` / `namespace` are parsed from it.
 */
export interface TieredEvent extends Omit<CacheEvent, 'type' | 'source'> {
  type: TieredEventType;
  source: TieredSource;
}

export type TieredEventListener = (event: TieredEvent) => void;
