import { CacheService, RedisStore } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashedStore, ShardUnavailableError } from '../src/index';

/** Two real Redis processes behind a HashedStore in 'degrade' mode; one is killed. */
describe('HashedStore degrade: an unreachable shard is unknown, never "missing"', () => {
  let servers: StandaloneRedis[];
  let stores: RedisStore[];
  let hashed: HashedStore;
  let cache: CacheService;

  beforeAll(async () => {
    servers = await Promise.all([startStandalone(), startStandalone()]);
    stores = servers.map((s) => new RedisStore(s.url));
    hashed = new HashedStore({ shards: { a: stores[0]!, b: stores[1]! }, breaker: { failureThreshold: 100, callTimeout: 500 } });
    cache = new CacheService({ store: hashed, prefix: 'dg', opTimeout: 2_000 });
  });
  afterAll(async () => {
    await cache?.close();
    await hashed?.close();
    await Promise.all((servers ?? []).map((s) => s.close()));
  });

  it('an invalidated value whose namespace barrier sits on the dead shard is not served; reads of it are unknown', async () => {
    // a namespace whose barrier lives on shard b and a key of it that lives on shard a
    let entity = '';
    let key = '';
    for (let i = 0; i < 500 && key === ''; i++) {
      const e = `ent${i}`;
      if (hashed.shardFor(`dg:__ns:{${e}}`) !== 'b') continue;
      for (let j = 0; j < 50; j++) {
        const k = `${e}:get:${j}`;
        if (hashed.shardFor(`dg:${k}`) === 'a') {
          entity = e;
          key = k;
          break;
        }
      }
    }
    expect(key).not.toBe('');
    expect((await cache.set(key, 'old')).ok).toBe(true);
    expect((await cache.invalidateNamespace(entity)).ok).toBe(true);
    expect(await cache.get(key)).toBeUndefined(); // barrier readable: invalidated
    // a fresh value written after the invalidation is a hit while b is up
    await cache.set(key, 'new');
    expect(await cache.get(key)).toBe('new');
    // now write an old-looking copy back directly (as an instance with a stale view would have) and kill b
    await cache.invalidateNamespace(entity);
    await servers[1]!.kill();
    // the value lives on a (reachable), its barrier on b (dead): unknown → miss, never a hit
    expect(await cache.get(key)).toBeUndefined();
    expect((await cache.readEntry(key)).status).toBe('unknown');
    await expect(hashed.get(`dg:__ns:{${entity}}`)).rejects.toBeInstanceOf(ShardUnavailableError);
    await expect(hashed.get(`dg:__ns:{${entity}}`)).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE', shard: 'b' });
    // writes to the dead shard are reported, not silently skipped
    const onB = Array.from({ length: 100 }, (_, i) => `x:get:${i}`).find((k) => hashed.shardFor(`dg:${k}`) === 'b')!;
    expect(await cache.set(onB, 1)).toEqual({ ok: false, reason: 'unavailable' });
    // the CacheService breaker stays closed (the shard breaker covers the shard)
    expect(cache.breaker.state).toBe('CLOSED');
    // tiered over the same store: the invalidated value is not served from L2 either
    const t = new TieredCache(cache, { bus: false, distributedLock: false });
    expect(await t.get(key)).toBeUndefined();
    let calls = 0;
    expect(await t.getOrSet(key, () => ((calls++), 'origin'))).toBe('origin');
    expect(calls).toBe(1);
    await t.close();
  }, 30_000);
});
