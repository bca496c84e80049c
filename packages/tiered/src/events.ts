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
  | 'bus';

/**
 * Same shape as core's `CacheEvent`, with `source` widened to `'stale'` and a few tiered types:
 * `stale` (a stale value was served; `kind`: 'swr' | 'soft-timeout' | 'fail-safe' | 'fail-safe-throttled'), `refresh` (a
 * background refresh started; `kind`: 'stale' | 'ahead'), `bus` (a bus message was applied or the
 * bus changed state; `kind`: message type, 'down' or 'reconnect'). As in core, `key` is the full
 * store key (with prefix) and `entity` / `operation` / `namespace` are parsed from it.
 */
export interface TieredEvent extends Omit<CacheEvent, 'type' | 'source'> {
  type: TieredEventType;
  source: TieredSource;
}

export type TieredEventListener = (event: TieredEvent) => void;
