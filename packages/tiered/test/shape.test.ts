// Issue 11, tiered side: one shape across layers. Tiered's Factory / FactoryContext / GetOrSetOptions
// extend core's; results are core's; the TTL and namespace of a key are read exactly as core reads them.
import { CacheService } from '@stratacache/core';
import type { Factory as CoreFactory, GetOrSetOptions as CoreGetOrSetOptions, SetResult } from '@stratacache/core';
import { describe, expect, it } from 'vitest';
import { TieredCache } from '../src/index';
import type { TieredEvent } from '../src/index';

function make(l2opts: ConstructorParameters<typeof CacheService>[0] = {}): { t: TieredCache; l2: CacheService; close(): Promise<void> } {
  const l2 = new CacheService({ prefix: 'shape', ...l2opts });
  const t = new TieredCache(l2, { bus: false });
  return {
    t,
    l2,
    async close() {
      await t.close();
      await l2.close();
    },
  };
}

describe('one shape across layers', () => {
  it('a core factory and core options work on TieredCache as they are; the context carries the key', async () => {
    const { t, l2, close } = make();
    try {
      const seen: string[] = [];
      const coreFactory: CoreFactory<string> = (ctx) => {
        seen.push(ctx.key);
        ctx.setTtl('1m');
        return 'v';
      };
      const opts: CoreGetOrSetOptions = { ttl: '2m', tags: ['a'] };
      expect(await t.getOrSet('user:get:1', coreFactory, opts)).toBe('v');
      expect(await l2.getOrSet('user:get:2', coreFactory, opts)).toBe('v');
      expect(seen).toEqual(['shape:user:get:1', 'shape:user:get:2']);
      const r: SetResult = await t.set('user:get:3', 'x', { ttl: '1m' });
      expect(r).toEqual({ ok: true });
    } finally {
      await close();
    }
  });

  it('the TTL of a key comes from core\'s TTL policy, entity / operation unescaped as core reads them', async () => {
    const { t, l2, close } = make({ defaultTtl: '7m', ttl: { rules: [{ entity: 'a:b', ttl: '3s' }] } });
    try {
      const k = l2.keys.build('a:b', 'get', '1'); // the entity is escaped in the key
      await t.set(k, 'x');
      const r = await l2.readEntry(k);
      expect(r.status).toBe('hit');
      if (r.status === 'hit') expect(r.entry.expiresAt - r.entry.createdAt).toBeLessThan(3_500);
      await t.set('plain:get:1', 'y');
      const d = await l2.readEntry('plain:get:1');
      if (d.status === 'hit') expect(d.entry.expiresAt - d.entry.createdAt).toBeGreaterThan(6 * 60_000);
      // events name the namespace as core does
      const events: TieredEvent[] = [];
      t.on('set', (e) => events.push(e));
      await t.set(k, 'z');
      expect(events[0]?.entity).toBe('a:b');
      expect(events[0]?.operation).toBe('get');
    } finally {
      await close();
    }
  });

  it('there is no l2 option (the CacheService is the first argument)', () => {
    const l2 = new CacheService({ prefix: 'shape' });
    expect(() => new TieredCache(l2, { l2 } as never)).toThrow(/first argument/);
    void l2.close();
  });

  it('a per-call failSafeThrottle is honoured', async () => {
    const { t, close } = make();
    try {
      await t.set('k:get:1', 'old', { ttl: 30, grace: '1m' });
      await new Promise((r) => setTimeout(r, 50));
      let calls = 0;
      const failing = (): never => {
        calls++;
        throw new Error('origin down');
      };
      expect(await t.getOrSet('k:get:1', failing, { softTimeout: 100, failSafeThrottle: 0 })).toBe('old');
      expect(await t.getOrSet('k:get:1', failing, { softTimeout: 100, failSafeThrottle: 0 })).toBe('old');
      expect(calls).toBe(2); // 0 = the origin is asked on every read
    } finally {
      await close();
    }
  });
});
