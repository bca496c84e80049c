import { CacheService, RedisStore } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheAnalytics, type SpanTracer } from '../src/index';
import { client, delay } from './helpers';

let redis: StandaloneRedis;
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

describe('OpenTelemetry spans (optional)', () => {
  it('a span per origin call and per L2 round trip, with start = end − measured latency; none without a tracer', async () => {
    const spans: { name: string; start: number; end: number; attributes: Record<string, unknown> }[] = [];
    const tracer: SpanTracer = {
      startSpan: (name, o) => ({ end: (end) => spans.push({ name, start: o!.startTime!, end: end!, attributes: o!.attributes! }) }),
    };
    const store = new RedisStore(client(redis.port), { ownsClient: true });
    const svc = new CacheService({ store, prefix: 'ot', opTimeout: 2_000 });
    const plain = new CacheAnalytics({ flushInterval: 0 });
    expect(plain.collector.tracer).toBeUndefined(); // tracing off: one undefined check per timed event, no span
    const analytics = new CacheAnalytics({ flushInterval: 0, tracer });
    analytics.attach(svc);
    await svc.getOrSet('ot:jobs:get:1', async () => (await delay(30), 1));
    await svc.get('ot:jobs:get:1');
    const origin = spans.find((s) => s.name === 'stratacache.origin')!;
    expect(origin.end - origin.start).toBeGreaterThanOrEqual(29);
    expect(origin.attributes).toMatchObject({ 'stratacache.layer': 'origin', 'stratacache.entity': 'jobs' });
    const l2 = spans.filter((s) => s.name.startsWith('stratacache.l2.'));
    expect(l2.map((s) => s.name)).toEqual(expect.arrayContaining(['stratacache.l2.miss', 'stratacache.l2.hit']));
    await plain.close();
    await analytics.close();
    await svc.close();
  });

  it("a TieredCache's L2 reads (l2_read events) are spans named after their outcome", async () => {
    const spans: string[] = [];
    const tracer: SpanTracer = { startSpan: (name) => ({ end: () => spans.push(name) }) };
    const store = new RedisStore(client(redis.port), { ownsClient: true });
    const svc = new CacheService({ store, prefix: 'ott', opTimeout: 2_000 });
    const cache = new TieredCache(svc, { bus: false });
    const analytics = new CacheAnalytics({ flushInterval: 0, tracer });
    analytics.attach(cache); // default hits: 'counted'
    await svc.set('ott:jobs:get:1', 1);
    expect(await cache.get('ott:jobs:get:1')).toBe(1);
    expect(await cache.get('ott:jobs:get:2')).toBeUndefined();
    expect(spans).toEqual(expect.arrayContaining(['stratacache.l2.hit', 'stratacache.l2.miss']));
    expect(spans.some((s) => s.includes('l2_read'))).toBe(false);
    await analytics.close();
    await cache.close();
    await svc.close();
  });
});
