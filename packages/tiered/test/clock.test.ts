import { CacheService, MemoryStore } from '@stratacache/core';
import { startStandalone, waitFor } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TieredCache } from '../src/index';
import { makeInstance, sleep, uniquePrefix } from './helpers';

let redis: Awaited<ReturnType<typeof startStandalone>>;
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

describe('one clock across tiered instances', () => {
  it('±2 s skew between two instances: nothing written before an invalidation is served after it (L1, L2, a third instance)', async () => {
    const prefix = uniquePrefix('skew');
    const ahead = await makeInstance(redis.port, prefix, {}, { clock: () => Date.now() + 2_000 });
    const behind = await makeInstance(redis.port, prefix, {}, { clock: () => Date.now() - 2_000 });
    const third = await makeInstance(redis.port, prefix, { l1: false });
    try {
      await Promise.all([ahead.l2.syncClock(), behind.l2.syncClock(), third.l2.syncClock()]);
      let served = 0;
      for (let i = 0; i < 40; i++) {
        const [w, inv] = i % 2 === 0 ? [ahead, behind] : [behind, ahead];
        const key = `doc:get:${i}`;
        if (i % 3 === 0) await w.tiered.set(key, 'old', { tags: [`d${i}`] });
        else await w.tiered.getOrSet(key, () => 'old', { tags: [`d${i}`] });
        // getOrSet does not wait for its L2 write (one deadline per read): the other instance sees it once it landed
        await waitFor(async () => (await inv.tiered.get(key)) === 'old', { timeoutMs: 2_000 }); // both L1s hold it
        if (i % 2 === 0) await inv.tiered.invalidateTag(`d${i}`);
        else await inv.tiered.invalidateNamespace('doc', 'get');
        await sleep(20); // let the bus message arrive
        for (const x of [w, inv, third]) if ((await x.tiered.get(key)) !== undefined) served++;
        if ((await third.l2.get(key)) !== undefined) served++;
      }
      expect(served).toBe(0);
    } finally {
      await ahead.close();
      await behind.close();
      await third.close();
    }
  }, 30_000);

  it('entries written just before an invalidateTag never survive it (200 trials, one instance and across two)', async () => {
    const prefix = uniquePrefix('tagrace');
    const a = await makeInstance(redis.port, prefix);
    const b = await makeInstance(redis.port, prefix);
    try {
      let survived = 0;
      for (let i = 0; i < 200; i++) {
        const key = `race:get:${i}`;
        await a.tiered.set(key, i, { tags: ['race'] });
        await (i % 2 === 0 ? a : b).tiered.invalidateTag('race');
        if ((await a.l2.get(key)) !== undefined) survived++;
        a.tiered.clearL1();
        if ((await a.tiered.get(key)) !== undefined) survived++;
      }
      expect(survived).toBe(0);
      // and a write right after an invalidation on the same instance is served
      await a.tiered.invalidateTag('race');
      await a.tiered.set('race:get:new', 'v', { tags: ['race'] });
      a.tiered.clearL1();
      expect(await a.tiered.get('race:get:new')).toBe('v');
    } finally {
      await a.close();
      await b.close();
    }
  }, 30_000);

  it('TTL counts from the write: a 300 ms factory with a 200 ms TTL is cached (embedded and Redis)', async () => {
    const red = await makeInstance(redis.port, uniquePrefix('ttlw'), { l1: false });
    const emb = new CacheService({ store: new MemoryStore() });
    const embT = new TieredCache(emb, { bus: false });
    try {
      for (const t of [red.tiered, embT]) {
        let calls = 0;
        const f = async () => {
          calls++;
          await sleep(300);
          return 'v';
        };
        expect(await t.getOrSet('slow:get:1', f, { ttl: 200 })).toBe('v');
        expect(await t.getOrSet('slow:get:1', f, { ttl: 200 })).toBe('v');
        expect(calls).toBe(1);
      }
    } finally {
      await red.close();
      await embT.close();
      await emb.close();
    }
  });
});
