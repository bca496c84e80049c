/**
 * A mergeable latency histogram with log-spaced buckets (HDR-style): bucket `i ≥ 1` holds values in
 * `[MIN·G^(i-1), MIN·G^i)` ms with `G = 1.04`, so any percentile is within ±2 % of the true value.
 * Fixed bucket layout ⇒ histograms of different processes add up bucket by bucket (cross-instance
 * trends store bucket counts in Redis hashes with HINCRBY). Memory: {@link BUCKETS} float64 slots
 * (~4.3 KB) whatever the number of observations.
 */
export const MIN_MS = 0.001; // 1 µs
export const GROWTH = 1.04;
/** 1 µs … ~2.6 h; larger values land in the last bucket. */
export const BUCKETS = 540;
const LOG_G = Math.log(GROWTH);

/** Bucket index of a latency in ms. */
export function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const i = 1 + Math.floor(Math.log(ms / MIN_MS) / LOG_G);
  return i >= BUCKETS ? BUCKETS - 1 : i;
}

/** Representative value of a bucket (geometric middle), in ms. */
export function bucketValue(i: number): number {
  if (i <= 0) return MIN_MS;
  return MIN_MS * Math.pow(GROWTH, i - 0.5);
}

/** Upper bound of a bucket, in ms. */
export function bucketUpper(i: number): number {
  return MIN_MS * Math.pow(GROWTH, i);
}

export interface Percentiles {
  count: number;
  /** Mean in ms (exact: from the sum). */
  avgMs: number;
  p50: number;
  p95: number;
  p99: number;
  maxMs: number;
}

export class LogHistogram {
  readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sumMs = 0;
  maxMs = 0;

  record(ms: number): void {
    this.counts[bucketOf(ms)]!++;
    this.count++;
    this.sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** Adds `n` observations to bucket `i` (merging stored buckets). */
  addBucket(i: number, n: number): void {
    if (i < 0 || i >= BUCKETS || !(n > 0)) return;
    this.counts[i]! += n;
    this.count += n;
    const v = bucketUpper(i);
    if (v > this.maxMs) this.maxMs = v;
  }

  merge(other: LogHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sumMs += other.sumMs;
    if (other.maxMs > this.maxMs) this.maxMs = other.maxMs;
  }

  /** Value (ms) at percentile `p` (0..100); 0 when empty. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(bucketValue(i), this.maxMs || Infinity);
    }
    return this.maxMs;
  }

  summary(): Percentiles {
    return {
      count: this.count,
      avgMs: this.count === 0 ? 0 : this.sumMs / this.count,
      p50: this.percentile(50),
      p95: this.percentile(95),
      p99: this.percentile(99),
      maxMs: this.maxMs,
    };
  }

  clone(): LogHistogram {
    const h = new LogHistogram();
    h.merge(this);
    return h;
  }

  /** `this - base` (for windows: the observations recorded since `base` was cloned). */
  minus(base: LogHistogram): LogHistogram {
    const h = new LogHistogram();
    for (let i = 0; i < BUCKETS; i++) h.counts[i] = this.counts[i]! - base.counts[i]!;
    h.count = this.count - base.count;
    h.sumMs = this.sumMs - base.sumMs;
    h.maxMs = this.maxMs;
    return h;
  }
}
