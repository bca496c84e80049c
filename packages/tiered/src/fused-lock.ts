import { randomBytes } from 'node:crypto';
import type { CacheEntry, LockClaim, LockedReadResult, SetResult } from '@stratacache/core';
import { lockKeyFor } from '@stratacache/core';
import type { ReadBudget } from './read-budget';
import type { Runtime } from './runtime';
import { NOOP } from './runtime';

/** Random per process; tokens are this plus a counter (unique, no syscall per lock). */
const TOKEN_BASE = randomBytes(12).toString('hex');
let seq = 0;

const OUT_OF_TIME_READ: LockedReadResult<never> = Object.freeze({ status: 'unknown', reason: 'timeout', lock: 'none' });

/**
 * The fused miss (issue 13), tiered side: the stampede lock taken by core's `readOrLock` in the same
 * round trip as the L2 read (keys and semantics of `@stratacache/lock` without fencing, in the entry's
 * Cluster slot), kept alive while the factory runs, and released by the write itself
 * (`writeAndRelease`: entry + owner-only release + bus publish in one round trip) — or alone when
 * nothing is written.
 */
export class FusedLock {
  /** The write took the release over (or it was sent): `release()` does nothing more. */
  private done = false;

  constructor(
    private readonly rt: Runtime,
    readonly key: string,
    readonly claim: LockClaim,
  ) {}

  /** Whether the fused miss serves `key` (it is on, and a lock key fits the key's slot). */
  static fits(rt: Runtime, key: string): boolean {
    return rt.fused && lockKeyFor(`${rt.l2.keys.prefix}:__tiered_lock`, key) !== undefined;
  }

  /** A new claim for `key`, or undefined when the fused miss is off or no lock key fits the key's slot. */
  static claimFor(rt: Runtime, key: string): LockClaim | undefined {
    if (!rt.fused) return undefined;
    const lk = lockKeyFor(`${rt.l2.keys.prefix}:__tiered_lock`, key);
    return lk === undefined ? undefined : { key: lk, token: `${TOKEN_BASE}.${(++seq).toString(36)}`, ttlMs: rt.opts.lockTtl };
  }

  /**
   * L2 read + lock in one round trip within the read's budget. Past the budget: `unknown`, and a lock
   * that was granted too late is released at once. Never rejects.
   */
  static read<T>(rt: Runtime, key: string, claim: LockClaim, force: boolean, budget: ReadBudget): Promise<LockedReadResult<T>> {
    const l2 = rt.l2;
    const late = (r: LockedReadResult<T>): void => {
      if (r.lock === 'led') void l2.writeAndRelease?.(key, undefined, 1, claim).catch(NOOP);
    };
    return budget.spendOnRead(
      () => FusedLock.call<T>(rt, key, claim, force),
      late,
      OUT_OF_TIME_READ,
      (err: unknown) => FusedLock.readFailed<T>(rt, err, key),
    );
  }

  /**
   * `read` as a read's first call when its budget is `unraced` (the L2 settles the call within the
   * whole budget itself, so no lock can be granted after the budget ran out): started directly, the
   * caller charges its time. Never throws; a rejection is the caller's to map with `readFailed`.
   */
  static readDirect<T>(rt: Runtime, key: string, claim: LockClaim): Promise<LockedReadResult<T>> {
    try {
      return FusedLock.call<T>(rt, key, claim, false);
    } catch (err) {
      return Promise.resolve(FusedLock.readFailed<T>(rt, err, key));
    }
  }

  /** An unexpected failure of a read-or-lock: reported, read as `unknown` with no lock. */
  static readFailed<T>(rt: Runtime, err: unknown, key: string): LockedReadResult<T> {
    rt.onError(err, 'l2.get', key);
    return { status: 'unknown', reason: 'error', lock: 'none' };
  }

  private static call<T>(rt: Runtime, key: string, claim: LockClaim, force: boolean): Promise<LockedReadResult<T>> {
    const l2 = rt.l2;
    const p = (l2.readOrLock as NonNullable<typeof l2.readOrLock>)<T>(key, claim, force);
    if (!rt.emitter.has('l2_read')) return p;
    // timed only while someone listens (analytics' L2 latency histogram), like `Runtime.readL2`
    const t0 = performance.now();
    return p.then((r) => {
      rt.emit('l2_read', key, 'l2', { latencyMs: performance.now() - t0, kind: r.status });
      return r;
    });
  }

  extend(ttl: number): Promise<boolean> {
    return (this.rt.l2.extendLock as NonNullable<typeof this.rt.l2.extendLock>)(this.key, { ...this.claim, ttlMs: ttl });
  }

  /** The entry write, the release and the publish in one round trip; the lock is then the write's. */
  write(entry: CacheEntry, physicalTtlMs: number, publish: { channel: string; message: string } | undefined): Promise<SetResult> {
    this.done = true;
    const l2 = this.rt.l2;
    return (l2.writeAndRelease as NonNullable<typeof l2.writeAndRelease>)(this.key, entry, physicalTtlMs, this.claim, publish);
  }

  /** Whether the write took the release over (or the release was sent): `release()` does nothing more. */
  get taken(): boolean {
    return this.done;
  }

  /** Releases the lock alone (owner only), unless the write took it over. */
  release(): Promise<unknown> {
    if (this.done) return Promise.resolve(false);
    return this.releaseNow();
  }

  /** Releases the lock alone, whatever happened before (a write that threw before reaching the store). */
  releaseNow(): Promise<unknown> {
    this.done = true;
    const l2 = this.rt.l2;
    return (l2.writeAndRelease as NonNullable<typeof l2.writeAndRelease>)(this.key, undefined, 1, this.claim).catch(NOOP);
  }
}
