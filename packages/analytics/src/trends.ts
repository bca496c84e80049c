import type { Collector } from './collector';
import { BYTES, INVALIDATIONS, ORIGIN_CALLS, ORIGIN_ERRORS, RESULTS, SOURCES } from './counters';
import { BUCKETS, LogHistogram, type Percentiles } from './log-histogram';
import type { BucketWrite, TrendBackend } from './trend-backend';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
/** Minute buckets are kept 24 h, hour buckets 30 days (plus one bucket of slack). */
export const MINUTE_RETENTION_MS = 24 * HOUR;
export const HOUR_RETENTION_MS = 30 * 24 * HOUR;

export type TrendRange = '1h' | '24h' | '7d' | '30d';
const RANGES: Record<TrendRange, { step: number; points: number; kind: 'm' | 'h' }> = {
  '1h': { step: MINUTE, points: 60, kind: 'm' },
  '24h': { step: MINUTE, points: 1_440, kind: 'm' },
  '7d': { step: HOUR, points: 168, kind: 'h' },
  '30d': { step: HOUR, points: 720, kind: 'h' },
};

export interface TrendFilter {
  tenant?: string;
  entity?: string;
}

/** Sums of one bucket (or of a range of buckets), across every instance that flushed into it. */
export interface Aggregate {
  requests: number;
  hits: number;
  l1Hits: number;
  l2Hits: number;
  misses: number;
  stale: number;
  hitRate: number;
  originCalls: number;
  originErrors: number;
  bytes: number;
  invalidations: number;
  l1Evictions: number;
  storeErrors: number;
  /** Latency per source over the bucket(s); histograms are not filtered by tenant / entity. */
  latency: Record<(typeof SOURCES)[number], Percentiles>;
  /** Requests, hits, origin calls per `tenant|entity`. */
  byEntity: Record<string, { tenant: string; entity: string; requests: number; hits: number; hitRate: number; originCalls: number; invalidations: number }>;
}

export interface TrendPoint extends Omit<Aggregate, 'byEntity'> {
  /** Bucket start (ms since epoch). */
  t: number;
}

export interface Trend {
  range: TrendRange;
  stepMs: number;
  points: TrendPoint[];
}

/** Flushes collector deltas into minute and hour buckets, and reads them back. */
export class TrendStore {
  private readonly sentHist = SOURCES.map(() => new LogHistogram());
  private sentEvictions = 0;
  private sentStoreErrors = 0;
  private flushing: Promise<void> | undefined;
  flushes = 0;
  flushErrors = 0;
  lastFlushError: unknown;

  constructor(
    private readonly collector: Collector,
    readonly backend: TrendBackend,
    /** Key namespace with hash tag, e.g. `{sc:analytics}`. */
    readonly ns: string,
  ) {}

  minuteKey(t: number): string {
    return `${this.ns}:m:${Math.floor(t / MINUTE)}`;
  }
  hourKey(t: number): string {
    return `${this.ns}:h:${Math.floor(t / HOUR)}`;
  }

  /** Writes everything counted since the last successful flush (one pipeline). Concurrent calls share one flush. */
  flush(now = Date.now()): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush(now));
    this.flushing = this.doFlush(now).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async doFlush(now: number): Promise<void> {
    const fields = new Map<string, number>();
    const commits: (() => void)[] = [];
    for (const row of this.collector.rows()) {
      const snap = row.v.slice();
      let any = false;
      const base = `${row.tenant}|${row.entity}`;
      for (let i = 0; i < snap.length; i++) {
        const d = snap[i]! - row.sent[i]!;
        if (d === 0) continue;
        any = true;
        if (i < 12) fields.set(`r|${base}|${SOURCES[Math.floor(i / 3)]}|${RESULTS[i % 3]}`, d);
        else if (i === ORIGIN_CALLS) fields.set(`o|${base}`, d);
        else if (i === ORIGIN_ERRORS) fields.set(`oe|${base}`, d);
        else if (i === BYTES) fields.set(`b|${base}`, d);
        else if (i === INVALIDATIONS) fields.set(`i|${base}`, d);
      }
      if (any) commits.push(() => row.sent.set(snap));
    }
    const hists = this.collector.totals.latency;
    for (let s = 0; s < SOURCES.length; s++) {
      const cur = hists[s]!.clone();
      const sent = this.sentHist[s]!;
      if (cur.count === sent.count) continue;
      for (let b = 0; b < BUCKETS; b++) {
        const d = cur.counts[b]! - sent.counts[b]!;
        if (d !== 0) fields.set(`h|${SOURCES[s]}|${b}`, d);
      }
      const us = Math.round((cur.sumMs - sent.sumMs) * 1000);
      if (us !== 0) fields.set(`hs|${SOURCES[s]}`, us);
      commits.push(() => {
        const sumMs = sent.sumMs + us / 1000;
        sent.counts.set(cur.counts);
        sent.count = cur.count;
        sent.sumMs = sumMs;
      });
    }
    const ev = this.collector.l1Evictions();
    if (ev !== this.sentEvictions) {
      fields.set('ev', ev - this.sentEvictions);
      commits.push(() => (this.sentEvictions = ev));
    }
    let se = 0;
    for (const n of this.collector.totals.storeErrorsByOp.values()) se += n;
    if (se !== this.sentStoreErrors) {
      fields.set('se', se - this.sentStoreErrors);
      commits.push(() => (this.sentStoreErrors = se));
    }
    if (fields.size === 0) return;
    const writes: BucketWrite[] = [
      { key: this.minuteKey(now), ttlMs: MINUTE_RETENTION_MS + 2 * MINUTE, fields },
      { key: this.hourKey(now), ttlMs: HOUR_RETENTION_MS + HOUR, fields },
    ];
    try {
      await this.backend.increment(writes);
    } catch (err) {
      this.flushErrors++;
      this.lastFlushError = err;
      throw err; // nothing committed: the same deltas go with the next flush
    }
    for (const c of commits) c();
    this.flushes++;
  }

  /**
   * The minute buckets that cover the last `windowMs` (the current, partial minute included), summed
   * over every instance, and the time they span up to `now` (shared-scope alert windows).
   */
  async window(windowMs: number, now = Date.now()): Promise<{ aggregate: Aggregate; spanMs: number }> {
    const last = Math.floor(now / MINUTE);
    const first = Math.max(Math.floor((now - windowMs) / MINUTE), last - Math.floor(MINUTE_RETENTION_MS / MINUTE) + 1);
    const keys = Array.from({ length: last - first + 1 }, (_, i) => this.minuteKey((first + i) * MINUTE));
    return { aggregate: summarise(await this.backend.read(keys)), spanMs: now - first * MINUTE };
  }

  /** Points of a range, oldest first, summed over every instance. */
  async trend(range: TrendRange, filter: TrendFilter = {}, now = Date.now()): Promise<Trend> {
    const r = RANGES[range];
    if (r === undefined) throw new RangeError(`range must be one of ${Object.keys(RANGES).join(', ')}`);
    const last = Math.floor(now / r.step);
    const starts = Array.from({ length: r.points }, (_, i) => (last - r.points + 1 + i) * r.step);
    const hashes = await this.backend.read(starts.map((t) => (r.kind === 'm' ? this.minuteKey(t) : this.hourKey(t))));
    const points = hashes.map((h, i) => {
      const { byEntity: _drop, ...agg } = summarise([h], filter);
      return { t: starts[i]!, ...agg };
    });
    return { range, stepMs: r.step, points };
  }

  /** Everything of a range summed into one aggregate (with the per-entity breakdown). */
  async aggregate(range: TrendRange, filter: TrendFilter = {}, now = Date.now()): Promise<Aggregate> {
    const r = RANGES[range];
    if (r === undefined) throw new RangeError(`range must be one of ${Object.keys(RANGES).join(', ')}`);
    const last = Math.floor(now / r.step);
    const keys = Array.from({ length: r.points }, (_, i) => {
      const t = (last - r.points + 1 + i) * r.step;
      return r.kind === 'm' ? this.minuteKey(t) : this.hourKey(t);
    });
    return summarise(await this.backend.read(keys), filter);
  }
}

/** Sums bucket hashes into one {@link Aggregate}. */
export function summarise(hashes: readonly Record<string, number>[], filter: TrendFilter = {}): Aggregate {
  const hist = SOURCES.map(() => new LogHistogram());
  const by: Aggregate['byEntity'] = {};
  let l1Hits = 0, l2Hits = 0, misses = 0, stale = 0, originCalls = 0, originErrors = 0, bytes = 0, invalidations = 0, ev = 0, se = 0; // prettier-ignore
  for (const h of hashes) {
    for (const f in h) {
      const n = h[f]!;
      const p = f.split('|');
      const kind = p[0];
      if (kind === 'h') {
        hist[SOURCES.indexOf(p[1] as never)]?.addBucket(Number(p[2]), n);
        continue;
      }
      if (kind === 'hs') {
        const hh = hist[SOURCES.indexOf(p[1] as never)];
        if (hh) hh.sumMs += n / 1000;
        continue;
      }
      if (kind === 'ev') {
        ev += n;
        continue;
      }
      if (kind === 'se') {
        se += n;
        continue;
      }
      const tenant = p[1]!;
      const entity = p[2]!;
      if ((filter.tenant !== undefined && filter.tenant !== tenant) || (filter.entity !== undefined && filter.entity !== entity)) continue;
      const id = `${tenant}|${entity}`;
      const e = (by[id] ??= { tenant, entity, requests: 0, hits: 0, hitRate: 0, originCalls: 0, invalidations: 0 });
      if (kind === 'r') {
        e.requests += n;
        const src = p[3];
        const res = p[4];
        if (res === 'hit') {
          e.hits += n;
          if (src === 'l1') l1Hits += n;
          else l2Hits += n;
        } else if (res === 'miss') misses += n;
        else stale += n;
      } else if (kind === 'o') {
        originCalls += n;
        e.originCalls += n;
      } else if (kind === 'oe') originErrors += n;
      else if (kind === 'b') bytes += n;
      else if (kind === 'i') {
        invalidations += n;
        e.invalidations += n;
      }
    }
  }
  for (const e of Object.values(by)) e.hitRate = e.requests === 0 ? 0 : e.hits / e.requests;
  const hits = l1Hits + l2Hits;
  const requests = hits + misses + stale;
  return {
    requests,
    hits,
    l1Hits,
    l2Hits,
    misses,
    stale,
    hitRate: requests === 0 ? 0 : hits / requests,
    originCalls,
    originErrors,
    bytes,
    invalidations,
    l1Evictions: ev,
    storeErrors: se,
    latency: { l1: hist[0]!.summary(), l2: hist[1]!.summary(), origin: hist[2]!.summary(), stale: hist[3]!.summary() },
    byEntity: by,
  };
}
