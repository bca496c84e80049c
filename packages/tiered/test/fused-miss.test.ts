// Issue 13, the fused miss, through the top layer: the L2 read takes the stampede lock in the same
// round trip, the write releases it and publishes in one more. Real redis-server (standalone and a
// 3-master Cluster from the harness), real OS processes, and the embedded MemoryStore.
import { CacheService, MemoryStore, RedisStore } from '@stratacache/core';
import { startCluster, startStandalone, waitFor } from '@stratacache/redis-harness';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TieredCache } from '../src/index';
import { spawnWorker } from './fixtures/spawn';
import type { Worker } from './fixtures/spawn';
import { makeClusterInstance, makeInstance, sleep, uniquePrefix } from './helpers';

let redis: Awaited<ReturnType<typeof startStandalone>>;
let admin: Redis;
beforeAll(async () => {
  redis = await startStandalone();
  admin = new Redis({ port: redis.port, host: '127.0.0.1' });
});
afterAll(async () => {
  admin?.disconnect();
  await redis?.close();
});

async function commandstats(client: Redis): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of (await client.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1] as string] = Number(m[2]);
  return out;
}

describe('fused miss (standalone)', () => {
  it('INFO commandstats over 200 sequential misses: 2 EVALSHA per miss, nothing else sent by the client', async () => {
    const inst = await makeInstance(redis.port, uniquePrefix('cs'), { l1: false });
    try {
      await inst.tiered.getOrSet('warm', async () => 1);
      await sleep(50);
      const before = await commandstats(admin);
      const N = 200;
      for (let i = 0; i < N; i++) await inst.tiered.getOrSet(`user:get:${i}`, async () => i);
      await sleep(100); // the last background write
      const after = await commandstats(admin);
      const d = (c: string) => (after[c] ?? 0) - (before[c] ?? 0);
      expect(d('evalsha')).toBe(2 * N);
      expect(d('publish')).toBe(N); // from inside the write script
      // inside the scripts: GET entry + SET NX lock + GET ×2 namespace barriers (read); GET lock (release)
      // (the barriers only when core's barrier cache is cold)
      expect(d('get')).toBeGreaterThanOrEqual(2 * N);
      expect(d('get')).toBeLessThanOrEqual(4 * N);
      expect(d('mget')).toBe(0);
      expect(d('set')).toBe(2 * N); // lock SET NX + entry SET
      expect(d('del')).toBe(N); // lock release
    } finally {
      await inst.close();
    }
  });

  it('a leader SIGKILLed mid-factory: one follower takes over after the lock TTL; one more factory call, one value', async () => {
    const prefix = uniquePrefix('kill');
    const workers: Worker[] = [];
    try {
      for (let i = 0; i < 3; i++) workers.push(await spawnWorker(redis.port, prefix, 30_000, { lockTtl: 600 }));
      const [a, b, c] = workers as [Worker, Worker, Worker];
      const counterKey = `${prefix}:factory-calls`;
      const args = { key: 'report:get:k', counterKey };
      void a.call('stampede', { ...args, count: 10, factoryMs: 30_000 }).catch(() => undefined);
      await waitFor(async () => Number(await admin.get(counterKey)) === 1, { timeoutMs: 10_000 });
      const followers = Promise.all([b.call<{ values: string[] }>('stampede', { ...args, count: 50, factoryMs: 300 }), c.call<{ values: string[] }>('stampede', { ...args, count: 50, factoryMs: 300 })]);
      await sleep(300); // both follow (the lock is busy)
      expect(Number(await admin.get(counterKey))).toBe(1);
      a.child.kill('SIGKILL');
      const t0 = Date.now();
      const results = await followers;
      // the lock expired (≤ lockTtl after the last extension), then exactly one follower led
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(Number(await admin.get(counterKey))).toBe(2);
      const values = new Set(results.flatMap((r) => r.values));
      expect(values.size).toBe(1);
      expect([...values][0]).not.toBe(`value-from-${a.child.pid}`);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }, 60_000);

  for (const fusedMiss of [true, false]) {
    it(`factories running ${fusedMiss ? 'with the fused lock' : 'with the separate lock (fusedMiss: false)'} for 5× lockTtl keep their locks: other instances follow, one factory call per key`, async () => {
      const prefix = uniquePrefix(`keep-${String(fusedMiss)}`);
      // lockTtl 300 ms: the one shared keeper timer extends every held lock each 100 ms
      const a = await makeInstance(redis.port, prefix, { lockTtl: 300, lockWait: 10_000, fusedMiss });
      const b = await makeInstance(redis.port, prefix, { lockTtl: 300, lockWait: 10_000, fusedMiss });
      try {
        let calls = 0;
        const slow = (v: string, ms: number) => async () => {
          calls++;
          await sleep(ms);
          return v;
        };
        // three locks held at once on A, started at different moments and ending at different ones
        const led = [a.tiered.getOrSet('job:get:1', slow('a1', 1_500)), a.tiered.getOrSet('job:get:2', slow('a2', 900))];
        await sleep(120);
        led.push(a.tiered.getOrSet('job:get:3', slow('a3', 1_500)));
        await sleep(120);
        // B asks for the same keys long past A's first lock TTL: it must follow (its factory is never called)
        const followed = Promise.all([1, 2, 3].map((i) => b.tiered.getOrSet(`job:get:${i}`, slow(`b${i}`, 10))));
        expect(await Promise.all(led)).toEqual(['a1', 'a2', 'a3']);
        expect(await followed).toEqual(['a1', 'a2', 'a3']);
        expect(calls).toBe(3);
      } finally {
        await a.close();
        await b.close();
      }
    }, 30_000);
  }

  it('an invalidation that lands while the leader runs its factory wins: its value is not served as fresh afterward', async () => {
    const prefix = uniquePrefix('inv');
    const a = await makeInstance(redis.port, prefix);
    const b = await makeInstance(redis.port, prefix);
    try {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const pa = a.tiered.getOrSet('order:get:1', async () => {
        await gate;
        return 'old';
      });
      await sleep(30);
      const pb = b.tiered.getOrSet('order:get:1', async () => 'b-own');
      await sleep(30);
      expect((await b.tiered.invalidate({ namespace: { entity: 'order' } })).ok).toBe(true);
      release();
      expect(await pa).toBe('old'); // the leader's caller gets its value
      // the follower finds the leader's entry invalidated (created before the barrier) and leads itself
      expect(await pb).toBe('b-own');
      await sleep(100);
      // afterwards, nobody serves the value produced before the invalidation as fresh
      expect(await a.tiered.getOrSet('order:get:1', async () => 'new')).not.toBe('old');
      expect(await b.tiered.get('order:get:1')).not.toBe('old');
      a.tiered.clearL1();
      expect(await a.tiered.get('order:get:1')).toBe('b-own');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('fused miss on the embedded MemoryStore', () => {
  it('two TieredCaches over one MemoryStore: 100 concurrent misses each → one factory call', async () => {
    const store = new MemoryStore();
    const l2a = new CacheService({ store, prefix: 'mem' });
    const l2b = new CacheService({ store, prefix: 'mem' });
    const a = new TieredCache(l2a);
    const b = new TieredCache(l2b);
    try {
      await Promise.all([a.ready(), b.ready()]);
      let calls = 0;
      const f = async () => {
        calls++;
        await sleep(50);
        return `v${calls}`;
      };
      const vals = await Promise.all([...Array.from({ length: 100 }, () => a.getOrSet('k', f)), ...Array.from({ length: 100 }, () => b.getOrSet('k', f))]);
      expect(calls).toBe(1);
      expect(new Set(vals)).toEqual(new Set(['v1']));
      expect(b.stats().lockFollowers + a.stats().lockFollowers).toBe(1);
    } finally {
      await a.close();
      await b.close();
      await l2a.close();
      await l2b.close();
      await store.close();
    }
  });
});

describe('fused miss on a Redis Cluster (3 masters)', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  beforeAll(async () => {
    cluster = await startCluster({ masters: 3 });
    await cluster.waitHealthy(30_000);
  }, 120_000);
  afterAll(async () => {
    await cluster?.close();
  });

  const instance = (prefix: string) => makeClusterInstance(cluster.startupNodes, prefix);

  it('keys with and without a hash tag: one factory call across two instances; the lock lives in the entry slot', async () => {
    const prefix = uniquePrefix('fcl');
    const a = await instance(prefix);
    const b = await instance(prefix);
    try {
      for (const key of ['user:get:1', '{tenant7}:user:1', 'order:list:{x}']) {
        let calls = 0;
        const f = async () => {
          calls++;
          await sleep(100);
          return `${key}-v`;
        };
        const vals = await Promise.all([...Array.from({ length: 20 }, () => a.tiered.getOrSet(key, f)), ...Array.from({ length: 20 }, () => b.tiered.getOrSet(key, f))]);
        expect(calls).toBe(1);
        expect(new Set(vals)).toEqual(new Set([`${key}-v`]));
      }
      // invalidation still reaches the other instance, and a namespace barrier is honoured on the fused read
      await a.tiered.invalidate({ namespace: { entity: 'user' } });
      await waitFor(() => !b.tiered.hasInL1('user:get:1'), { timeoutMs: 2_000 });
      expect(await b.tiered.getOrSet('user:get:1', async () => 'fresh')).toBe('fresh');
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);
});
