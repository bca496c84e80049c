import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  LockError,
  LockManager,
  LockOptionsError,
  LOCK_DEFAULTS,
  Redlock,
  fenceKeyFor,
  fencedSet,
  withFenceGuard,
} from '../src/index';

// Never connects: every check below fails before a command is sent.
const client = new Redis({ lazyConnect: true, port: 1, enableOfflineQueue: false });
afterAll(() => client.disconnect());

function optionsError(fn: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(LockOptionsError);
  expect(caught).toBeInstanceOf(LockError);
  expect((caught as LockOptionsError).code).toBe('E_LOCK_OPTIONS');
  expect((caught as Error).message).toMatch(message);
}

describe('LockManager options', () => {
  it('has documented defaults', () => {
    const m = new LockManager(client);
    expect(m.options).toEqual({ ...LOCK_DEFAULTS });
    expect(m.options).toMatchObject({ prefix: 'sc:lock', ttl: 10_000, retries: 10, retryDelay: 100, jitter: 50, driftFactor: 0.01 });
    expect(m.quorum).toBe(1);
    expect(m.isRedlock).toBe(false);
    expect(m.lockKey('a')).toBe('sc:lock:{a}');
    expect(m.fenceKey('a')).toBe('sc:lock:{a}:fence');
  });

  it('rejects bad constructor options with clear messages', () => {
    optionsError(() => new LockManager(undefined as never), /must be an ioredis Redis or Cluster instance, got undefined/);
    optionsError(() => new LockManager([] as never), /must not be an empty array/);
    optionsError(() => new LockManager([client, {}] as never), /clients\[1\] must be an ioredis/);
    optionsError(() => new LockManager([client, client]), /same client appears twice/);
    optionsError(() => new LockManager(client, { ttl: 0 }), /ttl must be a positive integer number of milliseconds.*got 0/);
    optionsError(() => new LockManager(client, { ttl: 1.5 }), /ttl must be a positive integer/);
    optionsError(() => new LockManager(client, { ttl: 'soon' }), /got "soon"/);
    optionsError(() => new LockManager(client, { retries: -1 }), /retries must be a non-negative integer or Infinity/);
    optionsError(() => new LockManager(client, { retryDelay: -5 }), /retryDelay must be a finite number >= 0/);
    optionsError(() => new LockManager(client, { jitter: Number.NaN }), /jitter must be a finite number >= 0/);
    optionsError(() => new LockManager(client, { prefix: '' }), /prefix must be a non-empty string/);
    optionsError(() => new LockManager(client, { driftFactor: 1 }), /driftFactor must be a number in \[0, 1\)/);
    optionsError(() => new LockManager(client, { commandTimeout: 0 }), /commandTimeout must be a positive number/);
    optionsError(() => new LockManager(client, { fencing: 'yes' as never }), /fencing must be a boolean/);
    optionsError(() => new LockManager(client, 'x' as never), /options must be an object/);
    optionsError(() => new Redlock([client]), /at least 2 independent masters/);
  });

  it('rejects bad per-call arguments before touching Redis', async () => {
    const m = new LockManager(client);
    await expect(m.acquire('')).rejects.toThrow(/LockManager.acquire: resource must be a non-empty string, got ""/);
    await expect(m.acquire(42 as never)).rejects.toThrow(LockOptionsError);
    await expect(m.acquire('x'.repeat(5000))).rejects.toThrow(/at most 4096 characters/);
    await expect(m.acquire('r', { ttl: -1 })).rejects.toThrow(/LockManager.acquire: ttl must be a positive integer/);
    await expect(m.acquire('r', { signal: {} as never })).rejects.toThrow(/signal must be an AbortSignal/);
    await expect(m.tryAcquire('r', { ttl: 2 ** 40 })).rejects.toThrow(/ttl must be a positive integer/);
    await expect(m.using('r', 'nope' as never)).rejects.toThrow(/fn must be a function/);
    await expect(m.using('r', async () => 1, { ttl: 300, extendInterval: 300 })).rejects.toThrow(
      /extendInterval must be a positive integer number of ms smaller than ttl \(300\)/,
    );
    await expect(fencedSet(client, '', 'v', 1)).rejects.toThrow(/key must be a non-empty string/);
    await expect(fencedSet(client, 'k', 'v', -1)).rejects.toThrow(/fence must be a non-negative integer/);
    await expect(fencedSet(client, 'k', 'v', 1, { px: 1.5 })).rejects.toThrow(/px must be a non-negative integer/);
    optionsError(() => withFenceGuard(''), /body must be a non-empty Lua string/);
  });

  it('derives Cluster-safe fence keys', () => {
    expect(fenceKeyFor('orders:1')).toBe('{orders:1}:fence');
    expect(fenceKeyFor('user:{42}:profile')).toBe('user:{42}:profile:fence');
    optionsError(() => fenceKeyFor('a{}b'), /pass opts.fenceKey/);
    optionsError(() => fenceKeyFor('a}b'), /pass opts.fenceKey/);
  });
});
