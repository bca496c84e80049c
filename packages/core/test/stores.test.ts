import { Cluster, Redis } from 'ioredis';
import { startCluster, startStandalone, waitFor } from '@stratacache/redis-harness';
import type { RedisCluster, StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheService, MemoryStore, RedisStore, globToRegExp } from '../src/index';
import { runStoreContract } from './store-contract';

let server: StandaloneRedis;
let cluster: RedisCluster;

beforeAll(async () => {
  [server, cluster] = await Promise.all([startStandalone(), startCluster({ masters: 3 })]);
  await cluster.waitHealthy(30_000);
});

afterAll(async () => {
  await Promise.all([server?.close(), cluster?.close()]);
});

runStoreContract('MemoryStore', () => new MemoryStore({ sweepIntervalMs: 50 }));
runStoreContract('RedisStore (standalone, URL)', () => new RedisStore(server.url));
runStoreContract('RedisStore (3-master Cluster)', () => {
  const client = new Cluster(cluster.startupNodes, { enableAutoPipelining: true, redisOptions: { maxRetriesPerRequest: 1 } });
  return new RedisStore(client, { ownsClient: true });
});

describe('RedisStore specifics', () => {
  it('keeps a Cluster as a Cluster and exposes the client and duplicates', async () => {
    const client = new Cluster(cluster.startupNodes, { enableAutoPipelining: true });
    const store = new RedisStore(client);
    try {
      expect(store.kind).toBe('redis-cluster');
      expect(store.client).toBe(client);
      expect(store.isCluster).toBe(true);
      const dup = store.duplicate();
      expect(dup.isCluster).toBe(true);
      await dup.set('dup:key', 'x');
      expect((await store.get('dup:key'))?.toString()).toBe('x');
      await dup.quit();
    } finally {
      await store.close();
      await client.quit(); // not owned by the store
    }
  });

  it('creates its client with auto-pipelining and fail-fast options from a URL or options', async () => {
    const a = new RedisStore(server.url);
    const b = new RedisStore({ host: server.host, port: server.port });
    try {
      for (const s of [a, b]) {
        expect(s.kind).toBe('redis');
        expect((s.client as Redis).options.enableAutoPipelining).toBe(true);
        expect((s.client as Redis).options.maxRetriesPerRequest).toBe(1);
        expect(await s.ping()).toBeGreaterThanOrEqual(0);
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('does not close a passed-in client, closes its own', async () => {
    const client = new Redis(server.url);
    const store = new RedisStore(client);
    await store.close();
    expect(await client.ping()).toBe('PONG');
    await client.quit();
    const own = new RedisStore(server.url);
    await own.ping();
    await own.close();
    await waitFor(() => own.client.status === 'end', { timeoutMs: 5000 });
    await expect(own.get('x')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' });
  });

  it('starts connecting a lazyConnect client at once (works even with the offline queue off)', async () => {
    const client = new Redis(server.url, { lazyConnect: true, enableOfflineQueue: false });
    const store = new RedisStore(client, { ownsClient: true });
    await waitFor(() => store.isReady(), { timeoutMs: 5000 });
    expect(await store.ping()).toBeGreaterThanOrEqual(0);
    await store.close();
  });

  it('deleteMatching on a brand-new Cluster client waits for slot discovery instead of seeing no masters', async () => {
    const seed = new Cluster(cluster.startupNodes);
    await seed.set('fresh:1', 'x');
    await seed.set('fresh:2', 'x');
    const store = new RedisStore(new Cluster(cluster.startupNodes, { enableAutoPipelining: true }), { ownsClient: true });
    try {
      expect(await store.deleteMatching('fresh:*')).toBe(2);
    } finally {
      await store.close();
      await seed.quit();
    }
  });

  it('rejects a string that is not a redis URL', () => {
    expect(() => new RedisStore('localhost:6379')).toThrowError(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
  });
});

describe('CacheService on a 3-master Cluster', () => {
  it('round-trips, invalidates by tag/namespace/pattern and clears across every master without CROSSSLOT', async () => {
    const client = new Cluster(cluster.startupNodes, { enableAutoPipelining: true, redisOptions: { maxRetriesPerRequest: 1 } });
    const cache = new CacheService({ redis: client, prefix: 'cl', opTimeout: 2000 });
    const other = new CacheService({ redis: client, prefix: 'other', opTimeout: 2000 });
    try {
      expect(cache.store.kind).toBe('redis-cluster');
      const keys = Array.from({ length: 200 }, (_, i) => cache.keys.build('jobs', i % 2 ? 'list' : 'detail', i));
      const res = await cache.mset(keys.map((key, i) => ({ key, value: { i }, tags: [`t${i % 5}`] })));
      expect(res.every((r) => r.ok)).toBe(true);
      await other.set('jobs:list:1', 'keep');
      expect((await cache.mget(keys)).map((v) => (v as { i: number }).i)).toEqual(keys.map((_, i) => i));
      await cache.invalidateTag('t0');
      const afterTag = await cache.mget(keys);
      afterTag.forEach((v, i) => expect(v === undefined).toBe(i % 5 === 0));
      await cache.invalidateNamespace('jobs', 'list');
      const afterNs = await cache.mget(keys);
      afterNs.forEach((v, i) => expect(v === undefined).toBe(i % 5 === 0 || i % 2 === 1));
      // nodes('master') each hold a share of the keys
      const perNode = await Promise.all((client.nodes('master')).map((n) => n.dbsize()));
      expect(perNode.filter((c) => c > 0).length).toBe(3);
      const r = await cache.invalidatePattern(cache.keys.pattern('jobs', 'detail'));
      expect(r.deleted).toBe(80); // 20 tag-invalidated detail entries were already deleted by the reads above
      await cache.set('misc:1', 1);
      const cleared = await cache.clear();
      expect(cleared.ok).toBe(true);
      expect(cleared.deleted).toBeGreaterThanOrEqual(3); // misc:1 + the tag and namespace barriers (invalidated entries were deleted by the reads)
      expect(await other.get('jobs:list:1')).toBe('keep');
      const left = await Promise.all(client.nodes('master').map((n) => n.keys('cl:*')));
      expect(left.flat()).toEqual([]);
      expect(cache.breaker.state).toBe('CLOSED');
      expect(cache.stats().errors).toBe(0);
    } finally {
      await cache.close();
      await other.close();
      await client.quit();
    }
  });
});

describe('MemoryStore specifics', () => {
  it('evicts the oldest-written key beyond maxEntries', async () => {
    const s = new MemoryStore({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) await s.set(k, Buffer.from(k));
    await s.set('a', Buffer.from('a2')); // rewrite moves a to the newest position
    await s.set('d', Buffer.from('d'));
    expect(await s.get('b')).toBeUndefined();
    expect((await s.mget(['a', 'c', 'd'])).map((v) => v?.toString())).toEqual(['a2', 'c', 'd']);
    expect(s.evictions).toBe(1);
    await s.close();
  });

  it('sweeps expired keys in the background', async () => {
    const s = new MemoryStore({ sweepIntervalMs: 20 });
    for (let i = 0; i < 100; i++) await s.set(`k${i}`, Buffer.from('v'), 30);
    await waitFor(() => s.size === 0, { timeoutMs: 5000 });
    await s.close();
    await expect(s.get('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' });
  });

  it('validates options and TTLs', async () => {
    expect(() => new MemoryStore({ maxEntries: 0 })).toThrowError(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
    const s = new MemoryStore();
    await expect(s.set('k', Buffer.from('v'), 0)).rejects.toMatchObject({ code: 'E_CACHE_OPTIONS' });
    await expect(s.set('k', Buffer.from('v'), Number.NaN)).rejects.toMatchObject({ code: 'E_CACHE_OPTIONS' });
    await s.close();
  });

  it('globToRegExp matches Redis glob rules', () => {
    const m = (g: string, k: string) => globToRegExp(g).test(k);
    expect(m('a*', 'a:b:c')).toBe(true);
    expect(m('a?c', 'abc')).toBe(true);
    expect(m('a?c', 'ac')).toBe(false);
    expect(m('h[ae]llo', 'hello')).toBe(true);
    expect(m('h[^e]llo', 'hello')).toBe(false);
    expect(m('h[a-b]llo', 'hbllo')).toBe(true);
    expect(m('h[b-a]llo', 'hallo')).toBe(true); // reversed range, as in Redis
    expect(m('a\\*b', 'a*b')).toBe(true);
    expect(m('a\\*b', 'axb')).toBe(false);
    expect(m('x.y', 'xzy')).toBe(false);
    expect(m('(a|b)', '(a|b)')).toBe(true);
    expect(m('line\nbreak*', 'line\nbreak')).toBe(true);
  });
});
