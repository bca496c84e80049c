import Fastify, { type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { CacheService, MemoryStore, RedisStore, type Store } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
import { CacheAnalytics, type AlertManager } from '@stratacache/analytics';
import { adminWarming, REDACT_PATHS, strataAdmin, type AdminWarming } from '@stratacache/fastify';
import type { Warmer } from '@stratacache/warming';
import type { AdminApiConfig } from './config';
import { createWarmer, type AdminWarmSetup, type WarmingMode } from './warming';

export interface AdminServer {
  app: FastifyInstance;
  cache: TieredCache;
  service: CacheService;
  analytics: CacheAnalytics;
  alerts: AlertManager;
  /** The warmer behind `POST /cache/warming` (undefined when `warming` was passed in the options). */
  warmer: Warmer | undefined;
  warmingMode: WarmingMode | 'custom';
  url: string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface AdminServerOptions {
  /** Where logs go (default stdout); tests pass a stream to capture them. */
  logDestination?: DestinationStream;
  /** Replaces the server's own warmer (any `{ warm(keys), stats() }`). */
  warming?: AdminWarming;
  /** Entries / loaders the server's own warmer can run (see `createWarmer`). */
  warm?: AdminWarmSetup;
}

/**
 * The standalone admin API: a TieredCache on REDIS_URL (or the embedded store) with CacheAnalytics,
 * default alert rules and the advisor, served by the @stratacache/fastify admin plugin.
 */
export async function createAdminServer(config: AdminApiConfig, opts: AdminServerOptions = {}): Promise<AdminServer> {
  const store: Store = config.redisUrl ? new RedisStore(config.redisUrl) : new MemoryStore();
  const service = new CacheService({ store, prefix: config.prefix });
  const cache = new TieredCache(service);
  await cache.ready();
  const analytics = new CacheAnalytics({ store, prefix: config.prefix, flushInterval: config.flushIntervalMs });
  analytics.attach(cache);
  const alerts = analytics.startAlerts({
    interval: '30s',
    rules: [{ type: 'hit_rate_below', threshold: 0.5, minRequests: 100 }, { type: 'breaker_open', severity: 'critical' }, ...(config.redisUrl ? [{ type: 'memory_above' as const, percent: 90 }] : [])],
  });
  const { advisor, adaptive } = analytics.startAdvisor({ autoApply: { minTtl: '10s', maxTtl: '1h', interval: 0 } });
  const own = opts.warming ? undefined : await createWarmer(config, cache, opts.warm);
  const warming = opts.warming ?? adminWarming(own!.warmer, { keys: () => own!.keys(), mode: own!.mode });
  const logOpts = { level: config.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  const app = Fastify({
    logger: opts.logDestination ? { ...logOpts, stream: opts.logDestination } : logOpts,
    forceCloseConnections: true,
  });
  await app.register(strataAdmin, {
    cache,
    analytics,
    alerts,
    advisor,
    ...(adaptive ? { adaptive } : {}),
    warming,
    tokens: config.tokens,
    refreshMs: config.refreshMs,
    close: true,
  });
  app.get('/', async (_req, reply) => reply.redirect('/cache/dashboard'));
  let closed = false;
  const server: AdminServer = {
    app,
    cache,
    service,
    analytics,
    alerts,
    warmer: own?.warmer,
    warmingMode: own?.mode ?? 'custom',
    url: '',
    async listen() {
      await app.listen({ port: config.port, host: config.host });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.port;
      server.url = `http://${config.host}:${port}`;
      return server.url;
    },
    async close() {
      if (closed) return;
      closed = true;
      await own?.warmer.close('5s');
      await app.close(); // the plugin stops alerts / adaptive TTL, closes analytics and the tiered cache
      await service.close();
      await store.close();
    },
  };
  return server;
}
