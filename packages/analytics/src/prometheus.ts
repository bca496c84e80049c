import { Registry } from 'prom-client';
import type { Collector } from './collector';
import { BYTES, INVALIDATIONS, ORIGIN_CALLS, ORIGIN_ERRORS, RESULTS, SOURCES } from './counters';
import { BUCKETS, bucketValue } from './log-histogram';

/** Default `le` bounds (seconds) of `stratacache_request_duration_seconds`. */
export const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const CIRCUIT_VALUE: Record<string, number> = { CLOSED: 0, HALF_OPEN: 1, OPEN: 2 };

type MetricType = 'counter' | 'gauge' | 'histogram';
interface Value {
  value: number;
  labels?: Record<string, string | number>;
  metricName?: string;
}

/** Facts read at scrape time from outside the collector (store INFO, flush state). */
export interface ScrapeExtras {
  redis(): Promise<Record<string, string> | undefined>;
  flushErrors(): number;
  /** Last pub/sub delivery probe (seconds), undefined when none. */
  busLagSeconds(): number | undefined;
}

/**
 * Registers the collector's numbers in a prom-client `Registry`. Nothing is observed through
 * prom-client on the hot path: each metric is a read-only view computed at scrape time from the
 * collector's counters (so a scrape costs O(rows + buckets), a cache hit costs nothing extra).
 */
export function registerMetrics(registry: Registry, c: Collector, extras: ScrapeExtras, prefix = 'stratacache'): void {
  const add = (name: string, help: string, type: MetricType, values: () => Value[] | Promise<Value[]>): void => {
    const full = `${prefix}_${name}`;
    registry.registerMetric({
      name: full,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ name: full, help, type, aggregator: 'sum', values: await values() }),
      reset: () => undefined,
    } as never);
  };
  const perRow = (slot: number): Value[] => {
    const out: Value[] = [];
    for (const r of c.rows()) if (r.v[slot]! > 0) out.push({ value: r.v[slot]!, labels: { entity: r.entity, tenant: r.tenant } });
    return out;
  };

  add('requests_total', 'Cache reads by where they were answered (source) and outcome (result)', 'counter', () => {
    const out: Value[] = [];
    for (const r of c.rows()) {
      for (let i = 0; i < 12; i++) {
        const v = r.v[i]!;
        if (v > 0) out.push({ value: v, labels: { source: SOURCES[Math.floor(i / 3)]!, result: RESULTS[i % 3]!, entity: r.entity, tenant: r.tenant } });
      }
    }
    return out;
  });
  add('request_duration_seconds', 'Latency per source: L2 round trips, origin (factory) calls', 'histogram', () => {
    const out: Value[] = [];
    const name = `${prefix}_request_duration_seconds`;
    c.totals.latency.forEach((h, s) => {
      if (h.count === 0) return;
      const source = SOURCES[s]!;
      const cum = new Float64Array(DURATION_BUCKETS.length);
      for (let b = 0; b < BUCKETS; b++) {
        const n = h.counts[b]!;
        if (n === 0) continue;
        const sec = bucketValue(b) / 1000;
        for (let j = 0; j < DURATION_BUCKETS.length; j++) if (sec <= DURATION_BUCKETS[j]!) cum[j]! += n;
      }
      DURATION_BUCKETS.forEach((le, j) => out.push({ metricName: `${name}_bucket`, value: cum[j]!, labels: { le, source } }));
      out.push({ metricName: `${name}_bucket`, value: h.count, labels: { le: '+Inf', source } });
      out.push({ metricName: `${name}_sum`, value: h.sumMs / 1000, labels: { source } });
      out.push({ metricName: `${name}_count`, value: h.count, labels: { source } });
    });
    return out;
  });
  add('origin_calls_total', 'Origin (factory) calls', 'counter', () => perRow(ORIGIN_CALLS));
  add('origin_errors_total', 'Origin (factory) calls that failed or timed out', 'counter', () => perRow(ORIGIN_ERRORS));
  add('served_bytes_total', 'Encoded bytes served from L2', 'counter', () => perRow(BYTES));
  add('invalidations_total', 'Invalidations by kind (key, pattern, tag, namespace, clear)', 'counter', () =>
    [...c.totals.invalidationsByKind].map(([kind, value]) => ({ value, labels: { kind } })),
  );
  add('entity_invalidations_total', 'Invalidations per entity', 'counter', () => perRow(INVALIDATIONS));
  add('l1_evictions_total', 'Entries evicted from L1 (size bounds) in attached TieredCaches', 'counter', () => [{ value: c.l1Evictions() }]);
  add('store_errors_total', 'Store failures, timeouts and refusals by operation', 'counter', () =>
    [...c.totals.storeErrorsByOp].map(([op, value]) => ({ value, labels: { op } })),
  );
  add('circuit_state', 'Circuit breaker state per cache: 0 closed, 1 half-open, 2 open', 'gauge', () =>
    [...c.totals.circuit].map(([cache, s]) => ({ value: CIRCUIT_VALUE[s] ?? -1, labels: { cache } })),
  );
  add('breaker_transitions_total', 'Circuit breaker transitions by new state', 'counter', () =>
    [...c.totals.breakerTransitions].map(([state, value]) => ({ value, labels: { state } })),
  );
  add('bus_lag_seconds', 'Delivery time of the store pub/sub carrying the invalidation bus (probe at each flush)', 'gauge', () => {
    const v = extras.busLagSeconds();
    return v === undefined ? [] : [{ value: v }];
  });
  add('bus_messages_total', 'Invalidation bus messages applied', 'counter', () => [{ value: c.totals.busMessages }]);
  add('topk_tracked_keys', 'Keys held by the bounded top-K table', 'gauge', () => [{ value: c.topK.size }]);
  add('analytics_flush_errors_total', 'Trend flushes the store did not take (retried with the next flush)', 'counter', () => [{ value: extras.flushErrors() }]);
  const info = (field: string) => async (): Promise<Value[]> => {
    const i = await extras.redis().catch(() => undefined);
    const v = i?.[field];
    return v === undefined || !Number.isFinite(Number(v)) ? [] : [{ value: Number(v) }];
  };
  add('redis_memory_bytes', 'Redis used_memory (INFO)', 'gauge', info('used_memory'));
  add('redis_maxmemory_bytes', 'Redis maxmemory (INFO; 0 = no limit)', 'gauge', info('maxmemory'));
  add('redis_keys', 'Keys in the Redis database (DBSIZE)', 'gauge', info('dbsize'));
  add('redis_evicted_keys_total', 'Keys Redis evicted for maxmemory (INFO)', 'counter', info('evicted_keys'));
  add('redis_uptime_seconds', 'Redis uptime (INFO)', 'gauge', info('uptime_in_seconds'));
}

export { Registry };
