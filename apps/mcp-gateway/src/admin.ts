/**
 * The admin API and dashboard of @stratacache/fastify mounted next to the gateway (plugin hook of
 * `createGateway`): analytics attached to every shard's cache, the plugin's routes under `/cache`,
 * `/metrics`. Composition only: the routes, auth, page and numbers are the packages'.
 */
import type { FastifyInstance } from 'fastify';
import { CacheAnalytics } from '@stratacache/analytics';
import type { CacheService } from '@stratacache/core';
import { adminCache, strataAdmin, type AdminCache, type AdminToken } from '@stratacache/fastify';
import type { TieredCache } from '@stratacache/tiered';
import type { GatewayContext } from './gateway';
import { RoutedGatewayCache } from './routed-cache';

export interface GatewayAdminOptions {
  tokens: AdminToken[];
  /** Trend flush period (default 10 s). */
  flushIntervalMs?: number;
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
    const base = adminCache(layers);
    // stats and health as the gateway reports them; invalidations through every shard's layer
    const cache: AdminCache = { stats: () => ctx.cache.stats(), health: () => ctx.cache.health(), invalidate: (t) => base.invalidate(t), clear: () => base.clear() };
    await app.register(strataAdmin, {
      cache,
      analytics,
      alerts,
      ...(advice ? { advisor: advice.advisor, ...(advice.adaptive ? { adaptive: advice.adaptive } : {}) } : {}),
      tokens: opts.tokens,
      close: true, // alerts, adaptive TTL, analytics (the cache stays the gateway's)
    });
  };
}
