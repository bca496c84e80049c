import { startStandalone } from '@stratacache/redis-harness';
import type { StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheService, MemoryStore, RedisStore } from '../src/index';

let server: StandaloneRedis;
beforeAll(async () => {
  server = await startStandalone();
});
afterAll(async () => {
  await server?.close();
});

let n = 0;
const uniquePrefix = () => `clk${process.pid}x${++n}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('one clock (CacheService.stamp / now, corrected against Redis TIME)', () => {
  it('stamp() is strictly increasing; MemoryStore uses the local clock (injected clock respected)', async () => {
    let t = 1_000_000;
    const c = new CacheService({ store: new MemoryStore(), clock: () => t });
    const a = c.stamp();
    const b = c.stamp();
    expect(b).toBeGreaterThan(a);
    expect(Math.floor(a)).toBe(1_000_000);
    t += 5;
    expect(c.now()).toBe(1_000_005);
    expect(await c.syncClock()).toBe(false);
    expect(c.clockOffsetMs).toBe(0);
    await c.close();
  });

  it('an injected ±2 s skew is measured away: both instances read Redis time', async () => {
    const prefix = uniquePrefix();
    const ahead = new CacheService({ store: new RedisStore(server.url), prefix, clock: () => Date.now() + 2_000 });
    const behind = new CacheService({ store: new RedisStore(server.url), prefix, clock: () => Date.now() - 2_000 });
    try {
      expect(await ahead.syncClock()).toBe(true);
      expect(await behind.syncClock()).toBe(true);
      expect(Math.abs(ahead.clockOffsetMs + 2_000)).toBeLessThan(50);
      expect(Math.abs(behind.clockOffsetMs - 2_000)).toBeLessThan(50);
      expect(Math.abs(ahead.now() - behind.now())).toBeLessThan(50);
    } finally {
      await ahead.close();
      await behind.close();
      await ahead.store.close();
      await behind.store.close();
    }
  });

  it('with ±2 s skew, nothing written before an invalidation (tag or namespace, either direction) is served after it', async () => {
    const prefix = uniquePrefix();
    const ahead = new CacheService({ store: new RedisStore(server.url), prefix, clock: () => Date.now() + 2_000, barrierCacheMs: 0 });
    const behind = new CacheService({ store: new RedisStore(server.url), prefix, clock: () => Date.now() - 2_000, barrierCacheMs: 0 });
    try {
      await Promise.all([ahead.syncClock(), behind.syncClock()]);
      let served = 0;
      for (let i = 0; i < 40; i++) {
        const [writer, invalidator] = i % 2 === 0 ? [ahead, behind] : [behind, ahead];
        const key = `item:get:${i}`;
        await writer.set(key, i, { tags: [`t${i}`] });
        if (i % 4 < 2) await invalidator.invalidateTag(`t${i}`);
        else await invalidator.invalidateNamespace('item', 'get');
        if ((await writer.get(key)) !== undefined) served++;
        if ((await invalidator.get(key)) !== undefined) served++;
        // getOrSet: createdAt = factory start, also before the invalidation
        const k2 = `other:get:${i}`;
        await writer.getOrSet(k2, () => 'v');
        await sleep(1);
        await invalidator.invalidateNamespace('other');
        if ((await writer.get(k2)) !== undefined || (await invalidator.get(k2)) !== undefined) served++;
      }
      expect(served).toBe(0);
      // and a value written after the invalidation is served
      await ahead.set('item:get:new', 'fresh');
      expect(await behind.get('item:get:new')).toBe('fresh');
    } finally {
      await ahead.close();
      await behind.close();
      await ahead.store.close();
      await behind.store.close();
    }
  });

  it('TTL counts from the write, createdAt from the factory start (a 300 ms factory with a 200 ms TTL is cached)', async () => {
    for (const store of [new MemoryStore(), new RedisStore(server.url)]) {
      const c = new CacheService({ store, prefix: uniquePrefix() });
      let calls = 0;
      const f = async () => {
        calls++;
        await sleep(300);
        return 'v';
      };
      expect(await c.getOrSet('slow:get:1', f, { ttl: 200 })).toBe('v');
      await sleep(20);
      expect(await c.getOrSet('slow:get:1', f, { ttl: 200 })).toBe('v');
      expect(calls).toBe(1);
      await c.close();
      await store.close();
    }
  });
});
