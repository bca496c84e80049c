import type { Cluster, Redis } from 'ioredis';
import { expect } from 'vitest';
import { LockManager } from '@stratacache/lock';

/** The lock's behaviour on any topology: exclusive acquire, owner-only release, rising fences, using(). */
export async function expectLockWorks(client: Redis | Cluster, prefix: string): Promise<void> {
  const locks = new LockManager(client, { prefix, ttl: 5_000 });
  const a = await locks.acquire('report');
  expect(await locks.tryAcquire('report')).toBeNull();
  const b = locks.acquire('report', { retries: 50, retryDelay: 20 });
  expect(await a.release()).toBe(true);
  const held = await b;
  expect(held.fence).toBeGreaterThan(a.fence);
  expect(await held.release()).toBe(true);
  expect(await locks.using('job', async (_signal, l) => (await l.isHeld()) && 'done')).toBe('done');
  expect(await locks.isLocked('job')).toBe(false);
}
