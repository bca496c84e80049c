// Issue 10 through the top layer: the stampede lock inside the L2 breaker, and a Redis refusing
// connections at start. Real redis-server (SIGSTOP, a refused port). Generous slack; the exact
// ratios are printed by `pnpm bench` in packages/shard.
import { CacheService } from '@stratacache/core';
import { freePort, startStandalone, waitFor, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TieredCache } from '../src/index';
import { makeInstance, sleep, uniquePrefix } from './helpers';

const FACTORY_MS = 20;
const SLACK_MS = 40;

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

let origin = 0;
const factory = async () => {
  origin++;
  await sleep(FACTORY_MS);
  return 'v';
};

describe('Redis hung, breaker open', () => {
  let server: StandaloneRedis;
  beforeAll(async () => {
    server = await startStandalone();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a new-key miss costs the factory time: the lock is skipped at once, not waited for', async () => {
    const inst = await makeInstance(server.port, uniquePrefix('hung'), {}, { opTimeout: 200 });
    try {
      expect(await inst.tiered.getOrSet('warm', factory)).toBe('v');
      await server.pause();
      // The breaker is open (here by hand; in production its threshold or the connection opened it).
      // Nothing is in flight, so the store cannot have noticed the hang yet: isReady() is still
      // true, and only the breaker keeps the lock from waiting for its commandTimeout.
      inst.l2.breaker.trip();
      expect(inst.l2.store.isReady()).toBe(true);
      const before = origin;
      const miss = await timed(() => inst.tiered.getOrSet('new-key', factory));
      expect(miss.value).toBe('v');
      expect(origin).toBe(before + 1);
      expect(miss.ms).toBeLessThan(FACTORY_MS + SLACK_MS);
      const second = await timed(() => inst.tiered.getOrSet('new-key-2', factory));
      expect(second.ms).toBeLessThan(FACTORY_MS + SLACK_MS);
    } finally {
      await server.resume();
      await inst.close();
    }
  });

  it('the timed-out L2 read and the background write count toward the breaker (the lock is not even tried)', async () => {
    const inst = await makeInstance(server.port, uniquePrefix('count'), { l1: false }, { opTimeout: 200, breaker: { failureThreshold: 100 } });
    try {
      await inst.tiered.getOrSet('warm', factory);
      const before = inst.l2.breaker.stats().failures;
      await server.pause();
      // one deadline per read: the L2 read spends it, so the lock is skipped; the write goes on in the background
      await inst.tiered.getOrSet('new', factory);
      await waitFor(() => inst.l2.breaker.stats().failures - before >= 2, { timeoutMs: 2_000 });
    } finally {
      await server.resume();
      await inst.close();
    }
  });
});

describe('Redis refusing connections at start', () => {
  it('the first getOrSet and later misses cost the factory time', async () => {
    const port = await freePort();
    const l2 = new CacheService({ redis: `redis://127.0.0.1:${port}`, prefix: 'refused', opTimeout: 200 });
    const tiered = new TieredCache(l2);
    try {
      const first = await timed(() => tiered.getOrSet('k0', factory));
      expect(first.value).toBe('v');
      expect(first.ms).toBeLessThan(FACTORY_MS + SLACK_MS);
      await waitFor(() => l2.breaker.state === 'OPEN', { timeoutMs: 1_000 });
      for (let i = 1; i <= 10; i++) {
        const later = await timed(() => tiered.getOrSet(`k${i}`, factory));
        expect(later.ms).toBeLessThan(FACTORY_MS + SLACK_MS);
      }
    } finally {
      await tiered.close(500);
      await l2.close();
    }
  });
});
