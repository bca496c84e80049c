// Issue 13: the fused miss's writes of one tick coalesced into one WRITE_AND_RELEASE_MANY call (and
// one merged bus message), on a real redis-server from the harness. Never mocked.
import { startStandalone, waitFor, type StandaloneRedis } from '@stratacache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CacheService, RedisStore, lockKeyFor } from '../src/index';
import type { LockClaim, StorePublish } from '../src/index';
import { MAX_WRITE_BATCH, READ_CHUNK, WRITE_AND_RELEASE_LUA, WRITE_AND_RELEASE_MANY_LUA } from '../src/fused-lock';

let server: StandaloneRedis;
let raw: Redis;
beforeAll(async () => {
  server = await startStandalone();
  raw = new Redis(server.url);
}, 60_000);
afterAll(async () => {
  raw?.disconnect();
  await server?.close();
});

async function commandStats(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of (await raw.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1] as string] = Number(m[2]);
  return out;
}

/** Call-count deltas of the commands run between `before` and now. */
async function since(before: Record<string, number>): Promise<(cmd: string) => number> {
  const after = await commandStats();
  return (cmd) => (after[cmd] ?? 0) - (before[cmd] ?? 0);
}

/** The write scripts known to the server (so a batch is one EVALSHA, no NOSCRIPT + EVAL). */
async function loadScripts(): Promise<void> {
  await raw.script('LOAD', WRITE_AND_RELEASE_LUA);
  await raw.script('LOAD', WRITE_AND_RELEASE_MANY_LUA);
}

/** A raw subscriber collecting the messages of `channels`, per channel, in arrival order. */
async function subscriber(...channels: string[]): Promise<{ got: Map<string, string[]>; close(): void }> {
  const sub = new Redis(server.url);
  const got = new Map<string, string[]>(channels.map((c) => [c, []]));
  sub.on('message', (c: string, m: string) => got.get(c)?.push(m));
  await sub.subscribe(...channels);
  return { got, close: () => sub.disconnect() };
}

let seq = 0;
/** A unique key family per test: `n` entry keys, their lock keys taken with SET NX PX, one token each. */
async function locked(n: number, ttlMs = 10_000): Promise<{ keys: string[]; claims: LockClaim[] }> {
  const base = `wb${++seq}`;
  const keys = Array.from({ length: n }, (_, i) => `${base}:k${i}`);
  const claims = keys.map((k, i): LockClaim => ({ key: `${k}:lock`, token: `${base}-tok${i}`, ttlMs }));
  const p = raw.pipeline();
  for (const c of claims) p.set(c.key, c.token, 'PX', ttlMs, 'NX');
  for (const [err, r] of (await p.exec()) ?? []) {
    expect(err).toBeNull();
    expect(r).toBe('OK');
  }
  return { keys, claims };
}

describe('RedisStore.writeAndRelease batching (single server)', () => {
  let store: RedisStore;
  beforeAll(async () => {
    store = new RedisStore(server.url);
    await store.ping();
  });
  afterAll(async () => {
    await store.close();
  });
  beforeEach(async () => {
    await loadScripts();
  });

  it('50 writes of one tick: one EVALSHA, every value stored with its TTL, every lock released, one merged message', async () => {
    const { keys, claims } = await locked(50);
    const ch = `wb-ch${seq}`;
    const sub = await subscriber(ch);
    try {
      const merge = { head: 'H|', sep: ',' };
      const before = await commandStats();
      const res = await Promise.all(keys.map((k, i) => store.writeAndRelease(k, Buffer.from(`v${i}`), 30_000, claims[i] as LockClaim, { channel: ch, message: `H|p${i}`, merge })));
      expect(res).toEqual(keys.map(() => true));
      const d = await since(before);
      expect(d('evalsha')).toBe(1);
      expect(d('eval')).toBe(0);
      expect(d('set')).toBe(50); // inside the script
      expect(d('del')).toBe(50);
      expect(d('publish')).toBe(1);
      const p = raw.pipeline();
      for (const k of keys) p.getBuffer(k).pttl(k);
      for (const c of claims) p.exists(c.key);
      const r = ((await p.exec()) ?? []).map(([, v]) => v);
      keys.forEach((_, i) => {
        expect((r[2 * i] as Buffer).toString()).toBe(`v${i}`);
        expect(r[2 * i + 1] as number).toBeGreaterThan(25_000);
        expect(r[2 * i + 1] as number).toBeLessThanOrEqual(30_000);
        expect(r[2 * keys.length + i]).toBe(0);
      });
      await waitFor(() => (sub.got.get(ch) as string[]).length > 0, { timeoutMs: 2_000 });
      await store.ping(); // anything else published would have arrived by now on the subscriber's connection too
      await raw.publish(ch, 'end');
      await waitFor(() => (sub.got.get(ch) as string[]).includes('end'), { timeoutMs: 2_000 });
      expect(sub.got.get(ch)).toEqual([`H|${keys.map((_, i) => `p${i}`).join(',')}`, 'end']);
    } finally {
      sub.close();
    }
  });

  it('a token that no longer owns its lock: the value is written, the lock kept, that caller gets false', async () => {
    const { keys, claims } = await locked(10);
    await raw.set((claims[3] as LockClaim).key, 'someone-else', 'PX', 10_000);
    const res = await Promise.all(keys.map((k, i) => store.writeAndRelease(k, Buffer.from(`v${i}`), 30_000, claims[i] as LockClaim)));
    expect(res).toEqual(keys.map((_, i) => i !== 3));
    expect(await raw.mget(...keys)).toEqual(keys.map((_, i) => `v${i}`));
    expect(await raw.get((claims[3] as LockClaim).key)).toBe('someone-else');
    expect(await raw.exists(...claims.map((c) => c.key))).toBe(1);
    // no value (`undefined`): nothing written, the lock still released
    const two = await locked(2);
    const r2 = await Promise.all(two.keys.map((k, i) => store.writeAndRelease(k, undefined, 1, two.claims[i] as LockClaim)));
    expect(r2).toEqual([true, true]);
    expect(await raw.exists(...two.keys, ...two.claims.map((c) => c.key))).toBe(0);
  });

  it('publishes without merge, with another head, channel or separator, or not starting with the head go out separately', async () => {
    const { keys, claims } = await locked(13);
    const [c1, c2] = [`wb-a${seq}`, `wb-b${seq}`];
    const sub = await subscriber(c1, c2);
    try {
      const A = { head: 'A:', sep: '|' };
      const pubs: StorePublish[] = [
        { channel: c1, message: 'A:1', merge: A },
        { channel: c1, message: 'B:1', merge: { head: 'B:', sep: '|' } },
        { channel: c1, message: 'A:2', merge: A },
        { channel: c1, message: 'plain-1' },
        { channel: c2, message: 'A:3', merge: A },
        { channel: c1, message: 'B:2', merge: { head: 'B:', sep: '|' } },
        { channel: c1, message: 'plain-2' },
        { channel: c2, message: 'A:4', merge: A },
        { channel: c1, message: 'A:5', merge: { head: 'A:', sep: '/' } },
        { channel: c1, message: 'X:6', merge: A }, // does not start with its head
        { channel: c1, message: 'A:7', merge: A },
      ];
      const before = await commandStats();
      const res = await Promise.all(keys.map((k, i) => store.writeAndRelease(k, Buffer.from('v'), 30_000, claims[i] as LockClaim, pubs[i])));
      expect(res.every((r) => r)).toBe(true);
      const d = await since(before);
      expect(d('evalsha')).toBe(1);
      expect(d('publish')).toBe(7);
      await waitFor(() => (sub.got.get(c1) as string[]).length + (sub.got.get(c2) as string[]).length >= 7, { timeoutMs: 2_000 });
      expect([...(sub.got.get(c1) as string[])].sort()).toEqual(['A:1|2|7', 'A:5', 'B:1|2', 'X:6', 'plain-1', 'plain-2'].sort());
      expect(sub.got.get(c2)).toEqual(['A:3|4']);
    } finally {
      sub.close();
    }
  });

  it(`${600} writes of one tick: ceil(600 / ${MAX_WRITE_BATCH}) EVALSHA, all stored and released`, async () => {
    const { keys, claims } = await locked(600);
    const before = await commandStats();
    const res = await Promise.all(keys.map((k, i) => store.writeAndRelease(k, Buffer.from(`v${i}`), 30_000, claims[i] as LockClaim)));
    expect(res.every((r) => r)).toBe(true);
    const d = await since(before);
    expect(d('evalsha')).toBe(Math.ceil(600 / MAX_WRITE_BATCH));
    expect(d('set')).toBe(600);
    expect(await raw.mget(...keys)).toEqual(keys.map((_, i) => `v${i}`));
    expect(await raw.exists(...claims.map((c) => c.key))).toBe(0);
  });

  /** The three ordering cases: a write, then in the same tick a del / get / publish of the store. */
  async function ordering(batched: boolean, on: RedisStore = store): Promise<void> {
    const { keys, claims } = await locked(6);
    const [k1, k2, k3, o1, o2, o3] = keys as [string, string, string, string, string, string];
    const [c1, c2, c3, d1, d2, d3] = claims as [LockClaim, LockClaim, LockClaim, LockClaim, LockClaim, LockClaim];
    // `batched`: another write joins each tick (a batch of two, WRITE_AND_RELEASE_MANY); else a lone write
    const other = (k: string, c: LockClaim) => (batched ? [on.writeAndRelease(k, Buffer.from('o'), 30_000, c)] : []);
    const w1 = on.writeAndRelease(k1, Buffer.from('v1'), 30_000, c1);
    const more1 = other(o1, d1);
    const del = on.del(k1);
    await Promise.all([w1, del, ...more1]);
    expect(await raw.exists(k1)).toBe(0);

    const w2 = on.writeAndRelease(k2, Buffer.from('v2'), 30_000, c2);
    const more2 = other(o2, d2);
    const got = on.get(k2);
    await Promise.all([w2, ...more2]);
    expect((await got)?.toString()).toBe('v2');

    const ch = `wb-ord${seq}`;
    const sub = await subscriber(ch);
    try {
      const merge = { head: 's:', sep: ',' };
      const w3 = on.writeAndRelease(k3, Buffer.from('v3'), 30_000, c3, { channel: ch, message: 's:k3', merge });
      const more3 = batched ? [on.writeAndRelease(o3, Buffer.from('o'), 30_000, d3, { channel: ch, message: 's:o3', merge })] : [];
      const pub = on.publish(ch, 'after');
      await Promise.all([w3, pub, ...more3]);
      await waitFor(() => (sub.got.get(ch) as string[]).length >= 2, { timeoutMs: 2_000 });
      expect(sub.got.get(ch)).toEqual([batched ? 's:k3,o3' : 's:k3', 'after']);
    } finally {
      sub.close();
    }
  }

  it(`fused reads go out in chunks of ${READ_CHUNK} as they queue, each after the writes queued before it`, async () => {
    const { keys, claims } = await locked(40);
    const missing = Array.from({ length: 24 }, (_, i) => `${keys[0] as string}:missing${i}`);
    const before = await commandStats();
    // 40 writes queued (one batch), then in the same tick 64 reads: the written keys and 24 missing ones
    const writes = keys.map((k, i) => store.writeAndRelease(k, Buffer.from(`v${i}`), 30_000, claims[i] as LockClaim));
    const reads = [...keys, ...missing].map((k, i) => store.readOrLock(k, { key: `${k}:rl`, token: `r${i}`, ttlMs: 5_000 }, false));
    const rs = await Promise.all(reads);
    expect((await Promise.all(writes)).every((r) => r)).toBe(true);
    rs.forEach((r, i) => {
      if (i < keys.length) expect([r.value?.toString(), r.lock]).toEqual([`v${i}`, 'none']);
      else expect([r.value, r.lock]).toEqual([undefined, 'led']);
    });
    const d = await since(before);
    // the write batch; the first read alone (nothing in flight); then full chunks and the rest at the tick
    expect(d('evalsha')).toBe(1 + 1 + Math.ceil(63 / READ_CHUNK));
  });

  it('order: a del, get or publish issued after a queued write (same tick) never overtakes it', async () => {
    await ordering(true);
    await ordering(false);
  });

  it('order holds on a server that does not know the scripts (new or restarted: NOSCRIPT)', async () => {
    for (const batched of [true, false]) {
      // a new connection to a server without the scripts
      await raw.script('FLUSH');
      const fresh = new RedisStore(server.url);
      try {
        await fresh.ping();
        await ordering(batched, fresh);
        // the same connection after the server lost its scripts and the connection was re-established
        await raw.script('FLUSH');
        const closed = new Promise((resolve) => fresh.client.once('close', resolve));
        (fresh.client as Redis).disconnect(true);
        await closed;
        await waitFor(() => fresh.isReady(), { timeoutMs: 2_000, intervalMs: 5 });
        await ordering(batched, fresh);
      } finally {
        await fresh.close();
      }
    }
  });
});

describe('close() and the CacheService path', () => {
  it('close() right after queueing writes (not awaited) still stores them', async () => {
    for (const flush of [false, true]) {
      if (flush) await raw.script('FLUSH');
      else await loadScripts();
      const store = new RedisStore(server.url);
      await store.ping();
      const { keys, claims } = await locked(5);
      const lone = await locked(1);
      const settled = keys.map((k, i) => store.writeAndRelease(k, Buffer.from(`v${i}`), 30_000, claims[i] as LockClaim).catch((err: unknown) => err));
      await store.close();
      expect(await raw.mget(...keys)).toEqual(keys.map((_, i) => `v${i}`));
      expect(await Promise.all(settled)).toEqual(keys.map(() => true));
      // a lone queued write (the one-write script) as well
      if (flush) await raw.script('FLUSH');
      const store2 = new RedisStore(server.url);
      await store2.ping();
      const one = store2.writeAndRelease(lone.keys[0] as string, Buffer.from('solo'), 30_000, lone.claims[0] as LockClaim).catch((err: unknown) => err);
      await store2.close();
      expect(await raw.get(lone.keys[0] as string)).toBe('solo');
      expect(await one).toBe(true);
    }
  });

  it('CacheService: 20 concurrent readOrLock (all lead), then 20 writeAndRelease → one EVALSHA, all readable', async () => {
    await loadScripts();
    const prefix = `wbcs${++seq}`;
    const store = new RedisStore(server.url);
    const cache = new CacheService({ store, prefix, opTimeout: 2_000 });
    try {
      const keys = Array.from({ length: 20 }, (_, i) => cache.key(`item:get:${i}`));
      const claims = keys.map((k, i): LockClaim => ({ key: lockKeyFor(`${prefix}:__lock`, k) as string, token: `tok${i}`, ttlMs: 5_000 }));
      const reads = await Promise.all(keys.map((k, i) => cache.readOrLock(k, claims[i] as LockClaim)));
      expect(reads.map((r) => `${r.status}/${r.lock}`)).toEqual(keys.map(() => 'miss/led'));
      const before = await commandStats();
      const writes = await Promise.all(
        keys.map((k, i) => cache.writeAndRelease(k, { value: `v${i}`, createdAt: cache.stamp(), expiresAt: cache.now() + 60_000 }, 60_000, claims[i] as LockClaim)),
      );
      expect(writes).toEqual(keys.map(() => ({ ok: true })));
      const d = await since(before);
      expect(d('evalsha')).toBe(1);
      expect(d('set')).toBe(20);
      expect(await Promise.all(keys.map((k) => cache.get(k)))).toEqual(keys.map((_, i) => `v${i}`));
      expect(await raw.exists(...claims.map((c) => c.key))).toBe(0);
    } finally {
      await cache.close();
      await store.close();
    }
  });

  it('Redis hung mid-batch: every writeAndRelease of the batch resolves a failure within opTimeout, none rejects', async () => {
    const paused = await startStandalone();
    const admin = new Redis(paused.url);
    const store = new RedisStore(paused.url);
    const cache = new CacheService({ store, prefix: 'wbhung', opTimeout: 200 });
    try {
      const keys = Array.from({ length: 10 }, (_, i) => cache.key(`item:get:${i}`));
      const claims = keys.map((k, i): LockClaim => ({ key: lockKeyFor('wbhung:__lock', k) as string, token: `tok${i}`, ttlMs: 5_000 }));
      const reads = await Promise.all(keys.map((k, i) => cache.readOrLock(k, claims[i] as LockClaim)));
      expect(reads.every((r) => r.lock === 'led')).toBe(true);
      paused.pause();
      const t0 = performance.now();
      const res = await Promise.all(
        keys.map(async (k, i) => {
          const r = await cache.writeAndRelease(k, { value: `v${i}`, createdAt: cache.stamp(), expiresAt: cache.now() + 60_000 }, 60_000, claims[i] as LockClaim);
          return { r, ms: performance.now() - t0 };
        }),
      );
      for (const { r, ms } of res) {
        expect(r.ok).toBe(false);
        expect(ms).toBeLessThan(1_000);
      }
      paused.resume();
      // the batch was on the wire: it lands once the server runs again
      await waitFor(async () => (await admin.exists(...keys)) === keys.length, { timeoutMs: 2_000 });
      await waitFor(() => store.isReady(), { timeoutMs: 2_000 });
    } finally {
      paused.resume();
      await cache.close();
      await store.close();
      admin.disconnect();
      await paused.close();
    }
  });
});
