import { startStandalone, waitFor } from '@stratacache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnWorker } from './fixtures/spawn';
import type { Worker } from './fixtures/spawn';
import { makeInstance, uniquePrefix } from './helpers';

let redis: Awaited<ReturnType<typeof startStandalone>>;
let client: Redis;
beforeAll(async () => {
  redis = await startStandalone();
  client = new Redis({ port: redis.port, host: '127.0.0.1' });
});
afterAll(async () => {
  client?.disconnect();
  await redis?.close();
});

describe('stampede guard', () => {
  it('1000 concurrent getOrSet over 4 OS processes call the factory exactly once; followers get the leader value', async () => {
    const prefix = uniquePrefix('stamp');
    const workers: Worker[] = [];
    try {
      for (let i = 0; i < 4; i++) workers.push(await spawnWorker(redis.port, prefix));
      const counterKey = `${prefix}:factory-calls`;
      const results = await Promise.all(
        workers.map((w) => w.call<{ values: string[] }>('stampede', { key: 'report:get:big', count: 250, counterKey, factoryMs: 150 })),
      );
      expect(Number(await client.get(counterKey))).toBe(1);
      const values = new Set(results.flatMap((r) => r.values));
      expect(values.size).toBe(1);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }, 120_000);

  it('in-process: 1000 concurrent calls → one factory call (memory L2 and Redis L2)', async () => {
    const a = await makeInstance(redis.port, uniquePrefix('inproc'));
    try {
      let calls = 0;
      const vals = await Promise.all(
        Array.from({ length: 1000 }, () =>
          a.tiered.getOrSet('k', async () => {
            calls++;
            await new Promise((r) => setTimeout(r, 30));
            return { n: calls };
          }),
        ),
      );
      expect(calls).toBe(1);
      expect(new Set(vals.map((v) => v.n))).toEqual(new Set([1]));
      expect(a.tiered.stats().factoryCalls).toBe(1);
    } finally {
      await a.close();
    }
  });

  it('a follower in another instance waits for the leader and does not call the factory', async () => {
    const prefix = uniquePrefix('follow');
    const a = await makeInstance(redis.port, prefix);
    const b = await makeInstance(redis.port, prefix);
    try {
      let calls = 0;
      const slow = async (): Promise<string> => {
        calls++;
        await new Promise((r) => setTimeout(r, 200));
        return `v${calls}`;
      };
      const pa = a.tiered.getOrSet('x', slow);
      await new Promise((r) => setTimeout(r, 30));
      const pb = b.tiered.getOrSet('x', slow);
      expect(await pa).toBe('v1');
      expect(await pb).toBe('v1');
      expect(calls).toBe(1);
      expect(b.tiered.stats().lockFollowers).toBe(1);
      // the follower missed L2 (and emitted `miss`): it counts once, as a miss, never also as an L2 hit
      expect(b.tiered.stats()).toMatchObject({ misses: 1, l2Hits: 0, l1Hits: 0 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a stale refresh and a refresh-ahead run once across instances', async () => {
    const prefix = uniquePrefix('swr2');
    const a = await makeInstance(redis.port, prefix, { grace: '1m' });
    const b = await makeInstance(redis.port, prefix, { grace: '1m' });
    try {
      await a.tiered.set('s', 'old', { ttl: 50 });
      await b.tiered.get('s');
      await new Promise((r) => setTimeout(r, 80));
      let calls = 0;
      const f = async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 150));
        return 'new';
      };
      const vals = await Promise.all([
        ...Array.from({ length: 20 }, () => a.tiered.getOrSet('s', f, { ttl: 60_000 })),
        ...Array.from({ length: 20 }, () => b.tiered.getOrSet('s', f, { ttl: 60_000 })),
      ]);
      expect(new Set(vals)).toEqual(new Set(['old']));
      await waitFor(async () => (await a.tiered.get('s')) === 'new' && (await b.tiered.get('s')) === 'new', { timeoutMs: 5_000 });
      expect(calls).toBe(1);

      let ahead = 0;
      const g = async () => `r${++ahead}`;
      await a.tiered.getOrSet('r', g, { ttl: 400, refreshAhead: 0.5 });
      await b.tiered.get('r');
      await new Promise((r) => setTimeout(r, 250));
      await Promise.all([a.tiered.getOrSet('r', g, { ttl: 400, refreshAhead: 0.5 }), b.tiered.getOrSet('r', g, { ttl: 400, refreshAhead: 0.5 })]);
      await waitFor(async () => (await a.tiered.get('r')) === 'r2', { timeoutMs: 5_000 });
      await new Promise((r) => setTimeout(r, 100));
      expect(ahead).toBe(2);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a follower falls back to the factory after lockWait when the leader hangs', async () => {
    const prefix = uniquePrefix('lw');
    const a = await makeInstance(redis.port, prefix, { hardTimeout: 3_000 });
    const b = await makeInstance(redis.port, prefix, { lockWait: 300 });
    try {
      const pa = a.tiered.getOrSet('h', () => new Promise<string>((r) => setTimeout(() => r('late'), 2_000)));
      await new Promise((r) => setTimeout(r, 50));
      const t0 = Date.now();
      expect(await b.tiered.getOrSet('h', async () => 'b-own')).toBe('b-own');
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect(b.tiered.stats().lockWaitTimeouts).toBe(1);
      await pa;
    } finally {
      await a.close();
      await b.close();
    }
  });
});
