import { CacheService, RedisStore } from '@stratacache/core';
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { ShardRouter, tieredCaches } from '@stratacache/shard';
import { TieredCache } from '@stratacache/tiered';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheAnalytics } from '../src/index';
import { client } from './helpers';

let redis: StandaloneRedis;
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

async function tieredOn(prefix: string, every?: number, l1?: { maxEntries?: number }): Promise<{ cache: TieredCache; close(): Promise<void> }> {
  const store = new RedisStore(client(redis.port), { ownsClient: true });
  const service = new CacheService({ store, prefix, opTimeout: 2_000 });
  const cache = new TieredCache(service, { l1: { ttl: '30s', ...(l1 ?? {}) }, ...(every === undefined ? {} : { hitSampleEvery: every }) });
  await cache.ready();
  return {
    cache,
    async close() {
      await cache.close();
      await service.close();
      await store.close();
    },
  };
}

describe("sampled hits in hits: 'counted' mode", () => {
  it('attributes every Nth hit ×N to its key (top-K) and entity; totals stay exact from stats()', async () => {
    const a = await tieredOn('smp', 4);
    const b = await tieredOn('smp', 4);
    const analytics = new CacheAnalytics({ flushInterval: 0 });
    analytics.attach(a.cache, { tenant: 'acme' });
    const job = a.cache.l2.keys.build('jobs', 'get', '1');
    const user = a.cache.l2.keys.build('users', 'get', '1');
    await a.cache.getOrSet(job, () => 'j'); // origin
    await a.cache.getOrSet(user, () => 'u'); // origin
    for (let i = 0; i < 12; i++) a.cache.getL1(job); // 12 L1 hits: samples at hits 4, 8, 12 → jobs 12
    for (let i = 0; i < 7; i++) a.cache.getL1(user); // 7 more: sample at hit 16 (user) → users 4; 3 since
    await b.cache.set(job, 'j2'); // (another instance)
    expect(a.cache.stats().sampledHitsPending).toEqual({ l1: 3, l2: 0 });
    const ov = (await analytics.overview()).local;
    expect(ov.l1Hits).toBe(19); // exact, from stats()
    expect(ov.byEntity['acme|jobs']).toMatchObject({ hits: 12, originCalls: 1 });
    expect(ov.byEntity['acme|users']).toMatchObject({ hits: 4, originCalls: 1 });
    expect(ov.byEntity['acme|all']).toMatchObject({ hits: 3 }); // not attributed by a sample (yet)
    const top = analytics.topKeys(2);
    expect(top[0]).toMatchObject({ key: job, hits: 12, misses: 1 });
    expect(top[1]).toMatchObject({ key: user, hits: 4, misses: 1 });
    const text = await analytics.metrics();
    expect(text).toContain('stratacache_requests_total{source="l1",result="hit",entity="jobs",tenant="acme"} 12');
    expect(text).toContain('stratacache_requests_total{source="l1",result="hit",entity="all",tenant="acme"} 3');
    // hit 20 is a sample for hits 17..20: 17..19 are already under 'all', only hit 20 goes to users (no double count)
    a.cache.getL1(user);
    const ov2 = (await analytics.overview()).local;
    expect(ov2.l1Hits).toBe(20);
    expect(ov2.byEntity['acme|users']!.hits).toBe(5);
    expect(ov2.byEntity['acme|all']!.hits).toBe(3);
    expect(analytics.topKeys(2)[1]).toMatchObject({ key: user, hits: 8 });
    await analytics.close();
    await a.close();
    await b.close();
  });

  it('default interval (64): per-key hit estimates of a skewed mix are within the documented error', async () => {
    const a = await tieredOn('smpz');
    const analytics = new CacheAnalytics({ flushInterval: 0 });
    analytics.attach(a.cache);
    const keys = Array.from({ length: 20 }, (_, i) => a.cache.l2.keys.build(`e${i % 4}`, 'get', String(i)));
    for (const k of keys) await a.cache.getOrSet(k, () => k);
    const truth = new Map<string, number>();
    let x = 7;
    for (let i = 0; i < 60_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const r = x / 2147483648;
      const k = keys[Math.min(keys.length - 1, Math.floor(r * r * r * keys.length))]!; // skewed towards key 0
      a.cache.getL1(k);
      truth.set(k, (truth.get(k) ?? 0) + 1);
    }
    expect(a.cache.stats().l1Hits).toBe(60_000);
    const ov = (await analytics.overview()).local;
    let attributed = 0;
    for (const [label, e] of Object.entries(ov.byEntity)) if (label !== 'none|all') attributed += e.hits;
    expect(ov.l1Hits).toBe(60_000);
    expect(attributed + (ov.byEntity['none|all']?.hits ?? 0)).toBe(60_000);
    expect(60_000 - attributed).toBeLessThan(64); // the hits since the last sample
    for (const s of analytics.topKeys(20)) {
      const t = truth.get(s.key)!;
      if (t < 5_000) continue;
      // relative error ≈ sqrt(N / hits): 64 / 5000 → 11 %; 4 sigma
      expect(Math.abs(s.hits - t) / t).toBeLessThan(4 * Math.sqrt(64 / t));
    }
    await analytics.close();
    await a.close();
  });

  it('a bare CacheService emits sampled_hit every hitSampleEvery hits (count = the interval)', async () => {
    const svc = new CacheService({ store: new RedisStore(client(redis.port), { ownsClient: true }), prefix: 'smpc', hitSampleEvery: 3 });
    const seen: { key?: string; count?: number; entity?: string }[] = [];
    svc.on('sampled_hit', (e) => seen.push({ key: e.key, count: e.count, entity: e.entity }));
    await svc.set('jobs:get:1', 1);
    for (let i = 0; i < 7; i++) await svc.get('jobs:get:1');
    expect(seen).toEqual([
      { key: 'smpc:jobs:get:1', count: 3, entity: 'jobs' },
      { key: 'smpc:jobs:get:1', count: 3, entity: 'jobs' },
    ]);
    expect(() => new CacheService({ hitSampleEvery: 0 })).toThrow(/hitSampleEvery/);
    expect(() => new TieredCache(svc, { hitSampleEvery: 1.5 })).toThrow(/hitSampleEvery/);
    await svc.close();
    await svc.store.close();
  });

  it('a ShardRouter forwards sampled hits (tiered and CacheService tenants) and L1 evictions of tenant caches', async () => {
    const router = new ShardRouter({
      shards: { main: { url: redis.url } },
      defaultShard: 'main',
      createCache: tieredCaches({ l1: { ttl: '30s', maxEntries: 3 }, hitSampleEvery: 2 }),
    });
    const plain = new ShardRouter({ shards: { main: { url: redis.url } }, defaultShard: 'main', cache: { hitSampleEvery: 2 } });
    const analytics = new CacheAnalytics({ flushInterval: 0 });
    analytics.attach(router);
    analytics.attach(plain);
    const t = router.forTenant('stamford');
    await t.ready();
    await t.getOrSet('jobs:list:1', () => [1]);
    for (let i = 0; i < 6; i++) await t.getOrSet('jobs:list:1', () => [1]); // 6 L1 hits → 3 samples of 2
    const g = plain.forTenant('guilford');
    await g.set('users:get:1', 'u');
    for (let i = 0; i < 4; i++) await g.get('users:get:1'); // 4 L2 hits → 2 samples of 2
    let ov = (await analytics.overview()).local;
    expect(ov.byEntity['stamford|jobs']).toMatchObject({ hits: 6, originCalls: 1 });
    expect(ov.byEntity['guilford|users']).toMatchObject({ hits: 4 });
    expect(ov.byEntity['stamford|all']).toBeUndefined();
    expect(ov.l1Hits).toBe(6);
    expect(ov.l2Hits).toBe(4);
    expect(analytics.topKeys(5).map((k) => [k.key, k.hits])).toEqual(
      expect.arrayContaining([
        [expect.stringContaining('jobs:list:1'), 6],
        [expect.stringContaining('users:get:1'), 4],
      ]),
    );
    // L1 evictions of a tenant cache (maxEntries 3), counted through router.stats()
    for (let i = 0; i < 6; i++) await t.set(`jobs:get:${i}`, i);
    ov = (await analytics.overview()).local;
    expect(ov.l1Evictions).toBeGreaterThanOrEqual(3);
    const before = ov.l1Evictions;
    expect(await analytics.metrics()).toContain(`stratacache_l1_evictions_total ${before}`);
    await analytics.close();
    await router.close();
    await plain.close();
  });
});

describe('L2 read latency of a TieredCache (l2_read events)', () => {
  it("is recorded in counted mode: overview l2 percentiles and request_duration{source=\"l2\"} are non-empty", async () => {
    const a = await tieredOn('lat');
    const b = await tieredOn('lat');
    const analytics = new CacheAnalytics({ flushInterval: 0 });
    analytics.attach(a.cache);
    for (let i = 0; i < 20; i++) await b.cache.set(`lat:jobs:get:${i}`, i);
    for (let i = 0; i < 20; i++) expect(await a.cache.get(`lat:jobs:get:${i}`)).toBe(i); // 20 L2 hits
    for (let i = 0; i < 5; i++) await a.cache.getOrSet(`lat:jobs:get:x${i}`, () => i); // 5 L2 misses
    const l2 = (await analytics.overview()).local.latency.l2;
    expect(l2.count).toBeGreaterThanOrEqual(25); // 25 reads (+ the 5 L2 writes, timed by core)
    expect(l2.p50).toBeGreaterThan(0);
    expect(l2.p99).toBeGreaterThanOrEqual(l2.p50);
    expect(l2.p99).toBeLessThan(2_000);
    const text = await analytics.metrics();
    const m = /stratacache_request_duration_seconds_count\{source="l2"\} (\d+)/.exec(text);
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(25);
    await analytics.close();
    await a.close();
    await b.close();
  });

  it('a TieredCache times its L2 reads only while someone listens to l2_read', async () => {
    const a = await tieredOn('lat2');
    await a.cache.set('lat2:jobs:get:1', 1);
    a.cache.clearL1();
    const events: { kind?: string; latencyMs?: number; source: string }[] = [];
    const off = a.cache.on('l2_read', (e) => events.push({ kind: e.kind, latencyMs: e.latencyMs, source: e.source }));
    await a.cache.get('lat2:jobs:get:1');
    await a.cache.get('lat2:jobs:get:2');
    off();
    a.cache.clearL1();
    await a.cache.get('lat2:jobs:get:1');
    expect(events.map((e) => [e.kind, e.source])).toEqual([
      ['hit', 'l2'],
      ['miss', 'l2'],
    ]);
    expect(events.every((e) => typeof e.latencyMs === 'number' && e.latencyMs >= 0)).toBe(true);
    await a.close();
  });
});
