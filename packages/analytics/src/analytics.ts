import { hostname } from 'node:os';
import { MemoryStore, RedisStore, type Store } from '@stratacache/core';
import type { Cluster, Redis } from 'ioredis';
import { Registry } from 'prom-client';
import type { TtlPolicy } from '@stratacache/core';
import { AdaptiveTtl, type AdaptiveTtlOptions } from './adaptive-ttl';
import { Advisor, type AdvisorOptions } from './advisor';
import { AlertManager, type AlertsOptions } from './alerts';
import { BusProbe } from './bus-probe';
import { Collector, type Attachable, type AttachOptions } from './collector';
import { AnalyticsConfigError } from './errors';
import { InvalidationLog, type InvalidationRecord, type InvalidationStats } from './invalidation-log';
import { ANALYTICS_DEFAULTS, durationOpt, intOpt, numOpt, stringList, type CacheAnalyticsOptions } from './options';
import { registerMetrics } from './prometheus';
import { RedisTrendBackend } from './redis-backend';
import { localAggregate, performanceReport, type PerformanceReport } from './report';
import type { KeyStat } from './top-k';
import { MemoryTrendBackend, type TrendBackend } from './trend-backend';
import { TrendStore, type Aggregate, type Trend, type TrendFilter, type TrendRange } from './trends';
import { Tracing } from './tracing';

/** INFO answers are reused for this long by scrapes and alerts. */
export const INFO_CACHE_MS = 5_000;

export interface Overview {
  /** This process since start (or since attach). */
  local: Aggregate;
  circuits: Record<string, string>;
  invalidationsByKind: Record<string, number>;
  topKeys: KeyStat[];
  /** Store facts from INFO (undefined with the embedded store or when Redis does not answer). */
  redis: RedisInfo | undefined;
}

export interface RedisInfo {
  usedMemory: number;
  maxMemory: number;
  /** used / max × 100; undefined when maxmemory is 0 (no limit). */
  memoryPercent: number | undefined;
  keys: number;
  evictedKeys: number;
  uptimeSeconds: number;
}

/**
 * The analytics of one process: attach caches, read counters / percentiles / top keys / trends
 * (summed across instances), reports, invalidation history, and Prometheus metrics.
 *
 * ```ts
 * const analytics = new CacheAnalytics({ store: redisStore, costPerOriginCall: 0.002 });
 * analytics.attach(tieredCache);
 * app.get('/metrics', async () => analytics.metrics());
 * ```
 */
export class CacheAnalytics {
  readonly collector: Collector;
  readonly registry: Registry;
  readonly trends: TrendStore;
  readonly invalidationLog: InvalidationLog;
  readonly backend: TrendBackend;
  readonly instanceId: string;
  readonly costPerOriginCall: number;
  readonly flushIntervalMs: number;
  /** Key namespace with its hash tag: `{<prefix>:analytics}`. */
  readonly ns: string;
  private readonly timer: NodeJS.Timeout | undefined;
  /** Pub/sub delivery probe (when `store` is a core Store), run with each flush. */
  readonly busProbe: BusProbe | undefined;
  private infoCache: { at: number; value: Promise<Record<string, string> | undefined> } | undefined;
  private closed = false;
  private readonly alertManagers = new Set<AlertManager>();
  private readonly adaptives = new Set<AdaptiveTtl>();

  constructor(options: CacheAnalyticsOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new AnalyticsConfigError('options', 'must be an object');
    const d = ANALYTICS_DEFAULTS;
    const prefix = options.prefix ?? d.prefix;
    if (typeof prefix !== 'string' || prefix.length === 0 || /[\s{}]/.test(prefix)) throw new AnalyticsConfigError('prefix', 'must be a non-empty string without spaces or braces');
    this.ns = `{${prefix}:analytics}`;
    this.instanceId = options.instanceId ?? `${hostname()}:${process.pid}`;
    this.costPerOriginCall = numOpt(options.costPerOriginCall, 'costPerOriginCall', d.costPerOriginCall);
    this.flushIntervalMs = durationOpt(options.flushInterval, 'flushInterval', d.flushIntervalMs);
    this.collector = new Collector({
      topK: intOpt(options.topK, 'topK', d.topK, 8, 1_000_000),
      maxEntities: intOpt(options.maxEntities, 'maxEntities', d.maxEntities, 1, 10_000),
      maxTenants: intOpt(options.maxTenants, 'maxTenants', d.maxTenants, 1, 10_000),
      entities: stringList(options.entities, 'entities'),
      tenants: stringList(options.tenants, 'tenants'),
    });
    if (options.hits !== undefined && options.hits !== 'counted' && options.hits !== 'events') throw new AnalyticsConfigError('hits', "must be 'counted' or 'events'");
    this.collector.hitsMode = options.hits ?? 'counted';
    this.backend = backendOf(options.store);
    this.trends = new TrendStore(this.collector, this.backend, this.ns);
    const maxLen = intOpt(options.invalidationLogMaxLen, 'invalidationLogMaxLen', d.invalidationLogMaxLen, 10, 10_000_000);
    this.invalidationLog = new InvalidationLog(this.backend, `${this.ns}:invalidations`, maxLen, this.instanceId);
    this.collector.observers.add(this.invalidationLog);
    if (options.tracer !== undefined) {
      if (typeof options.tracer?.startSpan !== 'function') throw new AnalyticsConfigError('tracer', 'must be an OpenTelemetry Tracer (with startSpan)');
      this.collector.tracer = new Tracing(options.tracer);
    }
    const st = options.store as { subscribe?: unknown; publish?: unknown } | undefined;
    if (st !== undefined && typeof st.subscribe === 'function' && typeof st.publish === 'function' && !('hincrby' in st)) {
      this.busProbe = new BusProbe(options.store as Store, `${this.ns}:probe`, this.instanceId);
    }
    this.registry = options.registry ?? new Registry();
    registerMetrics(
      this.registry,
      this.collector,
      { redis: () => this.rawInfo(), flushErrors: () => this.trends.flushErrors, busLagSeconds: () => this.busProbe?.lastLagSeconds },
      options.metricPrefix ?? d.metricPrefix,
    );
    if (this.flushIntervalMs > 0) {
      this.timer = setInterval(() => void this.flush().catch(() => undefined), this.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Starts collecting the events of a CacheService, a TieredCache (both layers) or a ShardRouter (every tenant, every layer). Returns detach. */
  attach(cache: Attachable, options?: AttachOptions): () => void {
    if (this.closed) throw new AnalyticsConfigError('attach', 'analytics is closed');
    return this.collector.attach(cache, options);
  }

  /** Writes the counters of the last period into the shared buckets and the invalidation log (one pipeline each). */
  async flush(): Promise<void> {
    const r = await Promise.allSettled([this.trends.flush(), this.invalidationLog.flush(), this.busProbe?.probe()]);
    const failed = r.find((x) => x.status === 'rejected');
    if (failed) throw (failed).reason;
  }

  /** Prometheus text exposition of the registry (serve it at `/metrics` with `registry.contentType`). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** The busiest keys (bounded top-K), with hits, hit rate, latency and bytes. */
  topKeys(n = 20): KeyStat[] {
    return this.collector.topK.top(n);
  }

  /** This process's numbers: counters, latency per source (p50/p95/p99), circuits, top keys, store info. */
  async overview(): Promise<Overview> {
    const t = this.collector.totals;
    return {
      local: localAggregate(this.collector),
      circuits: Object.fromEntries(t.circuit),
      invalidationsByKind: Object.fromEntries(t.invalidationsByKind),
      topKeys: this.topKeys(10),
      redis: await this.redisInfo(),
    };
  }

  /** Points of a range (1 h / 24 h at minute resolution, 7 d / 30 d hourly), summed across every instance. */
  trend(range: TrendRange, filter?: TrendFilter): Promise<Trend> {
    return this.trends.trend(range, filter);
  }

  /** One aggregate of a range across every instance (counters, percentiles, per entity). */
  aggregate(range: TrendRange, filter?: TrendFilter): Promise<Aggregate> {
    return this.trends.aggregate(range, filter);
  }

  /** Requests, hit rate, time and origin calls saved, estimated cost saved: local, or a range across instances. */
  async performanceReport(range?: TrendRange): Promise<PerformanceReport> {
    if (range === undefined) return performanceReport(localAggregate(this.collector), 'local', this.costPerOriginCall);
    return performanceReport(await this.aggregate(range), range, this.costPerOriginCall);
  }

  invalidations(count = 100): Promise<InvalidationRecord[]> {
    return this.invalidationLog.history(count);
  }

  invalidationStats(windowMs = 3_600_000): Promise<InvalidationStats> {
    return this.invalidationLog.stats(windowMs);
  }

  /** Memory, keys, evictions, uptime from Redis INFO (cached {@link INFO_CACHE_MS}); undefined when embedded or unreachable. */
  async redisInfo(): Promise<RedisInfo | undefined> {
    const i = await this.rawInfo().catch(() => undefined);
    if (i === undefined) return undefined;
    const used = Number(i.used_memory ?? 0);
    const max = Number(i.maxmemory ?? 0);
    return {
      usedMemory: used,
      maxMemory: max,
      memoryPercent: max > 0 ? (used / max) * 100 : undefined,
      keys: Number(i.dbsize ?? 0),
      evictedKeys: Number(i.evicted_keys ?? 0),
      uptimeSeconds: Number(i.uptime_in_seconds ?? 0),
    };
  }

  private rawInfo(): Promise<Record<string, string> | undefined> {
    const now = Date.now();
    if (this.infoCache === undefined || now - this.infoCache.at > INFO_CACHE_MS) {
      const value = withTimeout(this.backend.info(), 1_000);
      value.catch(() => undefined);
      this.infoCache = { at: now, value };
    }
    return this.infoCache.value;
  }

  /** Starts evaluating alert rules (validated now: a bad rule throws {@link AnalyticsConfigError}). Stopped by `close()`. */
  startAlerts(options: AlertsOptions): AlertManager {
    const m = new AlertManager(this, options);
    this.alertManagers.add(m);
    return m;
  }

  /**
   * Starts TTL / key-normalisation / warming advice, and with `autoApply` adaptive TTL (opt-in).
   * `ttlPolicy` defaults to the policy of the CacheService / TieredCache attached (exactly one must be).
   */
  startAdvisor(options: Partial<AdvisorOptions> & { autoApply?: AdaptiveTtlOptions } = {}): { advisor: Advisor; adaptive: AdaptiveTtl | undefined } {
    let ttlPolicy: TtlPolicy | undefined = options.ttlPolicy;
    if (ttlPolicy === undefined) {
      const all = [...this.collector.ttlPolicies];
      if (all.length !== 1) throw new AnalyticsConfigError('advisor.ttlPolicy', `required when ${all.length} TTL policies are attached (pass the TtlPolicy shared by your caches)`);
      ttlPolicy = all[0]!;
    }
    const advisor = new Advisor(this.collector, { ...options, ttlPolicy });
    this.collector.observers.add(advisor);
    let adaptive: AdaptiveTtl | undefined;
    if (options.autoApply !== undefined) {
      adaptive = new AdaptiveTtl(advisor, options.autoApply);
      this.adaptives.add(adaptive);
    }
    return { advisor, adaptive };
  }

  /** Detaches every cache, stops the timer, flushes once (bounded). Does not close the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const m of this.alertManagers) m.stop();
    for (const a of this.adaptives) a.stop();
    this.collector.detachAll();
    await withTimeout(this.flush(), 2_000).catch(() => undefined);
    await this.busProbe?.close();
  }
}

function backendOf(store: CacheAnalyticsOptions['store']): TrendBackend {
  if (store === undefined || store instanceof MemoryStore) return new MemoryTrendBackend();
  if (store instanceof RedisStore) return new RedisTrendBackend(store.client);
  const c = store as Partial<Redis>;
  if (typeof c.pipeline === 'function' && typeof c.hincrby === 'function') return new RedisTrendBackend(store as Redis | Cluster);
  if (typeof (store as { kind?: unknown }).kind === 'string') return new MemoryTrendBackend(); // another Store: in process
  throw new AnalyticsConfigError('store', 'must be a RedisStore, MemoryStore, or an ioredis Redis / Cluster client');
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
