import { startStandalone, waitFor } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnWorker } from './fixtures/spawn';
import { chaosInstance } from './chaos';
import { makeInstance, sleep, uniquePrefix } from './helpers';
import type { Instance } from './helpers';

let redis: Awaited<ReturnType<typeof startStandalone>>;
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

async function pair(opts?: Parameters<typeof makeInstance>[2]): Promise<[Instance, Instance]> {
  const prefix = uniquePrefix('bus');
  return [await makeInstance(redis.port, prefix, opts), await makeInstance(redis.port, prefix, opts)];
}

const gone = (i: Instance, key: string) => waitFor(() => !i.tiered.hasInL1(key), { timeoutMs: 5_000, message: `${key} still in L1` });

describe('invalidation bus (two instances, two connections)', () => {
  it('delete on A drops the L1 copy on B; A does not process its own message', async () => {
    const [a, b] = await pair();
    try {
      await a.tiered.set('user:get:1', 'v1');
      expect(await b.tiered.get('user:get:1')).toBe('v1');
      expect(b.tiered.hasInL1('user:get:1')).toBe(true);
      await a.tiered.delete('user:get:1');
      await gone(b, 'user:get:1');
      expect(await b.tiered.get('user:get:1')).toBeUndefined();
      await sleep(50);
      expect(a.tiered.stats().bus?.received).toBe(0); // A's own messages are dropped before decoding
      expect(b.tiered.stats().bus?.received).toBeGreaterThanOrEqual(2);
      expect(a.tiered.stats().bus?.sent).toBeGreaterThanOrEqual(2);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('tag invalidation on A drops tagged entries on B only', async () => {
    const [a, b] = await pair();
    try {
      await b.tiered.set('job:get:1', 1, { tags: ['job:1'] });
      await b.tiered.set('job:get:2', 2, { tags: ['job:2'] });
      await a.tiered.invalidateTag('job:1');
      await gone(b, 'job:get:1');
      expect(b.tiered.hasInL1('job:get:2')).toBe(true);
      expect(await b.tiered.get('job:get:1')).toBeUndefined();
      expect(await b.tiered.get('job:get:2')).toBe(2);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('namespace invalidation on A drops only that namespace on B', async () => {
    const [a, b] = await pair();
    try {
      for (const k of ['user:get:1', 'user:get:2', 'user:list:all', 'order:get:1']) await b.tiered.set(k, k);
      await a.tiered.invalidateNamespace('user', 'get');
      await gone(b, 'user:get:1');
      await gone(b, 'user:get:2');
      expect(b.tiered.hasInL1('user:list:all')).toBe(true);
      expect(b.tiered.hasInL1('order:get:1')).toBe(true);
      expect(await b.tiered.get('user:get:1')).toBeUndefined();
      await a.tiered.invalidate({ namespace: { entity: 'user' } });
      await gone(b, 'user:list:all');
      expect(b.tiered.hasInL1('order:get:1')).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("a tag/namespace bus message also refreshes B's L2 barrier cache (core barrierCacheMs), so B's next L2 read sees the invalidation", async () => {
    const prefix = uniquePrefix('busbar');
    const a = await makeInstance(redis.port, prefix, undefined, { barrierCacheMs: 60_000 });
    const b = await makeInstance(redis.port, prefix, undefined, { barrierCacheMs: 60_000 });
    try {
      await a.tiered.set('user:get:1', 'u1');
      await a.tiered.set('job:get:1', 'j1', { tags: ['job:1'] });
      expect(await b.tiered.get('user:get:1')).toBe('u1'); // B's L2 read caches the namespace barriers
      expect(await b.tiered.get('job:get:1')).toBe('j1'); // ... and the tag barrier
      await a.tiered.invalidateNamespace('user', 'get');
      await a.tiered.invalidateTag('job:1');
      await gone(b, 'user:get:1');
      await gone(b, 'job:get:1');
      expect(await b.tiered.get('user:get:1')).toBeUndefined();
      expect(await b.tiered.get('job:get:1')).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('pattern invalidation and clear on A reach B', async () => {
    const [a, b] = await pair();
    try {
      for (const k of ['jobs:list:1', 'jobs:list:2', 'jobs:get:1']) await b.tiered.set(k, k);
      await a.tiered.invalidatePattern('jobs:list:*');
      await gone(b, 'jobs:list:1');
      await gone(b, 'jobs:list:2');
      expect(b.tiered.hasInL1('jobs:get:1')).toBe(true);
      await a.tiered.clear();
      await gone(b, 'jobs:get:1');
      expect(await b.tiered.get('jobs:get:1')).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a set on A marks the L1 copy on B stale: B reads the new value from L2', async () => {
    const [a, b] = await pair();
    try {
      await a.tiered.set('cfg', 'old');
      expect(await b.tiered.get('cfg')).toBe('old');
      await a.tiered.set('cfg', 'new');
      await waitFor(() => b.tiered.getL1('cfg') === undefined, { timeoutMs: 5_000 });
      expect(await b.tiered.get('cfg')).toBe('new');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('works across two OS processes', async () => {
    const prefix = uniquePrefix('busproc');
    const a = await makeInstance(redis.port, prefix);
    const w = await spawnWorker(redis.port, prefix);
    try {
      expect((await w.call('fill', { key: 'acct:get:1', value: 1, tags: ['acct'] })).ok).toBe(true);
      expect((await w.call('fill', { key: 'acct:get:2', value: 2 })).ok).toBe(true);
      const waiting = w.call<{ gone: boolean }>('waitGone', { key: 'acct:get:1', timeoutMs: 10_000 });
      await a.tiered.invalidateTag('acct');
      expect((await waiting).gone).toBe(true);
      expect((await w.call('hasL1', { key: 'acct:get:2' })).has).toBe(true);
      const waiting2 = w.call<{ gone: boolean }>('waitGone', { key: 'acct:get:2', timeoutMs: 10_000 });
      await a.tiered.delete('acct:get:2');
      expect((await waiting2).gone).toBe(true);
    } finally {
      await w.stop();
      await a.close();
    }
  }, 60_000);

  it('two OS processes: one key identity and escaped namespaces reach the other process, and a failed-L2 delete still drops its L1', async () => {
    const prefix = uniquePrefix('busproc2');
    const a = await chaosInstance(redis.port, prefix);
    const w = await spawnWorker(redis.port, prefix);
    try {
      // the worker caches by the relative form, A invalidates by the full form (and vice versa)
      expect((await w.call('fill', { key: 'acct:get:7', value: 7 })).ok).toBe(true);
      const gone7 = w.call<{ gone: boolean }>('waitGone', { key: 'acct:get:7', timeoutMs: 10_000 });
      await a.tiered.delete(a.l2.key('acct:get:7'));
      expect((await gone7).gone).toBe(true);
      const nsKey = a.l2.keys.build('team{1}', 'get', 1);
      expect((await w.call('fill', { key: nsKey, value: 1 })).ok).toBe(true);
      const goneNs = w.call<{ gone: boolean }>('waitGone', { key: nsKey, timeoutMs: 10_000 });
      await a.tiered.invalidateNamespace('team{1}');
      expect((await goneNs).gone).toBe(true);
      // L2 cannot delete: the result says so, and the other process's L1 copy is dropped anyway
      expect((await w.call('fill', { key: 'acct:get:8', value: 8 })).ok).toBe(true);
      const gone8 = w.call<{ gone: boolean }>('waitGone', { key: 'acct:get:8', timeoutMs: 10_000 });
      a.fail.add('del');
      expect((await a.tiered.delete('acct:get:8')).ok).toBe(false);
      expect((await gone8).gone).toBe(true);
    } finally {
      await w.stop();
      await a.close();
    }
  }, 60_000);
});

describe('bus outage', () => {
  it('an instance started while Redis is down subscribes when Redis comes up; what it cached meanwhile keeps the bus-down bound', async () => {
    const own = await startStandalone();
    await own.stop();
    const a = await makeInstance(own.port, uniquePrefix('late'), {}, { opTimeout: 100 });
    try {
      await a.tiered.ready(100);
      expect(a.tiered.busConnected).toBe(false);
      expect(await a.tiered.getOrSet('k', () => 'v')).toBe('v');
      expect(a.tiered.hasInL1('k')).toBe(true);
      await own.restart();
      await waitFor(() => a.tiered.busConnected, { timeoutMs: 15_000, message: 'bus never came up' });
      await waitFor(() => a.tiered.getL1('k') === undefined, { timeoutMs: 5_000, message: 'copy from before the bus was up is still trusted' });
      await waitFor(async () => (await a.tiered.set('k2', 'x')).ok, { timeoutMs: 10_000 });
      expect(a.tiered.getL1('k2')).toBe('x');
      await sleep(1_200);
      expect(a.tiered.getL1('k2')).toBe('x'); // stored while the bus is up: full l1.ttl
    } finally {
      await a.close();
      await own.close();
    }
  }, 60_000);

  it('while disconnected L1 is trusted for busDownL1Ttl at most; on reconnect L1 copies are kept but verified before serving, and the bus resubscribes', async () => {
    const own = await startStandalone();
    const prefix = uniquePrefix('down');
    const a = await makeInstance(own.port, prefix, { busDownL1Ttl: 300 });
    const b = await makeInstance(own.port, prefix, { busDownL1Ttl: 300 });
    try {
      await a.tiered.set('k', 'v', { ttl: 60_000 });
      expect(await b.tiered.get('k')).toBe('v');
      await own.stop();
      await waitFor(() => !b.tiered.busConnected, { timeoutMs: 10_000, message: 'bus never noticed the outage' });
      // the copy stored before the outage is no longer trusted once busDownL1Ttl has passed since it was stored
      await waitFor(() => b.tiered.getL1('k') === undefined, { timeoutMs: 5_000 });
      await own.restart();
      await waitFor(() => b.tiered.busConnected && a.tiered.busConnected, { timeoutMs: 15_000, message: 'bus did not reconnect' });
      expect(b.tiered.stats().bus?.reconnects).toBeGreaterThanOrEqual(1);
      // kept (a fail-safe value while L2 cannot answer), but not served before it was checked against L2 once
      expect(b.tiered.hasInL1('k')).toBe(true);
      expect(b.tiered.getL1('k')).toBeUndefined();
      // resubscribed: invalidations flow again
      await waitFor(async () => (await a.tiered.set('k2', 'x')).ok, { timeoutMs: 10_000 });
      expect(await b.tiered.get('k2')).toBe('x');
      await a.tiered.delete('k2');
      await gone(b, 'k2');
    } finally {
      await a.close();
      await b.close();
      await own.close();
    }
  }, 60_000);
});
