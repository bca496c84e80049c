import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { CacheService, RedisStore } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
import { CacheAnalytics, type AlertManager } from '@stratacache/analytics';
import { REDACT_PATHS, strataAdmin, type AdminWarming, type StrataAdminOptions } from '../src/index';

export const READ = 'read-token-0123456789abcdef';
export const ADMIN = 'admin-token-fedcba9876543210';
export const auth = (t: string) => ({ authorization: `Bearer ${t}` });

export interface Setup {
  app: FastifyInstance;
  cache: TieredCache;
  service: CacheService;
  analytics: CacheAnalytics;
  alerts: AlertManager;
  logs: () => string;
  close(): Promise<void>;
}

/** An app on a real Redis: TieredCache + CacheAnalytics + alerts + advisor, logs captured at trace. */
export async function setup(port: number, prefix: string, extra: Partial<StrataAdminOptions> = {}, warming?: AdminWarming): Promise<Setup> {
  const store = new RedisStore(`redis://127.0.0.1:${port}`);
  const service = new CacheService({ store, prefix, opTimeout: 2_000 });
  const cache = new TieredCache(service, { l1: { ttl: '30s' } });
  await cache.ready();
  const analytics = new CacheAnalytics({ store, prefix, flushInterval: 0 });
  analytics.attach(cache);
  const alerts = analytics.startAlerts({ interval: '1h', rules: [{ type: 'hit_rate_below', threshold: 0.99, minRequests: 1, window: '5m' }] });
  const { advisor, adaptive } = analytics.startAdvisor({ autoApply: { minTtl: '1s', maxTtl: '1h', interval: 0 } });
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const app = Fastify({ logger: { level: 'trace', stream, redact: { paths: REDACT_PATHS, censor: '[redacted]' } } });
  await app.register(strataAdmin, {
    cache,
    analytics,
    alerts,
    advisor,
    adaptive,
    tokens: [
      { token: READ, role: 'read' },
      { token: ADMIN, role: 'admin', name: 'ops' },
    ],
    rateLimit: { max: 100_000, timeWindow: '1 minute' },
    sampleMs: 0,
    ...(warming ? { warming } : {}),
    ...extra,
  });
  await app.ready();
  return {
    app,
    cache,
    service,
    analytics,
    alerts,
    logs: () => out,
    async close() {
      await app.close();
      alerts.stop();
      adaptive?.stop();
      await analytics.close();
      await cache.close();
      await service.close();
      await store.close();
    },
  };
}

/** Some reads: misses then hits on two entities. */
export async function traffic(cache: TieredCache, n = 20): Promise<void> {
  for (let i = 0; i < n; i++) {
    await cache.getOrSet(`jobs:get:${i % 5}`, async () => ({ id: i }), { ttl: '1m', tags: ['jobs'] });
    await cache.getOrSet(`contacts:get:${i % 3}`, async () => ({ id: i }), { ttl: '1m' });
  }
}
