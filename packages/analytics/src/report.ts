import type { Collector } from './collector';
import { BYTES, INVALIDATIONS, ORIGIN_CALLS, ORIGIN_ERRORS, RESULTS, SOURCES } from './counters';
import { BUCKETS } from './log-histogram';
import { summarise, type Aggregate } from './trends';

export interface PerformanceReport {
  /** `'local'` (this process since start) or the trend range summed across instances. */
  scope: string;
  requests: number;
  hits: number;
  hitRate: number;
  /** Reads answered without calling the origin (hits + stale serves). */
  originCallsAvoided: number;
  originCalls: number;
  /** Mean measured origin latency (ms). */
  avgOriginMs: number;
  /** Mean measured latency of reads served from cache (ms; L1 hits count as their measured latency, 0 when not measured). */
  avgServedMs: number;
  /** originCallsAvoided × (avgOriginMs − avgServedMs), ms. */
  timeSavedMs: number;
  /** originCallsAvoided × costPerOriginCall. */
  estimatedCostSaved: number;
  costPerOriginCall: number;
}

/** The collector's cumulative numbers in the bucket-hash shape, so local and cross-instance views share one summariser. */
export function localAggregate(c: Collector): Aggregate {
  const h: Record<string, number> = {};
  for (const r of c.rows()) {
    const base = `${r.tenant}|${r.entity}`;
    for (let i = 0; i < 12; i++) if (r.v[i]! > 0) h[`r|${base}|${SOURCES[Math.floor(i / 3)]}|${RESULTS[i % 3]}`] = r.v[i]!;
    if (r.v[ORIGIN_CALLS]! > 0) h[`o|${base}`] = r.v[ORIGIN_CALLS]!;
    if (r.v[ORIGIN_ERRORS]! > 0) h[`oe|${base}`] = r.v[ORIGIN_ERRORS]!;
    if (r.v[BYTES]! > 0) h[`b|${base}`] = r.v[BYTES]!;
    if (r.v[INVALIDATIONS]! > 0) h[`i|${base}`] = r.v[INVALIDATIONS]!;
  }
  c.totals.latency.forEach((hist, s) => {
    for (let b = 0; b < BUCKETS; b++) if (hist.counts[b]! > 0) h[`h|${SOURCES[s]}|${b}`] = hist.counts[b]!;
    if (hist.count > 0) h[`hs|${SOURCES[s]}`] = Math.round(hist.sumMs * 1000);
  });
  h.ev = c.l1Evictions();
  let se = 0;
  for (const n of c.totals.storeErrorsByOp.values()) se += n;
  h.se = se;
  return summarise([h]);
}

export function performanceReport(a: Aggregate, scope: string, costPerOriginCall: number): PerformanceReport {
  const avoided = a.hits + a.stale;
  const avgOriginMs = a.latency.origin.avgMs;
  const l2Served = a.l2Hits * a.latency.l2.avgMs;
  const l1Served = a.l1Hits * a.latency.l1.avgMs;
  const avgServedMs = a.hits === 0 ? 0 : (l1Served + l2Served) / a.hits;
  return {
    scope,
    requests: a.requests,
    hits: a.hits,
    hitRate: a.hitRate,
    originCallsAvoided: avoided,
    originCalls: a.originCalls,
    avgOriginMs,
    avgServedMs,
    timeSavedMs: Math.max(0, avoided * (avgOriginMs - avgServedMs)),
    estimatedCostSaved: avoided * costPerOriginCall,
    costPerOriginCall,
  };
}
