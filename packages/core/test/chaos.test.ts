import { describe, expect, it } from 'vitest';
import { CacheService, MemoryStore } from '../src/index';
import type { CacheEvent } from '../src/index';
import { ChaosStore } from './helpers';

function setup(opts: ConstructorParameters<typeof CacheService>[0] = {}) {
  const chaos = new ChaosStore(new MemoryStore());
  const cache = new CacheService({ store: chaos, opTimeout: 100, breaker: { failureThreshold: 3, resetTimeout: 200 }, ...opts });
  const events: CacheEvent[] = [];
  cache.on('*', (e) => events.push(e));
  return { chaos, cache, events, done: async () => { await cache.close(); await chaos.close(); } };
}

describe('fail-safe with an injected-fault store (chaos wrapper)', () => {
  it('store errors: reads miss, getOrSet serves the origin, writes report error, the breaker opens then recovers', async () => {
    const { chaos, cache, events, done } = setup();
    try {
      await cache.set('a', 1);
      chaos.setMode('error');
      expect(await cache.get('a')).toBeUndefined();
      expect(await cache.set('b', 2)).toEqual({ ok: false, reason: 'error' });
      expect(await cache.getOrSet('a', () => 'origin')).toBe('origin');
      expect(cache.breaker.state).toBe('OPEN');
      const callsWhenOpen = chaos.calls;
      expect(await cache.get('a')).toBeUndefined();
      expect(await cache.set('c', 3)).toEqual({ ok: false, reason: 'unavailable' });
      expect(await cache.mget(['a', 'b'])).toEqual([undefined, undefined]);
      expect(await cache.mset([{ key: 'd', value: 4 }])).toEqual([{ ok: false, reason: 'unavailable' }]);
      expect(await cache.del('a')).toBe(0);
      expect(await cache.invalidate({ pattern: '*', tag: 't' })).toMatchObject({ ok: false, reason: 'unavailable' });
      expect(chaos.calls).toBe(callsWhenOpen); // fast fail: no store call while OPEN
      expect(events.some((e) => e.type === 'error' && e.error instanceof Error)).toBe(true);
      expect(events.some((e) => e.type === 'breaker' && e.state === 'OPEN')).toBe(true);
      chaos.setMode('ok');
      await new Promise((r) => setTimeout(r, 250));
      expect(await cache.get('a')).toBe(1); // the probe succeeds
      expect(cache.breaker.state).toBe('CLOSED');
      expect(events.filter((e) => e.type === 'breaker').map((e) => e.state)).toEqual(['OPEN', 'HALF_OPEN', 'CLOSED']);
      expect(cache.stats().errors).toBeGreaterThanOrEqual(3);
    } finally {
      await done();
    }
  });

  it('a hung store: every call answers within opTimeout, reported as timeout', async () => {
    const { chaos, cache, done } = setup({ breaker: { failureThreshold: 100 } });
    try {
      await cache.set('a', 1);
      chaos.setMode('hang');
      const t0 = performance.now();
      const [g, s, m, d, gs, h] = await Promise.all([
        cache.get('a'),
        cache.set('b', 1),
        cache.mget(['a']),
        cache.del('a'),
        cache.getOrSet('a', () => 'origin'),
        cache.health(),
      ]);
      expect(performance.now() - t0).toBeLessThan(100 * 1.5 + 2_000);
      expect(g).toBeUndefined();
      expect(s).toEqual({ ok: false, reason: 'timeout' });
      expect(m).toEqual([undefined]);
      expect(d).toBe(0);
      expect(gs).toBe('origin');
      expect(h.status).toBe('down');
      expect(cache.stats().timeouts).toBeGreaterThanOrEqual(4);
    } finally {
      await done();
    }
  });

  it('an unverifiable tag barrier is a miss (never serves a possibly-invalidated value)', async () => {
    const { chaos, cache, done } = setup({ breaker: { failureThreshold: 100 } });
    try {
      await cache.set('things:list:1', 'v', { tags: ['t'] });
      let n = 0;
      const inner = chaos.inner;
      // fail only the second read of the call: the tag-barrier MGET
      chaos.mget = async (keys) => {
        n++;
        if (n === 2) throw new Error('chaos: tag barrier read failed');
        return inner.mget(keys);
      };
      expect(await cache.get('things:list:1')).toBeUndefined();
      expect(await cache.get('things:list:1')).toBe('v');
    } finally {
      await done();
    }
  });

  it('close() releases readers stuck on a hung store', async () => {
    const { chaos, cache } = setup({ opTimeout: 60_000 });
    await cache.set('a', 1);
    chaos.setMode('hang');
    const pending = cache.get('a');
    await new Promise((r) => setTimeout(r, 20));
    await cache.close();
    expect(await pending).toBeUndefined();
    await chaos.close();
  });
});
