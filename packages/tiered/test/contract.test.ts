import { randomBytes } from 'node:crypto';
import { CacheService, MemoryStore, RedisStore, TtlPolicy } from '@stratacache/core';
import { startStandalone } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TieredCache } from '../src/index';
import { sleep, uniquePrefix } from './helpers';

let redis: Awaited<ReturnType<typeof startStandalone>>;
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

interface Setup {
  t: TieredCache;
  l2: CacheService;
  close(): Promise<void>;
}

const kinds: [string, (l2opts?: ConstructorParameters<typeof CacheService>[0], topts?: ConstructorParameters<typeof TieredCache>[1]) => Setup][] = [
  [
    'embedded',
    (l2opts, topts) => {
      const l2 = new CacheService({ store: new MemoryStore(), ...l2opts });
      const t = new TieredCache(l2, { bus: false, ...topts });
      return { t, l2, close: async () => (await t.close(), await l2.close()) };
    },
  ],
  [
    'redis',
    (l2opts, topts) => {
      const store = new RedisStore(redis.url);
      const l2 = new CacheService({ store, prefix: uniquePrefix('ct'), ...l2opts });
      const t = new TieredCache(l2, topts);
      return { t, l2, close: async () => (await t.close(), await l2.close(), await store.close()) };
    },
  ],
];

for (const [kind, make] of kinds) {
  describe(`tiered validates like core, L1 holds only what L2 accepted (${kind})`, () => {
    it('keys: same validation and typed errors as core on get/set/delete/getOrSet/has', async () => {
      const { t, l2, close } = make();
      try {
        const long = 'x'.repeat(9_000);
        for (const bad of [123, '', long, undefined]) {
          const coreErr = await l2.get(bad as string).catch((e: unknown) => e);
          expect(coreErr).toMatchObject({ code: 'E_CACHE_KEY' });
          await expect(t.get(bad as string)).rejects.toMatchObject({ code: 'E_CACHE_KEY' });
          await expect(t.set(bad as string, 1)).rejects.toMatchObject({ code: 'E_CACHE_KEY' });
          await expect(t.delete(bad as string)).rejects.toMatchObject({ code: 'E_CACHE_KEY' });
          await expect(t.getOrSet(bad as string, () => 1)).rejects.toMatchObject({ code: 'E_CACHE_KEY' });
          await expect(t.has(bad as string)).rejects.toMatchObject({ code: 'E_CACHE_KEY' });
          expect(() => t.getL1(bad as string)).toThrow(expect.objectContaining({ code: 'E_CACHE_KEY' }));
        }
        await expect(t.set('k:v:1', 1, { tags: [''] })).rejects.toMatchObject({ code: 'E_CACHE_OPTIONS' });
        await expect(t.getOrSet('k:v:1', () => 1, { tags: [''] })).rejects.toMatchObject({ code: 'E_CACHE_OPTIONS' });
      } finally {
        await close();
      }
    });

    it('a factory returning undefined rejects with a typed error and leaves nothing in L1', async () => {
      const { t, close } = make();
      try {
        await expect(t.getOrSet('u:get:1', () => undefined as unknown as number)).rejects.toMatchObject({ code: 'E_CACHE_OPTIONS' });
        expect(t.hasInL1('u:get:1')).toBe(false);
        let calls = 0;
        expect(await t.getOrSet('u:get:1', () => ++calls)).toBe(1);
      } finally {
        await close();
      }
    });

    it('a value L2 refuses (symbol, circular, over maxItemSize) resolves a failure and is not served from L1', async () => {
      const { t, close } = make({ maxItemSize: 1024 });
      try {
        const circular: Record<string, unknown> = { a: 1 };
        circular.self = circular;
        await t.set('v:get:1', 'old');
        for (const bad of [Symbol('s'), circular, randomBytes(4096).toString('base64')]) {
          const r = await t.set('v:get:1', bad);
          expect(r.ok).toBe(false);
          expect(t.hasInL1('v:get:1')).toBe(false);
          expect(await t.get('v:get:1')).not.toBe(bad);
        }
        // getOrSet: the value is returned, but not kept in L1
        expect(await t.getOrSet('v:get:2', () => randomBytes(4096).toString('hex'))).toHaveLength(8192);
        expect(t.hasInL1('v:get:2')).toBe(false);
      } finally {
        await close();
      }
    });

    it('ttl 0 = do not cache, everywhere (set, getOrSet, ctx.setTtl, TTL rules); 0 as a default is rejected', async () => {
      expect(() => new CacheService({ defaultTtl: 0 })).toThrow(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
      const { t, l2, close } = make({ ttl: { rules: [{ entity: 'nocache', ttl: 0 }] } });
      try {
        expect(() => new TieredCache(l2, { ttl: 0, bus: false })).toThrow(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
        await t.set('a:get:1', 'old');
        expect(await t.set('a:get:1', 'new', { ttl: 0 })).toEqual({ ok: false, reason: 'bypass' });
        expect(await t.get('a:get:1')).toBeUndefined(); // the older value is gone too
        expect(await l2.get('a:get:1')).toBeUndefined();
        let calls = 0;
        expect(await t.getOrSet('a:get:2', () => ++calls, { ttl: 0 })).toBe(1);
        expect(await t.getOrSet('a:get:2', () => ++calls, { ttl: 0 })).toBe(2);
        expect(await t.getOrSet('a:get:3', (ctx) => (ctx.setTtl(0), ++calls))).toBe(3);
        expect(await t.getOrSet('a:get:3', () => ++calls)).toBe(4);
        expect(await t.getOrSet('nocache:get:1', () => ++calls)).toBe(5);
        expect(await t.getOrSet('nocache:get:1', () => ++calls)).toBe(6);
        expect(t.hasInL1('nocache:get:1')).toBe(false);
        // core: the same meaning
        expect(await l2.set('nocache:get:2', 1)).toEqual({ ok: false, reason: 'bypass' });
        expect(await l2.getOrSet('a:get:4', (ctx) => (ctx.setTtl(0), 'x'))).toBe('x');
        await sleep(10);
        expect(await l2.get('a:get:4')).toBeUndefined();
      } finally {
        await close();
      }
    });

    it('jitter applies to explicit TTLs too, unless jitter: 0 for that call', async () => {
      const ttl = new TtlPolicy({ prefix: kind === 'redis' ? undefined : 'sc', jitter: 0.5, random: () => 1 });
      const { t, l2, close } = make({ ttl });
      try {
        const expiry = async (k: string) => {
          const r = await l2.readEntry(k);
          if (r.status !== 'hit') throw new Error('no entry');
          return r.entry.expiresAt - l2.now();
        };
        await t.set('j:get:1', 1, { ttl: 10_000 });
        expect(await expiry('j:get:1')).toBeGreaterThan(14_000); // +50 %
        await t.set('j:get:2', 1, { ttl: 10_000, jitter: 0 });
        expect(await expiry('j:get:2')).toBeLessThanOrEqual(10_000);
        await t.getOrSet('j:get:3', () => 1, { ttl: 10_000 });
        expect(await expiry('j:get:3')).toBeGreaterThan(14_000);
        await l2.set('j:get:4', 1, { ttl: 10_000 });
        expect(await expiry('j:get:4')).toBeGreaterThan(14_000);
        await l2.set('j:get:5', 1, { ttl: 10_000, jitter: 0 });
        expect(await expiry('j:get:5')).toBeLessThanOrEqual(10_000);
      } finally {
        await close();
      }
    });
  });

  describe(`fail-safe throttling, ctx.fail, forceFresh (${kind})`, () => {
    it('after a failure with a stale value, the origin is not called again for failSafeThrottle', async () => {
      const { t, close } = make({}, { grace: '1m', failSafeThrottle: 300 });
      try {
        await t.set('o:get:1', 'stale', { ttl: 30 });
        await sleep(60);
        let calls = 0;
        const failing = () => {
          calls++;
          throw new Error('origin down');
        };
        const opts = { softTimeout: 1_000 };
        expect(await t.getOrSet('o:get:1', failing, opts)).toBe('stale');
        expect(calls).toBe(1);
        for (let i = 0; i < 5; i++) expect(await t.getOrSet('o:get:1', failing, opts)).toBe('stale');
        expect(calls).toBe(1); // throttled
        await sleep(350);
        expect(await t.getOrSet('o:get:1', failing, opts)).toBe('stale');
        expect(calls).toBe(2); // the backoff passed: the origin is tried again
        // ctx.fail marks a result as a failure: stale served, nothing cached, throttled
        await sleep(350);
        expect(await t.getOrSet('o:get:1', (ctx) => (calls++, ctx.fail(new Error('503'))), opts)).toBe('stale');
        expect(calls).toBe(3);
        expect(await t.getOrSet('o:get:1', () => (calls++, 'fresh'), opts)).toBe('stale');
        expect(calls).toBe(3);
        // forceFresh skips L1, L2 and the throttle
        expect(await t.getOrSet('o:get:1', () => (calls++, 'fresh'), { forceFresh: true })).toBe('fresh');
        expect(calls).toBe(4);
        expect(await t.getOrSet('o:get:1', () => 'unused')).toBe('fresh');
      } finally {
        await close();
      }
    });

    it('ctx.fail without a stale value rejects with the error; forceFresh on a cached key calls the factory once for concurrent callers', async () => {
      const { t, close } = make();
      try {
        await expect(t.getOrSet('f:get:1', (ctx) => ctx.fail(new Error('nope')))).rejects.toThrow('nope');
        expect(t.hasInL1('f:get:1')).toBe(false);
        await t.set('f:get:2', 'cached');
        let calls = 0;
        const f = async () => {
          calls++;
          await sleep(30);
          return 'new';
        };
        const rs = await Promise.all([t.getOrSet('f:get:2', f, { forceFresh: true }), t.getOrSet('f:get:2', f, { forceFresh: true })]);
        expect(rs).toEqual(['new', 'new']);
        expect(calls).toBe(1);
        expect(await t.get('f:get:2')).toBe('new');
      } finally {
        await close();
      }
    });
  });
}
