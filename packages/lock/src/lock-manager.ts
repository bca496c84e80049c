import { randomBytes } from 'node:crypto';
import { LockEngine } from './engine';
import { LockAcquireError, LockLostError, LockOptionsError, LockQuorumError, LockUnavailableError } from './errors';
import { RedisLock, type Lock } from './lock';
import {
  checkResource,
  resolveAcquireOptions,
  resolveManagerOptions,
  resolveUsingExtras,
  type AcquireOptions,
  type LockManagerOptions,
  type ResolvedAcquireOptions,
  type ResolvedManagerOptions,
  type UsingOptions,
} from './options';
import type { RedisLike } from './scripts';
import { abortReason, describe, sleep, throwIfAborted } from './util';

function isClient(c: unknown): c is RedisLike {
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof (c as RedisLike).defineCommand === 'function' &&
    typeof (c as RedisLike).get === 'function'
  );
}

function checkClients(where: string, clients: unknown): RedisLike[] {
  const list = Array.isArray(clients) ? clients : [clients];
  if (list.length === 0) throw new LockOptionsError(`${where}: clients must not be an empty array`);
  list.forEach((c, i) => {
    if (!isClient(c)) {
      throw new LockOptionsError(
        `${where}: clients${Array.isArray(clients) ? `[${i}]` : ''} must be an ioredis Redis or Cluster instance, got ${describe(c)}`,
      );
    }
  });
  if (new Set(list).size !== list.length) {
    throw new LockOptionsError(`${where}: the same client appears twice; Redlock needs independent masters`);
  }
  return list as RedisLike[];
}

/**
 * Distributed locks on Redis. With one client (a `Redis` or a `Cluster`) it is the classic
 * SET NX PX lock; with an array of N > 1 independent masters it runs Redlock (quorum N/2+1).
 * Every lock carries a fencing token (see `fencedSet`).
 */
export class LockManager {
  /** The resolved defaults of this manager. */
  readonly options: Readonly<ResolvedManagerOptions>;
  private readonly engine: LockEngine;

  constructor(clients: RedisLike | readonly RedisLike[], opts?: LockManagerOptions) {
    const list = checkClients(new.target.name, clients);
    this.options = Object.freeze(resolveManagerOptions(opts));
    this.engine = new LockEngine(list, this.options.prefix, this.options.driftFactor, this.options.commandTimeout, this.options.guard);
  }

  /** Masters that must agree (1 for a single client, N/2+1 for Redlock). */
  get quorum(): number {
    return this.engine.quorum;
  }

  /** Whether this manager runs Redlock (more than one client). */
  get isRedlock(): boolean {
    return this.engine.redlock;
  }

  /** The Redis key holding the lock of `resource` (shares the `{resource}` hash tag with its fence counter). */
  lockKey(resource: string): string {
    return this.engine.lockKey(checkResource('LockManager.lockKey', resource));
  }

  /** The Redis key of the fence counter of `resource` (persistent; never expires). */
  fenceKey(resource: string): string {
    return this.engine.fenceKey(checkResource('LockManager.fenceKey', resource));
  }

  /**
   * Whether `resource` is currently held by anyone (on a quorum of masters for Redlock). Useful to
   * waiters that poll for a leader's result. Rejects when Redis (a quorum) cannot be reached.
   */
  async isLocked(resource: string): Promise<boolean> {
    checkResource('LockManager.isLocked', resource);
    const res = await this.engine.isLocked(resource);
    if (!res.ok && res.reachable < this.engine.quorum) {
      throw res.error instanceof Error ? res.error : new Error(String(res.error));
    }
    return res.ok;
  }

  /**
   * Acquires `resource`, retrying `retries` times (`retryDelay` + random `jitter` between
   * attempts). Rejects with `LockAcquireError` (held by others, or Redis unreachable — see `cause`),
   * `LockQuorumError` (Redlock: a majority of masters unreachable), the signal's reason when
   * aborted, or `LockOptionsError` for bad arguments.
   */
  async acquire(resource: string, opts?: AcquireOptions): Promise<Lock> {
    const where = 'LockManager.acquire';
    checkResource(where, resource);
    const o = resolveAcquireOptions(where, opts, this.options);
    return (await this.run(resource, o, true)) as Lock;
  }

  /**
   * One attempt, no retries: the lock, or `null` when the resource is held by someone else.
   * Still rejects when Redis (a quorum of masters) could not be reached.
   */
  async tryAcquire(resource: string, opts?: Omit<AcquireOptions, 'retries' | 'retryDelay' | 'jitter'>): Promise<Lock | null> {
    const where = 'LockManager.tryAcquire';
    checkResource(where, resource);
    const o = resolveAcquireOptions(where, { ...(opts ?? {}), retries: 0 }, this.options);
    return this.run(resource, o, false);
  }

  /**
   * Runs `fn` while holding `resource`. The lock is extended every `extendInterval` ms (default
   * ttl/3, unref'd timer) and released when `fn` settles. If the lock is lost (an extension is
   * refused, or Redis does not answer before it expires), the signal passed to `fn` is aborted
   * with a `LockLostError`; once `fn` settles, `using` rejects with that `LockLostError` (even if
   * `fn` resolved). Aborting `opts.signal` also aborts `fn`'s signal.
   */
  async using<T>(resource: string, fn: (signal: AbortSignal, lock: Lock) => Promise<T> | T, opts?: UsingOptions): Promise<T> {
    const where = 'LockManager.using';
    checkResource(where, resource);
    if (typeof fn !== 'function') throw new LockOptionsError(`${where}: fn must be a function, got ${describe(fn)}`);
    const o = resolveAcquireOptions(where, opts, this.options);
    const { autoExtend, extendInterval } = resolveUsingExtras(where, opts, o.ttl);
    const lock = (await this.run(resource, o, true)) as Lock;

    const controller = new AbortController();
    let lost: LockLostError | undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const markLost = (reason: string, cause?: unknown): void => {
      if (lost || stopped) return;
      lost = new LockLostError(resource, lock.fence, reason, cause === undefined ? undefined : { cause });
      controller.abort(lost);
    };
    const arm = (ms: number, run: () => void): void => {
      if (stopped || lost) return;
      timer = setTimeout(run, Math.max(0, ms));
      timer.unref?.();
    };
    const tick = async (): Promise<void> => {
      try {
        const ok = await lock.extend(o.ttl);
        if (stopped) return;
        if (!ok) {
          markLost('it could not be extended (it expired or another owner holds it)');
          return;
        }
      } catch (err) {
        if (stopped) return;
        // Redis did not answer: keep trying while the lock may still be valid.
        if (Date.now() + extendInterval >= lock.expiresAt) {
          markLost('Redis did not answer in time to extend it', err);
          return;
        }
      }
      arm(extendInterval, () => void tick());
    };
    const onOuterAbort = (): void => controller.abort(abortReason(o.signal as AbortSignal));
    o.signal?.addEventListener('abort', onOuterAbort, { once: true });

    if (autoExtend) arm(extendInterval, () => void tick());
    else arm(lock.expiresAt - Date.now(), () => markLost(`it expired after its ttl of ${o.ttl} ms (autoExtend is off)`));

    let failed = false;
    let error: unknown;
    let result: T | undefined;
    try {
      result = await fn(controller.signal, lock);
    } catch (err) {
      failed = true;
      error = err;
    } finally {
      stopped = true;
      if (timer) clearTimeout(timer);
      o.signal?.removeEventListener('abort', onOuterAbort);
    }
    try {
      await lock.release();
    } catch {
      // Redis unreachable: the lock expires by itself after its ttl.
    }
    if (lost) throw lost;
    if (failed) throw error;
    return result as T;
  }

  private delay(o: ResolvedAcquireOptions, attempt: number): number {
    const base = typeof o.retryDelay === 'function' ? o.retryDelay(attempt) : o.retryDelay;
    if (typeof base !== 'number' || !Number.isFinite(base) || base < 0) {
      throw new LockOptionsError(`retryDelay(${attempt}) must return a finite number >= 0 (ms), got ${describe(base)}`);
    }
    return base + (o.jitter > 0 ? Math.random() * o.jitter : 0);
  }

  private async run(resource: string, o: ResolvedAcquireOptions, throwWhenHeld: boolean): Promise<Lock | null> {
    let attempts = 0;
    let reachable: number;
    let error: unknown;
    for (;;) {
      throwIfAborted(o.signal);
      attempts++;
      const token = randomBytes(16).toString('hex');
      const r = await this.engine.attempt(resource, token, o.ttl, o.fencing);
      if (r.ok) {
        const lock = new RedisLock(this.engine, resource, token, r.fence, r.expiresAt);
        if (o.signal?.aborted) {
          await lock.release().catch(() => undefined);
          throw abortReason(o.signal);
        }
        return lock;
      }
      reachable = r.reachable;
      error = r.error;
      // The guard (circuit breaker) says Redis is down: give up at once, no retry waits.
      if (attempts > o.retries || error instanceof LockUnavailableError) break;
      await sleep(this.delay(o, attempts), o.signal);
    }
    const quorum = this.engine.quorum;
    if (reachable < quorum) {
      const cause = error;
      if (this.engine.redlock) throw new LockQuorumError(resource, attempts, quorum, reachable, { cause });
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new LockAcquireError(
        resource,
        attempts,
        `could not acquire lock "${resource}": Redis did not answer (${why}) after ${attempts} attempt(s)`,
        { cause },
      );
    }
    if (!throwWhenHeld) return null;
    throw new LockAcquireError(resource, attempts);
  }
}

/**
 * Redlock over N independent Redis masters (not replicas of each other, not a Cluster's nodes):
 * a `LockManager` that insists on an array of at least two clients. Use 3 or 5 masters.
 */
export class Redlock extends LockManager {
  constructor(clients: readonly RedisLike[], opts?: LockManagerOptions) {
    if (!Array.isArray(clients) || clients.length < 2) {
      throw new LockOptionsError('Redlock: clients must be an array of at least 2 independent masters (3 or 5 recommended)');
    }
    super(clients, opts);
  }
}
