// Records every request of a run: one HDR histogram for the whole run (microseconds), one for the
// current time bucket (snapshotted and reset at each bucket edge), hit/miss/error counters and
// errors by type. Latency is measured by the caller (from the intended send time in rate mode).
import * as hdr from 'hdr-histogram-js';

export type Outcome =
  | { ok: true; source?: 'cache' | 'origin' | 'stale' | undefined }
  | { ok: false; errorType: string };

export interface SeriesPoint {
  /** Bucket end, ms since the run started. */
  tMs: number;
  requests: number;
  rps: number;
  /** Hits / (hits + misses) in this bucket; null when no read said where it came from. */
  hitRate: number | null;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  rssMb: number;
  heapMb: number;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

const MAX_US = 120_000_000; // 2 minutes: anything slower is clamped (and still counted)

function newHistogram(digits: 1 | 2 | 3): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_US, numberOfSignificantValueDigits: digits, autoResize: false, useWebAssembly: false });
}

const usToMs = (us: number): number => Math.round(us) / 1000;

export class Recorder {
  readonly total = newHistogram(3);
  private readonly bucket = newHistogram(2);
  readonly series: SeriesPoint[] = [];
  readonly errorsByType: Record<string, number> = {};
  requests = 0;
  hits = 0;
  misses = 0;
  stale = 0;
  errors = 0;
  private bucketRequests = 0;
  private bucketHits = 0;
  private bucketMisses = 0;
  private bucketErrors = 0;
  private bucketStart: number;
  private timer: NodeJS.Timeout | undefined;
  readonly startedAt: number;
  endedAt: number | undefined;

  constructor(readonly intervalMs = 1000, now: number = performance.now()) {
    this.startedAt = now;
    this.bucketStart = now;
  }

  /** Starts closing buckets on a timer (call stop() at the end). */
  start(): void {
    this.timer = setInterval(() => this.closeBucket(performance.now()), this.intervalMs);
    this.timer.unref();
  }

  stop(now: number = performance.now()): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.bucketRequests > 0 || this.series.length === 0) this.closeBucket(now);
    this.endedAt = now;
  }

  record(latencyMs: number, outcome: Outcome): void {
    const us = Math.min(MAX_US, Math.max(1, Math.round(latencyMs * 1000)));
    this.total.recordValue(us);
    this.bucket.recordValue(us);
    this.requests++;
    this.bucketRequests++;
    if (!outcome.ok) {
      this.errors++;
      this.bucketErrors++;
      this.errorsByType[outcome.errorType] = (this.errorsByType[outcome.errorType] ?? 0) + 1;
      return;
    }
    if (outcome.source === 'cache' || outcome.source === 'stale') {
      this.hits++;
      this.bucketHits++;
      if (outcome.source === 'stale') this.stale++;
    } else if (outcome.source === 'origin') {
      this.misses++;
      this.bucketMisses++;
    }
  }

  private closeBucket(now: number): void {
    const last = this.series.at(-1);
    const elapsed = Math.max(1, now - this.bucketStart);
    const mem = process.memoryUsage();
    const lookups = this.bucketHits + this.bucketMisses;
    this.series.push({
      tMs: Math.round(now - this.startedAt),
      requests: this.bucketRequests,
      rps: Math.round((this.bucketRequests * 1000) / elapsed),
      hitRate: lookups > 0 ? this.bucketHits / lookups : null,
      p50Ms: this.bucketRequests > 0 ? usToMs(this.bucket.getValueAtPercentile(50)) : (last?.p50Ms ?? 0),
      p99Ms: this.bucketRequests > 0 ? usToMs(this.bucket.getValueAtPercentile(99)) : (last?.p99Ms ?? 0),
      maxMs: this.bucketRequests > 0 ? usToMs(this.bucket.maxValue) : 0,
      errors: this.bucketErrors,
      rssMb: Math.round(mem.rss / 1048576),
      heapMb: Math.round(mem.heapUsed / 1048576),
    });
    this.bucket.reset();
    this.bucketRequests = this.bucketHits = this.bucketMisses = this.bucketErrors = 0;
    this.bucketStart = now;
  }

  elapsedMs(now: number = performance.now()): number {
    return (this.endedAt ?? now) - this.startedAt;
  }

  hitRate(): number | null {
    const n = this.hits + this.misses;
    return n > 0 ? this.hits / n : null;
  }

  /** p99 of the whole run so far, in ms. */
  p99Ms(): number {
    return this.requests > 0 ? usToMs(Math.min(this.total.maxValue, this.total.getValueAtPercentile(99))) : 0;
  }

  latency(): LatencySummary {
    const h = this.total;
    if (this.requests === 0) return { p50: 0, p95: 0, p99: 0, p999: 0, max: 0, mean: 0 };
    const at = (p: number): number => usToMs(Math.min(h.maxValue, h.getValueAtPercentile(p)));
    return {
      p50: at(50),
      p95: at(95),
      p99: at(99),
      p999: at(99.9),
      max: usToMs(h.maxValue),
      mean: Math.round(h.mean) / 1000,
    };
  }

  /** The percentile curve (x = percentile, y = ms) on a log-spaced set of points up to 99.999. */
  percentileCurve(): { percentile: number; ms: number }[] {
    if (this.requests === 0) return [];
    const pts = [0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96, 97, 98, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100];
    return pts.map((p) => ({ percentile: p, ms: usToMs(Math.min(this.total.maxValue, this.total.getValueAtPercentile(p))) }));
  }

  destroy(): void {
    this.total.destroy();
    this.bucket.destroy();
  }
}

/** A short, stable error type for the report: `code` or class name, plus an MCP tool error marker. */
export function errorType(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof e.code === 'string' && e.code) return e.code;
    if (typeof e.code === 'number') return `${typeof e.name === 'string' ? e.name : 'Error'} ${e.code}`;
    if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
    if (typeof e.message === 'string') return e.message.slice(0, 60);
  }
  return String(err).slice(0, 60);
}
