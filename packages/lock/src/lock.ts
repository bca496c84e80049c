import type { LockEngine, VoteResult } from './engine';
import type { Duration } from '@stratacache/breaker';
import { checkTtl } from './options';

/** A held lock. Obtained from `LockManager.acquire`, `tryAcquire` or `using`. */
export interface Lock {
  /** The resource name passed to `acquire`. */
  readonly resource: string;
  /** Random owner token (128 bits from `crypto.randomBytes`); only its owner can release or extend. */
  readonly token: string;
  /**
   * Fencing token: strictly increasing across successive holders of the same resource
   * (0 when fencing is off). Pass it to `fencedSet` / a `withFenceGuard` script.
   */
  readonly fence: number;
  /**
   * Conservative wall-clock time (ms since epoch) until which the lock is known to be valid:
   * start of the acquire/extend round + ttl − clock-drift allowance.
   */
  readonly expiresAt: number;
  /** Releases the lock if still owned. `true` when this call removed it (on a quorum for Redlock). */
  release(): Promise<boolean>;
  /** Sets the remaining time-to-live (ms or `'10s'`) if still owned; `false` when the lock was lost or released. */
  extend(ttl: Duration): Promise<boolean>;
  /** Whether the lock is still owned (asks Redis; for Redlock also requires `expiresAt` not passed). */
  isHeld(): Promise<boolean>;
}

/** Rejects with the transport error when fewer than a quorum of masters answered (outcome unknown). */
function settle(res: VoteResult, quorum: number): boolean {
  if (!res.ok && res.reachable < quorum) {
    throw res.error instanceof Error ? res.error : new Error(String(res.error));
  }
  return res.ok;
}

export class RedisLock implements Lock {
  private released = false;
  private _expiresAt: number;

  constructor(
    private readonly engine: LockEngine,
    readonly resource: string,
    readonly token: string,
    readonly fence: number,
    expiresAt: number,
  ) {
    this._expiresAt = expiresAt;
  }

  get expiresAt(): number {
    return this._expiresAt;
  }

  async release(): Promise<boolean> {
    if (this.released) return false;
    this.released = true;
    try {
      return settle(await this.engine.release(this.resource, this.token), this.engine.quorum);
    } catch (err) {
      this.released = false; // outcome unknown: the caller may retry
      throw err;
    }
  }

  async extend(ttl: Duration): Promise<boolean> {
    const ttlMs = checkTtl('Lock.extend', 'ttl', ttl);
    if (this.released) return false;
    const res = await this.engine.extend(this.resource, this.token, ttlMs);
    if (res.ok) this._expiresAt = res.expiresAt;
    return settle(res, this.engine.quorum);
  }

  async isHeld(): Promise<boolean> {
    if (this.released) return false;
    const held = settle(await this.engine.isHeld(this.resource, this.token), this.engine.quorum);
    return held && (!this.engine.redlock || Date.now() < this._expiresAt);
  }

  toJSON(): { resource: string; fence: number; expiresAt: number } {
    // The token stays out of logs and JSON.
    return { resource: this.resource, fence: this.fence, expiresAt: this._expiresAt };
  }
}
