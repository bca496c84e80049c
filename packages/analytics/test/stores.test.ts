import { CacheService, MemoryStore } from '@stratacache/core';
import { startCluster, type RedisCluster } from '@stratacache/redis-harness';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheAnalytics } from '../src/index';

let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.close();
});

async function workload(analytics: CacheAnalytics, svc: CacheService): Promise<void> {
  analytics.attach(svc, { tenant: 't' });
  for (let i = 0; i < 30; i++) await svc.getOrSet(`s:jobs:get:${i % 10}`, () => i);
  await svc.invalidate({ namespace: 'jobs' });
  await analytics.flush();
}

describe('trend stores', () => {
  it('embedded store: the same API in process (buckets, trend, invalidation log, report)', async () => {
    const store = new MemoryStore();
    const svc = new CacheService({ store, prefix: 's' });
    const analytics = new CacheAnalytics({ store, flushInterval: 0 });
    expect(analytics.backend.kind).toBe('memory');
    await workload(analytics, svc);
    const agg = await analytics.aggregate('24h');
    expect(agg).toMatchObject({ requests: 30, hits: 20, misses: 10, originCalls: 10, invalidations: 1 });
    expect((await analytics.trend('1h')).points.reduce((n, p) => n + p.requests, 0)).toBe(30);
    expect((await analytics.invalidations())[0]).toMatchObject({ kind: 'namespace', entity: 'jobs', tenant: 't' });
    expect(await analytics.redisInfo()).toBeUndefined();
    await analytics.close();
    await svc.close();
  });

  it('Redis Cluster: every analytics key shares one hash tag, so flush and read pipelines never cross slots', async () => {
    const client = new Cluster(cluster.startupNodes);
    const svc = new CacheService({ store: new MemoryStore(), prefix: 's' });
    const analytics = new CacheAnalytics({ store: client, prefix: 'cl', flushInterval: 0 });
    expect(analytics.backend.kind).toBe('redis');
    await workload(analytics, svc);
    const agg = await analytics.aggregate('7d');
    expect(agg).toMatchObject({ requests: 30, hits: 20, originCalls: 10, invalidations: 1 });
    expect((await analytics.invalidationStats()).byEntity[0]).toMatchObject({ entity: 'jobs', invalidations: 1 });
    const info = await analytics.redisInfo();
    expect(info!.usedMemory).toBeGreaterThan(0);
    await analytics.close();
    await svc.close();
    client.disconnect();
  });
});
