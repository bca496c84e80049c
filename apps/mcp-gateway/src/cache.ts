/**
 * The one module that knows which stratacache package backs the gateway.
 * Layer in use: `@stratacache/core` CacheService (L2 only: embedded MemoryStore, or Redis).
 */
import type { Logger } from 'pino';
import { CacheService, type InvalidateSpec, type NamespaceRef } from '@stratacache/core';
import type { CacheStatsSnapshot, CacheTarget, GatewayCache, ReadResult, ReadSpec } from './cache-port';
import type { GatewayConfig } from './config';
import { UpstreamError } from './errors';

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
      if (!servesStale(err) || spec.graceMs <= 0) throw err;
      // last good copy: an expired entry still inside its grace period (never one removed by invalidation)
      const entry = await this.service.getEntry<T>(key).catch(() => undefined);
      if (entry && entry.graceUntil !== undefined && entry.graceUntil > Date.now()) {
        this.logger.warn({ entity: spec.entity, operation: spec.operation, code: (err as UpstreamError).code }, 'upstream failed, serving stale');
        return { value: entry.value, source: 'stale' };
      }
      throw err;
    }
  }

  async invalidate(targets: CacheTarget[]): Promise<number> {
    if (targets.length === 0) return 0;
    const r = await this.service.invalidate(toInvalidateSpec(targets));
    if (!r.ok) this.logger.warn({ reason: r.reason, targets: targets.length }, 'invalidation did not reach the store');
    return r.ok ? targets.length : r.barriers;
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

/** The gateway's cache: Redis when `REDIS_URL` is set, else the embedded in-process store. */
export async function createGatewayCache(config: Pick<GatewayConfig, 'redisUrl' | 'cachePrefix'>, logger: Logger): Promise<GatewayCache> {
  const service = new CacheService({
    prefix: config.cachePrefix,
    ...(config.redisUrl ? { redis: config.redisUrl } : {}),
  });
  return new CoreGatewayCache(service, logger);
}
