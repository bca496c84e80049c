import { toMs, type Duration, type Store } from '@stratacache/core';
import type { Cluster, Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { AnalyticsConfigError } from './errors';
import type { SpanTracer } from './tracing';

export interface CacheAnalyticsOptions {
  /**
   * Where cross-instance trend buckets and the invalidation log live: a core `RedisStore` (its
   * client is used), an ioredis `Redis` / `Cluster`, or a `MemoryStore` / nothing (in process).
   */
  store?: Store | Redis | Cluster;
  /** Key namespace: keys are `{<prefix>:analytics}:…`. Default `'sc'`. */
  prefix?: string;
  /** Names this process in the invalidation log. Default `<hostname>:<pid>`. */
  instanceId?: string;
  /** Entities that always get their own label; others fold into `other` once `maxEntities` are held. */
  entities?: string[];
  /** Distinct entity labels per tenant. Default 50. */
  maxEntities?: number;
  tenants?: string[];
  /** Distinct tenant labels. Default 50. */
  maxTenants?: number;
  /** Keys tracked by the top-K table. Default 1000. */
  topK?: number;
  /** Flush period of the trend buckets and the invalidation log (unref'd timer). `0` = only `flush()`. Default 10 s. */
  flushInterval?: Duration;
  /** Cap of the invalidation stream (XADD MAXLEN ~). Default 10 000. */
  invalidationLogMaxLen?: number;
  /** Cost of one origin call, for the estimated savings of the performance report. Default 0. */
  costPerOriginCall?: number;
  /** prom-client registry to register in. Default: a new one (`analytics.registry`). */
  registry?: Registry;
  /** Metric name prefix. Default `'stratacache'`. */
  metricPrefix?: string;
  /** Default of `attach(tieredCache, { hits })`: `'counted'` (exact totals from `stats()`, per key / entity from sampled hits; no per-hit event) or `'events'`. Default `'counted'`. */
  hits?: 'counted' | 'events';
  /** OpenTelemetry tracer (`trace.getTracer('stratacache')`): a span per origin call and L2 round trip. Default none (no cost). */
  tracer?: SpanTracer;
}

export const ANALYTICS_DEFAULTS = {
  prefix: 'sc',
  maxEntities: 50,
  maxTenants: 50,
  topK: 1_000,
  flushIntervalMs: 10_000,
  invalidationLogMaxLen: 10_000,
  costPerOriginCall: 0,
  metricPrefix: 'stratacache',
} as const;

export function intOpt(v: unknown, path: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new AnalyticsConfigError(path, `must be an integer between ${min} and ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function numOpt(v: unknown, path: string, fallback: number, min = 0): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new AnalyticsConfigError(path, `must be a number >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

export function durationOpt(v: unknown, path: string, fallback: number): number {
  if (v === undefined) return fallback;
  try {
    return toMs(v as Duration, path);
  } catch (e) {
    throw new AnalyticsConfigError(path, e instanceof Error ? e.message : String(e));
  }
}

export function stringList(v: unknown, path: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.length === 0)) throw new AnalyticsConfigError(path, 'must be an array of non-empty strings');
  return v as string[];
}
