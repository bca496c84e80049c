// Issue 13: adaptive GET→MGET coalescing and slot-grouped Cluster mget/mset, on real redis-servers.
import { Cluster, Redis } from 'ioredis';
import fc from 'fast-check';
import { startCluster, startStandalone, type RedisCluster, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheService, RedisStore } from '../src/index';
import { keySlot } from '../src/node-breakers';
import { sleep } from './helpers';

let server: StandaloneRedis;
let cluster: RedisCluster;

beforeAll(async () => {
  [server, cluster] = await Promise.all([startStandalone(), startCluster({ masters: 3 })]);
}, 60_000);
afterAll(async () => {
  await Promise.all([server?.close(), cluster?.close()]);
});

async function commandStats(client: Redis): Promise<Record<string, number>> {
  const info = await client.info('commandstats');
  const out: Record<string, number> = {};
  for (const m of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) out[m[1] as string] = Number(m[2]);
  return out;
}

describe('RedisStore adaptive read batching (standalone)', () => {
  it('a lone read is one GET; reads issued while one is in flight are one MGET', async () => {
    const admin = new Redis(server.url);
    const store = new RedisStore(server.url);
    try {
      await store.mset(Array.from({ length: 20 }, (_, i) => ({ key: `rb:${i}`, value: Buffer.from(`v${i}`) })));
      await admin.config('RESETSTAT');
      expect((await store.get('rb:3'))?.toString()).toBe('v3');
      let st = await commandStats(admin);
      expect(st.get).toBe(1);
      expect(st.mget).toBeUndefined();
      await admin.config('RESETSTAT');
      const vals = await Promise.all(Array.from({ length: 20 }, (_, i) => store.get(`rb:${i}`)));
      expect(vals.map((v) => v?.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
      st = await commandStats(admin);
      expect(st.get).toBe(1); // the first went out at once
      expect(st.mget).toBe(1); // the 19 others: one MGET
    } finally {
      await store.close();
      admin.disconnect();
    }
  });

  it('property: coalesced reads return each caller its own key’s value, under random interleavings', async () => {
    const store = new RedisStore(server.url);
    try {
      const keys = Array.from({ length: 40 }, (_, i) => `rbp:${i}`);
      // even keys exist, odd keys are missing; some values are empty
      await store.mset(keys.filter((_, i) => i % 2 === 0).map((k, i) => ({ key: k, value: Buffer.from(i % 5 === 0 ? '' : `val-${k}`) })));
      const expected = new Map<string, string | undefined>();
      for (const [i, k] of keys.entries()) expected.set(k, i % 2 === 0 ? ((await store.get(k)) as Buffer).toString() : undefined);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ key: fc.constantFrom(...keys), delay: fc.constantFrom(-1, 0, 0, 1, 2) }), { minLength: 1, maxLength: 60 }),
          async (calls) => {
            const results = await Promise.all(
              calls.map(async ({ key, delay }) => {
                if (delay === 0) await Promise.resolve();
                else if (delay > 0) await sleep(delay - 1);
                return store.get(key);
              }),
            );
            for (const [i, c] of calls.entries()) expect(results[i]?.toString()).toBe(expected.get(c.key));
          },
        ),
        { numRuns: 150 },
      );
    } finally {
      await store.close();
    }
  });

  it('Redis hung mid-batch: every caller of the batch gets a miss within opTimeout', async () => {
    const paused = await startStandalone();
    // barriers cached for the whole test: the paused reads are plain GETs, coalesced by the store
    const cache = new CacheService({ redis: paused.url, prefix: 'hung', opTimeout: 150, barrierCacheMs: 60_000 });
    try {
      for (let i = 0; i < 10; i++) await cache.set(`k${i}`, `v${i}`);
      for (let i = 0; i < 10; i++) expect(await cache.get(`k${i}`)).toBe(`v${i}`);
      const store = cache.store as RedisStore;
      const admin = new Redis(paused.url);
      await admin.config('RESETSTAT');
      paused.pause();
      const t0 = performance.now();
      const res = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const v = await cache.get(`k${i}`);
          return { v, ms: performance.now() - t0 };
        }),
      );
      for (const r of res) {
        expect(r.v).toBeUndefined();
        expect(r.ms).toBeLessThan(150 + 60);
      }
      paused.resume();
      await sleep(50);
      const st = await commandStats(admin);
      admin.disconnect();
      expect(st.get).toBe(1); // the batch: one GET at once, the other nine in one MGET
      expect(st.mget).toBe(1);
      expect(store.isReady()).toBe(true);
    } finally {
      paused.resume();
      await cache.close();
      await paused.close();
    }
  });
});

describe('a store whose get is not RedisStore\'s own', () => {
  it('a subclass that overrides get: CacheService reads go through it (the promise-free fast path is only for a plain RedisStore)', async () => {
    const seen: string[] = [];
    class Logged extends RedisStore {
      override get(key: string): Promise<Buffer | undefined> {
        seen.push(key);
        return super.get(key);
      }
    }
    const store = new Logged(server.url);
    const cache = new CacheService({ store, prefix: 'sub', barrierCacheMs: 60_000 });
    try {
      await cache.set('a', 1);
      await cache.get('a'); // the namespace barrier is read with the value once (MGET), then cached
      seen.length = 0;
      expect(await Promise.all([cache.get('a'), cache.get('a'), cache.get('missing')])).toEqual([1, 1, undefined]);
      expect(seen).toEqual(['sub:a', 'sub:a', 'sub:missing']);
    } finally {
      await cache.close();
      await store.close();
    }
  });
});

describe('Cluster: slot-grouped mget/mset and per-slot coalescing', () => {
  it('mget/mset of keys over many slots: one MGET per slot, values in order, no CROSSSLOT', async () => {
    const store = new RedisStore(new Cluster(cluster.startupNodes, { enableAutoPipelining: true }), { ownsClient: true });
    const masters = cluster.nodes.map((n) => new Redis(n.port));
    try {
      await store.ping();
      // 30 keys in 6 slots (hash tags)
      const keys = Array.from({ length: 30 }, (_, i) => `{t${i % 6}}:k${i}`);
      await store.mset(keys.map((k, i) => ({ key: k, value: Buffer.from(`v${i}`), ttlMs: i % 2 ? 60_000 : undefined })));
      await Promise.all(masters.map((m) => m.config('RESETSTAT')));
      const vals = await store.mget([...keys, '{t0}:missing']);
      expect(vals.map((v) => v?.toString())).toEqual([...keys.map((_, i) => `v${i}`), undefined]);
      let mgets = 0;
      let gets = 0;
      for (const m of masters) {
        const st = await commandStats(m);
        mgets += st.mget ?? 0;
        gets += st.get ?? 0;
      }
      expect(new Set(keys.map(keySlot)).size).toBe(6);
      expect(mgets).toBe(6);
      expect(gets).toBe(0);
      // concurrent single-key reads: coalesced per slot, each caller its own value
      const got = await Promise.all(keys.map((k) => store.get(k)));
      expect(got.map((v) => v?.toString())).toEqual(keys.map((_, i) => `v${i}`));
    } finally {
      await store.close();
      for (const m of masters) m.disconnect();
    }
  });
});

describe('order with the client’s other commands', () => {
  it('a read issued after a fire-and-forget write reads the new value (never overtakes it)', async () => {
    const store = new RedisStore(server.url);
    try {
      await store.ping();
      for (let i = 0; i < 200; i++) {
        void store.set('ord:k', Buffer.from(`v${i}`));
        expect((await store.get('ord:k'))?.toString()).toBe(`v${i}`);
        // and with a read already in flight (the batch path)
        const first = store.get('ord:other');
        void store.set('ord:k', Buffer.from(`w${i}`));
        const second = store.get('ord:k');
        await first;
        expect((await second)?.toString()).toBe(`w${i}`);
      }
    } finally {
      await store.close();
    }
  });
});
