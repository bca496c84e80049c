// Issue 13, tiered side of the coalesced fused writes: concurrent misses on one TieredCache write in
// one WRITE_AND_RELEASE_MANY call and publish ONE merged `s` message, which another instance applies
// to every key. Real redis-server from the harness.
import { startStandalone, waitFor } from '@stratacache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_CHUNK } from '../../core/src/fused-lock';
import { decodeBusMessage } from '../src/bus-message';
import { makeInstance, uniquePrefix } from './helpers';

let redis: Awaited<ReturnType<typeof startStandalone>>;
let admin: Redis;
beforeAll(async () => {
  redis = await startStandalone();
  admin = new Redis({ port: redis.port, host: '127.0.0.1' });
}, 60_000);
afterAll(async () => {
  admin?.disconnect();
  await redis?.close();
});

/** Script runs so far: EVALSHA + EVAL calls, less the EVALSHAs refused with NOSCRIPT (then sent as EVAL). */
async function scriptCalls(): Promise<number> {
  let n = 0;
  for (const m of (await admin.info('commandstats')).matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+),.*failed_calls=(\d+)/gm)) n += Number(m[1]) - Number(m[2]);
  return n;
}

describe('coalesced fused writes across instances', () => {
  it('30 concurrent misses on A: the writes batched, one merged `s` message per read batch (3, not 30); B stops serving its old L1 copies', async () => {
    const prefix = uniquePrefix('wb');
    const a = await makeInstance(redis.port, prefix, { instanceId: 'aaaaaaaaaa' });
    const b = await makeInstance(redis.port, prefix, { instanceId: 'bbbbbbbbbb' });
    const sub = new Redis({ port: redis.port, host: '127.0.0.1' });
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `item:get:${i}`);
      for (const k of keys) expect((await b.tiered.set(k, 'old')).ok).toBe(true);
      for (const k of keys) expect(b.tiered.hasInL1(k)).toBe(true);
      // L2 loses the entries (B's L1 still holds 'old'): A's reads miss
      expect(await admin.del(...keys.map((k) => a.l2.key(k)))).toBe(keys.length);
      // warm: connections up, the read and write scripts known (two concurrent misses: a lone read and a batch)
      await Promise.all([a.tiered.getOrSet('warm:get:1', async () => 'w'), a.tiered.getOrSet('warm:get:2', async () => 'w')]);
      await waitFor(async () => (await admin.exists(a.l2.key('warm:get:1'), a.l2.key('warm:get:2'))) === 2, { timeoutMs: 2_000, intervalMs: 10 });

      const channel = `${prefix}:__tiered_bus`;
      const fromA: string[] = [];
      sub.on('message', (_c: string, m: string) => {
        if (decodeBusMessage(m)?.sender === 'aaaaaaaaaa') fromA.push(m);
      });
      await sub.subscribe(channel);
      const before = await scriptCalls();

      let calls = 0;
      const vals = await Promise.all(
        keys.map((k) =>
          a.tiered.getOrSet(k, async () => {
            calls++;
            return 'new';
          }),
        ),
      );
      expect(vals).toEqual(keys.map(() => 'new'));
      expect(calls).toBe(keys.length);
      const full = keys.map((k) => a.l2.key(k));
      await waitFor(async () => (await admin.exists(...full)) === keys.length, { timeoutMs: 2_000, intervalMs: 10 });
      await waitFor(() => new Set(fromA.flatMap((m) => decodeBusMessage(m)?.parts ?? [])).size === keys.length, { timeoutMs: 2_000, intervalMs: 10 });
      // Adaptive read batching sends the first fused read at once and the 29 others in batches of
      // READ_CHUNK (a full one at once, the rest at the tick), so the writes land with each batch's
      // answers: 3 fused reads + at most 3 writes, and at most 3 `s` messages (not 30)
      const readCalls = 1 + Math.ceil((keys.length - 1) / READ_CHUNK);
      expect((await scriptCalls()) - before).toBeLessThanOrEqual(2 * readCalls);
      const msgs = fromA.map((m) => decodeBusMessage(m));
      expect(msgs.every((m) => m?.type === 's')).toBe(true);
      expect(msgs.length).toBeLessThanOrEqual(readCalls);
      expect(Math.max(...msgs.map((m) => m?.parts.length ?? 0))).toBeGreaterThanOrEqual(Math.min(READ_CHUNK, keys.length - 1));
      expect(msgs.flatMap((m) => m?.parts ?? []).sort()).toEqual([...full].sort());

      // B applied it to every key: its 'old' copies are no longer served as fresh
      let bCalls = 0;
      const bFactory = async () => {
        bCalls++;
        return 'b-own';
      };
      await waitFor(async () => (await Promise.all(keys.map((k) => b.tiered.getOrSet(k, bFactory)))).every((v) => v === 'new'), { timeoutMs: 2_000, intervalMs: 20 });
      expect(bCalls).toBe(0);
      expect(await Promise.all(keys.map((k) => b.tiered.get(k)))).toEqual(keys.map(() => 'new'));
    } finally {
      sub.disconnect();
      await a.close();
      await b.close();
    }
  });

  it('with onRemoteSet "drop": the merged message drops every key from the other instance’s L1', async () => {
    const prefix = uniquePrefix('wbd');
    const a = await makeInstance(redis.port, prefix);
    const b = await makeInstance(redis.port, prefix, { onRemoteSet: 'drop' });
    try {
      const keys = Array.from({ length: 20 }, (_, i) => `doc:get:${i}`);
      for (const k of keys) await b.tiered.set(k, 'old');
      await admin.del(...keys.map((k) => a.l2.key(k)));
      const vals = await Promise.all(keys.map((k) => a.tiered.getOrSet(k, async () => 'new')));
      expect(vals).toEqual(keys.map(() => 'new'));
      await waitFor(() => keys.every((k) => !b.tiered.hasInL1(k)), { timeoutMs: 2_000, intervalMs: 10 });
      expect(await Promise.all(keys.map((k) => b.tiered.get(k)))).toEqual(keys.map(() => 'new'));
    } finally {
      await a.close();
      await b.close();
    }
  });
});
