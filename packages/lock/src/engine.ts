import { LockUnavailableError } from './errors';
import type { LockGuard } from './options';
import { withCommands, type LockCommands, type RedisLike } from './scripts';
import { withTimeout } from './util';

type Client = RedisLike & LockCommands;

type Outcome<T> = PromiseSettledResult<T> | { status: 'pending' };

/** Outcome of one acquisition round over every master. */
export type AttemptResult =
  | { ok: true; fence: number; expiresAt: number }
  | { ok: false; reachable: number; error: unknown };

/** Outcome of a release / extend / ownership check over every master. */
export interface VoteResult {
  ok: boolean;
  /** Masters that answered (successfully or not). */
  reachable: number;
  /** First transport error, when some master did not answer. */
  error: unknown;
}

/**
 * The lock algorithm over N masters (N = 1: a plain single-instance lock; N > 1: Redlock).
 * One round trip per operation per master, in parallel, each bounded by `commandTimeout`.
 */
export class LockEngine {
  readonly clients: readonly Client[];
  readonly quorum: number;
  readonly redlock: boolean;

  constructor(
    clients: readonly RedisLike[],
    private readonly prefix: string,
    private readonly driftFactor: number,
    private readonly commandTimeout: number,
    private readonly guard?: LockGuard,
  ) {
    this.clients = clients.map(withCommands);
    this.quorum = Math.floor(clients.length / 2) + 1;
    this.redlock = clients.length > 1;
  }

  lockKey(resource: string): string {
    return `${this.prefix}:{${resource}}`;
  }

  fenceKey(resource: string): string {
    return `${this.prefix}:{${resource}}:fence`;
  }

  /** Clock-drift allowance in ms for a given ttl. */
  drift(ttl: number): number {
    return Math.round(ttl * this.driftFactor) + 2;
  }

  /**
   * Runs `fn` on every master in parallel (each bounded by `commandTimeout`) and resolves as soon
   * as the outcome is decided: a quorum said yes, more than N − quorum answered no, or every call
   * settled (answered, failed or timed out). Masters still pending at that point are reported as `pending`.
   */
  private gather<T>(fn: (c: Client) => Promise<T>, yes: (v: T) => boolean): Promise<Outcome<T>[]> {
    const guard = this.guard;
    if (guard === undefined) return this.gatherAll(fn, yes);
    if (!guard.tryAcquire()) {
      const refused = new LockUnavailableError();
      return Promise.resolve(this.clients.map(() => ({ status: 'rejected' as const, reason: refused })));
    }
    return this.gatherAll(fn, yes).then((out) => {
      // One report per round trip: a master that answered (yes or no) proves Redis is up.
      if (out.some((o) => o.status === 'fulfilled')) guard.onSuccess();
      else guard.onFailure(out.find((o): o is PromiseRejectedResult => o.status === 'rejected')?.reason);
      return out;
    });
  }

  private gatherAll<T>(fn: (c: Client) => Promise<T>, yes: (v: T) => boolean): Promise<Outcome<T>[]> {
    const n = this.clients.length;
    const out: Outcome<T>[] = this.clients.map(() => ({ status: 'pending' }));
    return new Promise((resolve) => {
      let yesCount = 0;
      let noCount = 0; // answered, but not yes
      let settled = 0;
      let done = false;
      const check = (): void => {
        if (done) return;
        if (yesCount >= this.quorum || noCount > n - this.quorum || settled === n) {
          done = true;
          resolve(out.map((o) => ({ ...o })));
        }
      };
      this.clients.forEach((c, i) => {
        let p: Promise<T>;
        try {
          p = withTimeout(fn(c), this.commandTimeout);
        } catch (err) {
          p = Promise.reject(err);
        }
        p.then(
          (value) => {
            out[i] = { status: 'fulfilled', value };
            settled++;
            if (yes(value)) yesCount++;
            else noCount++;
            check();
          },
          (reason: unknown) => {
            out[i] = { status: 'rejected', reason };
            settled++;
            check();
          },
        );
      });
    });
  }

  /** One acquisition round: SET NX PX + INCR fence on every master; quorum and validity check. */
  async attempt(resource: string, token: string, ttl: number, fencing: boolean): Promise<AttemptResult> {
    const lockKey = this.lockKey(resource);
    const fenceKey = this.fenceKey(resource);
    const wallStart = Date.now();
    const start = performance.now();
    const results = await this.gather(
      (c) => c.scLockAcquire(lockKey, fenceKey, token, ttl, fencing ? '1' : '0'),
      (v) => Number(v) >= 0,
    );

    let reachable = 0;
    let error: unknown;
    let fence = 0;
    const granted: Client[] = [];
    const unknown: Client[] = [];
    results.forEach((r, i) => {
      const client = this.clients[i] as Client;
      if (r.status === 'fulfilled') {
        reachable++;
        const v = Number(r.value);
        if (v >= 0) {
          granted.push(client);
          if (v > fence) fence = v;
        }
      } else {
        if (r.status === 'rejected') error ??= r.reason;
        unknown.push(client);
      }
    });

    let ok = granted.length >= this.quorum;
    if (ok && this.redlock && fencing) {
      // Raise the fence counter of every granting master to the quorum max, so the next quorum
      // (which overlaps this one in at least one master) draws a larger fence.
      const lifted = await Promise.allSettled(
        granted.map((c) => withTimeout(c.scLockLift(lockKey, fenceKey, token, fence), this.commandTimeout)),
      );
      ok = lifted.filter((r) => r.status === 'fulfilled' && Number(r.value) === 1).length >= this.quorum;
    }
    const elapsed = performance.now() - start;
    const validity = ttl - elapsed - this.drift(ttl);
    if (ok && validity > 0) {
      return { ok: true, fence, expiresAt: wallStart + ttl - this.drift(ttl) };
    }

    // Failed: undo what we may hold. Masters that granted are released (awaited, bounded); masters
    // that failed or are still pending may execute the SET later, so a release is queued behind it.
    for (const c of unknown) {
      withTimeout(c.scLockRelease(lockKey, token), this.commandTimeout).catch(() => undefined);
    }
    if (granted.length > 0) {
      await Promise.allSettled(granted.map((c) => withTimeout(c.scLockRelease(lockKey, token), this.commandTimeout)));
    }
    return { ok: false, reachable, error };
  }

  async release(resource: string, token: string): Promise<VoteResult> {
    const lockKey = this.lockKey(resource);
    const yes = (v: number): boolean => Number(v) === 1;
    return this.vote(await this.gather((c) => c.scLockRelease(lockKey, token), yes), yes);
  }

  /** Extends on every master; returns the new `expiresAt` when a quorum extended in time, else null. */
  async extend(resource: string, token: string, ttl: number): Promise<VoteResult & { expiresAt: number }> {
    const lockKey = this.lockKey(resource);
    const wallStart = Date.now();
    const start = performance.now();
    const yes = (v: number): boolean => Number(v) === 1;
    const res = this.vote(await this.gather((c) => c.scLockExtend(lockKey, token, ttl), yes), yes);
    const validity = ttl - (performance.now() - start) - this.drift(ttl);
    return { ...res, ok: res.ok && validity > 0, expiresAt: wallStart + ttl - this.drift(ttl) };
  }

  async isHeld(resource: string, token: string): Promise<VoteResult> {
    const lockKey = this.lockKey(resource);
    const yes = (v: string | null): boolean => v === token;
    return this.vote(await this.gather((c) => c.get(lockKey), yes), yes);
  }

  /** Whether someone (anyone) holds `resource` on a quorum of masters. */
  async isLocked(resource: string): Promise<VoteResult> {
    const lockKey = this.lockKey(resource);
    const yes = (v: number): boolean => Number(v) === 1;
    return this.vote(await this.gather((c) => c.exists(lockKey), yes), yes);
  }

  private vote<T>(results: Outcome<T>[], yes: (v: T) => boolean): VoteResult {
    let reachable = 0;
    let votes = 0;
    let error: unknown;
    for (const r of results) {
      if (r.status === 'fulfilled') {
        reachable++;
        if (yes(r.value)) votes++;
      } else if (r.status === 'rejected') {
        error ??= r.reason;
      }
    }
    return { ok: votes >= this.quorum, reachable, error };
  }
}
