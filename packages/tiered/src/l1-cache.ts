import { LRUCache } from 'lru-cache';
import { FrequencySketch } from './frequency-sketch';
import type { L1Record } from './l1-record';

/** L1 eviction policy. `lru`: least recently read goes first. `fifo`: oldest written goes first (reads do not reorder). `lfu`: LRU order plus a TinyLFU admission filter (a new key only displaces the LRU victim when it has been requested at least as often). */
export type L1Policy = 'lru' | 'fifo' | 'lfu';

export interface L1CacheConfig {
  maxEntries: number;
  maxBytes: number;
  policy: L1Policy;
}

/**
 * The in-process tier: lru-cache bounded by entry count and by bytes. Expiry is tracked in the
 * record (`freshUntil`, `graceUntil`) instead of lru-cache's TTL machinery so the hit path is one
 * Map lookup plus two comparisons. Records past their grace are removed lazily on access.
 */
export class L1Cache {
  private readonly lru: LRUCache<string, L1Record>;
  private readonly sketch: FrequencySketch | undefined;
  private readonly fifo: boolean;
  private readonly maxEntries: number;
  evictions = 0;
  rejected = 0;

  constructor(cfg: L1CacheConfig) {
    this.fifo = cfg.policy === 'fifo';
    this.maxEntries = cfg.maxEntries;
    this.sketch = cfg.policy === 'lfu' ? new FrequencySketch(cfg.maxEntries) : undefined;
    this.lru = new LRUCache<string, L1Record>({
      max: cfg.maxEntries,
      ...(Number.isFinite(cfg.maxBytes)
        ? { maxSize: cfg.maxBytes, maxEntrySize: cfg.maxBytes, sizeCalculation: (r: L1Record) => r.size }
        : {}),
      dispose: (_v, _k, reason) => {
        if (reason === 'evict') this.evictions++;
      },
    });
  }

  /** The lru-cache itself when a read is a plain `get` (LRU policy), so the hit path can skip this wrapper. */
  get directReads(): LRUCache<string, L1Record> | undefined {
    return this.sketch === undefined && !this.fifo ? this.lru : undefined;
  }

  /** Hot path. LRU/LFU reorder on read, FIFO does not. */
  get(key: string): L1Record | undefined {
    if (this.sketch !== undefined) this.sketch.increment(key);
    return this.fifo ? this.lru.peek(key) : this.lru.get(key);
  }

  /** Read without touching recency or frequency. */
  peek(key: string): L1Record | undefined {
    return this.lru.peek(key);
  }

  set(key: string, rec: L1Record): void {
    if (this.sketch !== undefined && this.lru.size >= this.maxEntries && !this.lru.has(key)) {
      // TinyLFU admission: compare against the least recently used key.
      const victim = this.lru.rkeys().next();
      if (!victim.done && this.sketch.frequency(key) < this.sketch.frequency(victim.value)) {
        this.rejected++;
        return;
      }
    }
    if (this.fifo) this.lru.delete(key); // a re-write counts as a new insertion
    this.lru.set(key, rec);
  }

  delete(key: string): boolean {
    return this.lru.delete(key);
  }

  /** Drops every record for which `pred` is true; returns how many. */
  deleteWhere(pred: (key: string, rec: L1Record) => boolean): number {
    const doomed: string[] = [];
    for (const [k, r] of this.lru.entries()) if (pred(k, r)) doomed.push(k);
    for (const k of doomed) this.lru.delete(k);
    return doomed.length;
  }

  /** Marks the copy stale: the next read goes to L2; the copy can still serve as a fail-safe fallback. */
  markStale(key: string): boolean {
    const rec = this.lru.peek(key);
    if (rec === undefined) return false;
    rec.freshUntil = 0;
    return true;
  }

  /** Marks every copy stale ("verify before serve"), keeping them as fail-safe fallbacks. Returns how many. */
  markAllStale(): number {
    let n = 0;
    for (const r of this.lru.values()) {
      r.freshUntil = 0;
      n++;
    }
    return n;
  }

  clear(): void {
    this.lru.clear();
  }

  get size(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize ?? 0;
  }

  keys(): IterableIterator<string> {
    return this.lru.keys();
  }
}
