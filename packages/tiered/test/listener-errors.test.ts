import { CacheOptionsError, CacheService } from '@stratacache/core';
import { describe, expect, it } from 'vitest';
import { TieredCache } from '../src/index';

describe('onListenerError option', () => {
  it('a throwing listener never breaks a read: counted in stats().listenerErrors and handed to onListenerError', async () => {
    const l2 = new CacheService();
    const seen: string[] = [];
    const t = new TieredCache(l2, { onListenerError: (err, ev) => seen.push(`${(err as Error).message}/${ev.type}`) });
    t.on('hit', () => {
      throw new Error('bug');
    });
    expect(await t.getOrSet('x:y:1', () => 1)).toBe(1);
    expect(await t.getOrSet('x:y:1', () => 2)).toBe(1); // L1 hit: the listener throws, the read does not
    expect(seen).toEqual(['bug/hit']);
    expect(t.stats().listenerErrors).toBe(1);
    expect(() => new TieredCache(l2, { onListenerError: 1 as never })).toThrow(CacheOptionsError);
    await t.close();
    await l2.close();
  });
});
