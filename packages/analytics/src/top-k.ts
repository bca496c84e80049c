/**
 * Bounded-memory top-K of cache keys (heavy hitters), after Space-Saving / lossy counting: at most
 * `capacity` keys are tracked. When a new key arrives and the table is full, the lower half (by
 * estimated count) is dropped in one pass — amortised O(1) per event, no per-event sort or heap —
 * and the count of the dropped keys becomes the error floor a newcomer inherits, so a key that is
 * really hot climbs back above the churn of one-off keys. Memory is `capacity` entries (keys
 * truncated to {@link MAX_KEY_LENGTH} chars) whatever the number of distinct keys.
 */
export const MAX_KEY_LENGTH = 200;

export interface KeyStat {
  key: string;
  /** Requests observed while tracked (a lower bound of the true count). */
  requests: number;
  hits: number;
  misses: number;
  /** Upper bound of requests missed before the key was (re)admitted. */
  error: number;
  hitRate: number;
  /** Mean served latency of the observations that carried one (ms). */
  avgLatencyMs: number;
  /** Mean origin (factory) latency for this key (ms), 0 when never loaded while tracked. */
  avgOriginMs: number;
  bytes: number;
  originCalls: number;
}

class Entry {
  requests = 0;
  hits = 0;
  misses = 0;
  latSum = 0;
  latN = 0;
  originSum = 0;
  originCalls = 0;
  bytes = 0;
  constructor(readonly error: number) {}
  get estimate(): number {
    return this.requests + this.error;
  }
}

export class TopK {
  private readonly map = new Map<string, Entry>();
  private floor = 0;
  /** Purges done (each drops about half the table). */
  purges = 0;

  constructor(readonly capacity = 1_000) {
    if (!Number.isSafeInteger(capacity) || capacity < 8) throw new RangeError('topK capacity must be an integer >= 8');
  }

  private entry(key: string): Entry {
    let e = this.map.get(key);
    if (e === undefined) {
      if (this.map.size >= this.capacity) this.purge();
      e = new Entry(this.floor);
      this.map.set(key.length > MAX_KEY_LENGTH ? key.slice(0, MAX_KEY_LENGTH) : key, e);
    }
    return e;
  }

  /** `n` hits of `key` (a sampled hit stands for `n`). */
  hit(key: string, latencyMs?: number, bytes?: number, n = 1): void {
    const e = this.entry(key);
    e.requests += n;
    e.hits += n;
    if (latencyMs !== undefined) {
      e.latSum += latencyMs;
      e.latN++;
    }
    if (bytes !== undefined) e.bytes += bytes;
  }

  miss(key: string): void {
    const e = this.entry(key);
    e.requests++;
    e.misses++;
  }

  origin(key: string, latencyMs: number): void {
    const e = this.map.get(key);
    if (e === undefined) return; // only loads of keys already tracked (a miss admitted it)
    e.originCalls++;
    e.originSum += latencyMs;
  }

  /** Drops every entry at or below the median estimate; raises the floor. */
  private purge(): void {
    this.purges++;
    const est = new Float64Array(this.map.size);
    let i = 0;
    for (const e of this.map.values()) est[i++] = e.estimate;
    est.sort();
    const threshold = est[Math.floor(est.length / 2)]!;
    for (const [k, e] of this.map) if (e.estimate <= threshold) this.map.delete(k);
    if (this.map.size >= this.capacity) this.map.clear(); // all equal: start over
    if (threshold > this.floor) this.floor = threshold;
  }

  /** The `n` keys with the highest estimated request count. */
  top(n = 20): KeyStat[] {
    const all = [...this.map].sort((a, b) => b[1].estimate - a[1].estimate).slice(0, n);
    return all.map(([key, e]) => ({
      key,
      requests: e.requests,
      hits: e.hits,
      misses: e.misses,
      error: e.error,
      hitRate: e.requests === 0 ? 0 : e.hits / e.requests,
      avgLatencyMs: e.latN === 0 ? 0 : e.latSum / e.latN,
      avgOriginMs: e.originCalls === 0 ? 0 : e.originSum / e.originCalls,
      bytes: e.bytes,
      originCalls: e.originCalls,
    }));
  }

  get size(): number {
    return this.map.size;
  }
}
