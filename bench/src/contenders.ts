// The libraries compared, each set up the way its docs show, behind one small interface.
import { createKeyv } from '@keyv/redis';
import { CacheService, RedisStore } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache } from 'cache-manager';
import { Cacheable } from 'cacheable';

export interface Contender {
  name: string;
  getOrSet(key: string, factory: () => Promise<unknown>): Promise<unknown>;
  set(key: string, value: unknown): Promise<unknown>;
  close(): Promise<void>;
}

export type Layer = 'l1' | 'l2' | 'both';
const TTL_MS = 600_000;

export async function stratacache(url: string, layer: Layer, prefix: string): Promise<Contender & { tiered: TieredCache; l2: CacheService }> {
  const store = new RedisStore(url);
  const l2 = new CacheService({ store, prefix });
  const tiered = new TieredCache(l2, layer === 'l2' ? { l1: false, bus: false, ttl: '10m' } : { l1: { maxEntries: 100_000 }, ttl: '10m' });
  await tiered.ready();
  return {
    name: 'stratacache',
    tiered,
    l2,
    // the keys every contender gets (`item:get:N`), as an application passes them: TieredCache
    // normalises a relative key through its bounded memo (until 2026-12-01 the bench built the full
    // key with `l2.key(k)` inside every timed call, a cost no other contender paid)
    getOrSet: (k, f) => tiered.getOrSet(k, f),
    set: (k, v) => tiered.set(k, v, { ttl: '10m' }),
    async close() {
      await tiered.close();
      await l2.close();
      await store.close();
    },
  };
}

export function bento(port: number, layer: Layer): Contender & { cache: BentoCache<{ c: ReturnType<typeof bentostore> }> } {
  let s = bentostore();
  if (layer !== 'l2') s = s.useL1Layer(memoryDriver({ maxItems: 100_000 }));
  if (layer !== 'l1') s = s.useL2Layer(redisDriver({ connection: { host: '127.0.0.1', port } }));
  const cache = new BentoCache({ default: 'c', ttl: '10m', stores: { c: s } });
  return {
    name: 'BentoCache',
    cache,
    getOrSet: (key, factory) => cache.getOrSet({ key, factory }),
    set: (key, value) => cache.set({ key, value }),
    close: () => cache.disconnectAll(),
  };
}

export function cacheManager(url: string, layer: Layer): Contender & { clear(): Promise<unknown> } {
  const stores = layer === 'l1' ? undefined : [createKeyv(url)];
  const cache = createCache(stores ? { stores } : {});
  return {
    name: 'cache-manager 7',
    // own key prefix: cache-manager and cacheable both write bare keyv keys to the same server
    getOrSet: (k, f) => cache.wrap(`cm:${k}`, f, TTL_MS),
    set: (k, v) => cache.set(`cm:${k}`, v, TTL_MS),
    clear: () => cache.clear(),
    async close() {
      await cache.disconnect();
    },
  };
}

export function cacheable(url: string, layer: Layer): Contender & { clear(): Promise<unknown> } {
  const cache =
    layer === 'l1' ? new Cacheable({ ttl: TTL_MS }) : layer === 'l2' ? new Cacheable({ primary: createKeyv(url), ttl: TTL_MS }) : new Cacheable({ secondary: createKeyv(url), ttl: TTL_MS });
  return {
    name: 'cacheable',
    getOrSet: (k, f) => cache.getOrSet(`ca:${k}`, f),
    set: (k, v) => cache.set(`ca:${k}`, v),
    clear: () => cache.clear(),
    async close() {
      await cache.disconnect();
    },
  };
}
