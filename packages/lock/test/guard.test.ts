// The lock inside the breaker (issue 10): a guard (a CircuitBreaker's low-level API) gates every
// lock round trip. Real redis-server; SIGSTOP for a hung server.
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockAcquireError, LockManager, LockOptionsError, LockUnavailableError, type LockGuard } from '../src/index';
import { client } from './helpers';

/** A minimal breaker-shaped guard: open/closed by hand, records what it was told. */
class RecordingGuard implements LockGuard {
  open = false;
  asked = 0;
  successes = 0;
  failures: unknown[] = [];
  tryAcquire(): boolean {
    this.asked++;
    return !this.open;
  }
  onSuccess(): void {
    this.successes++;
  }
  onFailure(error?: unknown): void {
    this.failures.push(error);
  }
}

let server: StandaloneRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startStandalone();
  redis = client(server.port);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.close();
});

describe('LockManager guard', () => {
  it('with the guard closed, locks work and every round trip reports a success', async () => {
    const guard = new RecordingGuard();
    const locks = new LockManager(redis, { prefix: 'g1', guard, fencing: false });
    const lock = await locks.acquire('r');
    expect(await lock.extend(5_000)).toBe(true);
    expect(await lock.release()).toBe(true);
    expect(guard.asked).toBe(3);
    expect(guard.successes).toBe(3);
    expect(guard.failures).toEqual([]);
  });

  it('with the guard open, acquire fails at once without asking Redis and without retry waits', async () => {
    const guard = new RecordingGuard();
    guard.open = true;
    const locks = new LockManager(redis, { prefix: 'g2', guard, retries: 10, retryDelay: 100 });
    const t0 = performance.now();
    const err = await locks.acquire('r').catch((e: unknown) => e);
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(LockAcquireError);
    expect((err as LockAcquireError).cause).toBeInstanceOf(LockUnavailableError);
    expect((err as LockAcquireError & { cause: LockUnavailableError }).cause.code).toBe('E_LOCK_UNAVAILABLE');
    expect(ms).toBeLessThan(20);
    expect(guard.asked).toBe(1);
    await expect(locks.tryAcquire('r')).rejects.toBeInstanceOf(LockAcquireError);
    expect(await redis.exists('g2:{r}')).toBe(0);
  });

  it('a hung Redis (SIGSTOP): the failed round trip is reported to the guard; once open, no wait at all', async () => {
    const guard = new RecordingGuard();
    const locks = new LockManager(redis, { prefix: 'g3', guard, retries: 0, commandTimeout: 100 });
    await redis.ping();
    server.pause();
    try {
      const t0 = performance.now();
      await expect(locks.tryAcquire('r')).rejects.toBeInstanceOf(LockAcquireError);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(95); // commandTimeout
      expect(guard.failures).toHaveLength(1);
      expect(guard.successes).toBe(0);
      guard.open = true; // the breaker opened (its threshold, or the connection went down)
      const t1 = performance.now();
      await expect(locks.tryAcquire('r')).rejects.toBeInstanceOf(LockAcquireError);
      expect(performance.now() - t1).toBeLessThan(10);
      expect(guard.failures).toHaveLength(1); // a refused call is not a second failure
    } finally {
      server.resume();
    }
    guard.open = false;
    const lock = await locks.acquire('r');
    await lock.release();
    expect(guard.successes).toBeGreaterThanOrEqual(2);
  });

  it('validates the guard', () => {
    expect(() => new LockManager(redis, { guard: {} as never })).toThrow(LockOptionsError);
    expect(() => new LockManager(redis, { guard: { tryAcquire: () => true } as never })).toThrow(/guard must have tryAcquire/);
  });
});
