import { CacheService, MemoryStore } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
import { describe, expect, it } from 'vitest';
import { CacheAnalytics } from '../src/index';

describe('circuits are known from attach, not only after a transition', () => {
  it('a CacheService and a TieredCache report their breaker state (CLOSED) before any state change', async () => {
    const store = new MemoryStore();
    const analytics = new CacheAnalytics({ store, flushInterval: 0 });
    const svc = new CacheService({ store, prefix: 'a' });
    const l2 = new CacheService({ store, prefix: 'b' });
    const t = new TieredCache(l2, { bus: false });
    analytics.attach(svc, { tenant: 'one' });
    analytics.attach(t, { tenant: 'two' });
    const circuits = (await analytics.overview()).circuits;
    expect(circuits).toMatchObject({ one: 'CLOSED', two: 'CLOSED' });
    // a transition still updates it
    svc.breaker.trip();
    expect((await analytics.overview()).circuits['one']).toBe('OPEN');
    await analytics.close();
    await t.close();
    await Promise.all([svc.close(), l2.close()]);
    await store.close();
  });
});
