/**
 * Tenants and shards: `X-Instance` → ShardRouter (keyspace `shard`: tenants of a shard share
 * one cache, kept apart by a `_tenant` key parameter), tenant-scoped invalidation through
 * tenant-qualified tags, and the webhook replay memory on the default shard's store.
 */
import type { Logger } from 'pino';
import { RedisStore } from '@stratacache/core';
import type { ShardRouter } from '@stratacache/shard';
import { mergeOutcomes, type CacheStatsSnapshot, type CacheTarget, type GatewayCache, type InvalidationOutcome, type ReadResult, type ReadSpec } from './cache-port';
import { GatewayError } from './errors';
import { MemoryReplayGuard, RedisReplayGuard, type ReplayGuard } from './webhooks/replay-guard';

/**
 * Tenant-qualified tag: `tenant:{tenant}|{tag}`. Tenant ids cannot contain `|` (shard router
 * ids), so a tenant's tag never equals another tenant's. A global tag that happens to look
 * like one could only cause an extra invalidation, never a missed one.
 */
export function tenantTag(tenant: string, tag: string): string {
  return `tenant:${tenant}|${tag}`;
}

/** Tag standing for a tenant's part of a namespace: `tenant:{tenant}|ns:{entity}[:{operation}]`. */
export function tenantNamespaceTag(tenant: string, entity: string, operation?: string): string {
  return `tenant:${tenant}|ns:${entity}${operation === undefined ? '' : `:${operation}`}`;
}

/** A tenant header value the shard router refuses (`E_TENANT_INVALID`). */
export class TenantError extends GatewayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_TENANT_INVALID', message, options);
  }
}

/**
 * Routes each read to its tenant's shard (`X-Instance` → ShardRouter, keyspace `shard`: tenants of
 * a shard share one cache and are kept apart by a `_tenant` key parameter). Invalidation without
 * a tenant (webhooks) is applied on every shard.
 */
export class RoutedGatewayCache implements GatewayCache {
  readonly layer: string;
  private readonly opened = new Set<string>();
  private guard: ReplayGuard | undefined;
  constructor(
    readonly router: ShardRouter<GatewayCache>,
    inner: 'tiered' | 'core',
    private readonly logger?: Logger,
  ) {
    this.layer = `${inner}+shard`;
  }

  get storeKind(): string {
    return this.shardCache(this.router.defaultShard!).storeKind;
  }

  private shardCache(shard: string): GatewayCache {
    this.opened.add(shard);
    return this.router.forShard(shard);
  }

  /** The cache of a tenant (undefined = the default shard). */
  cacheOf(tenant: string | undefined): GatewayCache {
    if (tenant === undefined) return this.shardCache(this.router.defaultShard!);
    let shard: string;
    try {
      shard = this.router.shardOf(tenant);
    } catch (err) {
      throw new TenantError(`invalid tenant ${JSON.stringify(tenant.slice(0, 64))}: ${(err as Error).message}`, { cause: err });
    }
    return this.shardCache(shard);
  }

  /**
   * A tenant's read carries, besides its tags, the tenant-qualified copy of each tag and of its
   * namespace (see {@link tenantTag}), so a tenant's invalidation can target only its entries.
   */
  validateTenant(tenant: string): void {
    this.cacheOf(tenant);
  }

  read<T>(spec: ReadSpec, fetch: () => Promise<T>): Promise<ReadResult<T>> {
    const cache = this.cacheOf(spec.tenant);
    if (spec.tenant === undefined) return cache.read(spec, fetch);
    const t = spec.tenant;
    const tags = [...spec.tags, ...spec.tags.map((tag) => tenantTag(t, tag)), tenantNamespaceTag(t, spec.entity), tenantNamespaceTag(t, spec.entity, spec.operation)];
    return cache.read({ ...spec, tags }, fetch);
  }

  /**
   * Without a tenant: the targets as given, on every shard (every tenant's entries carry the
   * global tags and live in the entity's namespace). With a tenant: the tenant-qualified tags
   * (a namespace becomes its tenant namespace tag), on the tenant's shard only.
   */
  async invalidate(targets: CacheTarget[], tenant?: string): Promise<InvalidationOutcome> {
    if (targets.length === 0) return mergeOutcomes(0, []);
    if (tenant !== undefined) {
      const cache = this.cacheOf(tenant);
      const scoped = targets.map((t): CacheTarget => ({ tag: 'tag' in t ? tenantTag(tenant, t.tag) : tenantNamespaceTag(tenant, t.entity, t.operation) }));
      return cache.invalidate(scoped);
    }
    const outcomes = await Promise.all(this.router.shardIds().map((id) => this.shardCache(id).invalidate(targets)));
    return mergeOutcomes(targets.length, outcomes);
  }

  /**
   * Webhook replay memory: on Redis (the default shard's store), `SET NX PX` shared by every
   * instance; on the embedded store, a bounded in-process map.
   */
  replayGuard(): ReplayGuard {
    if (this.guard) return this.guard;
    const store = this.router.storeOf(this.router.defaultShard!);
    this.guard =
      store instanceof RedisStore
        ? new RedisReplayGuard(store.client, `${this.router.prefix}:__webhook_seen:`, {
            onFallback: (err) => this.logger?.warn({ err: { message: err.message } }, 'webhook replay memory: Redis did not answer, using the in-process memory'),
          })
        : new MemoryReplayGuard();
    return this.guard;
  }

  async stats(): Promise<CacheStatsSnapshot> {
    const shards: Record<string, unknown> = {};
    for (const id of this.opened) shards[id] = await this.router.forShard(id).stats();
    return { layer: this.layer, store: this.storeKind, defaultShard: this.router.defaultShard, shards };
  }

  async health(): Promise<{ ok: boolean; [k: string]: unknown }> {
    const h = await this.router.health();
    return { ok: h.status !== 'down', status: h.status, shards: h.shards };
  }

  close(): Promise<void> {
    return this.router.close();
  }
}
