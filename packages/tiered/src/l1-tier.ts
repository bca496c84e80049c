import type { CacheEntry } from '@stratacache/core';
import type { LRUCache } from 'lru-cache';
import { coarseNow } from './clock';
import { deepFreeze } from './freeze';
import { L1Cache } from './l1-cache';
import type { L1Policy } from './l1-cache';
import type { L1Record } from './l1-record';
import type { ResolvedL1 } from './options';
import type { Runtime } from './runtime';
import { estimateSize } from './size';

/**
 * The L1 read/fill: which L1 copy may be served (fresh, and trusted — while the invalidation bus is
 * down only for `busDownL1Ttl` after it was stored), and how an L2 entry becomes an L1 record
 * (times shifted to the local clock, cloned or frozen, sized). The hit path is synchronous.
 */
export class L1Tier {
  readonly cache: L1Cache;
  /** The raw lru-cache when reads may go straight to it (LRU policy), for the hit path. */
  readonly lru: LRUCache<string, L1Record> | undefined;
  readonly clone: boolean;
  /** Whether the invalidation bus is subscribed (copies are trusted for `l1.ttl`; else `busDownL1Ttl`). */
  busUp = true;
  /**
   * L1 hits left until the next `sampled_hit`: the hit path's one counter (decremented by every L1
   * hit; `hits` is derived from it), kept here with `hitListeners` so a hit touches no other object.
   */
  countdown: number;
  /** Whether someone listens to `hit` (mirrors the runtime's flag). */
  hitListeners = false;
  /** Countdowns completed (each `every` hits). */
  private cycles = 0;
  private readonly every: number;
  private readonly ttl: number;
  private readonly busDownTtl: number;

  constructor(
    private readonly rt: Runtime,
    private readonly o: ResolvedL1,
    busDownTtl: number,
  ) {
    this.cache = new L1Cache({ maxEntries: o.maxEntries, maxBytes: o.maxBytes, policy: o.policy });
    this.lru = this.cache.directReads;
    this.ttl = o.ttl;
    this.clone = o.clone;
    this.busDownTtl = busDownTtl;
    this.every = this.countdown = rt.opts.hitSampleEvery;
  }

  /** L1 hits so far. */
  get hits(): number {
    return this.cycles * this.every + (this.every - this.countdown);
  }

  /** The hit paths call this when `countdown` reached 0: re-arms it and samples the hit. */
  sampled(key: string): void {
    this.countdown = this.every;
    this.cycles++;
    this.rt.sampleHit(key, 'l1');
  }

  /** The record of a canonical key (touches recency). */
  lookup(key: string): L1Record | undefined {
    const lru = this.lru;
    return lru !== undefined ? lru.get(key) : this.cache.get(key);
  }

  /** A record may be served: fresh, and trusted given the bus state. */
  trusted(rec: L1Record, now: number): boolean {
    return rec.freshUntil > now && (this.busUp || rec.storedAt + this.busDownTtl > now);
  }

  /** Serves a record if it is fresh and trusted (counted as an L1 hit); drops it once past grace. */
  serve<T>(key: string, rec: L1Record): T | undefined {
    const now = coarseNow();
    if (rec.freshUntil > now && (this.busUp || rec.storedAt + this.busDownTtl > now)) {
      if (this.hitListeners) this.rt.emit('hit', key, 'l1');
      if (--this.countdown === 0) this.sampled(key);
      return (this.clone ? structuredClone(rec.value) : rec.value) as T;
    }
    if (rec.graceUntil <= now) this.cache.delete(key);
    return undefined;
  }

  /** The L1 hit path by canonical key. */
  hit<T>(key: string): T | undefined {
    const rec = this.lookup(key);
    return rec === undefined ? undefined : this.serve<T>(key, rec);
  }

  /** Whether a fresh, trusted copy exists (no recency change, not counted). */
  has(key: string): boolean {
    const rec = this.cache.peek(key);
    return rec !== undefined && this.trusted(rec, Date.now());
  }

  peek(key: string): L1Record | undefined {
    return this.cache.peek(key);
  }

  delete(key: string): boolean {
    return this.cache.delete(key);
  }

  /** A value handed to a caller (a copy when `l1.clone`). */
  out(v: unknown): unknown {
    return this.clone ? structuredClone(v) : v;
  }

  /** Stores an L2 entry as an L1 record (times on the local clock; nothing once past grace). */
  fill(key: string, entry: CacheEntry): void {
    const o = this.o;
    // L1 record times are on the local clock (the hit path reads Date.now() only): shift the
    // entry's times (core's clock, corrected against Redis) by the current offset.
    const now = Date.now();
    const shift = now - this.rt.l2.now();
    const expiresAt = entry.expiresAt + shift;
    const graceUntil = Math.max(entry.graceUntil ?? 0, entry.expiresAt) + shift;
    if (graceUntil <= now) return;
    let value = entry.value;
    if (o.clone) value = structuredClone(value);
    else if (o.freeze) deepFreeze(value);
    let size: number;
    try {
      size = Math.max(1, Math.ceil(o.sizeOf !== undefined ? o.sizeOf(value) : estimateSize(value)));
    } catch {
      size = 1;
    }
    this.cache.set(key, {
      value,
      freshUntil: Math.min(now + this.ttl, expiresAt),
      storedAt: now,
      expiresAt,
      graceUntil,
      createdAt: entry.createdAt,
      createdLocal: entry.createdAt + shift,
      tags: entry.tags,
      size,
    });
  }

  /** Copies stored before the bus first subscribed keep the bus-down trust bound for good (messages sent before were missed). */
  boundUnsubscribed(): void {
    if (this.cache.size === 0) return;
    for (const k of [...this.cache.keys()]) {
      const r = this.cache.peek(k);
      if (r !== undefined) r.freshUntil = Math.min(r.freshUntil, r.storedAt + this.busDownTtl);
    }
  }

  stats(): { enabled: boolean; size: number; bytes: number; maxEntries: number; maxBytes: number; policy: L1Policy | 'off'; evictions: number; rejected: number } {
    const l1 = this.cache;
    return {
      enabled: true,
      size: l1.size,
      bytes: l1.bytes,
      maxEntries: this.o.maxEntries,
      maxBytes: this.o.maxBytes,
      policy: this.o.policy,
      evictions: l1.evictions,
      rejected: l1.rejected,
    };
  }
}
