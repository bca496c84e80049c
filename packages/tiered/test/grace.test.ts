import { startStandalone, waitFor } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FactoryTimeoutError } from '../src/index';
import type { FactoryContext } from '../src/index';
import { makeInstance, sleep, uniquePrefix } from './helpers';
import type { Instance } from './helpers';

let redis: Awaited<ReturnType<typeof startStandalone>>;
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

async function one(opts?: Parameters<typeof makeInstance>[2]): Promise<Instance> {
  return makeInstance(redis.port, uniquePrefix('grace'), opts);
}

const boom = async (): Promise<string> => {
  throw new Error('origin down');
};

describe('grace, stale-while-revalidate, timeouts', () => {
  it('serves the stale value at once when expired within grace, and refreshes once in the background under concurrency', async () => {
    const a = await one({ grace: '10s' });
    try {
      await a.tiered.getOrSet('k', () => 'v1', { ttl: 80 });
      await sleep(120);
      let calls = 0;
      const slow = async (ctx: FactoryContext<string>): Promise<string> => {
        calls++;
        expect(ctx.staleValue).toBe('v1');
        await sleep(150);
        return 'v2';
      };
      const t0 = Date.now();
      const vals = await Promise.all(Array.from({ length: 50 }, () => a.tiered.getOrSet('k', slow, { ttl: 10_000 })));
      expect(Date.now() - t0).toBeLessThan(150 + 2_000); // did not wait for... the factory (generous under load)
      expect(new Set(vals)).toEqual(new Set(['v1']));
      // more stale reads while the refresh runs do not start another one
      expect(await a.tiered.getOrSet('k', slow, { ttl: 10_000 })).toBe('v1');
      await waitFor(async () => (await a.tiered.get('k')) === 'v2', { timeoutMs: 5_000 });
      expect(calls).toBe(1);
      expect(a.tiered.stats().stale).toBe(51);
      expect(a.tiered.stats().backgroundRefreshes).toBe(1);
    } finally {
      await a.close();
    }
  });

  it('serves stale when the factory fails (fail-safe), and throws without a stale value', async () => {
    const a = await one({ grace: '10s', softTimeout: 1_000 });
    try {
      await a.tiered.set('k', 'old', { ttl: 50 });
      await sleep(80);
      expect(await a.tiered.getOrSet('k', boom)).toBe('old');
      expect(a.tiered.stats().stale).toBe(1);
      expect(a.tiered.stats().factoryErrors).toBe(1);
      await expect(a.tiered.getOrSet('missing', boom)).rejects.toThrow('origin down');
    } finally {
      await a.close();
    }
  });

  it('serves the L1 copy within grace when Redis is killed and the factory fails; reads do not hang', async () => {
    const own = await startStandalone();
    const a = await makeInstance(own.port, uniquePrefix('kill'), { grace: '1m', lockWait: 500 }, { opTimeout: 200 });
    try {
      await a.tiered.set('k', { ok: 1 }, { ttl: 100 });
      await own.kill();
      await sleep(150);
      const t0 = Date.now();
      expect(await a.tiered.getOrSet('k', boom)).toEqual({ ok: 1 });
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect(a.tiered.stats().stale).toBe(1);
      // a fresh key with a working origin still works while Redis is down
      expect(await a.tiered.getOrSet('other', () => 'fresh')).toBe('fresh');
    } finally {
      await a.close();
      await own.close();
    }
  }, 30_000);

  it('a hung Redis (SIGSTOP) costs a bounded wait: reads, writes and deletes return', async () => {
    const own = await startStandalone();
    const a = await makeInstance(own.port, uniquePrefix('hung'), { grace: '1m' }, { opTimeout: 150 });
    try {
      await a.tiered.set('k', 'v', { ttl: 100 });
      own.pause();
      await sleep(150);
      const t0 = Date.now();
      expect(await a.tiered.getOrSet('k', boom)).toBe('v'); // stale from L1, at once
      expect(await a.tiered.getOrSet('fresh', () => 'f')).toBe('f');
      await a.tiered.delete('k');
      expect((await a.tiered.set('x', 1)).ok).toBe(false);
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      own.resume();
      await a.close();
      await own.close();
    }
  }, 30_000);

  it('starts with Redis unreachable: ready() resolves after its timeout, reads fall back to the origin, close() returns', async () => {
    const { freePort } = await import('@stratacache/redis-harness');
    const port = await freePort();
    const a = await makeInstance(port, uniquePrefix('nodb'), { grace: '1m', failSafeThrottle: 1_600 }, { opTimeout: 100 });
    try {
      expect(a.tiered.busConnected).toBe(false);
      await a.tiered.ready(200);
      let calls = 0;
      expect(await a.tiered.getOrSet('k', () => ++calls)).toBe(1);
      expect(await a.tiered.getOrSet('k', () => ++calls)).toBe(1); // L1 (trusted for busDownL1Ttl)
      await sleep(1_100);
      // the L1 copy is no longer trusted as fresh; L2 cannot answer, so it is served as the fail-safe
      // (stale) value — without calling the origin: an L2 outage counts like a failure, and the origin
      // was called for this key less than failSafeThrottle ago
      expect(await a.tiered.getOrSet('k', () => ++calls)).toBe(1);
      expect(a.tiered.stats().stale).toBe(1);
      await sleep(50);
      expect(calls).toBe(1);
      // past the window: refreshed (in the background) once
      await waitFor(async () => (await a.tiered.getOrSet('k', () => ++calls)) === 2, { timeoutMs: 5_000 });
      expect(calls).toBe(2);
    } finally {
      await a.close();
    }
  }, 30_000);

  it('soft timeout returns stale and lets the factory finish in the background', async () => {
    const a = await one({ grace: '10s' });
    try {
      await a.tiered.set('k', 'old', { ttl: 50 });
      await sleep(80);
      const v = await a.tiered.getOrSet(
        'k',
        async () => {
          await sleep(400);
          return 'new';
        },
        { softTimeout: 50, ttl: 10_000 },
      );
      expect(v).toBe('old');
      expect(a.tiered.stats().softTimeouts).toBe(1);
      await waitFor(async () => (await a.tiered.get('k')) === 'new', { timeoutMs: 5_000 });
      // a fast factory within the soft timeout wins over stale
      await a.tiered.set('k2', 'old', { ttl: 50 });
      await sleep(80);
      expect(await a.tiered.getOrSet('k2', () => 'quick', { softTimeout: 2_000 })).toBe('quick');
    } finally {
      await a.close();
    }
  });

  it('hard timeout aborts the factory with FactoryTimeoutError (E_FACTORY_TIMEOUT)', async () => {
    const a = await one();
    try {
      let aborted = false;
      const p = a.tiered.getOrSet(
        'slow',
        (ctx) =>
          new Promise<string>((resolve) => {
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
            });
            setTimeout(() => resolve('late'), 2_000);
          }),
        { hardTimeout: 100 },
      );
      await expect(p).rejects.toBeInstanceOf(FactoryTimeoutError);
      await expect(p).rejects.toMatchObject({ code: 'E_FACTORY_TIMEOUT', key: a.l2.key('slow'), timeoutMs: 100 });
      expect(aborted).toBe(true);
      expect(a.tiered.stats().factoryTimeouts).toBe(1);
      expect(await a.tiered.get('slow')).toBeUndefined();
    } finally {
      await a.close();
    }
  });

  it('refresh-ahead refreshes a hot key read in the last part of its TTL, once', async () => {
    const a = await one({ refreshAhead: 0.5 });
    try {
      let calls = 0;
      const f = async () => `v${++calls}`;
      expect(await a.tiered.getOrSet('hot', f, { ttl: 400 })).toBe('v1');
      expect(await a.tiered.getOrSet('hot', f, { ttl: 400 })).toBe('v1');
      expect(calls).toBe(1);
      await sleep(250);
      const reads = await Promise.all(Array.from({ length: 20 }, () => a.tiered.getOrSet('hot', f, { ttl: 400 })));
      expect(new Set(reads)).toEqual(new Set(['v1'])); // served at once
      await waitFor(async () => (await a.tiered.get('hot')) === 'v2', { timeoutMs: 5_000 });
      expect(calls).toBe(2);
      expect(a.tiered.stats().refreshAhead).toBe(1);
    } finally {
      await a.close();
    }
  });

  it('entries removed by tag, namespace or delete are never served as stale (here or on another instance)', async () => {
    const prefix = uniquePrefix('nostale');
    const a = await makeInstance(redis.port, prefix, { grace: '1m' });
    const b = await makeInstance(redis.port, prefix, { grace: '1m' });
    try {
      await a.tiered.set('doc:get:1', 'd1', { ttl: 50, tags: ['doc'] });
      await a.tiered.set('doc:get:2', 'd2', { ttl: 50 });
      await a.tiered.set('doc:get:3', 'd3', { ttl: 50 });
      for (const k of ['doc:get:1', 'doc:get:2', 'doc:get:3']) await b.tiered.get(k);
      await sleep(80);
      // all three are expired but within grace: stale would be served if nothing happened
      await a.tiered.invalidateTag('doc');
      await a.tiered.delete('doc:get:2');
      await a.tiered.invalidateNamespace('doc', 'get');
      await waitFor(() => !b.tiered.hasInL1('doc:get:3'), { timeoutMs: 5_000 });
      for (const inst of [a, b]) {
        for (const k of ['doc:get:1', 'doc:get:2', 'doc:get:3']) {
          await expect(inst.tiered.getOrSet(k, boom), k).rejects.toThrow('origin down');
        }
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('an L1 copy that missed a delete is not resurrected as stale when L2 answers "missing"', async () => {
    const prefix = uniquePrefix('miss');
    const a = await makeInstance(redis.port, prefix, { grace: '1m' });
    const b = await makeInstance(redis.port, prefix, { grace: '1m', bus: false, l1: { ttl: 80 } }); // B hears nothing
    try {
      await a.tiered.set('k', 'v', { ttl: 60_000 });
      expect(await b.tiered.get('k')).toBe('v');
      await a.tiered.delete('k');
      await sleep(120);
      expect(b.tiered.hasInL1('k')).toBe(true);
      await expect(b.tiered.getOrSet('k', boom)).rejects.toThrow('origin down');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('factory context: setTtl, setTags, skip', async () => {
    const a = await one();
    try {
      expect(
        await a.tiered.getOrSet('c1', (ctx) => {
          ctx.setTtl(60);
          ctx.setTags(['ctx']);
          return 'x';
        }),
      ).toBe('x');
      await sleep(100);
      expect(await a.tiered.get('c1')).toBeUndefined();
      await a.tiered.getOrSet('c2', (ctx) => {
        ctx.setTags(['ctx']);
        return 'y';
      });
      await a.tiered.invalidateTag('ctx');
      expect(await a.tiered.get('c2')).toBeUndefined();
      expect(await a.tiered.getOrSet('c3', (ctx) => ctx.skip())).toBeUndefined();
      expect(await a.tiered.get('c3')).toBeUndefined();
      expect(
        await a.tiered.getOrSet('c4', (ctx) => {
          ctx.skip();
          return 'not cached';
        }),
      ).toBe('not cached');
      expect(await a.tiered.get('c4')).toBeUndefined();
    } finally {
      await a.close();
    }
  });
});
