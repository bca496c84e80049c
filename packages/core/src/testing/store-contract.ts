import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store';

export interface StoreContractOptions {
  /** Called once after the suite with the store the factory returned (default: `store.close()`). */
  teardown?: (store: Store) => Promise<void> | void;
  /** Upper bound for polling TTL expiry and pub/sub delivery (ms). Default 5000. */
  timeoutMs?: number;
}

async function eventually(fn: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let seq = 0;

/**
 * The contract every {@link Store} must pass (vitest). Keys are namespaced per test, so the suite can
 * run against a shared server. Usage: `runStoreContract('MyStore', () => new MyStore(...))`.
 */
export function runStoreContract(name: string, factory: () => Store | Promise<Store>, opts: StoreContractOptions = {}): void {
  const timeoutMs = opts.timeoutMs ?? 5000;
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    const ns = () => `contract:${process.pid}:${Date.now().toString(36)}:${++seq}:`;
    const exists = async (key: string) => (await store.get(key)) !== undefined;

    beforeAll(async () => {
      store = await factory();
    });
    afterAll(async () => {
      if (!store) return;
      if (opts.teardown) await opts.teardown(store);
      else await store.close();
    });

    it('has a kind, is ready and answers ping with a latency', async () => {
      expect(typeof store.kind).toBe('string');
      await eventually(() => store.isReady(), timeoutMs, 'ready');
      const ms = await store.ping();
      expect(typeof ms).toBe('number');
      expect(ms).toBeGreaterThanOrEqual(0);
    });

    it('onConnectionChange (optional) returns an idempotent unsubscribe and reports nothing while nothing changes', async () => {
      if (typeof store.onConnectionChange !== 'function') return;
      await eventually(() => store.isReady(), timeoutMs, 'ready');
      const seen: unknown[] = [];
      const off = store.onConnectionChange((c) => seen.push(c));
      expect(typeof off).toBe('function');
      await store.set('contract:conn', Buffer.from('x'));
      expect((await store.get('contract:conn'))?.toString()).toBe('x');
      expect(seen).toEqual([]);
      off();
      off();
    });

    it('get of a missing key is undefined', async () => {
      expect(await store.get(`${ns()}missing`)).toBeUndefined();
    });

    it('round-trips arbitrary bytes, including empty and binary values', async () => {
      const p = ns();
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await store.set(`${p}bin`, all);
      await store.set(`${p}empty`, Buffer.alloc(0));
      await store.set(`${p}utf8`, Buffer.from('héllo ✓ 𝄞'));
      expect((await store.get(`${p}bin`))?.equals(all)).toBe(true);
      expect((await store.get(`${p}empty`))?.length).toBe(0);
      expect((await store.get(`${p}utf8`))?.toString()).toBe('héllo ✓ 𝄞');
    });

    it('overwrites and copies the value (later mutation of the caller buffer does not leak)', async () => {
      const p = ns();
      const b = Buffer.from('one');
      await store.set(`${p}k`, b);
      b.write('XXX');
      expect((await store.get(`${p}k`))?.toString()).toBe('one');
      await store.set(`${p}k`, Buffer.from('two'));
      expect((await store.get(`${p}k`))?.toString()).toBe('two');
    });

    it('expires keys after ttlMs and keeps them before', async () => {
      const p = ns();
      await store.set(`${p}short`, Buffer.from('x'), 150);
      await store.set(`${p}long`, Buffer.from('y'), 60_000);
      expect(await exists(`${p}long`)).toBe(true);
      await eventually(async () => (await store.get(`${p}short`)) === undefined, timeoutMs, 'TTL expiry');
      expect(await exists(`${p}short`)).toBe(false);
      expect((await store.get(`${p}long`))?.toString()).toBe('y');
    });

    it('mget returns one result per key in order, across many keys (and Cluster slots)', async () => {
      const p = ns();
      const keys = Array.from({ length: 50 }, (_, i) => `${p}m${i}`);
      await Promise.all(keys.filter((_, i) => i % 3 !== 0).map((k) => store.set(k, Buffer.from(k))));
      const out = await store.mget(keys);
      expect(out).toHaveLength(keys.length);
      out.forEach((v, i) => {
        if (i % 3 === 0) expect(v).toBeUndefined();
        else expect(v?.toString()).toBe(keys[i]);
      });
      expect(await store.mget([])).toEqual([]);
    });

    it('mset writes many entries with and without TTL', async () => {
      const p = ns();
      await store.mset([
        { key: `${p}a`, value: Buffer.from('A') },
        { key: `${p}b`, value: Buffer.from('B'), ttlMs: 1000 },
        { key: `${p}c`, value: Buffer.from('C'), ttlMs: 60_000 },
      ]);
      expect((await store.mget([`${p}a`, `${p}b`, `${p}c`])).map((v) => v?.toString())).toEqual(['A', 'B', 'C']);
      await eventually(async () => !(await exists(`${p}b`)), timeoutMs, 'mset TTL expiry');
      expect(await exists(`${p}a`)).toBe(true);
    });

    it('del returns how many keys existed', async () => {
      const p = ns();
      await store.mset([1, 2, 3].map((i) => ({ key: `${p}${i}`, value: Buffer.from('v') })));
      expect(await store.del(`${p}1`)).toBe(1);
      expect(await store.del(`${p}1`)).toBe(0);
      expect(await store.del([`${p}2`, `${p}3`, `${p}nope`])).toBe(2);
      expect(await store.del([])).toBe(0);
      expect(await exists(`${p}2`)).toBe(false);
    });

    it('deleteMatching follows Redis glob semantics and only touches matching keys', async () => {
      const p = ns();
      const keys = [
        'jobs:list:1', 'jobs:list:2', 'jobs:list:x:y', 'jobs:detail:1', 'jobs:lists',
        'a?b', 'axb', 'star*key', 'starXkey', 'br[a]ck', 'cat', 'cut', 'cot', 'c-t',
      ];
      await store.mset(keys.map((k) => ({ key: p + k, value: Buffer.from(k) })));
      const ep = p.replace(/[*?[\]\\]/g, '\\$&');
      const remaining = async () => {
        const vals = await store.mget(keys.map((k) => p + k));
        return keys.filter((_, i) => vals[i] !== undefined);
      };
      expect(await store.deleteMatching(`${ep}jobs:list:*`)).toBe(3);
      expect(await remaining()).not.toContain('jobs:list:1');
      expect(await remaining()).toContain('jobs:lists');
      expect(await store.deleteMatching(`${ep}a\\?b`)).toBe(1); // escaped ? is literal
      expect(await remaining()).toContain('axb');
      expect(await store.deleteMatching(`${ep}star\\*key`)).toBe(1);
      expect(await remaining()).toContain('starXkey');
      expect(await store.deleteMatching(`${ep}br\\[a\\]ck`)).toBe(1);
      expect(await store.deleteMatching(`${ep}c[ao]t`)).toBe(2);
      expect(await remaining()).toContain('cut');
      expect(await store.deleteMatching(`${ep}c[^u]t`)).toBe(1); // c-t
      expect(await store.deleteMatching(`${ep}c?t`)).toBe(1); // cut
      expect(await store.deleteMatching(`${ep}nothing*`)).toBe(0);
      expect((await remaining()).sort()).toEqual(['axb', 'jobs:detail:1', 'jobs:lists', 'starXkey']);
    });

    it('deleteMatching handles thousands of keys (several SCAN pages)', async () => {
      const p = ns();
      const n = 2500;
      for (let i = 0; i < n; i += 500) {
        await store.mset(Array.from({ length: 500 }, (_, j) => ({ key: `${p}bulk:${i + j}`, value: Buffer.from('v'), ttlMs: 120_000 })));
      }
      await store.set(`${p}keep`, Buffer.from('k'));
      expect(await store.deleteMatching(`${p.replace(/[*?[\]\\]/g, '\\$&')}bulk:*`)).toBe(n);
      expect(await exists(`${p}keep`)).toBe(true);
      expect(await exists(`${p}bulk:7`)).toBe(false);
    });

    it('publishes to subscribers (Buffer and string messages) until they unsubscribe', async () => {
      const ch = `${ns()}chan`;
      const got: string[] = [];
      const got2: string[] = [];
      const unsub = await store.subscribe(ch, (m, c) => {
        expect(Buffer.isBuffer(m)).toBe(true);
        expect(c).toBe(ch);
        got.push(m.toString());
      });
      const unsub2 = await store.subscribe(ch, (m) => got2.push(m.toString()));
      await store.publish(ch, 'hello');
      await store.publish(ch, Buffer.from('bytes'));
      await eventually(() => got.length === 2 && got2.length === 2, timeoutMs, 'pub/sub delivery');
      // order is not part of the contract: on a Cluster two PUBLISHes may enter through different nodes
      expect([...got].sort()).toEqual(['bytes', 'hello']);
      await unsub();
      await store.publish(ch, 'after');
      await eventually(() => got2.length === 3, timeoutMs, 'delivery to the remaining subscriber');
      expect(got).toHaveLength(2);
      await unsub2();
      await unsub2(); // idempotent
    });
  });
}
