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
 * `stale` (a stale value was served; `kind`: 'swr' | 'soft-timeout' | 'fail-safe'), `refresh` (a
 * background refresh started; `kind`: 'stale' | 'ahead'), `bus` (a bus message was applied or the
 * bus changed state; `kind`: message type, 'down' or 'reconnect'). As in core, `key` is the full
 * store key (with prefix) and `entity` / `operation` / `namespace` are parsed from it.
 */
export interface TieredEvent extends Omit<CacheEvent, 'type' | 'source'> {
  type: TieredEventType;
  source: TieredSource;
}

export type TieredEventListener = (event: TieredEvent) => void;

/** Small emitter; `has(type)` lets the hot path skip building events nobody listens to. */
export class TieredEmitter {
  private readonly byType = new Map<string, TieredEventListener[]>();
  private anyCount = 0;

  on(type: TieredEventType | '*', listener: TieredEventListener): () => void {
    const list = this.byType.get(type) ?? [];
    list.push(listener);
    this.byType.set(type, list);
    if (type === '*') this.anyCount++;
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      const l = this.byType.get(type);
      if (!l) return;
      const i = l.indexOf(listener);
      if (i !== -1) l.splice(i, 1);
      if (type === '*') this.anyCount--;
    };
  }

  has(type: TieredEventType): boolean {
    return this.anyCount > 0 || (this.byType.get(type)?.length ?? 0) > 0;
  }

  emit(event: TieredEvent): void {
    const l = this.byType.get(event.type);
    if (l) for (const f of l.slice()) safe(f, event);
    if (this.anyCount > 0) for (const f of (this.byType.get('*') ?? []).slice()) safe(f, event);
  }

  clear(): void {
    this.byType.clear();
    this.anyCount = 0;
  }
}

function safe(f: TieredEventListener, e: TieredEvent): void {
  try {
    f(e);
  } catch {
    // observers never break the cache
  }
}
