import { startStandalone, waitFor, type StandaloneRedis } from '@stratacache/redis-harness';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LockAcquireError,
  LockLostError,
  LockManager,
  fenceKeyFor,
  fencedSet,
  isStaleFenceError,
  withFenceGuard,
  type Lock,
} from '../src/index';
import { client, delay } from './helpers';

let server: StandaloneRedis;
let redis: Redis;
let other: Redis;
let locks: LockManager;
let seq = 0;
const res = (name: string): string => `${name}-${++seq}`;

beforeAll(async () => {
  server = await startStandalone();
  redis = client(server.port);
  other = client(server.port);
  locks = new LockManager(redis, { prefix: 't', retryDelay: 20, jitter: 10 });
});

afterAll(async () => {
  redis?.disconnect();
  other?.disconnect();
  await server?.close();
});

describe('acquire / release', () => {
  it('acquires with a random token and a fence, releases once', async () => {
    const r = res('basic');
    const lock = await locks.acquire(r, { ttl: 5_000 });
    expect(lock.resource).toBe(r);
    expect(lock.token).toMatch(/^[0-9a-f]{32}$/);
    expect(lock.fence).toBe(1);
    expect(lock.expiresAt).toBeGreaterThan(Date.now());
    expect(lock.expiresAt).toBeLessThanOrEqual(Date.now() + 5_000);
    expect(await other.get(`t:{${r}}`)).toBe(lock.token);
    const pttl = await other.pttl(`t:{${r}}`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(5_000);
    expect(await lock.isHeld()).toBe(true);
    expect(await locks.isLocked(r)).toBe(true);
    expect(JSON.stringify(lock)).not.toContain(lock.token);

    expect(await lock.release()).toBe(true);
    expect(await lock.release()).toBe(false);
    expect(await lock.isHeld()).toBe(false);
    expect(await locks.isLocked(r)).toBe(false);
    expect(await lock.extend(1_000)).toBe(false);
    expect(await other.exists(`t:{${r}}`)).toBe(0);

    const next = await locks.acquire(r);
    expect(next.fence).toBe(2);
    expect(next.token).not.toBe(lock.token);
    await next.release();
  });

  it('tryAcquire returns null while held; acquire gives up with LockAcquireError after retries', async () => {
    const r = res('busy');
    const holder = await locks.acquire(r);
    expect(await locks.tryAcquire(r)).toBeNull();
    const err = await locks.acquire(r, { retries: 2, retryDelay: 5, jitter: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockAcquireError);
    expect(err).toMatchObject({ code: 'E_LOCK_ACQUIRE', attempts: 3, resource: r });
    expect((err as Error).message).toContain('after 3 attempt(s)');
    expect(await holder.release()).toBe(true);
    const later = await locks.tryAcquire(r);
    expect(later).not.toBeNull();
    await later?.release();
  });

  it('supports a backoff function for retryDelay', async () => {
    const r = res('backoff');
    const holder = await locks.acquire(r);
    const seen: number[] = [];
    await expect(
      locks.acquire(r, { retries: 3, jitter: 0, retryDelay: (n) => (seen.push(n), 2 ** n) }),
    ).rejects.toBeInstanceOf(LockAcquireError);
    expect(seen).toEqual([1, 2, 3]);
    await holder.release();
  });

  it('expires after its ttl so another holder can take it', async () => {
    const r = res('expiry');
    const first = await locks.acquire(r, { ttl: 300 });
    expect(await locks.tryAcquire(r)).toBeNull();
    const second = await locks.acquire(r, { retries: 200, retryDelay: 25, jitter: 0 });
    expect(second.fence).toBeGreaterThan(first.fence);
    expect(await first.isHeld()).toBe(false);
    expect(await second.isHeld()).toBe(true);
    await second.release();
  });

  it('only the owner can release or extend', async () => {
    const r = res('owner');
    const stale = await locks.acquire(r, { ttl: 200 });
    await waitFor(async () => (await other.exists(`t:{${r}}`)) === 0, { timeoutMs: 10_000, intervalMs: 20 });
    const owner = await locks.acquire(r, { ttl: 10_000 });
    expect(await stale.extend(10_000)).toBe(false);
    expect(await stale.release()).toBe(false);
    expect(await other.get(`t:{${r}}`)).toBe(owner.token);
    expect(await owner.extend(20_000)).toBe(true);
    expect(await other.pttl(`t:{${r}}`)).toBeGreaterThan(10_000);
    expect(owner.expiresAt).toBeGreaterThan(Date.now() + 10_000);
    // Another manager on another connection sees the lock as held.
    const foreign = new LockManager(other, { prefix: 't' });
    expect(await foreign.tryAcquire(r)).toBeNull();
    expect(await owner.release()).toBe(true);
  });

  it('fencing: false draws no fence and creates no counter key', async () => {
    const r = res('nofence');
    const lock = await locks.acquire(r, { fencing: false });
    expect(lock.fence).toBe(0);
    expect(await other.exists(`t:{${r}}:fence`)).toBe(0);
    await lock.release();
  });

  it('an aborted signal stops waiting with its reason', async () => {
    const r = res('abort');
    const holder = await locks.acquire(r);
    const ac = new AbortController();
    const pending = locks.acquire(r, { retries: Infinity, retryDelay: 20, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('gave up waiting')), 100);
    await expect(pending).rejects.toThrow('gave up waiting');

    const ac2 = new AbortController();
    ac2.abort();
    const err = await locks.acquire(r, { signal: ac2.signal }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    await holder.release();
  });
});

describe('using', () => {
  it('auto-extends past the ttl while fn runs, then releases', async () => {
    const r = res('using-long');
    let held: Lock | undefined;
    const result = await locks.using(
      r,
      async (signal, lock) => {
        held = lock;
        const until = Date.now() + 3_000; // well past the 1 200 ms ttl
        while (Date.now() < until) {
          expect(await locks.tryAcquire(r)).toBeNull();
          expect(signal.aborted).toBe(false);
          await delay(100);
        }
        return 'done';
      },
      { ttl: 1_200 },
    );
    expect(result).toBe('done');
    expect(held).toBeDefined();
    expect(await other.exists(`t:{${r}}`)).toBe(0);
  });

  it('propagates fn errors and still releases', async () => {
    const r = res('using-throw');
    await expect(locks.using(r, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await other.exists(`t:{${r}}`)).toBe(0);
  });

  it('aborts fn through its signal and rejects with LockLostError when the lock is lost', async () => {
    const r = res('using-lost');
    let sawAbort: unknown;
    const run = locks.using(
      r,
      async (signal) => {
        await other.del(`t:{${r}}`); // pulled from behind its back
        await new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            sawAbort = signal.reason;
            resolve();
          });
        });
        return 'finished anyway';
      },
      { ttl: 600 },
    );
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockLostError);
    expect(err).toMatchObject({ code: 'E_LOCK_LOST', resource: r });
    expect(sawAbort).toBe(err);
  });

  it('with autoExtend off, the lock is reported lost when its ttl runs out', async () => {
    const r = res('using-noextend');
    const err = await locks
      .using(r, (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))), {
        ttl: 300,
        autoExtend: false,
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockLostError);
    expect((err as Error).message).toMatch(/expired after its ttl of 300 ms/);
  });

  it('aborting opts.signal aborts fn; a held resource rejects with LockAcquireError', async () => {
    const r = res('using-outer');
    const ac = new AbortController();
    const run = locks.using(
      r,
      (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      { signal: ac.signal },
    );
    await waitFor(async () => (await other.exists(`t:{${r}}`)) === 1, { timeoutMs: 10_000, intervalMs: 10 });
    await expect(locks.using(r, async () => 'never', { retries: 0 })).rejects.toBeInstanceOf(LockAcquireError);
    ac.abort(new Error('caller gave up'));
    await expect(run).rejects.toThrow('caller gave up');
    expect(await other.exists(`t:{${r}}`)).toBe(0);
  });

  it('mutual exclusion between concurrent users in one process', async () => {
    const r = res('using-mutex');
    let inside = 0;
    let max = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, () =>
        locks.using(
          r,
          async (_signal, lock) => {
            inside++;
            max = Math.max(max, inside);
            order.push(lock.fence);
            await delay(15);
            inside--;
          },
          { retries: 500, retryDelay: 10 },
        ),
      ),
    );
    expect(max).toBe(1);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});

describe('fencing helpers', () => {
  it('fencedSet accepts equal or newer fences and refuses older ones', async () => {
    const key = res('protected');
    expect(await fencedSet(redis, key, 'a', 5)).toBe(true);
    expect(await fencedSet(redis, key, 'b', 5)).toBe(true);
    expect(await fencedSet(redis, key, 'c', 7, { px: 60_000 })).toBe(true);
    expect(await fencedSet(redis, key, 'late', 6)).toBe(false);
    expect(await other.get(key)).toBe('c');
    expect(await other.get(fenceKeyFor(key))).toBe('7');
    expect(await other.pttl(key)).toBeGreaterThan(0);
  });

  it('withFenceGuard protects a user script', async () => {
    const key = res('order');
    const lua = withFenceGuard("return redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])");
    const fenceKey = fenceKeyFor(key);
    expect(await redis.eval(lua, 2, fenceKey, key, 3, 'status', 'paid')).toBe(1);
    const err = await redis.eval(lua, 2, fenceKey, key, 2, 'status', 'refunded').catch((e: unknown) => e);
    expect(isStaleFenceError(err)).toBe(true);
    expect(await other.hget(key, 'status')).toBe('paid');
  });

  it('a lock fence guards the protected write end to end', async () => {
    const r = res('e2e');
    const a = await locks.acquire(r, { ttl: 200 });
    await waitFor(async () => (await other.exists(`t:{${r}}`)) === 0, { timeoutMs: 10_000, intervalMs: 20 });
    const b = await locks.acquire(r);
    expect(await fencedSet(redis, `data:${r}`, 'from-b', b.fence)).toBe(true);
    expect(await fencedSet(redis, `data:${r}`, 'from-a', a.fence)).toBe(false);
    expect(await other.get(`data:${r}`)).toBe('from-b');
    await b.release();
  });
});

describe('Redis unreachable', () => {
  it('acquire fails with LockAcquireError carrying the transport error, bounded by commandTimeout', async () => {
    const dead = client(1, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const m = new LockManager(dead, { commandTimeout: 300, retries: 1, retryDelay: 10 });
    const err = await m.acquire('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockAcquireError);
    expect((err as LockAcquireError).attempts).toBe(2);
    expect((err as Error).message).toMatch(/Redis did not answer/);
    expect((err as Error).cause).toBeInstanceOf(Error);
    dead.disconnect();
  });

  it('a paused server costs at most commandTimeout per attempt', async () => {
    const s = await startStandalone();
    const c = client(s.port);
    try {
      const m = new LockManager(c, { commandTimeout: 250, retries: 0 });
      await c.ping();
      s.pause();
      const err = await m.acquire('paused').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockAcquireError);
      expect((err as Error).message).toMatch(/timed out after 250 ms/);
    } finally {
      s.resume();
      c.disconnect();
      await s.close();
    }
  });
});
