// A read's first L2 call starts directly on an L2 that bounds its reads (`boundedReads`): an
// unexpected failure of that call (a rejection, not a store outage — core answers those itself) is
// still reported once and read as `unknown`, as through the budget's race: `get` / `has` answer a
// miss, `getOrSet` runs the factory, nothing rejects. Embedded store and a real redis-server.
import { CacheService, MemoryStore, RedisStore, type LockClaim, type LockedReadResult, type ReadResult } from '@stratacache/core';
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TieredCache } from '../src/index';

/** A CacheService whose reads of keys holding `bad` fail unexpectedly (a bug, not an outage). */
class FailingReads extends CacheService {
  override readEntry<T = unknown>(key: string): Promise<ReadResult<T>> {
    return key.includes('bad') ? Promise.reject(new Error('read bug')) : super.readEntry<T>(key);
  }

  override readOrLock<T = unknown>(key: string, claim: LockClaim, force = false): Promise<LockedReadResult<T>> {
    return key.includes('bad') ? Promise.reject(new Error('read-or-lock bug')) : super.readOrLock<T>(key, claim, force);
  }
}

describe('an unexpected failure of the first L2 call', () => {
  let server: StandaloneRedis;
  beforeAll(async () => {
    server = await startStandalone();
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(['embedded', 'redis'] as const)('%s: get / has answer a miss, getOrSet runs the factory (cold: fused read-or-lock; warm: plain read), each failed call reported once', async (kind) => {
    const store = kind === 'redis' ? new RedisStore(server.url) : new MemoryStore();
    const l2 = new FailingReads({ store, prefix: `rf${kind}` });
    const t = new TieredCache(l2, { l1: false, bus: false });
    const errors: string[] = [];
    t.on('error', (ev) => errors.push(`${ev.key}:${(ev as { kind?: string }).kind}`));
    try {
      await t.ready();
      expect(l2.boundedReads).toBe(true); // the direct first call is the path under test
      // a cold cache: the first read of a miss is the fused read-or-lock (where the store has it)
      expect(await t.getOrSet('x:bad:1', () => 'v1')).toBe('v1');
      // warm it with hits: the first read is then core's plain read
      await t.set('x:ok:1', 'ok');
      for (let i = 0; i < 40; i++) expect(await t.getOrSet('x:ok:1', () => 'no')).toBe('ok');
      expect(await t.getOrSet('x:bad:2', () => 'v2')).toBe('v2');
      expect(await t.get('x:bad:3')).toBeUndefined();
      expect(await t.has('x:bad:4')).toBe(false);
      // x:bad:2 twice: its plain read failed, and the read-or-lock that a miss asks next failed too
      expect(errors).toEqual([`rf${kind}:x:bad:1:l2.get`, `rf${kind}:x:bad:2:l2.get`, `rf${kind}:x:bad:2:l2.get`, `rf${kind}:x:bad:3:l2.get`, `rf${kind}:x:bad:4:l2.get`]);
      expect(t.stats().errors).toBe(5);
    } finally {
      await t.close();
      await l2.close();
      await store.close();
    }
  });
});
