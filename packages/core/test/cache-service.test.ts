import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startStandalone, waitFor } from '@stratacache/redis-harness';
import type { StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CacheService, MemoryStore, RedisStore, createCodec, escapeGlob } from '../src/index';
import type { CacheEvent, Store } from '../src/index';
import { countingStore, deferred } from './helpers';

let server: StandaloneRedis;
let raw: Redis;

beforeAll(async () => {
  server = await startStandalone();
  raw = new Redis(server.url);
});
afterAll(async () => {
  await raw?.quit();
  await server?.close();
});

let n = 0;
const uniquePrefix = () => `t${process.pid}x${++n}`;

interface Ctx {
  kind: string;
  makeStore: () => Store;
}

const kinds: Ctx[] = [
  { kind: 'memory', makeStore: () => new MemoryStore() },
  { kind: 'redis', makeStore: () => new RedisStore(server.url) },
];

describe.each(kinds)('CacheService on $kind', ({ makeStore }) => {
  const open: { cache: CacheService; store: Store }[] = [];
  function make(opts: ConstructorParameters<typeof CacheService>[0] = {}, store: Store = makeStore()) {
    const cache = new CacheService({ prefix: uniquePrefix(), opTimeout: 2000, ...opts, store });
    open.push({ cache, store });
    return cache;
  }
  afterEach(async () => {
    for (const { cache, store } of open.splice(0)) {
      await cache.close();
      await store.close();
    }
  });

  it('round-trips rich values (Date, Map, Set, BigInt, Buffer, nested, null)', async () => {
    const cache = make();
    const value = {
      when: new Date('2024-05-06T07:08:09.010Z'),
      map: new Map<string, unknown>([['a', 1], ['b', { c: [1, 2] }]]),
      set: new Set([1, 'two']),
      big: 12345678901234567890n,
      buf: Buffer.from([0, 1, 2, 255]),
      nested: { arr: [1, 'x', null, true], s: 'héllo' },
      nil: null,
    };
    expect(await cache.set('rich:1', value)).toEqual({ ok: true });
    expect(await cache.get('rich:1')).toEqual(value);
    await cache.set('scalar', 42);
    expect(await cache.get('scalar')).toBe(42);
    await cache.set('null', null);
    expect(await cache.get('null')).toBeNull();
  });

  it('misses, hits, counts stats per namespace and emits events with entity/operation/source', async () => {
    const cache = make();
    const events: CacheEvent[] = [];
    const off = cache.on('*', (e) => events.push(e));
    const key = cache.keys.build('jobs', 'list', { status: 'open' });
    expect(await cache.get(key)).toBeUndefined();
    await cache.set(key, [1, 2, 3]);
    expect(await cache.get(key)).toEqual([1, 2, 3]);
    const s = cache.stats();
    expect(s).toMatchObject({ hits: 1, misses: 1, writes: 1, hitRate: 0.5 });
    expect(s.byNamespace['jobs:list']).toMatchObject({ hits: 1, misses: 1, writes: 1 });
    expect(events.map((e) => e.type)).toEqual(['miss', 'set', 'hit']);
    expect(events[2]).toMatchObject({ key, entity: 'jobs', operation: 'list', source: 'l2' });
    expect(events[2]?.latencyMs).toBeGreaterThanOrEqual(0);
    off();
    await cache.get(key);
    expect(events).toHaveLength(3);
  });

  it('prefixes relative keys and accepts full keys', async () => {
    const cache = make();
    await cache.set('user:1', 'a');
    expect(await cache.get(`${cache.prefix}:user:1`)).toBe('a');
    expect(cache.key('user:1')).toBe(`${cache.prefix}:user:1`);
    expect(await cache.store.get(`${cache.prefix}:user:1`)).toBeDefined();
  });

  it('expires entries after their TTL; explicit ttl wins over TTL rules', async () => {
    const cache = make({ ttl: { rules: [{ entity: 'static', ttl: '1d' }] }, defaultTtl: '10m' });
    await cache.set('short:1', 'x', { ttl: 150 });
    await waitFor(async () => (await cache.get('short:1')) === undefined, { timeoutMs: 5000 });
    const k = cache.keys.build('static', 'page', 'home');
    await cache.set(k, 'p');
    const e1 = await cache.getEntry(k);
    expect(e1!.expiresAt - e1!.createdAt).toBeGreaterThan(86_400_000 - 5_000);
    await cache.set(k, 'p', { ttl: '2s' });
    const e2 = await cache.getEntry(k);
    expect(e2!.expiresAt - e2!.createdAt).toBeLessThan(2_500);
    await cache.set('other:1', 'o');
    const e3 = await cache.getEntry('other:1');
    expect(Math.round((e3!.expiresAt - e3!.createdAt) / 1000)).toBe(600);
  });

  it('keeps a graced entry for getEntry after logical expiry (get misses), and deletes it on tag invalidation', async () => {
    const cache = make();
    await cache.set('g:1', 'stale-ok', { ttl: 100, grace: '1m', tags: ['t1'] });
    await waitFor(async () => (await cache.get('g:1')) === undefined, { timeoutMs: 5000 });
    const e = await cache.getEntry<string>('g:1');
    expect(e?.value).toBe('stale-ok');
    // the cache's own clock (sub-millisecond; Date.now() floors and may read up to 1 ms behind it)
    expect(e!.expiresAt).toBeLessThanOrEqual(cache.now());
    expect(e!.graceUntil).toBeGreaterThan(cache.now());
    await cache.invalidateTag('t1');
    expect(await cache.getEntry('g:1')).toBeUndefined(); // invalidated = deleted, not merely expired
    await waitFor(async () => (await cache.store.get(cache.key('g:1'))) === undefined, { timeoutMs: 5000 });
  });

  it('invalidates by tag with one barrier write (lazy), leaving other tags and newer entries alone', async () => {
    const cache = make();
    await cache.set('p:1', 1, { tags: ['user:1', 'all'] });
    await cache.set('p:2', 2, { tags: ['user:2', 'all'] });
    await cache.set('p:3', 3);
    const r = await cache.invalidateTag('user:1');
    expect(r).toMatchObject({ ok: true, deleted: 0, barriers: 1 });
    expect(await cache.mget(['p:1', 'p:2', 'p:3'])).toEqual([undefined, 2, 3]);
    await cache.set('p:1', 'fresh', { tags: ['user:1'] });
    expect(await cache.get('p:1')).toBe('fresh');
    await cache.invalidate({ tags: ['all'] });
    expect(await cache.get('p:2')).toBeUndefined();
    expect(await cache.get('p:1')).toBe('fresh');
    expect(cache.stats().invalidated).toBeGreaterThanOrEqual(2);
  });

  it('invalidates a namespace in O(1): the same store calls for 10 or 1000 keys', async () => {
    const counting = countingStore(makeStore());
    const cache = make({}, counting);
    for (const count of [10, 1000]) {
      const entries = Array.from({ length: count }, (_, i) => ({ key: cache.keys.build('jobs', 'list', { page: i, c: count }), value: i }));
      await cache.mset(entries);
      await cache.set(cache.keys.build('jobs', 'detail', count), 'd');
      counting.reset();
      const r = await cache.invalidateNamespace('jobs', 'list');
      expect(r).toMatchObject({ ok: true, barriers: 1, deleted: 0 });
      expect(counting.calls).toEqual({ mset: 1 });
      const got = await cache.mget(entries.slice(0, 20).map((e) => e.key));
      expect(got.every((v) => v === undefined)).toBe(true);
      expect(await cache.get(cache.keys.build('jobs', 'detail', count))).toBe('d');
    }
    await cache.invalidateNamespace('jobs');
    expect(await cache.get(cache.keys.build('jobs', 'detail', 10))).toBeUndefined();
    // string form and user input that looks like a glob are escaped, not widened
    await cache.set(cache.keys.build('a*', 'x', 1), 'star');
    await cache.set(cache.keys.build('ab', 'x', 1), 'ab');
    await cache.invalidate({ namespace: 'a*:x' });
    expect(await cache.get(cache.keys.build('a*', 'x', 1))).toBeUndefined();
    expect(await cache.get(cache.keys.build('ab', 'x', 1))).toBe('ab');
  });

  it('does not cache a value whose factory started before an invalidation (createdAt = factory start)', async () => {
    const cache = make();
    const key = cache.keys.build('jobs', 'list', 'all');
    const gate = deferred<string>();
    const started = deferred();
    const p = cache.getOrSet(key, () => {
      started.resolve();
      return gate.promise;
    });
    await started.promise; // the factory is running (it read the origin before the invalidation)
    await cache.invalidateNamespace('jobs', 'list');
    gate.resolve('old data');
    expect(await p).toBe('old data');
    await waitFor(() => cache.stats().writes === 1, { timeoutMs: 5000 });
    expect(await cache.get(key)).toBeUndefined();
    expect(await cache.getOrSet(key, () => 'new data')).toBe('new data');
  });

  it('invalidates by glob pattern, escaping user input', async () => {
    const cache = make();
    const evil = cache.keys.build('users', 'byName', 'a*');
    const victim = cache.keys.build('users', 'byName', 'abc');
    await cache.mset([{ key: evil, value: 1 }, { key: victim, value: 2 }]);
    await cache.invalidatePattern(cache.keys.pattern('users', 'byName', cache.keys.escape('a*')));
    expect(await cache.get(evil)).toBeUndefined();
    expect(await cache.get(victim)).toBe(2);
    await cache.mset([{ key: 'raw:a*', value: 1 }, { key: 'raw:ab', value: 2 }, { key: 'raw:a?', value: 3 }]);
    const r = await cache.invalidatePattern(`raw:${escapeGlob('a*')}`);
    expect(r.deleted).toBe(1);
    expect(await cache.mget(['raw:a*', 'raw:ab', 'raw:a?'])).toEqual([undefined, 2, 3]);
    const all = await cache.invalidatePattern('raw:*');
    expect(all.deleted).toBe(2);
  });

  it('clear() removes only this prefix', async () => {
    const store = makeStore();
    const a = make({ prefix: `${uniquePrefix()}a` }, store);
    const b = make({ prefix: `${a.prefix}b` }, store); // shares a's prefix as a string prefix
    await a.set('k:1', 1, { tags: ['x'] });
    await a.invalidateTag('x');
    await a.set('k:2', 2);
    await b.set('k:1', 'b');
    await store.set('foreign:key', Buffer.from('keep'));
    await store.set(`${a.prefix}x:lookalike`, Buffer.from('keep'));
    const r = await a.clear();
    expect(r.ok).toBe(true);
    expect(r.deleted).toBeGreaterThanOrEqual(2);
    expect(await a.get('k:2')).toBeUndefined();
    expect(await b.get('k:1')).toBe('b');
    expect((await store.get('foreign:key'))?.toString()).toBe('keep');
    expect((await store.get(`${a.prefix}x:lookalike`))?.toString()).toBe('keep');
    await store.del(['foreign:key', `${a.prefix}x:lookalike`]);
  });

  it('refuses values above maxItemSize without throwing; getOrSet still returns them', async () => {
    const cache = make({ maxItemSize: 2000 });
    const events: CacheEvent[] = [];
    cache.on('too_large', (e) => events.push(e));
    const big = randomBytes(5000).toString('base64'); // incompressible
    expect(await cache.set('big:1', big)).toEqual({ ok: false, reason: 'too_large' });
    expect(await cache.getOrSet('big:2', () => big)).toBe(big);
    await waitFor(() => events.length === 2, { timeoutMs: 5000 });
    expect(events[0]).toMatchObject({ type: 'too_large', key: cache.key('big:1') });
    expect(events[0]!.bytes).toBeGreaterThan(2000);
    expect(await cache.store.get(cache.key('big:1'))).toBeUndefined();
    expect(await cache.store.get(cache.key('big:2'))).toBeUndefined();
    expect(cache.stats().tooLarge).toBe(2);
    const [r1, r2] = await cache.mset([{ key: 'small', value: 'x' }, { key: 'big:3', value: big }]);
    expect(r1).toEqual({ ok: true });
    expect(r2).toEqual({ ok: false, reason: 'too_large' });
  });

  it('treats corrupt, truncated and foreign entries as counted misses and deletes them', async () => {
    const cache = make();
    const corrupt: CacheEvent[] = [];
    cache.on('corrupt', (e) => corrupt.push(e));
    await cache.set('good', { a: 1 });
    const good = (await cache.store.get(cache.key('good')))!;
    await cache.store.set(cache.key('garbage'), Buffer.from('definitely not an entry'));
    await cache.store.set(cache.key('truncated'), good.subarray(0, Math.max(1, good.length - 3)));
    await cache.store.set(cache.key('foreign'), createCodec().encode({ hello: 'world' }));
    await cache.store.set(cache.key('empty'), Buffer.alloc(0));
    for (const k of ['garbage', 'truncated', 'foreign', 'empty']) {
      expect(await cache.get(k)).toBeUndefined();
    }
    expect(cache.stats().corrupt).toBe(4);
    expect(corrupt.map((e) => e.key)).toEqual(['garbage', 'truncated', 'foreign', 'empty'].map((k) => cache.key(k)));
    await waitFor(async () => (await cache.store.mget(['garbage', 'truncated', 'foreign', 'empty'].map((k) => cache.key(k)))).every((v) => v === undefined), {
      timeoutMs: 5000,
    });
    expect(await cache.getOrSet('garbage', () => 'recomputed')).toBe('recomputed');
    expect(await cache.get('good')).toEqual({ a: 1 });
  });

  it('useCache: false bypasses reads and writes', async () => {
    const cache = make();
    await cache.set('b:1', 'cached');
    let calls = 0;
    expect(await cache.getOrSet('b:1', () => ++calls, { useCache: false })).toBe(1);
    expect(await cache.getOrSet('b:2', () => ++calls, { useCache: false })).toBe(2);
    expect(await cache.store.get(cache.key('b:2'))).toBeUndefined();
    expect(cache.stats()).toMatchObject({ bypass: 2, hits: 0, misses: 0 });
  });

  it('single-flight: 100 concurrent getOrSet call the factory once; errors propagate and are not cached', async () => {
    const cache = make();
    let calls = 0;
    const gate = deferred();
    const all = Array.from({ length: 100 }, () =>
      cache.getOrSet('sf:1', async () => {
        calls++;
        await gate.promise;
        return { v: 'value' };
      }),
    );
    gate.resolve();
    const values = await Promise.all(all);
    expect(calls).toBe(1);
    expect(values.every((v) => v.v === 'value')).toBe(true);
    expect(await cache.getOrSet('sf:1', () => ({ v: 'other' }))).toEqual({ v: 'value' });

    class Boom extends Error {}
    let errCalls = 0;
    const failing = Array.from({ length: 10 }, () =>
      cache.getOrSet('sf:2', async () => {
        errCalls++;
        await new Promise((r) => setTimeout(r, 10));
        throw new Boom('origin down');
      }),
    );
    const settled = await Promise.allSettled(failing);
    expect(errCalls).toBe(1);
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      expect((s as PromiseRejectedResult).reason).toBeInstanceOf(Boom);
    }
    expect(await cache.getOrSet('sf:2', () => 'recovered')).toBe('recovered');
    expect(errCalls).toBe(1);
  });

  it('getOrSet factory context: setTtl, setTags, skip', async () => {
    const cache = make();
    await cache.getOrSet('ctx:1', (ctx) => {
      ctx.setTtl('3s');
      ctx.setTags(['ctx']);
      return 'v';
    });
    await waitFor(async () => (await cache.getEntry('ctx:1')) !== undefined, { timeoutMs: 5000 });
    const e = await cache.getEntry('ctx:1');
    expect(e?.tags).toEqual(['ctx']);
    expect(e!.expiresAt - e!.createdAt).toBeLessThan(3_500);
    expect(await cache.getOrSet('ctx:2', (ctx) => (ctx.skip(), 'not cached'))).toBe('not cached');
    await new Promise((r) => setTimeout(r, 50));
    expect(await cache.store.get(cache.key('ctx:2'))).toBeUndefined();
  });

  it('mget/mset/del/has', async () => {
    const cache = make();
    const r = await cache.mset<unknown>([
      { key: 'm:1', value: 1 },
      { key: 'm:2', value: 'two', ttl: '1m', tags: ['m'] },
    ]);
    expect(r).toEqual([{ ok: true }, { ok: true }]);
    expect(await cache.mget(['m:1', 'm:missing', 'm:2'])).toEqual([1, undefined, 'two']);
    expect(await cache.has('m:1')).toBe(true);
    expect(await cache.del('m:1')).toBe(1);
    expect(await cache.has('m:1')).toBe(false);
    expect(await cache.del(['m:1', 'm:2'])).toBe(1);
    expect(await cache.mget([])).toEqual([]);
    expect(cache.stats().deletes).toBe(2);
  });

  it('setEntry / getEntry round-trip an envelope with an explicit physical TTL', async () => {
    const cache = make();
    const now = Date.now();
    const entry = { value: { x: 1 }, createdAt: now, expiresAt: now + 1000, graceUntil: now + 60_000, tags: ['a'] };
    expect(await cache.setEntry('env:1', entry, 60_000)).toEqual({ ok: true });
    expect(await cache.getEntry('env:1')).toEqual(entry);
    await cache.invalidateTag('a');
    expect(await cache.getEntry('env:1')).toBeUndefined();
  });

  it('reports health', async () => {
    const cache = make();
    const h = await cache.health();
    expect(h).toMatchObject({ status: 'ok', connected: true, circuit: 'CLOSED' });
    expect(h.pingMs).toBeGreaterThanOrEqual(0);
  });

  it('rejects programmer errors with typed codes, synchronously at the call site', async () => {
    const cache = make();
    expect(() => new CacheService({ prefix: '' })).toThrowError(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
    expect(() => new CacheService({ prefix: 'a*b' })).toThrowError(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
    expect(() => new CacheService({ opTimeout: 'soon' })).toThrowError(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
    expect(() => new CacheService({ maxItemSize: -1 })).toThrowError(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
    const embedded = new CacheService({ redis: '', memory: { maxEntries: 10 } });
    expect(embedded.store.kind).toBe('memory');
    await embedded.close();
    expect(() => new CacheService({ store: new MemoryStore(), memory: {} })).toThrowError(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
    expect(() => new CacheService({ breaker: { failureThreshold: 0 } })).toThrowError(expect.objectContaining({ code: 'E_BREAKER_OPTIONS' }));
    await expect(cache.get('')).rejects.toMatchObject({ code: 'E_CACHE_KEY' });
    await expect(cache.set('k', undefined)).rejects.toMatchObject({ code: 'E_CACHE_OPTIONS' });
    expect(await cache.set('k', 1, { ttl: 0 })).toEqual({ ok: false, reason: 'bypass' }); // 0 = do not cache
    expect(() => new CacheService({ defaultTtl: 0 })).toThrowError(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
    await expect(cache.set('k', 1, { tags: [''] })).rejects.toMatchObject({ code: 'E_CACHE_OPTIONS' });
    await expect(cache.getOrSet('k', () => 1, { ttl: -5 })).rejects.toMatchObject({ code: 'E_CACHE_OPTIONS' });
    await expect(cache.invalidate({})).rejects.toMatchObject({ code: 'E_CACHE_OPTIONS' });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    await expect(cache.set('cyc', cyclic)).rejects.toMatchObject({ code: 'E_CACHE_ENCODE' });
    const errors: unknown[] = [];
    cache.on('error', (e) => errors.push(e.error));
    expect(await cache.getOrSet('cyc', () => cyclic)).toBe(cyclic); // the caller still gets its value
    await waitFor(() => errors.length === 1, { timeoutMs: 5000 });
    expect(errors[0]).toMatchObject({ code: 'E_CACHE_ENCODE' });
    await expect(cache.invalidatePattern('')).rejects.toMatchObject({ code: 'E_CACHE_OPTIONS' });
  });
});

describe('CacheService on Redis: raw foreign data', () => {
  it('a foreign value under our key (string or another type) is a miss, never an error, and is replaced by the next write', async () => {
    const cache = new CacheService({ redis: server.url, prefix: uniquePrefix() });
    try {
      await raw.hset(cache.key('h:1'), 'f', 'v'); // MGET answers nil for another type; a plain GET would be WRONGTYPE
      await raw.hset(cache.key('single'), 'f', 'v'); // no namespace → plain GET → WRONGTYPE → corrupt
      await raw.set(cache.key('s:1'), 'written by someone else');
      expect(await cache.get('h:1')).toBeUndefined();
      expect(await cache.get('single')).toBeUndefined();
      expect(await cache.get('s:1')).toBeUndefined();
      expect(cache.stats().corrupt).toBe(2);
      expect(cache.stats().errors).toBe(0);
      expect(cache.breaker.state).toBe('CLOSED');
      await waitFor(async () => (await raw.exists(cache.key('single'), cache.key('s:1'))) === 0, { timeoutMs: 5000 });
      expect(await cache.set('h:1', 'mine')).toEqual({ ok: true });
      expect(await cache.get('h:1')).toBe('mine');
    } finally {
      await cache.close();
    }
  });

  it('gives Redis the physical TTL (logical + grace)', async () => {
    const cache = new CacheService({ redis: server.url, prefix: uniquePrefix() });
    try {
      await cache.set('t:1', 1, { ttl: '10s', grace: '50s' });
      const pttl = await raw.pttl(cache.key('t:1'));
      expect(pttl).toBeGreaterThan(55_000);
      expect(pttl).toBeLessThanOrEqual(60_000);
    } finally {
      await cache.close();
    }
  });
});

describe('CacheService on Redis: barrier cache (barrierCacheMs)', () => {
  const open: CacheService[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  function pair(opts: ConstructorParameters<typeof CacheService>[0] = {}): [CacheService, CacheService, Store & { calls: Record<string, number>; reset(): void }] {
    const prefix = uniquePrefix();
    const counted = countingStore(new RedisStore(server.url));
    const a = new CacheService({ redis: server.url, prefix, opTimeout: 2000, ...opts });
    const b = new CacheService({ store: counted, prefix, opTimeout: 2000, ...opts });
    open.push(a, b);
    open.push({ close: () => counted.close() } as unknown as CacheService);
    return [a, b, counted];
  }

  it('validates the option', () => {
    for (const bad of [-1, Number.NaN, Infinity, '10' as unknown as number]) {
      expect(() => new CacheService({ barrierCacheMs: bad })).toThrowError(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
    }
  });

  it('within the window, reads of a namespace fetch the value with one GET (no barrier MGET)', async () => {
    const [, b, counted] = pair({ barrierCacheMs: 60_000 });
    await b.set('jobs:detail:1', 1);
    await b.set('jobs:detail:2', 2);
    counted.reset();
    expect(await b.get('jobs:detail:1')).toBe(1);
    expect(await b.get('jobs:detail:2')).toBe(2);
    expect(await b.get('jobs:detail:1')).toBe(1);
    expect(counted.calls.mget).toBe(1);
    expect(counted.calls.get).toBe(2);
  });

  it("this instance's own namespace and tag invalidations apply at once, even right after a cached read", async () => {
    const [, b] = pair({ barrierCacheMs: 60_000 });
    await b.set('jobs:detail:1', 1);
    await b.set('users:get:1', 'u', { tags: ['acct:1'] });
    expect(await b.get('jobs:detail:1')).toBe(1);
    expect(await b.get('users:get:1')).toBe('u');
    await b.invalidateNamespace('jobs');
    await b.invalidateTag('acct:1');
    expect(await b.get('jobs:detail:1')).toBeUndefined();
    expect(await b.get('users:get:1')).toBeUndefined();
  });

  it("another instance's invalidation is seen after refreshBarriers(), or once the window has passed", async () => {
    const [a, b] = pair({ barrierCacheMs: 60_000 });
    await a.set('jobs:detail:1', 1);
    await a.set('users:get:1', 'u', { tags: ['acct:1'] });
    expect(await b.get('jobs:detail:1')).toBe(1);
    expect(await b.get('users:get:1')).toBe('u');
    await a.invalidateNamespace('jobs', 'detail');
    await a.invalidateTag('acct:1');
    // the documented window: b still trusts the barrier values it read a moment ago
    expect(await b.get('jobs:detail:1')).toBe(1);
    expect(await b.get('users:get:1')).toBe('u');
    b.refreshBarriers();
    expect(await b.get('jobs:detail:1')).toBeUndefined();
    expect(await b.get('users:get:1')).toBeUndefined();

    // default window (10 ms): visible within a short, bounded time without any notification
    const [c, d] = pair();
    await c.set('jobs:detail:2', 2);
    expect(await d.get('jobs:detail:2')).toBe(2);
    await c.invalidateNamespace('jobs');
    await waitFor(async () => (await d.get('jobs:detail:2')) === undefined, { timeoutMs: 5_000, intervalMs: 5 });
  });

  it('barrierCacheMs: 0 checks the barriers on every read (another instance is seen at once)', async () => {
    const [a, b, counted] = pair({ barrierCacheMs: 0 });
    await a.set('jobs:detail:1', 1);
    expect(await b.get('jobs:detail:1')).toBe(1);
    await a.invalidateNamespace('jobs');
    expect(await b.get('jobs:detail:1')).toBeUndefined();
    expect(counted.calls.get ?? 0).toBe(0);
  });

  it('a barrier fetch that overlaps a local invalidation is not cached', async () => {
    const prefix = uniquePrefix();
    const inner = new RedisStore(server.url);
    let hold: Promise<void> | undefined;
    const store = new Proxy(inner, {
      get(t, p, r) {
        if (p === 'mget') {
          return async (keys: readonly string[]) => {
            const v = await t.mget(keys);
            if (hold) await hold;
            return v;
          };
        }
        const v = Reflect.get(t, p, r) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    const cache = new CacheService({ store, prefix, opTimeout: 5000, barrierCacheMs: 60_000 });
    try {
      await cache.set('jobs:detail:1', 1);
      const gate = deferred();
      hold = gate.promise;
      const pending = cache.get('jobs:detail:1'); // reads "no barrier", delivered late
      await new Promise((r) => setTimeout(r, 30));
      hold = undefined;
      await cache.invalidateNamespace('jobs');
      gate.resolve();
      expect(await pending).toBe(1); // issued before the invalidation
      expect(await cache.get('jobs:detail:1')).toBeUndefined();
    } finally {
      await cache.close();
      await inner.close();
    }
  });
});
