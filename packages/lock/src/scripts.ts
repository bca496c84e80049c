import type { Cluster, Redis } from 'ioredis';

/** Any ioredis client the lock can talk to. */
export type RedisLike = Redis | Cluster;

/**
 * Acquire: SET NX PX and, in the same script, INCR the per-resource fence counter, so that the
 * lock and its fencing token are granted atomically.
 * KEYS[1] lock key, KEYS[2] fence counter; ARGV[1] token, ARGV[2] ttl ms, ARGV[3] '1' to fence.
 * Returns the fence (>= 1), 0 when fencing is off, or -1 when the lock is held by someone else.
 */
export const ACQUIRE_LUA = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if ARGV[3] == '1' then
    return redis.call('INCR', KEYS[2])
  end
  return 0
end
return -1
`;

/** Release only if the caller still owns the lock. KEYS[1] lock; ARGV[1] token. Returns 1 or 0. */
export const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/** Extend only if the caller still owns the lock. KEYS[1] lock; ARGV[1] token, ARGV[2] ttl ms. */
export const EXTEND_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

/**
 * Redlock fence lift: while still owning the lock on this master, raise its fence counter to at
 * least ARGV[2] (the max over the quorum), so that any later quorum, which must overlap this one,
 * draws a strictly larger fence. KEYS[1] lock, KEYS[2] fence; ARGV[1] token, ARGV[2] fence.
 */
export const LIFT_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if current < tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], ARGV[2])
end
return 1
`;

/**
 * Prologue of every fenced write: KEYS[1] is the protected resource's fence key, ARGV[1] the
 * writer's fence. A fence lower than the last one recorded is refused with an error reply that
 * starts with `STALEFENCE`; otherwise the recorded fence is raised and the script continues.
 */
export const FENCE_GUARD_LUA = `
local __fence = tonumber(ARGV[1])
if __fence == nil then
  return redis.error_reply('ERR fence must be a number')
end
local __last = tonumber(redis.call('GET', KEYS[1]) or '-1')
if __fence < __last then
  return redis.error_reply('STALEFENCE fence ' .. ARGV[1] .. ' is older than ' .. tostring(__last))
end
if __fence > __last then
  redis.call('SET', KEYS[1], ARGV[1])
end
`;

/**
 * Fenced SET. KEYS[1] fence key, KEYS[2] data key; ARGV[1] fence, ARGV[2] value, ARGV[3] px ('0' = none).
 * Returns 1 when written, 0 when the fence is stale.
 */
export const FENCED_SET_LUA = `
local __fence = tonumber(ARGV[1])
local __last = tonumber(redis.call('GET', KEYS[1]) or '-1')
if __fence < __last then
  return 0
end
if __fence > __last then
  redis.call('SET', KEYS[1], ARGV[1])
end
if ARGV[3] ~= '0' then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[2], ARGV[2])
end
return 1
`;

/** Command names registered on the caller's clients through `defineCommand` (EVALSHA, cached). */
const COMMANDS = {
  scLockAcquire: ACQUIRE_LUA,
  scLockRelease: RELEASE_LUA,
  scLockExtend: EXTEND_LUA,
  scLockLift: LIFT_LUA,
  scLockFencedSet: FENCED_SET_LUA,
} as const;

type CommandName = keyof typeof COMMANDS;

/** The typed view of a client once our commands are defined on it. */
export interface LockCommands {
  scLockAcquire(lockKey: string, fenceKey: string, token: string, ttl: number, fencing: '0' | '1'): Promise<number>;
  scLockRelease(lockKey: string, token: string): Promise<number>;
  scLockExtend(lockKey: string, token: string, ttl: number): Promise<number>;
  scLockLift(lockKey: string, fenceKey: string, token: string, fence: number): Promise<number>;
  scLockFencedSet(fenceKey: string, key: string, fence: number, value: string | Buffer, px: number): Promise<number>;
}

const NUMBER_OF_KEYS: Record<CommandName, number> = {
  scLockAcquire: 2,
  scLockRelease: 1,
  scLockExtend: 1,
  scLockLift: 2,
  scLockFencedSet: 2,
};

const prepared = new WeakSet<object>();

/** Defines our scripts on `client` once (ioredis caches them and calls EVALSHA, falling back to EVAL). */
export function withCommands(client: RedisLike): RedisLike & LockCommands {
  if (!prepared.has(client)) {
    for (const name of Object.keys(COMMANDS) as CommandName[]) {
      if (typeof (client as unknown as Record<string, unknown>)[name] !== 'function') {
        client.defineCommand(name, { numberOfKeys: NUMBER_OF_KEYS[name], lua: COMMANDS[name] });
      }
    }
    prepared.add(client);
  }
  return client as RedisLike & LockCommands;
}
