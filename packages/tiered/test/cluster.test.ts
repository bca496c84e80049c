import { CacheService, RedisStore } from '@stratacache/core';
import { startCluster, waitFor } from '@stratacache/redis-harness';
import type { RedisCluster } from '@stratacache/redis-harness';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TieredCache } from '../src/index';
import { makeClusterInstance, uniquePrefix } from './helpers';

let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startCluster({ masters: 3 });
}, 120_000);
afterAll(async () => {
  await cluster?.close();
});

const instance = (prefix: string) => makeClusterInstance(cluster.startupNodes, prefix);

describe('on a Redis Cluster (3 masters)', () => {
  it('L1/L2 flow, bus invalidation (key, tag, namespace, pattern) and the cross-instance stampede guard', async () => {
    const prefix = uniquePrefix('cl');
    const a = await instance(prefix);
    const b = await instance(prefix);
    try {
      let calls = 0;
      const f = async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 100));
        return `v${calls}`;
      };
      const [va, vb] = await Promise.all([
        Promise.all(Array.from({ length: 50 }, () => a.tiered.getOrSet('user:get:1', f))),
        Promise.all(Array.from({ length: 50 }, () => b.tiered.getOrSet('user:get:1', f))),
      ]);
      expect(calls).toBe(1);
      expect(new Set([...va, ...vb])).toEqual(new Set(['v1']));

      for (let i = 0; i < 20; i++) await b.tiered.set(`item:get:${i}`, i, { tags: [`t${i % 2}`] });
      await a.tiered.delete('user:get:1');
      await waitFor(() => !b.tiered.hasInL1('user:get:1'), { timeoutMs: 5_000 });
      await a.tiered.invalidateTag('t0');
      await waitFor(() => !b.tiered.hasInL1('item:get:0'), { timeoutMs: 5_000 });
      expect(b.tiered.hasInL1('item:get:1')).toBe(true);
      expect(await b.tiered.get('item:get:2')).toBeUndefined();
      expect(await b.tiered.get('item:get:3')).toBe(3);
      await a.tiered.invalidatePattern('item:get:1*');
      await waitFor(() => !b.tiered.hasInL1('item:get:11'), { timeoutMs: 5_000 });
      expect(await b.tiered.get('item:get:11')).toBeUndefined();
      await a.tiered.invalidateNamespace('item');
      await waitFor(() => b.tiered.stats().l1.size === 0, { timeoutMs: 5_000 });
      expect(await b.tiered.get('item:get:3')).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);
});
