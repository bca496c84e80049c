// One deadline per read through the top layer, with the read's own timer gone: on core (whose
// readEntry / readOrLock settle within opTimeout: `boundedReads`) TieredCache sets up no race for a
// read's first call. A tagged entry whose GET is slow and whose tag barriers then hang still costs
// the reader opTimeout, not GET + opTimeout. Real redis-server paused with CLIENT PAUSE; never mocked.
import { CacheService, RedisStore } from '@stratacache/core';
import { describe, expect, it } from 'vitest';
import { TieredCache } from '../src/index';
import { pausableServer, slowed } from '../../core/test/slowed-store';

const env = pausableServer();

describe('bounded read through TieredCache', () => {
  it('get and getOrSet of a tagged entry: a slow GET then hung tag barriers cost opTimeout in all', async () => {
    const OP = 300;
    const store = new RedisStore(env.server.url);
    const plan = { getMs: 0, tagsMs: 0 };
    const l2 = new CacheService({ store: slowed(store, env.admin, plan), prefix: 'tbr', opTimeout: OP, barrierCacheMs: 0 });
    const tiered = new TieredCache(l2, { l1: false, bus: false });
    try {
      await tiered.set('doc:1', 'v1', { ttl: '1m', tags: ['d'] });
      expect(await tiered.get('doc:1')).toBe('v1');
      plan.getMs = 200;
      plan.tagsMs = 1_500;
      let t0 = performance.now();
      expect(await tiered.get('doc:1')).toBeUndefined(); // L2 could not answer in time: no value
      let ms = performance.now() - t0;
      expect(ms).toBeGreaterThanOrEqual(OP - 5);
      expect(ms).toBeLessThan(OP + 150);
      await new Promise((r) => setTimeout(r, 1_600)); // the pause ends
      // getOrSet: the read is unknown at opTimeout; the factory's time does not count
      plan.getMs = 200;
      plan.tagsMs = 1_500;
      t0 = performance.now();
      expect(await tiered.getOrSet('doc:1', () => 'fresh', { ttl: '1m' })).toBe('fresh');
      ms = performance.now() - t0;
      expect(ms).toBeLessThan(OP + 150);
    } finally {
      await new Promise((r) => setTimeout(r, 1_600));
      await tiered.close();
      await l2.close();
      await store.close();
    }
  }, 20_000);
});
