import { CacheService, MemoryStore } from '@stratacache/core';
import { afterEach, describe, expect, it } from 'vitest';
import { TieredCache } from '../src/index';
import type { TieredCacheOptions, TieredEvent } from '../src/index';
import { sleep } from './helpers';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

function make(opts?: TieredCacheOptions, store = new MemoryStore()) {
  const l2 = new CacheService({ store, prefix: 'l1t' });
  const t = new TieredCache(l2, opts);
  open.push({ close: async () => { await t.close(); await l2.close(); } });
  return { t, l2, store };
}

describe('L1 over L2', () => {
  it('counts origin, L1 and L2 hits; an L2 hit fills L1', async () => {
    const store = new MemoryStore();
    const a = make(undefined, store);
    const b = make(undefined, store);
    let calls = 0;
    const f = async () => ({ n: ++calls });
    expect(await a.t.getOrSet('user:get:1', f)).toEqual({ n: 1 });
    expect(await a.t.getOrSet('user:get:1', f)).toEqual({ n: 1 });
    expect(a.t.stats()).toMatchObject({ misses: 1, l1Hits: 1, l2Hits: 0, factoryCalls: 1 });
    expect(await b.t.getOrSet('user:get:1', f)).toEqual({ n: 1 });
    expect(b.t.hasInL1('user:get:1')).toBe(true);
    expect(await b.t.get('user:get:1')).toEqual({ n: 1 });
    expect(b.t.stats()).toMatchObject({ misses: 0, l1Hits: 1, l2Hits: 1 });
    expect(b.t.stats().hitRate).toBe(1);
    expect(calls).toBe(1);
    expect(await a.t.get('nope')).toBeUndefined();
    expect(a.t.stats().misses).toBe(2);
  });

  it('the L1 hit path is synchronous: getL1 answers without awaiting and getOrSet resolves on the next microtask', async () => {
    const { t } = make();
    await t.set('k', 42);
    expect(t.getL1('k')).toBe(42);
    let got: number | undefined;
    void t.getOrSet('k', () => 0).then((v) => (got = v));
    await Promise.resolve();
    expect(got).toBe(42);
  });

  it('is bounded by entry count', async () => {
    const { t } = make({ l1: { maxEntries: 3 } });
    for (let i = 0; i < 10; i++) await t.set(`k${i}`, i);
    expect(t.stats().l1.size).toBe(3);
    expect(t.stats().l1.evictions).toBe(7);
    expect(await t.get('k0')).toBe(0); // still in L2
  });

  it('is bounded by bytes (estimated size, or sizeOf)', async () => {
    const { t } = make({ l1: { maxBytes: 2_000 } });
    for (let i = 0; i < 10; i++) await t.set(`s${i}`, 'x'.repeat(400)); // ~816 bytes each
    expect(t.stats().l1.size).toBe(2);
    expect(t.stats().l1.bytes).toBeLessThanOrEqual(2_000);
    const c = make({ l1: { maxBytes: 100, sizeOf: () => 30 } });
    for (let i = 0; i < 10; i++) await c.t.set(`s${i}`, i);
    expect(c.t.stats().l1.size).toBe(3);
    expect(c.t.stats().l1.bytes).toBe(90);
  });

  it('LRU evicts the least recently read, FIFO the oldest written', async () => {
    const lru = make({ l1: { maxEntries: 3, policy: 'lru' } }).t;
    const fifo = make({ l1: { maxEntries: 3, policy: 'fifo' } }).t;
    for (const t of [lru, fifo]) {
      await t.set('a', 1);
      await t.set('b', 2);
      await t.set('c', 3);
      expect(t.getL1('a')).toBe(1); // read a
      await t.set('d', 4);
    }
    expect([...['a', 'b', 'c', 'd'].filter((k) => lru.hasInL1(k))]).toEqual(['a', 'c', 'd']);
    expect([...['a', 'b', 'c', 'd'].filter((k) => fifo.hasInL1(k))]).toEqual(['b', 'c', 'd']);
  });

  it('LFU admission keeps frequently read keys over a one-off newcomer', async () => {
    const { t } = make({ l1: { maxEntries: 3, policy: 'lfu' } });
    for (const k of ['a', 'b', 'c']) await t.set(k, k);
    for (let i = 0; i < 5; i++) for (const k of ['a', 'b', 'c']) t.getL1(k);
    await t.set('cold', 1);
    expect(t.hasInL1('cold')).toBe(false);
    expect(['a', 'b', 'c'].every((k) => t.hasInL1(k))).toBe(true);
    expect(t.stats().l1.rejected).toBe(1);
    expect(await t.get('cold')).toBe(1); // still in L2
  });

  it('an L1 copy is never fresh longer than the L2 TTL, and L1 ttl bounds it too', async () => {
    const { t } = make({ l1: { ttl: 5_000 } });
    await t.set('short', 1, { ttl: 80 });
    expect(t.getL1('short')).toBe(1);
    await sleep(120);
    expect(t.getL1('short')).toBeUndefined();
    expect(await t.get('short')).toBeUndefined();

    const s = make({ l1: { ttl: 60 } });
    await s.t.set('long', 2, { ttl: 10_000 });
    await sleep(100);
    expect(s.t.getL1('long')).toBeUndefined();
    expect(await s.t.get('long')).toBe(2);
    expect(s.t.stats().l2Hits).toBe(1);
  });

  it('shares values by reference by default; clone: true isolates; freeze: true freezes', async () => {
    const ref = make().t;
    const v = { list: [1] };
    await ref.set('r', v);
    expect(await ref.get('r')).toBe(v);

    const cl = make({ l1: { clone: true } }).t;
    const w = { list: [1] };
    await cl.set('c', w);
    w.list.push(2);
    const got = (await cl.get<{ list: number[] }>('c'))!;
    expect(got.list).toEqual([1]);
    got.list.push(3);
    expect((await cl.get<{ list: number[] }>('c'))!.list).toEqual([1]);

    const fr = make({ l1: { freeze: true } }).t;
    await fr.set('f', { a: { b: 1 } });
    const fv = (await fr.get<{ a: { b: number } }>('f'))!;
    expect(Object.isFrozen(fv.a)).toBe(true);
    expect(() => {
      (fv.a as { b: number }).b = 2;
    }).toThrow(TypeError); // test files are ES modules: strict mode

    // Map / Set / Date: mutating methods throw, and what they hold is frozen too
    const inner = { n: 1 };
    await fr.set('m', { map: new Map([['k', inner]]), set: new Set([{ s: 1 }]), at: new Date(0) });
    const mv = (await fr.get<{ map: Map<string, { n: number }>; set: Set<{ s: number }>; at: Date }>('m'))!;
    expect(() => mv.map.set('x', { n: 2 })).toThrow(/frozen/);
    expect(() => mv.map.delete('k')).toThrow(/frozen/);
    expect(() => mv.map.clear()).toThrow(/frozen/);
    expect(() => mv.set.add({ s: 2 })).toThrow(/frozen/);
    expect(() => mv.at.setFullYear(2000)).toThrow(/frozen/);
    expect(Object.isFrozen(mv.map.get('k'))).toBe(true);
    expect(Object.isFrozen([...mv.set][0])).toBe(true);
    expect(mv.map.get('k')).toBe(inner); // reads work as usual
    expect(mv.at.getTime()).toBe(0);
  });

  it('l1: false sends every read to L2', async () => {
    const { t } = make({ l1: false });
    await t.set('k', 1);
    expect(await t.get('k')).toBe(1);
    expect(await t.getOrSet('k', () => 2)).toBe(1);
    expect(t.stats()).toMatchObject({ l1Hits: 0, l2Hits: 2 });
  });

  it('useCache: false calls the factory and caches nothing', async () => {
    const { t } = make();
    expect(await t.getOrSet('u', () => 1, { useCache: false })).toBe(1);
    expect(await t.get('u')).toBeUndefined();
  });

  it('emits events with source l1 / l2 / origin', async () => {
    const store = new MemoryStore();
    const a = make(undefined, store).t;
    const b = make(undefined, store).t;
    const seen: TieredEvent[] = [];
    a.on('*', (e) => seen.push(e));
    b.on('hit', (e) => seen.push(e));
    await a.getOrSet('e', () => 1);
    await a.getOrSet('e', () => 1);
    await b.getOrSet('e', () => 1);
    expect(seen.filter((e) => e.type === 'origin').map((e) => e.source)).toEqual(['origin']);
    expect(seen.filter((e) => e.type === 'hit').map((e) => e.source)).toEqual(['l1', 'l2']);
    await a.getOrSet('user:get:7', () => 1);
    expect(seen.find((e) => e.type === 'origin' && e.key === 'l1t:user:get:7')).toMatchObject({ entity: 'user', operation: 'get', namespace: 'user:get' });
  });

  it('the bus also works on the embedded MemoryStore (instances sharing one store)', async () => {
    const store = new MemoryStore();
    const a = make(undefined, store).t;
    const b = make({ onRemoteSet: 'drop' }, store).t;
    await a.ready();
    await b.ready();
    await a.set('m', 1, { tags: ['x'] });
    expect(await b.get('m')).toBe(1);
    await a.set('m', 2, { tags: ['x'] });
    for (let i = 0; i < 50 && b.hasInL1('m'); i++) await sleep(5);
    expect(b.hasInL1('m')).toBe(false); // onRemoteSet: 'drop'
    expect(await b.get('m')).toBe(2);
    await a.invalidateTag('x');
    for (let i = 0; i < 50 && b.hasInL1('m'); i++) await sleep(5);
    expect(b.hasInL1('m')).toBe(false);
    expect(b.stats().bus).toMatchObject({ connected: true });
    expect(b.stats().bus!.received).toBeGreaterThanOrEqual(2);
  });

  it('validates options and arguments with typed errors', async () => {
    const l2 = new CacheService({ store: new MemoryStore() });
    const bad: unknown[] = [
      { l1: { maxEntries: 0 } },
      { l1: { policy: 'random' } },
      { l1: { ttl: 'soon' } },
      { grace: -1 },
      { refreshAhead: 1.5 },
      { softTimeout: 500, hardTimeout: 100 },
      { busDownL1Ttl: 'x' },
      { bogus: true },
      { instanceId: 'short' },
      { ttl: 0 },
    ];
    for (const o of bad) {
      expect(() => new TieredCache(l2, o as TieredCacheOptions), JSON.stringify(o)).toThrow(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
    }
    expect(() => new TieredCache({} as never)).toThrow(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
    const t = new TieredCache(l2, { ttl: '5m', grace: '1h', softTimeout: '50ms', hardTimeout: '2s' });
    expect(await t.set('k', 1, { ttl: 0 })).toEqual({ ok: false, reason: 'bypass' }); // 0 = do not cache
    await expect(t.set('k', undefined)).rejects.toMatchObject({ code: 'E_CACHE_OPTIONS' });
    expect(await t.getOrSet('k', () => 1, { ttl: 0 })).toBe(1); // served, not cached
    await expect(t.getOrSet('k', () => 1, { ttl: -1 })).rejects.toMatchObject({ code: 'E_CACHE_OPTIONS' });
    await expect(t.getOrSet('k', () => 1, { hardTimeout: 'later' })).rejects.toMatchObject({ code: 'E_CACHE_OPTIONS' });
    await t.close();
  });

  it('rejects after close with E_TIERED_CLOSED', async () => {
    const { t } = make();
    await t.close();
    await expect(t.getOrSet('k', () => 1)).rejects.toMatchObject({ code: 'E_TIERED_CLOSED' });
  });
});
