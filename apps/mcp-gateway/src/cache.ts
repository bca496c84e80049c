/**
 * The one module that knows which stratacache packages back the gateway:
 * `@stratacache/shard` ShardRouter (tenant from X-Instance -> shard) whose shards each run a
 * `@stratacache/tiered` TieredCache (in-process L1 + invalidation bus + stampede guard + grace)
 * over a `@stratacache/core` CacheService (L2: Redis, or the embedded store).
 * `CACHE_LAYER=core` uses the CacheService alone per shard (stale-on-error through `getEntry`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';
import { CacheService, type InvalidateSpec, type NamespaceRef } from '@stratacache/core';
import type { TieredCache } from '@stratacache/tiered';
import { ShardRouter, tieredCaches, type ShardDefinition } from '@stratacache/shard';
import { RoutedGatewayCache } from './routed-cache';
import { mergeOutcomes, type CacheStatsSnapshot, type CacheTarget, type GatewayCache, type InvalidationOutcome, type ReadResult, type ReadSpec } from './cache-port';
import type { GatewayConfig } from './config';
import { UpstreamError } from './errors';

export { RoutedGatewayCache, TenantError, tenantTag, tenantNamespaceTag } from './routed-cache';

/** Per-call context of a tiered invalidation: the error events it emitted. */
interface InvalidationProbe {
  failures: string[];
}
const invalidationScope = new AsyncLocalStorage<InvalidationProbe>();

/** A short reason of a store failure (`timeout`, `circuit-open`, a code, or the message's first line). */
function reasonOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (e && typeof e.code === 'string') return e.code;
  const msg = e && typeof e.message === 'string' ? e.message : String(err);
  return msg.split('\n')[0]!.slice(0, 200);
}

/** Store errors outside a caller's request (bus, background refresh…): one log line per kind per 10 s, with a count. */
class ErrorLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(private readonly logger: Logger) {}
  report(kind: string, error: unknown): void {
    const now = Date.now();
    const seen = this.last.get(kind);
    if (seen && now - seen.at < 10_000) {
      seen.suppressed++;
      return;
    }
    this.last.set(kind, { at: now, suppressed: 0 });
    this.logger.warn({ kind, reason: reasonOf(error), suppressed: seen?.suppressed ?? 0 }, 'cache store error');
  }
}

/** True for failures where an old value beats no value: upstream 5xx, timeouts, network errors. */
function servesStale(err: unknown): boolean {
  return err instanceof UpstreamError && !err.isClientError;
}

/** Builds the core `InvalidateSpec` of a list of targets. */
export function toInvalidateSpec(targets: CacheTarget[]): InvalidateSpec {
  const tags: string[] = [];
  const namespaces: NamespaceRef[] = [];
  for (const t of targets) {
    if ('tag' in t) tags.push(t.tag);
    else namespaces.push(t.operation === undefined ? { entity: t.entity } : { entity: t.entity, operation: t.operation });
  }
  return { tags, namespaces };
}

/** GatewayCache on a core CacheService: getOrSet for reads, tag/namespace barriers for invalidation, getEntry for stale-on-error. */
export class CoreGatewayCache implements GatewayCache {
  readonly layer = 'core';
  constructor(
    readonly service: CacheService,
    private readonly logger: Logger,
    private readonly softTimeoutMs = 1000,
  ) {}

  get storeKind(): string {
    return this.service.store.kind;
  }

  private keyOf(spec: ReadSpec): string {
    // the tenant is part of the identifier so tenants never share an entry
    const params = spec.tenant === undefined ? spec.params : { ...spec.params, _tenant: spec.tenant };
    return this.service.keys.build(spec.entity, spec.operation, params);
  }

  async read<T>(spec: ReadSpec, fetch: () => Promise<T>): Promise<ReadResult<T>> {
    const key = this.keyOf(spec);
    let fromOrigin = false;
    const fresh = (async (): Promise<ReadResult<T>> => {
      try {
        const value = await this.service.getOrSet<T>(
          key,
          async () => {
            fromOrigin = true;
            return fetch();
          },
          { ttl: spec.ttlMs, tags: spec.tags, ...(spec.graceMs > 0 ? { grace: spec.graceMs } : {}) },
        );
        return { value, source: fromOrigin ? 'origin' : 'cache' };
      } catch (err) {
        // single-flight: another caller's factory (its credential) was refused; ours may be accepted
        if (!fromOrigin && err instanceof UpstreamError && err.isClientError) return { value: await fetch(), source: 'origin' };
        if (!servesStale(err) || spec.graceMs <= 0) throw err;
        // last good copy: an expired entry still inside its grace period (never one removed by invalidation)
        const stale = await this.staleOf<T>(key);
        if (stale !== undefined) {
          this.logger.warn({ entity: spec.entity, operation: spec.operation, code: (err as UpstreamError).code }, 'upstream failed, serving stale');
          return { value: stale, source: 'stale' };
        }
        throw err;
      }
    })();
    if (spec.graceMs <= 0) return fresh;
    // soft deadline: past it, a value within grace answers while the refresh goes on
    let timer: NodeJS.Timeout | undefined;
    const soft = new Promise<'soft'>((resolve) => {
      timer = setTimeout(() => resolve('soft'), this.softTimeoutMs);
    });
    try {
      const first = await Promise.race([fresh, soft]);
      if (first !== 'soft') return first;
      const entry = await this.service.getEntry<T>(key).catch(() => undefined);
      if (!entry || entry.graceUntil === undefined || entry.graceUntil <= Date.now()) return await fresh;
      fresh.catch(() => undefined); // finishes in the background (its failure was logged or is the origin's)
      return { value: entry.value, source: entry.expiresAt > Date.now() ? 'cache' : 'stale' };
    } finally {
      clearTimeout(timer);
    }
  }

  private async staleOf<T>(key: string): Promise<T | undefined> {
    const entry = await this.service.getEntry<T>(key).catch(() => undefined);
    return entry && entry.graceUntil !== undefined && entry.graceUntil > Date.now() ? entry.value : undefined;
  }

  async invalidate(targets: CacheTarget[]): Promise<InvalidationOutcome> {
    if (targets.length === 0) return mergeOutcomes(0, []);
    try {
      const r = await this.service.invalidate(toInvalidateSpec(targets));
      if (r.ok) return { ok: true, targets: targets.length, applied: targets.length, failed: 0, reasons: [] };
      return { ok: false, targets: targets.length, applied: 0, failed: targets.length, reasons: [String(r.reason ?? 'error')] };
    } catch (err) {
      return { ok: false, targets: targets.length, applied: 0, failed: targets.length, reasons: [reasonOf(err)] };
    }
  }

  async stats(): Promise<CacheStatsSnapshot> {
    return { layer: this.layer, store: this.storeKind, ...this.service.stats() };
  }

  async health(): Promise<{ ok: boolean; [k: string]: unknown }> {
    const h = await this.service.health();
    return { ...h, ok: h.status !== 'down' };
  }

  close(): Promise<void> {
    return this.service.close();
  }
}

/**
 * GatewayCache on a TieredCache over a CacheService. A read waits for the origin (no
 * stale-while-revalidate: an agent gets fresh data after the TTL); a value within grace is
 * served only when the origin fails (fail-safe) or is slower than `softTimeoutMs`.
 */
export class TieredGatewayCache implements GatewayCache {
  readonly layer = 'tiered';
  constructor(
    readonly tiered: TieredCache,
    readonly service: CacheService,
    private readonly logger: Logger,
    private readonly softTimeoutMs: number,
  ) {
    this.errorLog = new ErrorLog(logger);
  }

  private readonly errorLog: ErrorLog;

  get storeKind(): string {
    return this.service.store.kind;
  }

  async read<T>(spec: ReadSpec, fetch: () => Promise<T>): Promise<ReadResult<T>> {
    const params = spec.tenant === undefined ? spec.params : { ...spec.params, _tenant: spec.tenant };
    const key = this.service.keys.build(spec.entity, spec.operation, params);
    let called = false;
    let settled = false;
    let failed = false;
    let clientError: Error | undefined;
    let value: T;
    try {
      value = await this.tiered.getOrSet<T>(
        key,
        async () => {
          called = true;
          try {
            return await fetch();
          } catch (err) {
            failed = true;
            if (!servesStale(err)) clientError = err instanceof Error ? err : new Error(String(err));
            throw err;
          } finally {
            settled = true;
          }
        },
        { ttl: spec.ttlMs, grace: spec.graceMs, tags: spec.tags, softTimeout: spec.graceMs > 0 ? this.softTimeoutMs : 0 },
      );
    } catch (err) {
      // single-flight: another caller's factory (its credential) was refused; ours may be accepted
      if (!called && err instanceof UpstreamError && err.isClientError) return { value: await fetch(), source: 'origin' };
      throw err;
    }
    // a 4xx is the caller's error: never hide it behind a stale value
    if (clientError !== undefined) throw clientError;
    if (failed) this.logger.warn({ entity: spec.entity, operation: spec.operation }, 'upstream failed, serving stale');
    // answered while our factory still runs: the soft deadline passed and a value within grace was served
    return { value, source: !called ? 'cache' : failed || !settled ? 'stale' : 'origin' };
  }

  /**
   * One `tiered.invalidate` per target. A failure is read from the result (core's
   * `InvalidateResult`: `ok === false`) and from the tiered `error` event the call emits
   * (attributed to this call through AsyncLocalStorage), so it is counted today, when the
   * method resolves `void`, and once it returns the result.
   */
  async invalidate(targets: CacheTarget[]): Promise<InvalidationOutcome> {
    const outcome: InvalidationOutcome = { ok: true, targets: targets.length, applied: 0, failed: 0, reasons: [] };
    for (const t of targets) {
      const probe: InvalidationProbe = { failures: [] };
      let res: unknown;
      try {
        res = await invalidationScope.run(probe, () =>
          this.tiered.invalidate('tag' in t ? { tag: t.tag } : { namespace: t.operation === undefined ? { entity: t.entity } : { entity: t.entity, operation: t.operation } }),
        );
      } catch (err) {
        probe.failures.push(reasonOf(err));
      }
      if (typeof res === 'object' && res !== null && (res as { ok?: unknown }).ok === false) {
        probe.failures.push(String((res as { reason?: string }).reason ?? 'error'));
      }
      if (probe.failures.length === 0) outcome.applied++;
      else {
        outcome.failed++;
        outcome.ok = false;
        for (const r of probe.failures) if (!outcome.reasons.includes(r)) outcome.reasons.push(r);
      }
    }
    return outcome;
  }

  /** Called for every tiered `error` event: invalidation failures go to their call, the rest is logged (rate-limited). */
  onTieredError(kind: string | undefined, error: unknown): void {
    const probe = invalidationScope.getStore();
    if (probe !== undefined && kind === 'l2.invalidate') {
      probe.failures.push(reasonOf(error));
      return;
    }
    this.errorLog.report(kind ?? 'unknown', error);
  }

  async stats(): Promise<CacheStatsSnapshot> {
    return { layer: this.layer, store: this.storeKind, tiered: this.tiered.stats(), l2: this.service.stats() };
  }

  async health(): Promise<{ ok: boolean; [k: string]: unknown }> {
    const h = await this.service.health();
    // L1 keeps answering while L2 is down, but report the store's state
    return { ...h, ok: h.status !== 'down' };
  }

  async close(): Promise<void> {
    await this.tiered.close();
    await this.service.close(); // idempotent (a TieredTenantCache already closed it)
  }
}

export interface GatewayCacheOptions {
  /** `tiered` (default) or `core`. */
  layer?: 'tiered' | 'core';
  /** Longest wait for the origin before a value within grace is served (the refresh goes on). Default 1 s. */
  softTimeoutMs?: number;
}

type CacheConfig = Pick<GatewayConfig, 'redisUrl' | 'cachePrefix'> &
  Partial<Pick<GatewayConfig, 'cacheLayer' | 'shards' | 'tenantShards' | 'defaultShard'>>;

/**
 * The gateway's cache: a ShardRouter (one `default` shard on REDIS_URL or the embedded store,
 * more with SHARDS) whose shards each run a TieredCache (or a bare CacheService with
 * `CACHE_LAYER=core`).
 */
export async function createGatewayCache(config: CacheConfig, logger: Logger, opts: GatewayCacheOptions = {}): Promise<GatewayCache> {
  const layer = opts.layer ?? config.cacheLayer ?? 'tiered';
  const shardUrls = config.shards ?? { default: config.redisUrl ?? 'memory' };
  const shards: Record<string, ShardDefinition> = {};
  for (const [id, url] of Object.entries(shardUrls)) shards[id] = url === 'memory' ? { memory: true } : { url };
  const makeTiered = tieredCaches({ l1: { maxEntries: 10_000, ttl: '5s' }, bus: true });
  const router = new ShardRouter<GatewayCache>({
    shards,
    tenants: config.tenantShards ?? {},
    defaultShard: config.defaultShard ?? 'default',
    prefix: config.cachePrefix,
    keyspace: 'shard',
    createCache: (ctx) => {
      if (layer === 'core') return new CoreGatewayCache(new CacheService(ctx.options), logger, opts.softTimeoutMs ?? 1000);
      const tiered = makeTiered(ctx);
      const gc = new TieredGatewayCache(tiered, tiered.service, logger, opts.softTimeoutMs ?? 1000);
      // never muted: invalidation failures are reported to their caller, other store errors are logged
      tiered.on('error', (e) => gc.onTieredError(e.kind, e.error));
      return gc;
    },
  });
  return new RoutedGatewayCache(router, layer, logger);
}
