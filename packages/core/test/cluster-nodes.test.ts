import { Cluster } from 'ioredis';
import { startCluster } from '@stratacache/redis-harness';
import type { RedisCluster } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheService } from '../src/index';
import { BarrierLayout } from '../src/barrier-layout';
import { keySlot } from '../src/node-breakers';

/**
 * Per-node breakers on a real 3-master Cluster with replicas: SIGKILL one master under a read loop.
 * Keys on the other masters keep being served from Redis; only keys on the dead master (until its
 * replica is promoted) go to the origin; no caller error, no wrong value.
 */
let cluster: RedisCluster;

beforeAll(async () => {
  // `cluster-require-full-coverage no`: the live masters keep answering while a failed master's slots
  // have no owner (with the default `yes` the whole Cluster answers CLUSTERDOWN until the promotion).
  cluster = await startCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1_000, args: ['--cluster-require-full-coverage', 'no'] });
  await cluster.waitHealthy(30_000);
}, 60_000);

afterAll(async () => {
  await cluster?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('keySlot', () => {
  it('matches the Cluster (CLUSTER KEYSLOT), hash tags included', async () => {
    const client = new Cluster(cluster.startupNodes);
    try {
      for (const k of ['a', 'sc:jobs:list:1', 'sc:__ns:{jobs}:list', '{user1000}.following', 'foo{}{bar}', 'foo{{bar}}zap', 'ünï:çødé', '😀:x', '']) {
        expect(keySlot(k)).toBe(Number(await client.cluster('KEYSLOT', k)));
      }
    } finally {
      client.disconnect();
    }
  });
});

describe('CacheService on a Cluster: one breaker per master', () => {
  it('SIGKILL of one master: other slots keep hitting L2, 0 caller errors, 0 wrong values', async () => {
    const client = new Cluster(cluster.startupNodes, {
      enableAutoPipelining: true,
      redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 1_000 },
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      slotsRefreshTimeout: 1_000,
      slotsRefreshInterval: 1_000,
    });
    const cache = new CacheService({ redis: client, prefix: 'pn', opTimeout: 200 }); // default breaker: 5 failures, reset 5 s
    try {
      // 300 keys of 30 entities (each entity's barriers live in the slot of its hash tag)
      const keys = Array.from({ length: 300 }, (_, i) => cache.keys.build(`e${i % 30}`, 'get', i));
      const value = (k: string) => `v:${k}`;
      // warm-up (not under test): on a loaded machine a first round trip may exceed opTimeout, so retry
      const retry = async (op: () => Promise<boolean>) => {
        for (let i = 0; i < 10; i++) {
          if (await op()) return true;
          await sleep(300);
        }
        return false;
      };
      const writeAll = async () => (await cache.mset(keys.map((key) => ({ key, value: value(key) })))).every((r) => r.ok);
      expect(await retry(writeAll)).toBe(true);
      // every entity has a barrier (then the entries are written again, newer than it)
      for (let e = 0; e < 30; e++) expect(await retry(async () => (await cache.invalidateNamespace(`e${e}`)).ok)).toBe(true);
      expect(await retry(writeAll)).toBe(true);

      // the victim: a master owning keys, chosen so that some entities' barriers live elsewhere
      const ownerOf = (k: string) => client.slots[keySlot(k)]?.[0] as string;
      const masters = [...new Set(keys.map(ownerOf))];
      expect(masters.length).toBe(3);
      const victimAddr = masters[0] as string;
      const victim = cluster.nodeByPort(Number(victimAddr.split(':')[1]));
      expect(victim).toBeDefined();
      // the entity barriers' three copies: on three different masters, so one master down leaves two readable
      const layout = new BarrierLayout(3);
      const copiesOf = (k: string) => layout.ns('pn:', k.split(':')[1] as string, undefined);
      for (const k of keys) expect(new Set(copiesOf(k).map(ownerOf)).size).toBe(3);
      // keys that may need the origin while the victim is down: on the victim (or every copy of their entity's barrier is)
      const exposed = new Set(keys.filter((k) => ownerOf(k) === victimAddr || copiesOf(k).every((b) => ownerOf(b) === victimAddr)));
      const onVictim = keys.filter((k) => ownerOf(k) === victimAddr).length;
      expect(exposed.size).toBe(onVictim);
      const safe = keys.filter((k) => !exposed.has(k));
      expect(safe.length).toBeGreaterThan(150);
      // entries not in the read loop, invalidated while the victim is down (one copy of the barrier is on it)
      const invKeys = Array.from({ length: 30 }, (_, i) => cache.keys.build('inv', 'get', i));
      expect(await retry(async () => (await cache.mset(invKeys.map((key) => ({ key, value: 1 })))).every((r) => r.ok))).toBe(true);
      expect(copiesOf(invKeys[0] as string).filter((b) => ownerOf(b) === victimAddr).length).toBe(1);
      const invAlive = invKeys.filter((k) => ownerOf(k) !== victimAddr);

      const errKinds = new Map<string, number>();
      cache.on('error', (e) => {
        const m = `${(e.error as Error)?.message ?? e.error}`.slice(0, 80);
        const key = `${m} safe=${!exposed.has(e.key ?? '')}`;
        errKinds.set(key, (errKinds.get(key) ?? 0) + 1);
      });
      const transitions: string[] = [];
      cache.breaker.on('stateChange', (e) => transitions.push(`connection ${e.to} (${e.reason ?? ''}) status=${client.status}`));
      cache.store.onConnectionChange?.((c) => transitions.push(`store ${c.state} ${c.reason} commands=${String(c.commands)} status=${client.status}`));
      const opened = new Set<string>();
      cache.on('breaker', (e) => {
        if (e.state === 'OPEN') opened.add(e.target ?? 'main');
      });
      const originKeys = new Set<string>();
      let originCalls = 0;
      let errors = 0;
      let wrong = 0;
      let reads = 0;
      let stop = false;
      const reader = async (r: number) => {
        for (let i = r; !stop; i = (i + 17) % keys.length) {
          const k = keys[i] as string;
          try {
            const v = await cache.getOrSet(k, () => {
              originCalls++;
              originKeys.add(k);
              return value(k);
            });
            if (v !== value(k)) wrong++;
          } catch {
            errors++;
          }
          reads++;
          if (reads % 64 === 0) await sleep(1);
        }
      };
      const loops = Array.from({ length: 16 }, (_, r) => reader(r));
      await sleep(300);
      expect(originCalls).toBe(0); // warm: everything from L2

      await victim!.kill();
      const t0 = Date.now();
      // an invalidation during the outage: the copy on the victim is not written (ok: false), the two
      // others are — readers (max over the readable copies) see it at once, and after the promotion
      // (the promoted replica holds the old copy)
      await sleep(200);
      const inv = await cache.invalidateNamespace('inv');
      expect(inv.ok).toBe(false);
      for (const k of invAlive) expect(await cache.get(k)).toBeUndefined();
      // until the replica is promoted and the cache reads the victim's slots again
      await sleep(1_500);
      await cluster.waitHealthy(30_000);
      const before = originCalls;
      let recoveredAfter = 0;
      for (let i = 0; i < 100 && recoveredAfter === 0; i++) {
        await sleep(100);
        const n = originCalls;
        await sleep(400);
        if (originCalls === n) recoveredAfter = Date.now() - t0;
      }
      stop = true;
      await Promise.all(loops);
      for (const k of invKeys) expect(await cache.get(k)).toBeUndefined();
      console.log('[cluster] connection breaker and store changes:', transitions.slice(0, 12));
      console.log('[cluster] errors reported (not thrown) by kind:', [...errKinds].sort((a, b) => b[1] - a[1]).slice(0, 6));
      console.log(
        `[cluster] ${reads} reads, ${originCalls} origin calls on ${originKeys.size} keys (${onVictim} on the dead master, ${exposed.size} with it or their entity's barriers on it), before promotion ${before}; served from Redis again after ${recoveredAfter} ms`,
      );
      expect(errors).toBe(0);
      expect(wrong).toBe(0);
      // no key outside the dead master (and the entities whose barriers it held) went to the origin
      for (const k of originKeys) expect(exposed.has(k)).toBe(true);
      expect(originKeys.size).toBeLessThanOrEqual(exposed.size);
      expect(recoveredAfter).toBeGreaterThan(0);
      // one breaker per master; the main breaker (the connection) stayed closed
      expect(cache.breaker.state).toBe('CLOSED');
      expect([...opened]).toEqual([victimAddr]);
    } finally {
      await cache.close();
      client.disconnect();
    }
  }, 90_000);
});
