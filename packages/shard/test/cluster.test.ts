import { CacheService, type RedisStore } from '@stratacache/core';
import { startCluster, waitFor, type RedisCluster } from '@stratacache/redis-harness';
import { expectLockWorks } from './support/lock-check';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardRouter, createRedisConnection, tieredCaches } from '../src/index';
import { clusterMasterDrill, fmtSeconds } from './support/drills';

// One 3-master + 3-replica cluster for the whole file: core behaviour first, the failover drill last.
let cluster: RedisCluster;
let client: Cluster;
let cache: CacheService;
let drillCache: CacheService;

beforeAll(async () => {
  cluster = await startCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1_000 });
  await cluster.waitHealthy(60_000);
  // Replicas must be attached before the drill can promote one.
  await waitFor(async () => (await cluster.replicas()).length === 3, { timeoutMs: 30_000, message: 'replicas attached' });
  client = createRedisConnection({ cluster: { nodes: cluster.startupNodes.slice(0, 2) } });
  await client.ping();
  await waitFor(() => client.nodes('master').length === 3, { timeoutMs: 20_000, message: 'cluster client sees 3 masters' });
  // behaviour tests: a generous timeout (the machine is shared); the drill: the documented defaults
  // (opTimeout 200 ms, resetTimeout 5 s) — the breaker follows the connection, no short resetTimeout needed
  cache = new CacheService({ redis: client, prefix: 'clu', opTimeout: 3_000 });
  drillCache = new CacheService({ redis: client, prefix: 'clu' });
}, 120_000);

afterAll(async () => {
  await cache?.close();
  await drillCache?.close();
  client?.disconnect();
  await cluster?.close();
});

describe('CacheService on a Redis Cluster built by createRedisConnection', () => {
  it('is a real Cluster client (not silently replaced)', async () => {
    expect(client.isCluster).toBe(true);
    expect(cache.store.kind).toBe('redis-cluster');
    expect((cache.store as RedisStore).client).toBe(client);
    expect(client.nodes('master').length).toBe(3);
  });

  it('getOrSet calls the origin once, then serves from Redis', async () => {
    let calls = 0;
    const load = () => {
      calls++;
      return { id: 1, at: new Date(0) };
    };
    expect(await cache.getOrSet('user:1', load)).toEqual({ id: 1, at: new Date(0) });
    expect(await cache.getOrSet('user:1', load)).toEqual({ id: 1, at: new Date(0) });
    expect(calls).toBe(1);
  });

  it('mset/mget across slots (no CROSSSLOT)', async () => {
    const entries = Array.from({ length: 50 }, (_, i) => ({ key: `many:${i}`, value: i }));
    const results = await cache.mset(entries);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await cache.mget(entries.map((e) => e.key))).toEqual(entries.map((e) => e.value));
  });

  it('invalidatePattern deletes matching keys on every master', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `jobs:list:${i}`);
    for (const k of keys) await cache.set(k, k);
    await cache.set('jobs:detail:1', 'keep');
    // the keys really are spread over all three masters
    const perMaster = await Promise.all(client.nodes('master').map((n) => n.dbsize()));
    expect(perMaster.filter((n) => n > 0).length).toBe(3);
    const r = await cache.invalidatePattern('jobs:list:*');
    expect(r.ok).toBe(true);
    expect(r.deleted).toBe(60);
    expect(await cache.mget(keys)).toEqual(keys.map(() => undefined));
    expect(await cache.get('jobs:detail:1')).toBe('keep');
  });

  it('invalidateNamespace and tag invalidation', async () => {
    await cache.set(cache.keys.build('contacts', 'list', { page: 1 }), ['a']);
    await cache.set(cache.keys.build('contacts', 'detail', '7'), { id: 7 }, { tags: ['contact:7'] });
    await cache.set(cache.keys.build('estimates', 'detail', '9'), { id: 9 }, { tags: ['contact:7'] });
    await cache.set(cache.keys.build('users', 'detail', '1'), { id: 1 }, { tags: ['user:1'] });

    expect((await cache.invalidateNamespace('contacts', 'list')).ok).toBe(true);
    expect(await cache.get(cache.keys.build('contacts', 'list', { page: 1 }))).toBeUndefined();
    expect(await cache.get(cache.keys.build('contacts', 'detail', '7'))).toEqual({ id: 7 });

    expect((await cache.invalidateTag('contact:7')).ok).toBe(true);
    expect(await cache.get(cache.keys.build('contacts', 'detail', '7'))).toBeUndefined();
    expect(await cache.get(cache.keys.build('estimates', 'detail', '9'))).toBeUndefined();
    expect(await cache.get(cache.keys.build('users', 'detail', '1'))).toEqual({ id: 1 });
  });

  it('clear() empties the prefix on every master and leaves other prefixes alone', async () => {
    await client.set('other:untouched', '1');
    for (let i = 0; i < 30; i++) await cache.set(`c:${i}`, i);
    const r = await cache.clear();
    expect(r.ok).toBe(true);
    for (let i = 0; i < 30; i++) expect(await cache.get(`c:${i}`)).toBeUndefined();
    expect(await client.get('other:untouched')).toBe('1');
  });

  it('@stratacache/lock works unchanged on this topology: exclusive acquire, owner-only release, fencing, using()', async () => {
    await expectLockWorks(client, 'clu:lock');
  });

  it('ShardRouter: a tenant on a Cluster shard next to an embedded memory shard', async () => {
    const router = new ShardRouter({
      shards: {
        guilford: { cluster: { nodes: cluster.startupNodes.map((n) => `${n.host}:${n.port}`), scaleReads: 'master' } },
        local: { memory: true },
      },
      defaultShard: 'local',
      cache: { opTimeout: 3_000 },
    });
    try {
      const g = router.forTenant('guilford');
      expect(g.store.kind).toBe('redis-cluster');
      expect(router.forTenant('someone-else').store.kind).toBe('memory');
      let calls = 0;
      for (let i = 0; i < 3; i++) await g.getOrSet('report:q1', () => ++calls);
      expect(calls).toBe(1);
      for (let i = 0; i < 20; i++) await g.set(`jobs:list:${i}`, i);
      expect((await g.invalidatePattern('jobs:list:*')).deleted).toBe(20);
      const h = await router.health();
      expect(h.shards.guilford!.status).toBe('ok');
      expect(h.shards.guilford!.kind).toBe('cluster');
    } finally {
      await router.close();
    }
  });

  it('TieredCache on the Cluster: L1/L2, cross-instance stampede guard, bus invalidation', async () => {
    // two app instances = two routers, each with its own Cluster connection
    const make = () =>
      new ShardRouter({
        shards: { guilford: { cluster: { nodes: cluster.startupNodes } } },
        cache: { opTimeout: 3_000 },
        createCache: tieredCaches({ l1: { ttl: '30s' } }),
      });
    const [r1, r2] = [make(), make()];
    try {
      const [c1, c2] = [r1.forTenant('guilford'), r2.forTenant('guilford')];
      await Promise.all([c1.ready(), c2.ready()]);
      let origin = 0;
      const slow = async () => {
        origin++;
        await new Promise((r) => setTimeout(r, 200));
        return 'value';
      };
      const results = await Promise.all([
        ...Array.from({ length: 10 }, () => c1.getOrSet('hot:key', slow)),
        ...Array.from({ length: 10 }, () => c2.getOrSet('hot:key', slow)),
      ]);
      expect(results.every((v) => v === 'value')).toBe(true);
      expect(origin).toBe(1);

      await c1.set('tagged:1', 'x', { tags: ['t1'] });
      expect(await c2.get('tagged:1')).toBe('x');
      expect(c2.hasInL1('tagged:1')).toBe(true);
      await c1.invalidateTag('t1');
      await waitFor(() => !c2.hasInL1('tagged:1'), { timeoutMs: 10_000, message: 'bus invalidation on the Cluster' });
      expect(await c2.get('tagged:1')).toBeUndefined();

      await c1.set('ns:a', 1);
      await c1.clear();
      expect(await c2.get('ns:a')).toBeUndefined();
    } finally {
      await Promise.all([r1.close(), r2.close()]);
    }
  });

  it('drill: a master is killed -> its replica is promoted; callers see only degraded mode; writes resume', async () => {
    const r = await clusterMasterDrill({ cluster, client, cache: drillCache, timeoutMs: 45_000 });
    console.log(
      `[drill] cluster outage window: ${fmtSeconds(r.cacheOutageMs)} (CacheService write) / ${fmtSeconds(r.clientOutageMs)} (ioredis write); ` +
        `${r.calls} calls, ${r.degraded} degraded, ${r.callerExceptions} exceptions; master :${r.killedPort} -> :${r.newMasterPort}`,
    );
    expect(r.callerExceptions).toBe(0);
    expect(r.newMasterPort).not.toBe(r.killedPort);
    // issue 20: the cache recovers with the connection (goal raw + 1 s; slack for a shared machine),
    // not after the breaker's resetTimeout of 5 s
    expect(r.cacheOutageMs).toBeLessThan(r.clientOutageMs + 2_000);
    const masters = (await cluster.masters()).map((n) => n.port);
    expect(masters).toContain(r.newMasterPort);
    expect(masters).not.toContain(r.killedPort);
    // writes and reads go to the promoted replica
    await waitFor(async () => (await cache.set('after:failover', 'yes')).ok, { timeoutMs: 20_000 });
    expect(await cache.get('after:failover')).toBe('yes');
    await waitFor(async () => (await drillCache.set('after:drill', 1)).ok && drillCache.breaker.state === 'CLOSED', { timeoutMs: 20_000 });
  }, 90_000);
});
