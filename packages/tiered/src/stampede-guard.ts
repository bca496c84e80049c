import type { LockClaim } from '@stratacache/core';
import { LockManager } from '@stratacache/lock';
import type { Lock, LockGuard } from '@stratacache/lock';
import { TieredClosedError } from './errors';
import type { FactoryRunner } from './factory-runner';
import { FusedLock } from './fused-lock';
import type { L1Tier } from './l1-tier';
import type { Factory } from './types';
import type { ResolvedPolicy } from './options';
import type { ReadBudget } from './read-budget';
import { OUT_OF_TIME } from './read-budget';
import type { Fresh, Runtime, StaleCandidate } from './runtime';
import { isNewer, NOOP } from './runtime';

/** What the fused L2 read found out before the guard: this caller leads (its lock), someone else does, or it could not answer. */
export type FusedPre = FusedLock | 'busy' | 'unknown';

/** Wake-ups per key: stampede followers wait here for the leader's bus message (or this process's own write). */
export class KeySignals {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Resolves when `key` is signalled, or after `ms`. */
  wait(key: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let set = this.waiters.get(key);
      if (set === undefined) {
        set = new Set();
        this.waiters.set(key, set);
      }
      const s = set;
      const done = (): void => {
        clearTimeout(timer);
        s.delete(done);
        if (s.size === 0 && this.waiters.get(key) === s) this.waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, ms);
      s.add(done);
    });
  }

  wake(key: string): void {
    const w = this.waiters.get(key);
    if (w !== undefined) for (const f of [...w]) f();
  }

  wakeAll(): void {
    for (const set of this.waiters.values()) for (const f of [...set]) f();
  }
}

/** A lock guard that refuses while `breaker` is OPEN and counts nothing against it (see the Cluster note in StampedeGuard). */
function followOnly(breaker: { state: string }): LockGuard {
  return {
    tryAcquire: () => breaker.state !== 'OPEN',
    onSuccess: () => undefined,
    onFailure: () => undefined,
  };
}

/**
 * The stampede guard: one fresh value per key at a time in this process (single-flight for
 * foreground misses, stale refreshes and refresh-ahead alike), then across processes one leader per
 * key (a `@stratacache/lock` lock inside the L2 breaker) while followers wait for its value. Every
 * Redis call here draws from the read's budget; when it is spent the cross-process guard is given up
 * for this read (the in-process one still holds) — never waited for.
 */
export class StampedeGuard {
  private readonly refreshing = new Map<string, Promise<Fresh<unknown>>>();
  private readonly locks: LockManager | undefined;

  constructor(
    private readonly rt: Runtime,
    private readonly l1: L1Tier | undefined,
    private readonly runner: FactoryRunner,
    private readonly signals: KeySignals,
  ) {
    const l2 = rt.l2;
    const store = l2.store;
    const client = (store as { client?: unknown }).client;
    // (the fused miss takes its lock in the L2 read itself, see `fusedLeadOrFollow`; this one serves keys it cannot)
    if (rt.opts.distributedLock && (store.kind === 'redis' || store.kind === 'redis-cluster') && client) {
      const breaker = (l2 as { breaker?: LockGuard & { state: string } }).breaker;
      this.locks = new LockManager(client as ConstructorParameters<typeof LockManager>[0], {
        prefix: `${l2.keys.prefix}:__tiered_lock`,
        ttl: rt.opts.lockTtl,
        fencing: false,
        retries: 0,
        // the lock inside the L2 breaker: with the circuit open it is skipped at once, and its failures
        // count. On a Cluster that breaker is the connection's: a lock lives on its key's master, so one
        // dead master's lock failures must not open it for every master — there the lock only follows
        // the connection's state, and a key whose master's circuit is open skips the lock (below).
        guard: store.kind === 'redis-cluster' && breaker !== undefined ? followOnly(breaker) : breaker,
        // a lock round trip never costs more than an L2 operation (and the read's budget bounds it anyway)
        commandTimeout: Math.max(50, Math.min(1_000, l2.opTimeoutMs)),
      });
    }
  }

  /** Whether a fresh value of `key` is being produced in this process. */
  running(key: string): boolean {
    return this.refreshing.has(key);
  }

  /**
   * One fresh value per key at a time in this process, then the cross-process guard. `pre`: what the
   * fused L2 read already found out (this caller leads with that lock, or someone else leads).
   */
  fetch<T>(key: string, factory: Factory<T>, p: ResolvedPolicy, tags: readonly string[] | undefined, basis: StaleCandidate<T> | undefined, forced: boolean, budget: ReadBudget, pre?: FusedPre): Promise<Fresh<T>> {
    const running = this.refreshing.get(key) as Promise<Fresh<T>> | undefined;
    if (running !== undefined) {
      if (pre instanceof FusedLock) void pre.release().catch(NOOP);
      return running;
    }
    const run =
      pre instanceof FusedLock
        ? this.lead(key, factory, p, tags, forced ? undefined : basis, pre) // the fused read made this caller the leader
        : pre !== undefined || FusedLock.fits(this.rt, key)
          ? this.fusedLeadOrFollow(key, factory, p, tags, basis, forced, budget, pre)
          : this.leadOrFollow(key, factory, p, tags, basis, forced, budget);
    this.refreshing.set(key, run);
    const clear = (): void => {
      if (this.refreshing.get(key) === run) this.refreshing.delete(key);
    };
    run.then(clear, clear);
    return run;
  }

  /**
   * The fused miss: each ask is one round trip that answers the entry (a newer one ends the wait) and
   * takes the lock when it is free — so a follower also takes over from a leader that died once its
   * lock expired. Followers wait for the leader's bus message or this process's own write, bounded
   * by a doubling poll. The leader's write releases the lock (see `FusedLock`).
   */
  private async fusedLeadOrFollow<T>(key: string, factory: Factory<T>, p: ResolvedPolicy, tags: readonly string[] | undefined, basis: StaleCandidate<T> | undefined, forced: boolean, budget: ReadBudget, pre: Exclude<FusedPre, FusedLock> | undefined): Promise<Fresh<T>> {
    const rt = this.rt;
    const staleBasis = forced ? undefined : basis;
    if (pre === 'unknown' || (pre === undefined && (budget.exhausted || !rt.l2.store.isReady()))) return this.runner.run(key, factory, p, tags, staleBasis, undefined);
    const wait: FollowerWait = { deadline: Date.now() + p.lockWait, delay: 10 };
    let followed = pre === 'busy';
    // a stale (or forced) basis: the entry in L2 is not the answer, take the lock even though it exists
    let force = basis !== undefined;
    let ask = pre === undefined;
    for (;;) {
      if (ask) {
        const claim = FusedLock.claimFor(rt, key) as LockClaim;
        const r = await FusedLock.read<T>(rt, key, claim, force, budget);
        const lock = r.lock === 'led' ? new FusedLock(rt, key, claim) : undefined;
        const e = r.status === 'hit' ? r.entry : undefined;
        if (isNewer(e, basis, rt.l2.now())) {
          if (lock !== undefined) void lock.release().catch(NOOP);
          this.l1?.fill(key, e);
          if (followed) rt.c.lockFollowers++;
          return { value: e.value, source: 'l2', waited: true };
        }
        if (lock !== undefined) return this.lead(key, factory, p, tags, staleBasis, lock);
        // unknown (no cross-process guard possible: the in-process one still holds)
        if (r.status === 'unknown') return this.runner.run(key, factory, p, tags, staleBasis, undefined);
        if (r.lock === 'none') {
          // the entry exists but is no answer (corrupt, invalidated, expired): ask again, taking the lock
          force = true;
          continue;
        }
      }
      ask = true;
      followed = true;
      if (!(await this.waitTurn(key, wait, budget))) return this.runner.run(key, factory, p, tags, staleBasis, undefined);
      if (rt.closed) throw new TieredClosedError();
    }
  }

  /**
   * A follower's wait for its leader: the leader's signal (bus message or this process's own write)
   * or a doubling poll (10 → 200 ms). False — counted in `lockWaitTimeouts` — once `lockWait` or the
   * read's budget is spent. Waiting is not Redis time: it does not draw from the budget.
   */
  private async waitTurn(key: string, wait: FollowerWait, budget: ReadBudget): Promise<boolean> {
    const left = wait.deadline - Date.now();
    if (left <= 0 || budget.exhausted) {
      this.rt.c.lockWaitTimeouts++;
      return false;
    }
    await this.signals.wait(key, Math.min(wait.delay, left));
    wait.delay = Math.min(wait.delay * 2, 200);
    return true;
  }

  /** The leader of the fused miss: the factory; its write releases the lock (or the lock is released alone). */
  private async lead<T>(key: string, factory: Factory<T>, p: ResolvedPolicy, tags: readonly string[] | undefined, staleBasis: StaleCandidate<T> | undefined, lock: FusedLock): Promise<Fresh<T>> {
    let r: Fresh<T> | undefined;
    try {
      r = await this.runner.run(key, factory, p, tags, staleBasis, lock);
      return r;
    } finally {
      // (nothing to do when the write took the release over: it releases the lock itself)
      if (!lock.taken) {
        if (r?.written !== undefined) void r.written.then(() => lock.release().catch(NOOP));
        else void lock.release().catch(NOOP);
      }
    }
  }

  private async leadOrFollow<T>(key: string, factory: Factory<T>, p: ResolvedPolicy, tags: readonly string[] | undefined, basis: StaleCandidate<T> | undefined, forced: boolean, budget: ReadBudget): Promise<Fresh<T>> {
    const rt = this.rt;
    const staleBasis = forced ? undefined : basis; // forceFresh: no stale value for the factory context
    const locks = this.locks;
    // Redis not connected, or the read's budget spent: no cross-process guard is possible, do not wait on it.
    if (locks === undefined || budget.exhausted || !rt.l2.store.isReady() || (rt.l2 as { circuitFor?: (k: string) => string }).circuitFor?.(key) === 'OPEN') return this.runner.run(key, factory, p, tags, staleBasis, undefined);
    const wait: FollowerWait = { deadline: Date.now() + p.lockWait, delay: 10 };
    let followed = false;
    for (;;) {
      let lock: Lock | null | typeof OUT_OF_TIME;
      try {
        // A lock that arrives after the budget is released at once.
        lock = await budget.spend(() => locks.tryAcquire(key, { ttl: rt.opts.lockTtl }), releaseLate);
      } catch (err) {
        // Redis unreachable: no cross-process guard possible; the in-process guard still holds.
        rt.onError(err, 'lock');
        return this.runner.run(key, factory, p, tags, staleBasis, undefined);
      }
      if (lock === OUT_OF_TIME) return this.runner.run(key, factory, p, tags, staleBasis, undefined);
      if (lock !== null) {
        let r: Fresh<T> | undefined;
        try {
          // Double-check: a previous leader may have written the value after our L2 read.
          const read = await rt.readL2<T>(key, budget);
          const e = read.status === 'hit' ? read.entry : undefined;
          if (isNewer(e, basis, rt.l2.now())) {
            this.l1?.fill(key, e);
            if (followed) rt.c.lockFollowers++;
            return { value: e.value, source: 'l2', waited: true };
          }
          r = await this.runner.run(key, factory, p, tags, staleBasis, lock);
          return r;
        } finally {
          // Released once the value is in L2 (followers elsewhere then find it), not before.
          const held = lock;
          if (r?.written !== undefined) void r.written.then(() => held.release().catch(NOOP));
          else held.release().catch(NOOP);
        }
      }
      followed = true;
      if (!(await this.waitTurn(key, wait, budget))) return this.runner.run(key, factory, p, tags, staleBasis, undefined);
      const read = await rt.readL2<T>(key, budget);
      const e = read.status === 'hit' ? read.entry : undefined;
      if (isNewer(e, basis, rt.l2.now())) {
        rt.c.lockFollowers++;
        this.l1?.fill(key, e);
        return { value: e.value, source: 'l2', waited: true };
      }
      if (rt.closed) throw new TieredClosedError();
    }
  }
}

/** Where a follower's wait stands: when it gives up, and the next poll interval. */
interface FollowerWait {
  readonly deadline: number;
  delay: number;
}

/** Releases a lock that was acquired after the read's budget ran out. */
function releaseLate(lock: Lock | null): void {
  lock?.release().catch(NOOP);
}
