// Issue 20, bullet 3, through the top layer: while L2 is unreachable a key is refreshed from the
// origin at most once per failSafeThrottle window (default 10 s), and the bus reconnect re-validates
// L1 copies against L2 instead of clearing them. Real redis-server, SIGKILLed and restarted under a
// read loop; origin calls are counted per key.
import { CacheService, RedisStore } from '@stratacache/core';
import { startSentinel, startStandalone, waitFor } from '@stratacache/redis-harness';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { TieredCache } from '../src/index';
import { makeInstance, sleep, uniquePrefix } from './helpers';

const KEYS = 20;
const READERS = 4;

describe('one origin call per key per outage window', () => {
  it('Redis SIGKILLed then restarted under a read loop: <= 1 origin call per key during the outage, 0 errors, 0 wrong values', async () => {
    const server = await startStandalone();
    const inst = await makeInstance(server.port, uniquePrefix('ow'), {}, { opTimeout: 200 });
    const calls = new Map<string, number>();
    let phase: 'fill' | 'outage' | 'after' = 'fill';
    const during = new Map<string, number>();
    const factoryFor = (k: string) => async (): Promise<string> => {
      const n = (calls.get(k) ?? 0) + 1;
      calls.set(k, n);
      if (phase === 'outage') during.set(k, (during.get(k) ?? 0) + 1);
      await sleep(2);
      return `${k}#${n}`;
    };
    const keys = Array.from({ length: KEYS }, (_, i) => `item:get:${i}`);
    let errors = 0;
    let wrong = 0;
    let reads = 0;
    let stop = false;
    const reader = async (): Promise<void> => {
      while (!stop) {
        for (const k of keys) {
          try {
            const v = await inst.tiered.getOrSet(k, factoryFor(k));
            reads++;
            if (typeof v !== 'string' || !v.startsWith(`${k}#`)) wrong++;
          } catch {
            errors++;
          }
        }
        await sleep(5);
      }
    };
    try {
      for (const k of keys) await inst.tiered.getOrSet(k, factoryFor(k));
      expect([...calls.values()].every((n) => n === 1)).toBe(true);
      const loops = Array.from({ length: READERS }, () => reader());
      await sleep(300);
      phase = 'outage';
      await server.kill();
      await waitFor(() => !inst.tiered.busConnected, { timeoutMs: 5_000 });
      await sleep(3_500); // several busDownL1Ttl (1 s) periods: each used to cost one origin call per key
      phase = 'after'; // from here on Redis is back (empty: each key is filled again, L2 being the authority)
      await server.restart();
      await waitFor(() => inst.tiered.busConnected, { timeoutMs: 15_000 });
      await sleep(1_000);
      stop = true;
      await Promise.all(loops);
      console.log(`outage: ${reads} reads, origin calls per key during the outage: ${JSON.stringify([...during.values()])}, totals: ${JSON.stringify([...calls.values()])}`);
      expect(errors).toBe(0);
      expect(wrong).toBe(0);
      expect(reads).toBeGreaterThan(KEYS * 10);
      for (const k of keys) expect(during.get(k) ?? 0).toBeLessThanOrEqual(1);
      // after the restart (an empty Redis) each key is filled again at most once
      for (const k of keys) expect(calls.get(k) ?? 0).toBeLessThanOrEqual(3);
    } finally {
      stop = true;
      await inst.close();
      await server.close();
    }
  }, 40_000);

  it('a bus reconnect keeps L1 copies and verifies each against L2 once: unchanged → kept, changed elsewhere → replaced', async () => {
    const server = await startStandalone();
    const prefix = uniquePrefix('rv');
    const a = await makeInstance(server.port, prefix, { l1: { ttl: 60_000 } });
    const b = await makeInstance(server.port, prefix, { l1: { ttl: 60_000 } });
    try {
      await a.tiered.set('item:get:same', 'one', { ttl: 60_000 });
      await a.tiered.set('item:get:changed', 'old', { ttl: 60_000 });
      expect(await b.tiered.get('item:get:same')).toBe('one');
      expect(await b.tiered.get('item:get:changed')).toBe('old');
      // A change B never hears of (written to L2 without a bus message: a message missed while the bus was down)
      expect((await a.l2.set('item:get:changed', 'new', { ttl: 60_000 })).ok).toBe(true);
      // the subscriber connections drop (the data stays) and reconnect
      const subs = (await server.cli('CLIENT', 'LIST', 'TYPE', 'pubsub')).split('\n').filter(Boolean);
      for (const line of subs) {
        const id = /id=(\d+)/.exec(line)?.[1];
        if (id !== undefined) await server.cli('CLIENT', 'KILL', 'ID', id);
      }
      await waitFor(() => (b.tiered.stats().bus?.reconnects ?? 0) >= 1 && b.tiered.busConnected, { timeoutMs: 10_000 });
      // kept, but verified before the next serve
      expect(b.tiered.hasInL1('item:get:same')).toBe(true);
      expect(b.tiered.getL1('item:get:same')).toBeUndefined();
      expect(await b.tiered.getOrSet('item:get:same', () => 'origin!')).toBe('one');
      expect(b.tiered.getL1('item:get:same')).toBe('one'); // verified: served from L1 again
      expect(await b.tiered.getOrSet('item:get:changed', () => 'origin!')).toBe('new');
    } finally {
      await a.close();
      await b.close();
      await server.close();
    }
  }, 30_000);

  it('Sentinel master SIGKILLed under a read loop (defaults): <= 1 origin call per key until the new master takes writes, 0 errors, 0 wrong values', async () => {
    const set = await startSentinel({ sentinels: 3, downAfterMs: 1_000, failoverTimeoutMs: 3_000 });
    const client = new Redis({ sentinels: set.sentinelAddrs, name: set.name, maxRetriesPerRequest: 1, enableAutoPipelining: true });
    client.on('error', () => undefined);
    const raw = new Redis({ sentinels: set.sentinelAddrs, name: set.name, maxRetriesPerRequest: 1 });
    raw.on('error', () => undefined);
    const store = new RedisStore(client);
    const l2 = new CacheService({ store, prefix: uniquePrefix('sn') });
    const tiered = new TieredCache(l2);
    const calls = new Map<string, number>();
    const during = new Map<string, number>();
    let outage = false;
    const keys = Array.from({ length: KEYS }, (_, i) => `item:get:${i}`);
    const factoryFor = (k: string) => async (): Promise<string> => {
      const n = (calls.get(k) ?? 0) + 1;
      calls.set(k, n);
      if (outage) during.set(k, (during.get(k) ?? 0) + 1);
      await sleep(2);
      return `${k}#${n}`;
    };
    let errors = 0;
    let wrong = 0;
    let reads = 0;
    let stop = false;
    const reader = async (): Promise<void> => {
      while (!stop) {
        for (const k of keys) {
          try {
            const v = await tiered.getOrSet(k, factoryFor(k));
            reads++;
            if (typeof v !== 'string' || !v.startsWith(`${k}#`)) wrong++;
          } catch {
            errors++;
          }
        }
        await sleep(5);
      }
    };
    try {
      await tiered.ready(5_000);
      for (const k of keys) await tiered.getOrSet(k, factoryFor(k));
      await sleep(300); // the background writes reached the master (and the replica)
      const loops = Array.from({ length: READERS }, () => reader());
      await sleep(300);
      const before = await set.currentMaster();
      outage = true;
      const t0 = Date.now();
      await set.nodeByPort(before.port)!.kill();
      // the outage ends when a raw ioredis write is accepted by the new master
      await waitFor(async () => (await raw.set('probe', '1').catch(() => null)) === 'OK', { timeoutMs: 30_000, intervalMs: 50 });
      const rawOutageMs = Date.now() - t0;
      outage = false;
      await sleep(1_500);
      stop = true;
      await Promise.all(loops);
      console.log(`sentinel: raw outage ${rawOutageMs} ms, ${reads} reads, origin calls per key during it: ${JSON.stringify(keys.map((k) => during.get(k) ?? 0))}, totals: ${JSON.stringify(keys.map((k) => calls.get(k) ?? 0))}`);
      expect(errors).toBe(0);
      expect(wrong).toBe(0);
      for (const k of keys) expect(during.get(k) ?? 0).toBeLessThanOrEqual(1);
      // the replica kept the data: no refill after the failover
      for (const k of keys) expect(calls.get(k) ?? 0).toBeLessThanOrEqual(2);
    } finally {
      stop = true;
      await tiered.close();
      await l2.close();
      await store.close();
      client.disconnect();
      raw.disconnect();
      await set.close();
    }
  }, 60_000);
});
