import { StratacacheError } from '@stratacache/breaker';

/** Base class of every error thrown by `@stratacache/lock`. `code` is stable and listed in `docs/errors.md`. */
export class LockError extends StratacacheError {}

/** Invalid options or arguments (resource name, ttl, retries, clients…). Code `E_LOCK_OPTIONS`. */
export class LockOptionsError extends LockError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_LOCK_OPTIONS', message, options);
  }
}

/**
 * The lock could not be acquired after every attempt (the resource stayed held by someone else,
 * or Redis kept failing). Code `E_LOCK_ACQUIRE`. `attempts` counts the attempts made.
 */
export class LockAcquireError extends LockError {
  readonly resource: string;
  readonly attempts: number;
  constructor(resource: string, attempts: number, message?: string, options?: { cause?: unknown; code?: string }) {
    super(
      options?.code ?? 'E_LOCK_ACQUIRE',
      message ?? `could not acquire lock "${resource}" after ${attempts} attempt(s)`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.resource = resource;
    this.attempts = attempts;
  }
}

/**
 * Redlock: fewer than a majority of the independent masters answered, so no lock can be granted.
 * Code `E_LOCK_QUORUM`. A subclass of {@link LockAcquireError}, so `instanceof LockAcquireError`
 * catches every acquisition failure.
 */
export class LockQuorumError extends LockAcquireError {
  /** Masters needed (N/2+1). */
  readonly quorum: number;
  /** Masters that answered on the last attempt (whether or not they granted the lock). */
  readonly reachable: number;
  constructor(resource: string, attempts: number, quorum: number, reachable: number, options?: { cause?: unknown }) {
    super(
      resource,
      attempts,
      `could not reach a quorum for lock "${resource}": ${reachable} master(s) answered, ${quorum} needed (after ${attempts} attempt(s))`,
      { code: 'E_LOCK_QUORUM', cause: options?.cause },
    );
    this.quorum = quorum;
    this.reachable = reachable;
  }
}

/**
 * A held lock was lost (it expired, was deleted, or could not be extended in time) while work
 * protected by `using()` was running. Code `E_LOCK_LOST`.
 */
export class LockLostError extends LockError {
  readonly resource: string;
  readonly fence: number;
  constructor(resource: string, fence: number, reason: string, options?: { cause?: unknown }) {
    super('E_LOCK_LOST', `lock "${resource}" (fence ${fence}) was lost: ${reason}`, options);
    this.resource = resource;
    this.fence = fence;
  }
}

/**
 * The lock's guard (e.g. the circuit breaker of the cache it protects) refused the Redis round
 * trip: Redis is known to be down, so nothing was sent. Code `E_LOCK_UNAVAILABLE`. `acquire` /
 * `tryAcquire` reject at once with a {@link LockAcquireError} whose `cause` is this error (no retries).
 */
export class LockUnavailableError extends LockError {
  constructor(message = 'the lock guard refused the call (circuit open): Redis was not asked') {
    super('E_LOCK_UNAVAILABLE', message);
  }
}
