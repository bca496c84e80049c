export { LockManager, Redlock } from './lock-manager';
export type { Lock } from './lock';
export type { AcquireOptions, LockGuard, LockManagerOptions, ResolvedManagerOptions, RetryDelay, UsingOptions } from './options';
export { DEFAULTS as LOCK_DEFAULTS } from './options';
export { LockError, LockAcquireError, LockQuorumError, LockLostError, LockOptionsError, LockUnavailableError } from './errors';
export { fencedSet, fenceKeyFor, withFenceGuard, isStaleFenceError, type FencedSetOptions } from './fence';
export type { RedisLike } from './scripts';
