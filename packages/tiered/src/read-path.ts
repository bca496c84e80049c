import type { LockClaim, LockedReadResult, ReadResult } from '@stratacache/core';
import { CacheOptionsError } from '@stratacache/core';
import type { FactoryRunner } from './factory-runner';
import { FusedLock } from './fused-lock';
import type { L1Record } from './l1-record';
import type { L1Tier } from './l1-tier';
import type { ResolvedPolicy } from './options';
import { resolvePolicy } from './options';
import type { ReadBudget } from './read-budget';
import type { Fresh, Runtime, StaleCandidate } from './runtime';
import { entryStale } from './runtime';
import type { StampedeGuard } from './stampede-guard';
import type { Factory, GetOrSetOptions } from './types';
import { checkTags } from './validate';

/**
 * The getOrSet state machine past an L1 miss: one flight per key; the L2 read (tri-state, within the
 * read's budget); an L2 hit fills L1; a miss goes to the stampede guard and the factory runner; a
 * stale value (in L2's grace, or this L1's copy while L2 cannot answer) goes to the runner's
 * soft-timeout / fail-safe handling, subject to its throttles. Also `get`'s L2 read and refresh-ahead.
 */
export class ReadPath {
  private readonly flights = new Map<string, Promise<Fresh<unknown>>>();
  /**
   * How often the recent L2 reads of this cache found no fresh entry (0..1, each answered read weighs
   * 1/16; starts at 1: a cold cache misses). It picks a miss's first read: mostly misses → the fused
   * read (read + lock in one round trip; concurrent ones coalesced by core into one script call);
   * mostly hits → core's plain read (one GET, concurrent ones one MGET: a hit must not pay for a
   * script), and a miss among them then asks read-or-lock. Both are the same tri-state read.
   */
  private missRate = 1;
  /** `policyOf`'s memo of the last `{ ttl }`-only options (a ttl that was resolved without error). */
  private lastTtl: { in: unknown; policy: ResolvedPolicy } = { in: undefined, policy: undefined as unknown as ResolvedPolicy };

  constructor(
    private readonly rt: Runtime,
    private readonly l1: L1Tier | undefined,
    private readonly guard: StampedeGuard,
    private readonly runner: FactoryRunner,
  ) {}

  /** `get` past L1: the value if L2 holds it fresh (one budget), else `undefined`. */
  async get<T>(key: string): Promise<T | undefined> {
    const rt = this.rt;
    rt.checkOpen();
    const read = await rt.readL2Once<T>(key);
    const entry = read.status === 'hit' ? read.entry : undefined;
    if (entry !== undefined && entry.expiresAt > rt.l2.now()) {
      rt.c.l2Hits++;
      this.l1?.fill(key, entry);
      if (rt.hitListeners) rt.emit('hit', key, 'l2');
      if (--rt.l2Countdown === 0) rt.sampleHit(key, 'l2');
      return this.out(entry.value) as T;
    }
    rt.c.misses++;
    if (rt.emitter.has('miss')) rt.emit('miss', key, 'l2');
    return undefined;
  }

  // Not async: on the L2-hit path one promise (the flight's `.then`) per caller, no closure per call.
  getOrSet<T>(key: string, factory: Factory<T>, options: GetOrSetOptions | undefined): Promise<T> {
    const rt = this.rt;
    let policy: ResolvedPolicy;
    try {
      rt.checkOpen();
      if (typeof factory !== 'function') throw new CacheOptionsError('TieredCache.getOrSet: factory must be a function');
      policy = options === undefined ? rt.opts : this.policyOf(options);
      if (options?.useCache !== false && options?.tags !== undefined) checkTags(options.tags);
    } catch (err) {
      return Promise.reject(err);
    }
    if (options?.useCache === false) return this.runner.bypass(key, factory);
    if (options?.forceFresh === true) {
      // Only a value produced after this call started is acceptable (a stampede follower's too).
      const basis: StaleCandidate<T> = { value: undefined as T, createdAt: rt.l2.stamp(), graceUntil: 0 };
      return this.guard.fetch(key, factory, policy, options.tags, basis, true, rt.budget()).then(this.answer) as Promise<T>;
    }
    let flight = this.flights.get(key) as Promise<Fresh<T>> | undefined;
    if (flight === undefined) {
      // resolveMiss removes the entry itself when the flight settles (after its first await)
      flight = this.resolveMiss(key, factory, policy, options?.tags);
      this.flights.set(key, flight);
    }
    return flight.then(this.answer) as Promise<T>;
  }

  /** Counts one caller's outcome of a flight and shapes its value. */
  private readonly answer = (r: Fresh<unknown>): unknown => {
    const c = this.rt.c;
    switch (r.source) {
      case 'l2':
        // a stampede follower's value: the read missed L2 first (and emitted `miss`), so it is a miss
        if (r.waited === true) c.misses++;
        else c.l2Hits++;
        break;
      case 'stale':
        c.stale++;
        break;
      default:
        c.misses++;
    }
    return r.source === 'l2' || r.source === 'stale' ? this.out(r.value) : r.value;
  };

  private out(v: unknown): unknown {
    return this.l1 === undefined ? v : this.l1.out(v);
  }

  policyOf(o: GetOrSetOptions): ResolvedPolicy {
    if (o.jitter === undefined && o.grace === undefined && o.softTimeout === undefined && o.hardTimeout === undefined && o.refreshAhead === undefined && o.lockWait === undefined && o.failSafeThrottle === undefined) {
      if (o.ttl === undefined) return this.rt.opts;
      // the common per-call form `{ ttl }`: the last one resolved is reused (no Duration parse per call)
      if (o.ttl === this.lastTtl.in) return this.lastTtl.policy;
      const policy = resolvePolicy(o, this.rt.opts, 'getOrSet');
      this.lastTtl = { in: o.ttl, policy };
      return policy;
    }
    return resolvePolicy(o, this.rt.opts, 'getOrSet');
  }

  /**
   * Past L1: the L2 read (tri-state, within the read's budget), then an L2 hit answers at once (no
   * async frame on that path) and anything else goes to `afterMiss`. The flight's entry is removed
   * when the flight settles (it always settles after `flights.set`: the read is awaited first).
   */
  private resolveMiss<T>(key: string, factory: Factory<T>, p: ResolvedPolicy, tags: readonly string[] | undefined): Promise<Fresh<T>> {
    const rt = this.rt;
    let read: Promise<ReadResult<T>>;
    let l1rec: L1Record | undefined;
    let budget: ReadBudget;
    let claim: LockClaim | undefined;
    let t0 = -1;
    try {
      l1rec = this.l1?.peek(key);
      // One deadline per read: every Redis call from here draws from this budget (the factory's time does not count).
      budget = rt.budget();
      // Tri-state: only a `miss` is L2's authority that the key is gone; `unknown` allows the L1 fail-safe copy.
      // The fused miss: the same read also takes the stampede lock when the key is missing (one round
      // trip). Only while recent reads mostly missed (`missRate`): otherwise the read goes to core's
      // read batcher (one GET, concurrent ones coalesced into one MGET — a hit must not pay for a
      // script), and a miss then asks read-or-lock once (2 round trips awaited instead of 3).
      claim = this.missRate < 0.5 || this.guard.running(key) ? undefined : FusedLock.claimFor(rt, key);
      if (budget.unraced) {
        // the first call on an L2 that bounds it: started directly, its time charged below on a miss
        // (a hit makes no further Redis call of this read)
        t0 = performance.now();
        read = claim === undefined ? rt.readL2Direct<T>(key) : FusedLock.readDirect<T>(rt, key, claim);
      } else read = claim === undefined ? rt.readL2<T>(key, budget) : FusedLock.read<T>(rt, key, claim, false, budget);
    } catch (err) {
      this.flights.delete(key);
      return Promise.reject(err);
    }
    const onRead = (r: ReadResult<T>): Fresh<T> | Promise<Fresh<T>> => {
      try {
        const entry = r.status === 'hit' ? r.entry : undefined;
        const now = rt.l2.now(); // entry times are on core's clock; L1 record times on the local one
        if (r.status !== 'unknown') this.missRate += ((entry !== undefined && entry.expiresAt > now ? 0 : 1) - this.missRate) / 16;
        if (entry !== undefined && entry.expiresAt > now) {
          this.flights.delete(key);
          this.l1?.fill(key, entry);
          if (rt.hitListeners) rt.emit('hit', key, 'l2');
          if (--rt.l2Countdown === 0) rt.sampleHit(key, 'l2');
          if (p.refreshAhead > 0 && now >= entry.createdAt + p.refreshAhead * (entry.expiresAt - entry.createdAt)) {
            this.startBackground(key, factory, p, tags, entryStale(entry), 'ahead');
          }
          return { value: entry.value, source: 'l2' };
        }
        if (t0 >= 0) budget.charge(performance.now() - t0);
        return this.afterMiss(key, factory, p, tags, l1rec, budget, claim, r, now);
      } catch (err) {
        this.flights.delete(key);
        throw err;
      }
    };
    // (the direct read's unexpected rejection is reported and read as `unknown`, like `readL2`'s)
    return t0 >= 0 ? read.then(onRead, (err: unknown) => onRead(claim === undefined ? rt.readFailed<T>(err, key) : FusedLock.readFailed<T>(rt, err, key))) : read.then(onRead);
  }

  /** The miss path past the L2 read: stale candidates, fail-safe throttling, then (single-flighted, guarded) the factory. */
  private async afterMiss<T>(key: string, factory: Factory<T>, p: ResolvedPolicy, tags: readonly string[] | undefined, l1rec: L1Record | undefined, budget: ReadBudget, claim: LockClaim | undefined, read: ReadResult<T>, now: number): Promise<Fresh<T>> {
    const rt = this.rt;
    try {
      const lock = claim !== undefined && (read as LockedReadResult<T>).lock === 'led' ? new FusedLock(rt, key, claim) : undefined;
      // `unknown`: the fused read could not answer, so no cross-process guard is possible for this read
      const pre = lock ?? (claim === undefined ? undefined : (read as LockedReadResult<T>).lock === 'busy' ? 'busy' : read.status === 'unknown' ? 'unknown' : undefined);
      const entry = read.status === 'hit' ? read.entry : undefined;
      const l2Failed = read.status === 'unknown';
      let stale: StaleCandidate<T> | undefined;
      if (entry !== undefined && (entry.graceUntil ?? 0) > now) stale = entryStale(entry);
      if (stale === undefined && l2Failed && l1rec !== undefined && l1rec.graceUntil > Date.now()) {
        // L2 could not answer: the last L1 copy within grace is the fail-safe value. (When L2 answers
        // "missing", it is the authority: the key was deleted or invalidated — never resurrect it.)
        stale = { value: l1rec.value as T, createdAt: l1rec.createdAt, graceUntil: l1rec.graceUntil };
      }
      if (rt.emitter.has('miss')) rt.emit('miss', key, 'l2');

      // Fail-safe throttling (after an origin failure, or while L2 is unreachable): serve the stale value.
      const throttled = this.runner.throttled(key, l2Failed, stale !== undefined, p);
      if (throttled !== undefined && stale !== undefined) {
        if (lock !== undefined) void lock.release();
        this.runner.servedStale(key, throttled);
        return { value: stale.value, source: 'stale' };
      }
      if (stale === undefined) {
        const r = await this.guard.fetch(key, factory, p, tags, undefined, false, budget, pre);
        return r.skipped ? { value: r.value, source: 'origin' } : r;
      }
      const alreadyRunning = this.guard.running(key);
      return await this.runner.withStale(key, stale, this.guard.fetch(key, factory, p, tags, stale, false, budget, pre), alreadyRunning, p);
    } finally {
      // the flight ends with this call
      this.flights.delete(key);
    }
  }

  /** Refresh-ahead from the L1 hit path (background, once per key). */
  refreshAheadOf<T>(key: string, factory: Factory<T>, options: GetOrSetOptions | undefined, rec: L1Record): void {
    if (this.guard.running(key) || this.rt.closed) return;
    const p = options === undefined ? this.rt.opts : this.policyOf(options);
    this.startBackground(key, factory, p, options?.tags, { value: rec.value as T, createdAt: rec.createdAt, graceUntil: Math.max(rec.graceUntil, rec.expiresAt) }, 'ahead');
  }

  private startBackground<T>(key: string, factory: Factory<T>, p: ResolvedPolicy, tags: readonly string[] | undefined, basis: StaleCandidate<T>, kind: 'ahead' | 'stale', budget?: ReadBudget): void {
    const rt = this.rt;
    if (this.guard.running(key) || rt.closed) return;
    if (kind === 'ahead') rt.c.refreshAhead++;
    else rt.c.backgroundRefreshes++;
    if (rt.emitter.has('refresh')) rt.emit('refresh', key, 'origin', { kind });
    // A background refresh gets its own budget.
    rt.track(this.guard.fetch(key, factory, p, tags, basis, false, budget ?? rt.budget()));
  }
}
