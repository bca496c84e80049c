// A whole read settles within opTimeout (CacheService.boundedReads), its tag barriers included: the
// tag-barrier round trip only gets what is left of the read's opTimeout. Real redis-server from the
// harness; the server is slowed with CLIENT PAUSE (a real pause of the real server), issued by a
// store wrapper just before the call it should delay — the Redis client itself is never mocked.
import { describe, expect, it } from 'vitest';
import { CacheService, RedisStore } from '../src/index';
import { pausableServer, slowed } from './slowed-store';

const env = pausableServer();

describe('bounded reads', () => {
  it('a tagged entry whose tag barriers hang after a slow GET: readEntry is unknown within opTimeout, not GET + opTimeout', async () => {
    const OP = 300;
    const store = new RedisStore(env.server.url);
    const plan = { getMs: 0, tagsMs: 0 };
    const cache = new CacheService({ store: slowed(store, env.admin, plan), prefix: 'br', opTimeout: OP, barrierCacheMs: 0 });
    try {
      expect(cache.boundedReads).toBe(true);
      await cache.set('plain', 'v', { ttl: '1m', tags: ['t1'] });
      expect((await cache.readEntry('plain')).status).toBe('hit');
      // the GET answers after ~200 ms (inside opTimeout), then the tag barriers hang for 1.5 s
      plan.getMs = 200;
      plan.tagsMs = 1_500;
      const t0 = performance.now();
      const r = await cache.readEntry('plain');
      const ms = performance.now() - t0;
      expect(r.status).toBe('unknown');
      // bounded by opTimeout from the read's start (+ timer and loaded-machine slack); GET + a full opTimeout would be ≥ 500 ms
      expect(ms).toBeGreaterThanOrEqual(OP - 5);
      expect(ms).toBeLessThan(OP + 150);
    } finally {
      await new Promise((r) => setTimeout(r, 1_600)); // the pause ends
      await cache.close();
      await store.close();
    }
  }, 20_000);

  it('the tag barriers answering in time: the read is a hit as before', async () => {
    const store = new RedisStore(env.server.url);
    const cache = new CacheService({ store, prefix: 'br2', opTimeout: 300, barrierCacheMs: 0 });
    try {
      await cache.set('k', { a: 1 }, { ttl: '1m', tags: ['x', 'y'] });
      const r = await cache.readEntry<{ a: number }>('k');
      expect(r.status).toBe('hit');
      expect(r.status === 'hit' ? r.entry.value : undefined).toEqual({ a: 1 });
      await cache.invalidateTag('y');
      expect((await cache.readEntry('k')).status).toBe('miss');
    } finally {
      await cache.close();
      await store.close();
    }
  });
});
