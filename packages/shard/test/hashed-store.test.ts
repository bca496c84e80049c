import { CacheService, MemoryStore, RedisStore, type Store } from '@stratacache/core';
import { startStandalone, waitFor, type StandaloneRedis } from '@stratacache/redis-harness';
import { Redlock } from '@stratacache/lock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashedStore, ShardConfigError } from '../src/index';

function memShards(n: number): Record<string, Store> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`shard-${i + 1}`, new MemoryStore({ sweepIntervalMs: 0 })]));
}

describe('HashedStore: key spread', () => {
  it('adding a fifth shard to four moves ≈ 1/5 of 100k keys, all to the new shard; balance within ±5%', async () => {
    const four = new HashedStore({ shards: memShards(4) });
    const five = new HashedStore({ shards: memShards(5) });
    const N = 100_000;
    let moved = 0;
    const counts = new Map<string, number>();
    for (let i = 0; i < N; i++) {
      const key = `sc:product:detail:${i}`;
      const a = four.shardFor(key);
      const b = five.shardFor(key);
      counts.set(b, (counts.get(b) ?? 0) + 1);
      if (a !== b) {
        moved++;
        expect(b).toBe('shard-5');
      }
    }
    const fraction = moved / N;
    const mean = N / 5;
    const worst = Math.max(...[...counts.values()].map((c) => Math.abs(c - mean) / mean));
    console.log(`[hash] HashedStore 4 -> 5 shards: ${(fraction * 100).toFixed(2)}% of ${N} keys moved; worst shard ${(worst * 100).toFixed(2)}% off the mean`);
    expect(fraction).toBeGreaterThan(0.17);
    expect(fraction).toBeLessThan(0.23);
    expect(worst).toBeLessThan(0.05);
    await Promise.all([four.close(), five.close()]);
  });

  it('rejects bad options with E_SHARD_CONFIG', () => {
    expect(() => new HashedStore({ shards: {} })).toThrow(ShardConfigError);
    expect(() => new HashedStore({ shards: { a: {} as never } })).toThrow(/Store/);
    expect(() => new HashedStore({ shards: memShards(2), busShard: 'nope' })).toThrow(expect.objectContaining({ reason: 'unknown-shard' }));
    expect(() => new HashedStore({ shards: memShards(2), onShardError: 'ignore' as never })).toThrow(/degrade/);
  });

  it('weights shift the share of keys', () => {
    const h = new HashedStore({ shards: { big: { store: new MemoryStore(), weight: 3 }, small: new MemoryStore() } });
    let big = 0;
    for (let i = 0; i < 20_000; i++) if (h.shardFor(`k${i}`) === 'big') big++;
    expect(big / 20_000).toBeGreaterThan(0.7);
    expect(big / 20_000).toBeLessThan(0.8);
    void h.close();
  });
});

describe('HashedStore over three Redis servers under a CacheService', () => {
  let servers: StandaloneRedis[];
  let stores: RedisStore[];
  let hashed: HashedStore;
  let cache: CacheService;

  beforeAll(async () => {
    servers = await Promise.all([startStandalone(), startStandalone(), startStandalone()]);
    stores = servers.map((s) => new RedisStore(s.url));
    hashed = new HashedStore({
      shards: { r1: stores[0]!, r2: stores[1]!, r3: stores[2]! },
      breaker: { failureThreshold: 3, resetTimeout: 500, callTimeout: 1_000 },
    });
    cache = new CacheService({ store: hashed, prefix: 'hs', opTimeout: 3_000 });
  });

  afterAll(async () => {
    await cache?.close();
    await hashed?.close();
    await Promise.all((servers ?? []).map((s) => s.close()));
  });

  it('spreads keys over every server; get/mget/mset/del/pattern/tag/clear work across shards', async () => {
    const entries = Array.from({ length: 90 }, (_, i) => ({ key: `jobs:list:${i}`, value: { i } }));
    expect((await cache.mset(entries)).every((r) => r.ok)).toBe(true);
    const sizes = await Promise.all(servers.map((s) => s.cli('DBSIZE')));
    for (const n of sizes) expect(Number(n)).toBeGreaterThan(15);
    expect(await cache.mget(entries.map((e) => e.key))).toEqual(entries.map((e) => e.value));
    // each key is where shardFor says
    const full = cache.key('jobs:list:7');
    const owner = hashed.shardFor(full);
    expect(await hashed.shardStore(owner)!.get(full)).toBeDefined();

    expect((await cache.invalidatePattern('jobs:list:*')).deleted).toBe(90);
    expect(await cache.mget(entries.map((e) => e.key))).toEqual(entries.map(() => undefined));

    await cache.set('u:1', 1, { tags: ['t'] });
    await cache.set('u:2', 2, { tags: ['t'] });
    expect((await cache.invalidateTag('t')).ok).toBe(true);
    expect(await cache.get('u:1')).toBeUndefined();
    expect(await cache.get('u:2')).toBeUndefined();

    await cache.set('a', 1);
    expect(await cache.del('a')).toBe(1);
    for (let i = 0; i < 10; i++) await cache.set(`c${i}`, i);
    expect((await cache.clear()).ok).toBe(true);
    for (let i = 0; i < 10; i++) expect(await cache.get(`c${i}`)).toBeUndefined();

    // pub/sub goes through the bus shard
    const got: string[] = [];
    const unsub = await hashed.subscribe('chan', (m) => got.push(m.toString()));
    await hashed.publish('chan', 'hello');
    await waitFor(() => got.length === 1);
    await unsub();
  });

  it('Redlock over the same independent masters (quorum 2 of 3)', async () => {
    const redlock = new Redlock(stores.map((s) => s.client), { prefix: 'hs:lock', ttl: 5_000 });
    const lock = await redlock.acquire('invoice:7');
    expect(await redlock.tryAcquire('invoice:7')).toBeNull();
    expect(await lock.release()).toBe(true);
    expect(await redlock.tryAcquire('invoice:7')).not.toBeNull();
  });

  it('one dead shard: its keys (and keys whose barrier lives there) degrade to misses, the others keep hitting, the CacheService breaker stays closed', async () => {
    // one namespace per key, so the namespace barriers (`hs:__ns:{pN}`) spread over the shards too
    const keys = Array.from({ length: 60 }, (_, i) => `p${i}:v`);
    for (const k of keys) await cache.set(k, k);
    const victim = 'r2';
    const victimServer = servers[1]!;
    await victimServer.kill();

    let exceptions = 0;
    let hitsElsewhere = 0;
    let missesOnVictim = 0;
    let wrongMiss = 0;
    for (let round = 0; round < 3; round++) {
      for (const k of keys) {
        try {
          const v = await cache.getOrSet(k, () => `origin:${k}`);
          // unknown is not a miss: a read whose value OR namespace barrier sits on the dead shard is a miss
          const ns = k.slice(0, k.indexOf(':'));
          const onVictim = hashed.shardFor(cache.key(k)) === victim || hashed.shardFor(`hs:__ns:{${ns}}`) === victim;
          if (onVictim && v === `origin:${k}`) missesOnVictim++;
          else if (!onVictim && v === k) hitsElsewhere++;
          else if (!onVictim) wrongMiss++;
        } catch {
          exceptions++;
        }
      }
    }
    const stats = hashed.shardStats();
    console.log(`[hash] one of 3 shards dead: ${hitsElsewhere} hits on live shards, ${missesOnVictim} degraded reads on the dead one; shard breakers ${stats.map((s) => `${s.shard}=${s.breaker}`).join(' ')}`);
    expect(exceptions).toBe(0);
    expect(wrongMiss).toBe(0);
    expect(missesOnVictim).toBeGreaterThan(0);
    expect(hitsElsewhere).toBeGreaterThan(0);
    expect(cache.breaker.state).toBe('CLOSED');
    expect(stats.find((s) => s.shard === victim)!.breaker).not.toBe('CLOSED');
    expect(stats.find((s) => s.shard === 'r1')!.errors).toBe(0);
    const pings = await hashed.pingShards();
    expect(pings.r2).toBeInstanceOf(Error);
    expect(typeof pings.r1).toBe('number');
    expect(await hashed.ping()).toBeGreaterThanOrEqual(0); // some shards answer

    // invalidations that touch the dead shard are reported, not silently dropped
    expect((await cache.invalidatePattern('p*')).ok).toBe(false);

    await victimServer.restart();
    await waitFor(async () => {
      await cache.set('p0:v', 'again');
      return (await cache.get('p0:v')) === 'again' && hashed.shardStats().every((s) => s.breaker === 'CLOSED');
    }, { timeoutMs: 20_000, intervalMs: 200, message: 'dead shard back in service' });
  }, 60_000);

  it('a frozen shard (SIGSTOP) is cut by its own call timeout: reads miss fast, the CacheService breaker stays closed', async () => {
    const frozen = servers[2]!;
    const key = Array.from({ length: 200 }, (_, i) => `f:${i}`).find((k) => hashed.shardFor(cache.key(k)) === 'r3')!;
    await cache.set(key, 'v');
    frozen.pause();
    try {
      const t0 = performance.now();
      const v = await cache.getOrSet(key, () => 'origin');
      const took = performance.now() - t0;
      console.log(`[hash] read on a SIGSTOPped shard answered from the origin in ${took.toFixed(0)} ms (shard callTimeout 1000 ms, CacheService opTimeout 3000 ms)`);
      expect(v).toBe('origin');
      expect(cache.breaker.state).toBe('CLOSED');
      expect(cache.stats().timeouts).toBe(0); // cut by the shard, not by the CacheService
    } finally {
      frozen.resume();
    }
  }, 30_000);

  it("onShardError 'throw' rejects like a plain Store", async () => {
    const dead = new RedisStore({ port: 1, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    const h = new HashedStore({ shards: { dead }, onShardError: 'throw', breaker: false, ownsStores: true });
    await expect(h.get('k')).rejects.toThrow();
    expect(h.shardStats()[0]).toMatchObject({ shard: 'dead', errors: 1, degraded: 0, breaker: 'DISABLED' });
    await h.close();
  });
});
