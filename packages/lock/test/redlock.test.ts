import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockAcquireError, LockManager, LockQuorumError, Redlock } from '../src/index';
import { client, delay } from './helpers';

let servers: StandaloneRedis[] = [];
let clients: Redis[] = [];
let redlock: Redlock;

beforeAll(async () => {
  servers = await Promise.all([startStandalone(), startStandalone(), startStandalone()]);
  clients = servers.map((s) => client(s.port));
  redlock = new Redlock(clients, { prefix: 'rl', commandTimeout: 300, retryDelay: 20, jitter: 10 });
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await Promise.all(servers.map((s) => s.close()));
});

describe('Redlock over 3 independent masters', () => {
  it('locks on every master with the same token; quorum is 2', async () => {
    expect(redlock.isRedlock).toBe(true);
    expect(redlock.quorum).toBe(2);
    const lock = await redlock.acquire('a', { ttl: 5_000 });
    expect(lock.fence).toBe(1);
    for (const c of clients) expect(await c.get('rl:{a}')).toBe(lock.token);
    expect(await lock.isHeld()).toBe(true);
    expect(await redlock.isLocked('a')).toBe(true);
    expect(await redlock.tryAcquire('a')).toBeNull();
    expect(await lock.extend(8_000)).toBe(true);
    for (const c of clients) expect(await c.pttl('rl:{a}')).toBeGreaterThan(5_000);
    expect(await lock.release()).toBe(true);
    for (const c of clients) expect(await c.exists('rl:{a}')).toBe(0);
  });

  it('a split vote is not a lock: the loser releases what it got', async () => {
    // Another owner holds the resource on two masters; we can only win one.
    await clients[0]?.set('rl:{split}', 'someone-else', 'PX', 10_000);
    await clients[1]?.set('rl:{split}', 'someone-else', 'PX', 10_000);
    expect(await redlock.tryAcquire('split')).toBeNull();
    expect(await clients[2]?.exists('rl:{split}')).toBe(0);
    const err = await redlock.acquire('split', { retries: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockAcquireError);
    expect(err).not.toBeInstanceOf(LockQuorumError);
    await clients[0]?.del('rl:{split}');
    await clients[1]?.del('rl:{split}');
  });

  it('mutual exclusion between two Redlock managers', async () => {
    const other = new LockManager(clients, { prefix: 'rl', commandTimeout: 300 });
    let inside = 0;
    let max = 0;
    const fences: number[] = [];
    const worker = (m: LockManager) =>
      m.using(
        'mutex',
        async (_s, lock) => {
          inside++;
          max = Math.max(max, inside);
          fences.push(lock.fence);
          await delay(10);
          inside--;
        },
        { retries: 500, retryDelay: 10, jitter: 20 },
      );
    await Promise.all([worker(redlock), worker(other), worker(redlock), worker(other), worker(redlock), worker(other)]);
    expect(max).toBe(1);
    expect(fences).toEqual([...fences].sort((a, b) => a - b));
    expect(new Set(fences).size).toBe(fences.length);
  });

  let lastFence = 0;
  it('the fence is the max over the quorum and stays monotonic when masters disagree', async () => {
    // Masters 0 and 1 have seen many holders, master 2 almost none: every quorum (2 of 3)
    // contains master 0 or 1, so the quorum max is 101.
    await clients[0]?.set('rl:{f}:fence', '100');
    await clients[1]?.set('rl:{f}:fence', '100');
    const first = await redlock.acquire('f');
    try {
      expect(first.fence).toBe(101);
      // The granting masters were lifted to the quorum max, so a later quorum always goes up.
      const counters = await Promise.all(clients.map((c) => c.get('rl:{f}:fence')));
      expect(counters.filter((v) => v === '101').length).toBeGreaterThanOrEqual(2);
      lastFence = first.fence;
    } finally {
      await first.release();
    }
  });

  it('a minority down (1 of 3) still grants locks with increasing fences', async () => {
    await servers[0]?.kill();
    const lock = await redlock.acquire('f', { ttl: 5_000 });
    try {
      expect(lock.fence).toBeGreaterThan(lastFence);
      lastFence = lock.fence;
      expect(await lock.isHeld()).toBe(true);
      expect(await lock.extend(5_000)).toBe(true);
      expect(await redlock.tryAcquire('f')).toBeNull();
    } finally {
      expect(await lock.release()).toBe(true);
    }
  });

  it('a majority down (2 of 3) refuses locks with LockQuorumError', async () => {
    await servers[1]?.kill();
    const err = await redlock.acquire('f', { retries: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockQuorumError);
    expect(err).toBeInstanceOf(LockAcquireError);
    expect(err).toMatchObject({ code: 'E_LOCK_QUORUM', quorum: 2, reachable: 1, attempts: 3, resource: 'f' });
    expect((err as Error).message).toMatch(/1 master\(s\) answered, 2 needed/);
    await expect(redlock.tryAcquire('f')).rejects.toBeInstanceOf(LockQuorumError);
    // The surviving master holds no leftover lock.
    expect(await clients[2]?.exists('rl:{f}')).toBe(0);
  });

  it('grants again once a majority is back', async () => {
    await servers[1]?.restart();
    const lock = await redlock.acquire('f', { retries: 50 });
    // Master 1 restarted empty (no persistence): its counter restarts, yet the quorum max still rises.
    expect(lock.fence).toBeGreaterThan(lastFence);
    await lock.release();
  });
});
