import { CacheService } from '@stratacache/core';
import { startSentinel, waitFor, type RedisSentinelSet } from '@stratacache/redis-harness';
import { expectLockWorks } from './support/lock-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardRouter, createRedisConnection } from '../src/index';
import { fmtSeconds, sentinelMasterDrill } from './support/drills';

let set: RedisSentinelSet;
let client: Redis;
let replicaClient: Redis;
let cache: CacheService;
let drillCache: CacheService;

beforeAll(async () => {
  set = await startSentinel({ sentinels: 3, downAfterMs: 1_000, failoverTimeoutMs: 3_000 });
  client = createRedisConnection({ sentinel: { sentinels: set.sentinelAddrs, name: set.name } });
  replicaClient = createRedisConnection({ sentinel: { sentinels: set.sentinelAddrs.map((a) => `${a.host}:${a.port}`), name: set.name, role: 'slave' } });
  replicaClient.on('error', () => undefined);
  // behaviour tests: a generous timeout (the machine is shared); the drill: the documented defaults
  // (opTimeout 200 ms, resetTimeout 5 s) — the breaker follows the connection, no short resetTimeout needed
  cache = new CacheService({ redis: client, prefix: 'sen', opTimeout: 3_000 });
  drillCache = new CacheService({ redis: client, prefix: 'sen' });
  await client.ping();
}, 120_000);

afterAll(async () => {
  await cache?.close();
  await drillCache?.close();
  client?.disconnect();
  replicaClient?.disconnect();
  await set?.close();
});

describe('Sentinel through createRedisConnection', () => {
  it('connects to the master named by the Sentinels; role slave reads from the replica', async () => {
    const master = await set.currentMaster();
    expect(client.options.port === master.port || (await client.info('server')).includes(`tcp_port:${master.port}`)).toBe(true);
    expect(await cache.getOrSet('greeting', () => 'hello')).toBe('hello');
    expect(await cache.get('greeting')).toBe('hello');
    const role = await replicaClient.role();
    expect(role[0]).toBe('slave');
    // the replica receives the write through replication
    await waitFor(async () => (await replicaClient.exists(cache.key('greeting'))) === 1, { timeoutMs: 10_000 });
    await expect(replicaClient.set('x', '1')).rejects.toThrow(/READONLY/);
  });

  it('pattern, namespace and tag invalidation and clear() on the Sentinel master', async () => {
    for (let i = 0; i < 20; i++) await cache.set(`jobs:list:${i}`, i);
    expect((await cache.invalidatePattern('jobs:list:*')).deleted).toBe(20);
    await cache.set(cache.keys.build('users', 'detail', '1'), { id: 1 }, { tags: ['u1'] });
    expect((await cache.invalidateTag('u1')).ok).toBe(true);
    expect(await cache.get(cache.keys.build('users', 'detail', '1'))).toBeUndefined();
    await cache.set(cache.keys.build('users', 'list', 'all'), []);
    expect((await cache.invalidateNamespace('users')).ok).toBe(true);
    expect(await cache.get(cache.keys.build('users', 'list', 'all'))).toBeUndefined();
    await cache.set('k', 1);
    expect((await cache.clear()).ok).toBe(true);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('@stratacache/lock works unchanged on this topology: exclusive acquire, owner-only release, fencing, using()', async () => {
    await expectLockWorks(client, 'sen:lock');
  });

  it('ShardRouter: a tenant on a Sentinel shard', async () => {
    const router = new ShardRouter({
      shards: { shared: { sentinel: { sentinels: set.sentinelAddrs, name: set.name } } },
      tenants: { acme: 'shared' },
      cache: { opTimeout: 3_000 },
    });
    try {
      const acme = router.forTenant('acme');
      expect(await acme.getOrSet('k', () => 'v')).toBe('v');
      expect(await acme.get('k')).toBe('v');
      const h = await router.health();
      expect(h.shards.shared).toMatchObject({ status: 'ok', kind: 'sentinel', target: `sentinel(${set.name}@${set.sentinelAddrs.map((a) => `${a.host}:${a.port}`).join(',')})` });
    } finally {
      await router.close();
    }
  });

  it('drill: master killed -> Sentinel failover -> the client follows the new master and writes succeed', async () => {
    const r = await sentinelMasterDrill({ set, client, cache: drillCache, timeoutMs: 60_000 });
    console.log(
      `[drill] sentinel outage window: ${fmtSeconds(r.cacheOutageMs)} (CacheService write) / ${fmtSeconds(r.clientOutageMs)} (ioredis write); ` +
        `${r.calls} calls, ${r.degraded} degraded, ${r.callerExceptions} exceptions; master :${r.killedPort} -> :${r.newMasterPort}`,
    );
    expect(r.callerExceptions).toBe(0);
    expect(r.newMasterPort).not.toBe(r.killedPort);
    // issue 20: the cache recovers with the connection (goal raw + 1 s; slack for a shared machine),
    // not after the breaker's resetTimeout of 5 s
    expect(r.cacheOutageMs).toBeLessThan(r.clientOutageMs + 2_000);
    expect(r.newMasterPort).toBe(set.replica.port);
    // the connection now really is on the promoted server, which accepts writes
    const role = await client.role();
    expect(role[0]).toBe('master');
    expect(await client.info('server')).toContain(`tcp_port:${r.newMasterPort}`);
    await waitFor(async () => (await cache.set('after:failover', 'yes')).ok, { timeoutMs: 20_000 });
    expect(await cache.get('after:failover')).toBe('yes');
  }, 90_000);
});
