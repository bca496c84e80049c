import { startStandalone } from '@stratacache/redis-harness';
import type { StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheService, MemoryStore, RedisStore, StoreUnavailableError } from '../src/index';
import type { Store } from '../src/index';

let server: StandaloneRedis;
beforeAll(async () => {
  server = await startStandalone();
});
afterAll(async () => {
  await server?.close();
});

let n = 0;
const uniquePrefix = () => `seam${process.pid}x${++n}`;

/** A real store whose reads/writes can be made to reject with StoreUnavailableError (a dead "part"). */
function partlyDown(store: Store): { store: Store; down: { on: boolean } } {
  const down = { on: false };
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (down.on && ['get', 'mget', 'set', 'mset'].includes(String(prop))) {
          return Promise.reject(new StoreUnavailableError(`part of the store is down (${String(prop)})`));
        }
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, down };
}

for (const kind of ['memory', 'redis'] as const) {
  const makeStore = (): Store => (kind === 'memory' ? new MemoryStore() : new RedisStore(server.url));

  describe(`core seams (${kind})`, () => {
    it('readEntry is tri-state: hit / miss / unknown; an unreadable barrier is unknown, never "not invalidated"', async () => {
      const { store, down } = partlyDown(makeStore());
      const c = new CacheService({ store, prefix: uniquePrefix() });
      try {
        await c.set('user:get:1', 'v', { grace: 60_000, ttl: 50 });
        expect(await c.readEntry('user:get:1')).toMatchObject({ status: 'hit', entry: { value: 'v' } });
        expect(await c.readEntry('user:get:2')).toEqual({ status: 'miss' });
        await c.invalidateNamespace('user');
        expect(await c.readEntry('user:get:1')).toEqual({ status: 'miss' }); // invalidated = deleted, not stale
        await c.set('user:get:3', 'w');
        down.on = true;
        expect((await c.readEntry('user:get:3')).status).toBe('unknown');
        expect(await c.get('user:get:3')).toBeUndefined();
        expect(await c.set('user:get:4', 1)).toEqual({ ok: false, reason: 'unavailable' });
        expect(c.breaker.state).toBe('CLOSED'); // a part being down does not cut the whole store
        down.on = false;
        expect(await c.get('user:get:3')).toBe('w');
      } finally {
        await c.close();
        await store.close();
      }
    });

    it('the one namespace function: names that need escaping build and match the same keys', async () => {
      const store = makeStore();
      const c = new CacheService({ store, prefix: uniquePrefix() });
      try {
        for (const name of ['a:b', 'a*b', 'team{1}']) {
          const ns = c.keys.namespaceKey(name, 'get');
          const k = c.keys.build(name, 'get', 1);
          const other = c.keys.build('a', 'get', 1);
          expect(ns.keyPrefix).toBe(`${c.prefix}:${c.keys.escape(name)}:get:`);
          expect(ns.matches(k)).toBe(true);
          expect(ns.matches(other)).toBe(false);
          await c.set(k, 1);
          await c.set(other, 2);
          expect((await c.invalidateNamespace(name, 'get')).ok).toBe(true);
          expect(await c.get(k)).toBeUndefined();
          expect(await c.get(other)).toBe(2);
        }
      } finally {
        await c.close();
        await store.close();
      }
    });
  });
}
