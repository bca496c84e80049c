import { CacheAnalytics } from '@stratacache/analytics';
import { MemoryStore } from '@stratacache/core';
import { waitFor } from '@stratacache/redis-harness';
import { expect, it } from 'vitest';
import { Warmer } from '../src/index';
import { tiered } from './helpers';

it('smart warming reads CacheAnalytics top-K as it is: the most-missed hot keys are warmed, within the budget', async () => {
  const t = await tiered('sa', { memory: new MemoryStore() });
  const analytics = new CacheAnalytics({ flushInterval: 0 });
  analytics.attach(t.cache, { hits: 'events' });
  // product:get:1 missed 6×, product:get:2 missed 3×, product:get:3 read often but missed once
  const read = async (k: string, misses: number, hits: number): Promise<void> => {
    for (let i = 0; i < misses; i++) {
      await t.cache.getOrSet(k, () => 'v');
      await t.cache.invalidate({ key: k });
    }
    await t.cache.getOrSet(k, () => 'v');
    for (let i = 0; i < hits; i++) await t.cache.getOrSet(k, () => 'v');
  };
  await read('product:get:1', 6, 2);
  await read('product:get:2', 3, 2);
  await read('product:get:3', 0, 30);
  const top = analytics.topKeys(10);
  expect(top.map((k) => k.key)).toContain('sa:product:get:1');
  const loaded: string[] = [];
  const warmer = new Warmer({ cache: t.cache, smart: { source: analytics, every: 200, budgetPerMinute: 600 } });
  warmer.loader({ pattern: 'product:get:*', load: (key) => (loaded.push(key), 'warm'), ttl: '1m' });
  await warmer.start();
  await waitFor(() => loaded.length >= 2, { timeoutMs: 3_000 });
  // 600/min × 0.2 s = 2 per tick: the two most-missed keys first
  expect(loaded.slice(0, 2).sort()).toEqual(['sa:product:get:1', 'sa:product:get:2']);
  await warmer.close(1_000);
  await analytics.close();
  await t.close();
});
