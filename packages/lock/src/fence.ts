import { LockOptionsError } from './errors';
import { FENCE_GUARD_LUA, withCommands, type RedisLike } from './scripts';
import { describe } from './util';

/**
 * The key that records the last fence seen by a protected resource `key`. It always lands in the
 * same Redis Cluster slot as `key`:
 * - `key` has a hash tag (`user:{42}:profile`) → `user:{42}:profile:fence`;
 * - otherwise → `{key}:fence` (the tag is the whole key, which is what `key` hashes on).
 */
export function fenceKeyFor(key: string): string {
  assertKey(key, 'key');
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return `${key}:fence`;
  }
  if (key.includes('}')) {
    throw new LockOptionsError(
      `cannot derive a Cluster-safe fence key for "${key}" (it contains "}" without a hash tag); pass opts.fenceKey`,
    );
  }
  return `{${key}}:fence`;
}

export interface FencedSetOptions {
  /** Where the last accepted fence of this resource is kept. Default: {@link fenceKeyFor}(key). */
  fenceKey?: string;
  /** Expiry of the written value in ms (SET … PX). Default: no expiry. */
  px?: number;
}

/**
 * Writes `value` to `key` only if `fence` is at least the last fence accepted for that resource
 * (atomically, in one Lua script). Returns `true` when written, `false` when the writer's fence is
 * stale — i.e. a newer lock holder has already written, so this (paused, expired) holder must not.
 *
 * The same holder may write several times with its fence (equal fences are accepted).
 */
export async function fencedSet(
  client: RedisLike,
  key: string,
  value: string | Buffer,
  fence: number,
  opts: FencedSetOptions = {},
): Promise<boolean> {
  assertKey(key, 'key');
  assertFence(fence);
  if (typeof value !== 'string' && !Buffer.isBuffer(value)) {
    throw new LockOptionsError('fencedSet: value must be a string or a Buffer');
  }
  const px = opts.px ?? 0;
  if (!Number.isInteger(px) || px < 0) {
    throw new LockOptionsError(`fencedSet: px must be a non-negative integer number of ms (got ${String(opts.px)})`);
  }
  const fenceKey = opts.fenceKey ?? fenceKeyFor(key);
  assertKey(fenceKey, 'fenceKey');
  const res = await withCommands(client).scLockFencedSet(fenceKey, key, fence, value, px);
  return Number(res) === 1;
}

/**
 * Wraps the body of your own Lua script with the fence check, for writes other than a plain SET.
 * In the resulting script `KEYS[1]` is the fence key and `ARGV[1]` the writer's fence; your keys
 * and arguments start at `KEYS[2]` / `ARGV[2]`. A stale fence makes the script fail with an error
 * reply starting with `STALEFENCE` (test it with {@link isStaleFenceError}) before your body runs.
 *
 * ```ts
 * redis.defineCommand('fencedHset', { numberOfKeys: 2, lua: withFenceGuard(
 *   "return redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])") });
 * await redis.fencedHset(fenceKeyFor('order:1'), 'order:1', lock.fence, 'status', 'paid');
 * ```
 */
export function withFenceGuard(body: string): string {
  if (typeof body !== 'string' || body.trim() === '') {
    throw new LockOptionsError('withFenceGuard: body must be a non-empty Lua string');
  }
  return `${FENCE_GUARD_LUA}\n${body}`;
}

/** True when `err` is the reply of a fenced script that refused a stale fence. */
export function isStaleFenceError(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('STALEFENCE');
}

function assertKey(key: unknown, name: string): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new LockOptionsError(`${name} must be a non-empty string (got ${describe(key)})`);
  }
}

function assertFence(fence: unknown): asserts fence is number {
  if (typeof fence !== 'number' || !Number.isSafeInteger(fence) || fence < 0) {
    throw new LockOptionsError(`fence must be a non-negative integer (got ${describe(fence)})`);
  }
}
