/**
 * The admin API and dashboard of @stratacache/fastify mounted next to the gateway (plugin hook of
 * `createGateway`): analytics attached to every shard's cache, the plugin's routes under `/cache`,
 * `/metrics`. Composition only: the routes, auth, page and numbers are the packages'.
 */
import type { FastifyInstance } from 'fastify';
import { CacheAnalytics } from '@stratacache/analytics';
import type { CacheService } from '@stratacache/core';
import { adminCache, adminWarming, strataAdmin, type AdminCache, type AdminToken } from '@stratacache/fastify';
import type { TieredCache } from '@stratacache/tiered';
import { Warmer } from '@stratacache/warming';
import type { GatewayContext } from './gateway';
import { RoutedGatewayCache } from './routed-cache';

export interface GatewayAdminOptions {
  tokens: AdminToken[];
  /** Trend flush period (default 10 s). */
  flushIntervalMs?: number;
  /** BullMQ key prefix of the warming queues when the default shard is on Redis (default `sc:warm`, the Warmer's). */
  warmingPrefix?: string;
}

/**
 * The warmer behind `POST /cache/warming`: on the default shard's layer, one declared entry per
 * read the gateway can refresh without a caller (`ToolRunner.warmables()`: cached, shared, no
 * required argument), not warmed at start and not re-warmed on invalidation (the gateway's
 * behaviour stays as it was unless an admin asks). BullMQ when the default shard is a Redis URL,
 * in process otherwise.
 */
function gatewayWarmer(ctx: GatewayContext, layer: TieredCache | CacheService, service: CacheService, prefix: string): { warmer: Warmer; mode: string } {
  const url = ctx.config.shards[ctx.config.defaultShard];
  const redis = url !== undefined && url !== 'memory' ? url : undefined;
  const warmer = new Warmer({ cache: layer, ...(redis ? { redis } : {}), prefix, rewarmOnInvalidate: false });
  warmer.declare(
    ctx.runner.warmables().map((w) => ({
      key: service.keys.build(w.entity, w.operation, w.params),
      factory: () => w.fetch(),
      ttl: w.ttlMs,
      ...(w.graceMs > 0 ? { grace: w.graceMs } : {}),
      ...(w.tags.length ? { tags: w.tags } : {}),
      atStart: false,
    })),
  );
  return { warmer, mode: redis ? 'bullmq' : 'embedded' };
}

/** The stratacache layers under the gateway's cache (one per shard): what analytics attaches to and invalidations go through. */
function layersOf(ctx: GatewayContext): (TieredCache | CacheService)[] {
  const cache = ctx.cache;
  if (!(cache instanceof RoutedGatewayCache)) return [];
  return cache.router.shardIds().map((id) => {
    const gc = cache.router.forShard(id) as unknown as { tiered?: TieredCache; service: CacheService };
    return gc.tiered ?? gc.service;
  });
}

/** A plugin for `createGateway(config, { plugins: [gatewayAdmin(opts)] })`. */
export function gatewayAdmin(opts: GatewayAdminOptions): (app: FastifyInstance, ctx: GatewayContext) => Promise<void> {
  return async (app, ctx) => {
    const layers = layersOf(ctx);
    if (layers.length === 0) throw new Error('the admin API needs the gateway’s own cache (a RoutedGatewayCache)');
    const router = (ctx.cache as RoutedGatewayCache).router;
    const analytics = new CacheAnalytics({
      store: router.storeOf(router.defaultShard!),
      prefix: ctx.config.cachePrefix,
      flushInterval: opts.flushIntervalMs ?? 10_000,
      entities: ctx.manifest.tools.map((t) => (t as { entity?: string }).entity).filter((e): e is string => typeof e === 'string'),
    });
    for (const l of layers) analytics.attach(l);
    const alerts = analytics.startAlerts({ interval: '30s', rules: [{ type: 'hit_rate_below', threshold: 0.5, minRequests: 100 }, { type: 'breaker_open', severity: 'critical' }] });
    const advice = layers.length === 1 ? analytics.startAdvisor({ autoApply: { minTtl: '10s', maxTtl: '1h', interval: 0 } }) : undefined;
    const def = router.forShard(router.defaultShard!) as unknown as { tiered?: TieredCache; service: CacheService };
    const { warmer, mode } = gatewayWarmer(ctx, def.tiered ?? def.service, def.service, opts.warmingPrefix ?? 'sc:warm');
    // not awaited: a Redis that does not answer must not hold the gateway's start (the routes are bounded)
    warmer.start().catch((err: unknown) => ctx.logger.warn({ err: { message: (err as Error).message } }, 'warming did not start'));
    app.addHook('onClose', () => warmer.close('5s'));
    const base = adminCache(layers);
    // stats and health as the gateway reports them; invalidations through every shard's layer
    const cache: AdminCache = { stats: () => ctx.cache.stats(), health: () => ctx.cache.health(), invalidate: (t) => base.invalidate(t), clear: () => base.clear() };
    await app.register(strataAdmin, {
      cache,
      analytics,
      alerts,
      ...(advice ? { advisor: advice.advisor, ...(advice.adaptive ? { adaptive: advice.adaptive } : {}) } : {}),
      warming: adminWarming(warmer, { mode, keys: () => [...warmer.registry.entries.keys()] }),
      tokens: opts.tokens,
      close: true, // alerts, adaptive TTL, analytics (the cache stays the gateway's)
    });
  };
}
