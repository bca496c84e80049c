import { randomBytes } from 'node:crypto';
import { startCluster, startStandalone } from '@stratacache/redis-harness';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheService, MemoryStore, RedisStore, lockKeyFor } from '../src/index';
import type { LockClaim, Store } from '../src/index';
import { keySlot } from '../src/node-breakers';

/** The fused miss (issue 13), core side: readOrLock / writeAndRelease on Memory, Redis and a Cluster. */
let redis: Awaited<ReturnType<typeof startStandalone>>;
let cluster: Awaited<ReturnType<typeof startCluster>>;
beforeAll(async () => {
  [redis, cluster] = await Promise.all([startStandalone(), startCluster({ masters: 3 })]);
  await cluster.waitHealthy(30_000);
}, 60_000);
afterAll(async () => {
  await Promise.all([redis?.close(), cluster?.close()]);
});

let n = 0;
const claimOf = (lockKey: string, token = `t${++n}`): LockClaim => ({ key: lockKey, token, ttlMs: 5_000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const kinds: [string, () => Store][] = [
  ['memory', () => new MemoryStore()],
  ['redis', () => new RedisStore({ host: '127.0.0.1', port: redis.port })],
  ['redis-cluster', () => new RedisStore(new Cluster(cluster.startupNodes), { ownsClient: true })],
];

describe.each(kinds)('fused miss on %s', (_kind, make) => {
  let store: Store;
  let cache: CacheService;
  const prefix = `lr${Math.random().toString(36).slice(2, 7)}`;
  beforeAll(() => {
    store = make();
    cache = new CacheService({ store, prefix, opTimeout: 2_000 });
  });
  afterAll(async () => {
    await cache.close();
    await store.close();
  });

  it('a miss leads, a second caller finds it busy, write-and-release stores, unlocks and publishes', async () => {
    expect(cache.lockedReads).toBe(true);
    const key = cache.key('user:get:1');
    const lk = lockKeyFor(`${prefix}:__lock`, key) as string;
    const a = claimOf(lk);
    expect(await cache.readOrLock(key, a)).toEqual({ status: 'miss', lock: 'led' });
    expect(await cache.readOrLock(key, claimOf(lk))).toEqual({ status: 'miss', lock: 'busy' });
    expect(await cache.extendLock(key, a)).toBe(true);
    expect(await cache.extendLock(key, claimOf(lk))).toBe(false);
    const got: string[] = [];
    const off = await store.subscribe(`${prefix}:bus`, (m) => got.push(m.toString()));
    const now = cache.now();
    const r = await cache.writeAndRelease(key, { value: { a: 1 }, createdAt: cache.stamp(), expiresAt: now + 60_000 }, 60_000, a, { channel: `${prefix}:bus`, message: 'done' });
    expect(r).toEqual({ ok: true });
    const hit = await cache.readOrLock<{ a: number }>(key, claimOf(lk));
    expect(hit.status).toBe('hit');
    expect(hit.lock).toBe('none');
    expect(hit.status === 'hit' && hit.entry.value).toEqual({ a: 1 });
    // the lock was released: a forced read-or-lock takes it (and still returns the entry)
    const forced = await cache.readOrLock(key, claimOf(lk), true);
    expect(forced.status === 'hit' && forced.lock).toBe('led');
    for (let i = 0; i < 50 && got.length === 0; i++) await sleep(10);
    expect(got).toEqual(['done']);
    await off();
  });

  it('a namespace invalidation makes the entry a miss; a corrupt entry is a counted miss and removed', async () => {
    const key = cache.key('order:get:7');
    const lk = lockKeyFor(`${prefix}:__lock`, key) as string;
    await cache.set(key, 'v', { ttl: 60_000 });
    expect((await cache.readOrLock(key, claimOf(lk))).status).toBe('hit');
    await cache.invalidate({ namespace: { entity: 'order' } });
    expect(await cache.readOrLock(key, claimOf(lk))).toEqual({ status: 'miss', lock: 'none' });
    const bad = cache.key('order:get:8');
    await store.set(bad, Buffer.from('not an entry'), 60_000);
    const before = cache.stats().corrupt;
    expect(await cache.readOrLock(bad, claimOf(lockKeyFor(`${prefix}:__lock`, bad) as string))).toEqual({ status: 'miss', lock: 'none' });
    expect(cache.stats().corrupt).toBe(before + 1);
    for (let i = 0; i < 50 && (await store.get(bad)) !== undefined; i++) await sleep(10);
    expect(await store.get(bad)).toBeUndefined();
  });

  it('release only when the token owns the lock; an over-size value settles at once and releases', async () => {
    const key = cache.key('doc:get:1');
    const lk = lockKeyFor(`${prefix}:__lock`, key) as string;
    const a = claimOf(lk);
    await cache.readOrLock(key, a);
    expect(await cache.writeAndRelease(key, undefined, 1, claimOf(lk))).toEqual({ ok: false, reason: 'bypass' });
    expect((await cache.readOrLock(key, claimOf(lk))).lock).toBe('busy');
    const big = { value: randomBytes(700_000).toString('base64'), createdAt: cache.stamp(), expiresAt: cache.now() + 1_000 };
    expect(await cache.writeAndRelease(key, big, 1_000, a)).toEqual({ ok: false, reason: 'too_large' });
    for (let i = 0; i < 50; i++) {
      if ((await store.get(lk)) === undefined) break;
      await sleep(10);
    }
    expect((await cache.readOrLock(key, claimOf(lk))).lock).toBe('led');
  });

  it('concurrent fused reads (coalesced into script calls of up to READ_CHUNK reads on a single server): each caller gets its own answer', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => cache.key(`item:get:${i}`));
    for (let i = 0; i < keys.length; i += 3) await cache.set(keys[i] as string, `v${i}`, { ttl: 60_000 });
    const lk = (k: string) => lockKeyFor(`${prefix}:__lock`, k) as string;
    // every key twice: for a missing key one claim leads and the other finds it busy
    const rs = await Promise.all([...keys, ...keys].map((k) => cache.readOrLock<string>(k, claimOf(lk(k)))));
    keys.forEach((_, i) => {
      const [a, b] = [rs[i], rs[i + keys.length]];
      if (i % 3 === 0) {
        for (const r of [a, b]) expect(r?.status === 'hit' && r.entry.value).toBe(`v${i}`);
        expect([a?.lock, b?.lock]).toEqual(['none', 'none']);
      } else {
        expect([a?.status, b?.status]).toEqual(['miss', 'miss']);
        expect([a?.lock, b?.lock].sort()).toEqual(['busy', 'led']);
      }
    });
  });

  it('a store that cannot answer: unknown, never a miss', async () => {
    const dead = new CacheService({ store: new RedisStore({ host: '127.0.0.1', port: 1, lazyConnect: true, retryStrategy: () => null }), prefix, opTimeout: 200 });
    try {
      const key = dead.key('user:get:1');
      const r = await dead.readOrLock(key, claimOf(lockKeyFor('x', key) as string));
      expect(r.status).toBe('unknown');
    } finally {
      await dead.close();
    }
  });
});

describe('lockKeyFor', () => {
  it('puts the lock in the entry key slot (tagged or not); the untagged form is LockManager`s key', () => {
    for (const key of ['sc:user:get:1', 'sc:{tenant}:user:1', 'sc:{:x', 'sc:{}x']) {
      const lk = lockKeyFor('sc:__tiered_lock', key);
      if (key.includes('}') && !/\{[^}]+\}/.test(key)) {
        expect(lk).toBeUndefined();
        continue;
      }
      expect(keySlot(lk as string)).toBe(keySlot(key));
    }
    expect(lockKeyFor('p', 'sc:a:b')).toBe('p:{sc:a:b}');
  });
});
