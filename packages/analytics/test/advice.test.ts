import { CacheService, RedisStore } from '@stratacache/core';
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsConfigError, CacheAnalytics } from '../src/index';
import { client, delay } from './helpers';

let redis: StandaloneRedis;
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

describe('advice and adaptive TTL', () => {
  it('TTLs converge near a known invalidation interval (down from too long, up from too short), every change recorded and revertible', async () => {
    const store = new RedisStore(client(redis.port), { ownsClient: true });
    const svc = new CacheService({ store, prefix: 'adt', opTimeout: 2_000, ttl: { defaultTtl: '5m', rules: [{ entity: 'jobs', ttl: '10s' }, { entity: 'users', ttl: 60 }] } });
    const analytics = new CacheAnalytics({ flushInterval: 0 });
    analytics.attach(svc);
    const { advisor, adaptive } = analytics.startAdvisor({ minSamples: 5, autoApply: { minTtl: 50, maxTtl: '1m', step: 0.5, interval: 0 } });
    const INTERVAL = 250; // the workload invalidates both entities every 250 ms
    const ttl = (e: string) => advisor.currentTtl(e);
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 5; i++) {
        await svc.getOrSet(`adt:jobs:get:${i}`, () => i);
        await svc.getOrSet(`adt:users:get:${i}`, () => i);
      }
      await delay(INTERVAL);
      await svc.invalidate({ namespace: 'jobs' });
      await svc.invalidate({ namespace: 'users' });
      adaptive!.evaluate();
    }
    const measured = advisor.interval('jobs')!;
    expect(measured.samples).toBeGreaterThanOrEqual(15);
    expect(Math.abs(measured.ms - INTERVAL) / INTERVAL).toBeLessThan(0.2);
    // converged within the advisor's tolerance (25 %) of the measured interval, from both sides
    expect(Math.abs(ttl('jobs') - measured.ms) / measured.ms).toBeLessThanOrEqual(0.25);
    expect(Math.abs(ttl('users') - advisor.interval('users')!.ms) / advisor.interval('users')!.ms).toBeLessThanOrEqual(0.25);
    expect(svc.ttlPolicy.resolve('adt:jobs:get:1', { entity: 'jobs', jitter: 0 })).toBe(ttl('jobs')); // the cache uses it
    const hist = adaptive!.history();
    expect(hist.filter((c) => c.selector === 'jobs').every((c, i, a) => i === 0 || c.toMs < a[i - 1]!.toMs)).toBe(true);
    expect(hist.filter((c) => c.selector === 'users').every((c) => c.toMs > c.fromMs)).toBe(true);
    expect(hist[0]!.reason).toMatch(/^ttl_down: entries are invalidated after ~2\d\d ms/);
    // revert everything: the original TTLs are back
    expect(adaptive!.revertAll()).toBe(hist.length);
    expect(ttl('jobs')).toBe(10_000);
    expect(ttl('users')).toBe(60);
    expect(adaptive!.revert(hist[0]!.id)).toBe(false);
    await analytics.close();
    await svc.close();
  });

  it('key-normalisation advice for an entity whose misses are all distinct keys; warming candidates from the top-K', async () => {
    const store = new RedisStore(client(redis.port), { ownsClient: true });
    const svc = new CacheService({ store, prefix: 'adv', opTimeout: 2_000 });
    const analytics = new CacheAnalytics({ flushInterval: 0 });
    analytics.attach(svc);
    const { advisor } = analytics.startAdvisor({ uniqueKeysMin: 500 });
    for (let i = 0; i < 1_500; i++) await svc.get(`adv:search:q:${i}-${Date.now()}`);
    for (let r = 0; r < 5; r++) {
      await svc.getOrSet('adv:config:get:main', () => 1);
      await svc.invalidate({ key: 'adv:config:get:main' });
    }
    const recs = advisor.recommendations();
    const norm = recs.find((r) => r.kind === 'normalize_keys');
    expect(norm).toMatchObject({ entity: 'search' });
    expect(norm!.evidence.distinctMissKeys).toBeGreaterThan(1_200);
    const warm = recs.filter((r) => r.kind === 'warm');
    expect(warm[0]).toMatchObject({ key: 'adv:config:get:main', entity: 'config' });
    expect(() => analytics.startAdvisor({ autoApply: { minTtl: 100, maxTtl: 10 } })).toThrow(AnalyticsConfigError);
    await analytics.close();
    await svc.close();
  });
});
