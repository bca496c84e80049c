import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CacheService, MemoryStore } from '@stratacache/core';
import { startStandalone, waitFor, type StandaloneRedis } from '@stratacache/redis-harness';
import { ShardRouter, tieredCaches } from '@stratacache/shard';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheAnalytics, LogHistogram, TopK } from '../src/index';
import { delay, promtool, tiered } from './helpers';

let redis: StandaloneRedis;
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

describe('LogHistogram', () => {
  it('percentiles of a known distribution are within ±2 %', () => {
    const h = new LogHistogram();
    for (let v = 1; v <= 10_000; v++) h.record(v / 10); // 0.1 … 1000 ms, uniform
    const s = h.summary();
    expect(s.count).toBe(10_000);
    expect(s.avgMs).toBeCloseTo(500.05, 6);
    expect(Math.abs(s.p50 - 500) / 500).toBeLessThan(0.02);
    expect(Math.abs(s.p95 - 950) / 950).toBeLessThan(0.02);
    expect(Math.abs(s.p99 - 990) / 990).toBeLessThan(0.02);
  });
});

describe('TopK', () => {
  it('keeps the heavy hitters with flat memory under a stream of one-off keys', () => {
    const t = new TopK(100);
    for (let i = 0; i < 200_000; i++) {
      t.hit(`once:${i}`);
      if (i % 10 === 0) t.hit('hot:a');
      if (i % 20 === 0) t.hit('hot:b');
      if (i % 40 === 0) t.miss('hot:c');
    }
    expect(t.size).toBeLessThanOrEqual(100);
    const top = t.top(3).map((k) => k.key);
    expect(top).toEqual(['hot:a', 'hot:b', 'hot:c']);
    const a = t.top(1)[0]!;
    expect(a.requests + a.error).toBeGreaterThanOrEqual(20_000); // estimate never undercounts
  });
});

describe('collector on a TieredCache over real Redis', () => {
  it('counts L1 / L2 / origin per entity, origin percentiles match a known latency distribution, /metrics is valid', async () => {
    const a = await tiered(redis.port, 'col');
    const b = await tiered(redis.port, 'col'); // a second instance: its reads of a's entries are L2 hits
    const analytics = new CacheAnalytics({ flushInterval: 0, entities: ['user', 'report'] });
    analytics.attach(a.cache, { tenant: 'acme', hits: 'events' });
    // known origin latencies: 5..104 ms, 2 samples each (200 loads, concurrent)
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) => {
          const i = batch * 20 + j;
          return a.cache.getOrSet(`col:report:get:${i}`, async () => (await delay(5 + ((i * 37) % 100)), i));
        }),
      );
    }
    for (let i = 0; i < 50; i++) await a.cache.getOrSet('col:user:get:1', () => 'u'); // 1 origin + 49 L1 hits
    await b.cache.getOrSet('col:user:get:2', () => 'v');
    // getOrSet answers without waiting for its L2 write (batched with the tick's other writes): wait for
    // it to land, reading b's store directly (nothing counted on a)
    await waitFor(async () => (await b.store.get(b.service.key('col:user:get:2'))) !== undefined, { timeoutMs: 5_000 });
    expect(await a.cache.get('col:user:get:2')).toBe('v'); // L2 hit on a
    const ov = await analytics.overview();
    const byE = ov.local.byEntity;
    expect(byE['acme|report']!.requests).toBe(200);
    expect(byE['acme|report']!.originCalls).toBe(200);
    expect(byE['acme|user']!.hits).toBe(50);
    expect(ov.local.l1Hits).toBe(49);
    expect(ov.local.l2Hits).toBe(1);
    expect(ov.local.misses).toBe(201);
    const o = ov.local.latency.origin;
    expect(o.count).toBe(201);
    // setTimeout only overshoots: allow +10 % / +6 ms above, 2 % (bucket width) below
    const near = (got: number, want: number) => {
      expect(got).toBeGreaterThan(want * 0.98);
      expect(got).toBeLessThan(want * 1.1 + 6);
    };
    near(o.p50, 54);
    near(o.p95, 99);
    near(o.p99, 103);
    expect(ov.local.latency.l2.count).toBeGreaterThan(0);
    expect(analytics.topKeys(1)[0]!.key).toBe('col:user:get:1');

    const text = await analytics.metrics();
    expect(text).toContain('stratacache_requests_total{source="l1",result="hit",entity="user",tenant="acme"} 49');
    expect(text).toContain('stratacache_origin_calls_total{entity="report",tenant="acme"} 200');
    expect(text).toMatch(/stratacache_request_duration_seconds_count\{source="origin"\} 201/);
    const withStore = new CacheAnalytics({ store: a.store, prefix: 'col', flushInterval: 0 });
    await withStore.flush(); // runs the pub/sub probe
    expect(withStore.busProbe!.lastLagSeconds).toBeGreaterThan(0);
    expect(await withStore.metrics()).toMatch(/^stratacache_bus_lag_seconds \d/m);
    await withStore.close();
    checkExposition(text);
    await analytics.close();
    await a.close();
    await b.close();
  });

  it("hits: 'counted' (default): no hit subscription on the tiered cache; hits from stats under entity 'all', the rest per entity", async () => {
    const a = await tiered(redis.port, 'cnt');
    const b = await tiered(redis.port, 'cnt');
    const analytics = new CacheAnalytics({ flushInterval: 0 });
    analytics.attach(a.cache, { tenant: 'acme' });
    await b.cache.set('cnt:user:get:2', 'v');
    for (let i = 0; i < 10; i++) await a.cache.getOrSet('cnt:user:get:1', () => 'u'); // 1 origin + 9 L1 hits
    expect(await a.cache.get('cnt:user:get:2')).toBe('v'); // L2 hit
    expect(await a.cache.get('cnt:user:get:2')).toBe('v'); // L1 hit
    const ov = (await analytics.overview()).local;
    expect(ov.l1Hits).toBe(10);
    expect(ov.l2Hits).toBe(1);
    expect(ov.misses).toBe(1);
    expect(ov.byEntity['acme|all']!.hits).toBe(11);
    expect(ov.byEntity['acme|user']).toMatchObject({ hits: 0, requests: 1, originCalls: 1 });
    const text = await analytics.metrics();
    expect(text).toContain('stratacache_requests_total{source="l1",result="hit",entity="all",tenant="acme"} 10');
    await analytics.close();
    await a.close();
    await b.close();
  });

  it('label cardinality is bounded: entities beyond maxEntities fold into "other"', async () => {
    const svc = new CacheService({ store: new MemoryStore(), prefix: 'lab' });
    const analytics = new CacheAnalytics({ flushInterval: 0, maxEntities: 2 });
    analytics.attach(svc);
    for (let i = 0; i < 10; i++) await svc.getOrSet(`e${i}:get:1`, () => i);
    const entities = new Set(Object.values((await analytics.overview()).local.byEntity).map((e) => e.entity));
    expect([...entities].sort()).toEqual(['e0', 'e1', 'other']);
    await analytics.close();
    await svc.close();
  });

  it('a ShardRouter with tiered tenants: L1 hits are counted per tenant', async () => {
    const router = new ShardRouter({ shards: { main: { url: redis.url } }, defaultShard: 'main', createCache: tieredCaches({ l1: { ttl: '30s' } }) });
    const analytics = new CacheAnalytics({ flushInterval: 0 });
    const counted = new CacheAnalytics({ flushInterval: 0 }); // default hits: 'counted' — no hit subscription
    analytics.attach(router, { hits: 'events' });
    counted.attach(router);
    const t = router.forTenant('stamford');
    await t.ready();
    for (let i = 0; i < 5; i++) await t.getOrSet('jobs:list:1', () => [1]);
    const e = (await analytics.overview()).local.byEntity['stamford|jobs']!;
    expect(e.requests).toBe(5);
    expect(e.hits).toBe(4);
    expect(e.originCalls).toBe(1);
    const text = await analytics.metrics();
    expect(text).toContain('stratacache_requests_total{source="l1",result="hit",entity="jobs",tenant="stamford"} 4');
    const c = (await counted.overview()).local;
    expect(c.byEntity['stamford|all']).toMatchObject({ hits: 4 });
    expect(c.byEntity['stamford|jobs']).toMatchObject({ requests: 1, originCalls: 1 });
    expect(c.l1Hits).toBe(4);
    await analytics.close();
    await counted.close();
    await router.close();
  });
});

/** Strict check of the Prometheus text format (prom-client ships no parser), then `promtool check metrics` when installed. */
function checkExposition(text: string): void {
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      if (m[1] === 'TYPE') types.set(m[2]!, m[3]!);
      continue;
    }
    expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*",?)*\})? -?([0-9.e+-]+|NaN|\+Inf|-Inf)$/);
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0];
    const base = name.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(name) || types.get(base) === 'histogram').toBe(true);
  }
  const tool = promtool();
  if (tool === undefined) {
    console.warn('promtool not installed (apt-get install -y prometheus): skipping `promtool check metrics`');
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'metrics-'));
  writeFileSync(path.join(dir, 'm.txt'), text);
  const out = execFileSync('sh', ['-c', `promtool check metrics < ${path.join(dir, 'm.txt')} 2>&1; echo "rc=$?"`]).toString();
  expect(out.trim().split('\n').pop()).toBe('rc=0');
}
