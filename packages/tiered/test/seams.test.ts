import { CacheService } from '@stratacache/core';
import { startStandalone, waitFor } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TieredCache } from '../src/index';
import type { TieredEvent } from '../src/index';
import { chaosInstance } from './chaos';
import type { ChaosInstance } from './chaos';
import { sleep, uniquePrefix } from './helpers';

let redis: Awaited<ReturnType<typeof startStandalone>>;
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

async function pair(name: string): Promise<[ChaosInstance, ChaosInstance]> {
  const prefix = uniquePrefix(name);
  return [await chaosInstance(redis.port, prefix), await chaosInstance(redis.port, prefix)];
}

const gone = (i: ChaosInstance, key: string) => waitFor(() => !i.tiered.hasInL1(key), { timeoutMs: 5_000, message: `${key} still in L1` });

describe('one key identity (short and full key forms are one entry everywhere)', () => {
  it('a set/delete through one form reaches the L1 copy another instance holds under the other form', async () => {
    const [a, b] = await pair('ident');
    try {
      const short = 'user:get:1';
      const full = a.l2.key(short);
      expect(full).toBe(`${a.l2.prefix}:user:get:1`);
      await a.tiered.set(short, 'v1');
      expect(await b.tiered.get(full)).toBe('v1');
      expect(b.tiered.hasInL1(short)).toBe(true); // one L1 entry for both forms
      await a.tiered.set(full, 'v2');
      await waitFor(async () => (await b.tiered.get(short)) === 'v2', { timeoutMs: 5_000, message: 'B still serves v1' });
      await a.tiered.delete(short);
      await gone(b, full);
      expect(await b.tiered.get(full)).toBeUndefined();
      expect(await b.tiered.get(short)).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('concurrent getOrSet through both forms share one factory call', async () => {
    const [a, b] = await pair('ident2');
    try {
      let calls = 0;
      const f = async () => {
        calls++;
        await sleep(50);
        return 'x';
      };
      const full = a.l2.key('job:get:7');
      const rs = await Promise.all([a.tiered.getOrSet('job:get:7', f), a.tiered.getOrSet(full, f)]);
      expect(rs).toEqual(['x', 'x']);
      expect(calls).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('one namespace function (names that need escaping)', () => {
  for (const name of ['a:b', 'a*b', 'team{1}']) {
    it(`invalidateNamespace(${JSON.stringify(name)}) drops L1 on both instances and hides L2; other namespaces stay`, async () => {
      const [a, b] = await pair('ns');
      try {
        const k = a.l2.keys.build(name, 'get', 1);
        const k2 = a.l2.keys.build(name, 'list', 1);
        const other = a.l2.keys.build('other', 'get', 1);
        for (const i of [a, b]) {
          expect(await i.tiered.getOrSet(k, () => 'v')).toBe('v');
          expect(await i.tiered.getOrSet(k2, () => 'w')).toBe('w');
          expect(await i.tiered.getOrSet(other, () => 'o')).toBe('o');
        }
        expect(b.tiered.hasInL1(k)).toBe(true);
        const r = await a.tiered.invalidateNamespace(name, 'get');
        expect(r).toMatchObject({ ok: true, barriers: 1 });
        expect(a.tiered.hasInL1(k)).toBe(false);
        expect(a.tiered.hasInL1(k2)).toBe(true);
        await gone(b, k);
        expect(b.tiered.hasInL1(k2)).toBe(true);
        expect(await b.tiered.get(k)).toBeUndefined();
        await a.tiered.invalidateNamespace(name);
        await gone(b, k2);
        expect(a.tiered.hasInL1(k2)).toBe(false);
        expect(await a.tiered.get(k2)).toBeUndefined();
        expect(b.tiered.hasInL1(other)).toBe(true);
        expect(await b.tiered.get(other)).toBe('o');
      } finally {
        await a.close();
        await b.close();
      }
    });
  }

  it('the KeyBuilder namespace matcher and the barrier agree (embedded store)', async () => {
    const l2 = new CacheService({ prefix: 'emb' });
    const t = new TieredCache(l2, { bus: false });
    try {
      for (const name of ['a:b', 'a*b', 'team{1}']) {
        const k = l2.keys.build(name, 'get', 1);
        await t.set(k, 1);
        expect(l2.keys.namespaceKey(name).matches(k)).toBe(true);
        expect(l2.keys.namespaceKey(name, 'get').matches(k)).toBe(true);
        expect(l2.keys.namespaceKey('a').matches(k)).toBe(false);
        await t.invalidateNamespace(name);
        expect(t.hasInL1(k)).toBe(false);
        expect(await l2.get(k)).toBeUndefined();
      }
    } finally {
      await t.close();
      await l2.close();
    }
  });
});

describe('invalidation is never lost silently', () => {
  it('a failed L2 delete still drops L1 everywhere, reports ok:false, and is retried until it lands', async () => {
    const [a, b] = await pair('inv');
    try {
      const key = 'user:get:9';
      const full = a.l2.key(key);
      await a.tiered.set(key, 'old');
      expect(await b.tiered.get(key)).toBe('old');
      const events: TieredEvent[] = [];
      a.tiered.on('*', (e) => events.push(e));
      a.fail.add('del');
      const r = await a.tiered.delete(key);
      expect(r).toMatchObject({ ok: false, deleted: 0 });
      expect(r.reason).toBeDefined();
      expect(a.tiered.hasInL1(key)).toBe(false);
      await gone(b, key);
      expect(events.some((e) => e.type === 'error')).toBe(true);
      expect(events.some((e) => e.type === 'invalidate' && e.ok === false)).toBe(true);
      expect(await a.client.exists(full)).toBe(1); // not deleted yet
      a.fail.delete('del');
      await waitFor(async () => (await a.client.exists(full)) === 0, { timeoutMs: 5_000, message: 'the delete was not retried' });
      expect(await b.tiered.get(key)).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a failed tag barrier is retried in the background; the tagged value is never served after it lands', async () => {
    const [a, b] = await pair('inv2');
    try {
      await a.tiered.set('job:get:1', 'old', { tags: ['t1'] });
      expect(await b.tiered.get('job:get:1')).toBe('old');
      a.fail.add('mset');
      const r = await a.tiered.invalidateTag('t1');
      expect(r).toMatchObject({ ok: false, barriers: 0 });
      await gone(b, 'job:get:1');
      a.fail.delete('mset');
      await waitFor(async () => (await a.client.exists(`${a.l2.prefix}:__tag:t1`)) === 1, { timeoutMs: 5_000, message: 'barrier never written' });
      expect(await b.tiered.get('job:get:1')).toBeUndefined();
      expect(await a.tiered.get('job:get:1')).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('core delete() says when the store could not be reached; del() keeps resolving a number', async () => {
    const r2 = await startStandalone();
    const l2 = new CacheService({ redis: `redis://127.0.0.1:${r2.port}`, opTimeout: 200, prefix: uniquePrefix('down') });
    try {
      await l2.set('k:v:1', 1);
      expect(await l2.delete('k:v:1')).toMatchObject({ ok: true, deleted: 1 });
      await r2.kill();
      const res = await l2.delete('k:v:1');
      expect(res.ok).toBe(false);
      expect(['timeout', 'error', 'unavailable']).toContain(res.reason);
      expect(await l2.del('k:v:1')).toBe(0);
    } finally {
      await l2.close();
      await r2.close();
    }
  });
});
