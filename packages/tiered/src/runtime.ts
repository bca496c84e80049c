import type { CacheEntry, ReadResult } from '@stratacache/core';
import { CacheEventEmitter, parseNamespace, unescapeKeyPart } from '@stratacache/core';
import { TieredClosedError } from './errors';
import type { TieredEvent, TieredEventType, TieredSource } from './events';
import type { L2Cache } from './l2';
import type { ResolvedOptions } from './options';
import { BudgetClock } from './read-budget';
import type { ReadBudget } from './read-budget';

export const NOOP = (): void => undefined;
/** Bound of the memos kept per key (canonical keys, fail-safe throttles); the oldest goes first. */
export const MAX_KEYS_TRACKED = 10_000;

/** What one flight of a key resolves to. */
export interface Fresh<T> {
  value: T | undefined;
  source: TieredSource;
  skipped?: boolean;
  /** Served from L2 only after the read had missed there (a stampede follower's value): counted as a miss, like the `miss` event it emitted. */
  waited?: boolean;
  /** The background L2 write + bus publish of a factory value (the caller never waits for it). */
  written?: Promise<unknown>;
}

/** Something that may serve as a stale fallback. */
export interface StaleCandidate<T> {
  value: T;
  createdAt: number;
  graceUntil: number;
}

export function entryStale<T>(e: CacheEntry<T>): StaleCandidate<T> {
  return { value: e.value, createdAt: e.createdAt, graceUntil: Math.max(e.graceUntil ?? 0, e.expiresAt) };
}

/** A fresh entry (at `now`, core's clock) produced after `basis` (any fresh entry when there is no basis). */
export function isNewer<T>(e: CacheEntry<T> | undefined, basis: StaleCandidate<T> | undefined, now: number): e is CacheEntry<T> {
  if (e === undefined || !(e.expiresAt > now)) return false;
  return basis === undefined || e.createdAt > basis.createdAt;
}

/** `map[key] = now + ms` in a bounded map (the oldest key is forgotten first); nothing when `ms <= 0`. */
export function remember(map: Map<string, number>, key: string, ms: number): void {
  if (ms <= 0) return;
  map.delete(key);
  if (map.size >= MAX_KEYS_TRACKED) map.delete(map.keys().next().value as string);
  map.set(key, Date.now() + ms);
}

/** A read whose budget ran out: the store's answer is unknown. */
const OUT_OF_TIME_READ: ReadResult<never> = Object.freeze({ status: 'unknown', reason: 'timeout' });

/**
 * What every part of a TieredCache shares: the L2, the resolved options, counters, events, the
 * background work to wait for on close, and the budgeted L2 read. One per TieredCache.
 */
export class Runtime {
  readonly emitter = new CacheEventEmitter<TieredEvent>();
  /** Background work (refreshes, L2 writes) not settled yet; `close()` waits for it (see `settled`). */
  private pending = 0;
  /** Resolvers of `settled()` calls waiting for `pending` to reach 0. */
  private drained: (() => void)[] = [];
  /** `track`'s one reaction per tracked promise (no closure, no promise of its own per call). */
  private readonly untrack = (): void => {
    if (--this.pending === 0 && this.drained.length > 0) {
      const waiters = this.drained;
      this.drained = [];
      for (const w of waiters) w();
    }
  };
  /** Running factories' contexts (their signal is aborted on close). */
  readonly aborts = new Set<{ abort(reason: unknown): void }>();
  /** Whether someone listens to `hit` (checked on the hit path instead of a map lookup). */
  hitListeners = false;
  /** L1 / L2 hits left until the next `sampled_hit` of that source (decremented by every hit: no allocation on the others). */
  l2Countdown: number;
  closed = false;
  readonly c = {
    l2Hits: 0,
    misses: 0,
    stale: 0,
    factoryCalls: 0,
    factoryErrors: 0,
    factoryTimeouts: 0,
    softTimeouts: 0,
    backgroundRefreshes: 0,
    refreshAhead: 0,
    lockFollowers: 0,
    lockWaitTimeouts: 0,
    errors: 0,
  };

  /** The fused miss is on: the lock is taken by the L2 read (see `FusedLock`). */
  readonly fused: boolean;
  /** The deadlines of every read's first L2 call (one shared timer; made at the first read). */
  private budgets: BudgetClock | undefined;

  constructor(
    readonly l2: L2Cache,
    readonly opts: ResolvedOptions,
  ) {
    this.fused = opts.distributedLock && opts.fusedMiss && l2.lockedReads === true && typeof l2.readOrLock === 'function' && typeof l2.writeAndRelease === 'function' && typeof l2.extendLock === 'function';
    this.l2Countdown = opts.hitSampleEvery;
  }

  /** The hit paths call this when a countdown reached 0: re-arms L2's (L1's is the tier's); emits `sampled_hit` (`count`: the interval) if someone listens. */
  sampleHit(key: string, source: 'l1' | 'l2'): void {
    const every = this.opts.hitSampleEvery;
    if (source === 'l2') this.l2Countdown = every;
    if (!this.emitter.has('sampled_hit')) return;
    // built directly (no options object, no spread): this runs for one hit in `every`
    this.emitter.emit(this.labelled({ type: 'sampled_hit', source, key, count: every }, key));
  }

  /** Adds the entity / operation / namespace parsed from `key` (full, with prefix) to an event. */
  private labelled(e: TieredEvent, key: string): TieredEvent {
    const ns = namespaceOf(key, this.l2.keys.prefix);
    if (ns !== undefined) {
      e.entity = ns.entity;
      if (ns.operation !== undefined) e.operation = ns.operation;
      e.namespace = ns.label;
    }
    return e;
  }

  checkOpen(): void {
    if (this.closed) throw new TieredClosedError();
  }

  /** A new budget of one read (`opTimeout` of the L2). */
  budget(): ReadBudget {
    return (this.budgets ??= new BudgetClock(this.l2.opTimeoutMs, this.l2.boundedReads === true)).budget();
  }

  /** Tri-state L2 read within the read's budget: past it, `unknown` (the read goes on in core, bounded by opTimeout). Never rejects. */
  readL2<T>(key: string, budget: ReadBudget): Promise<ReadResult<T>> {
    // (an unexpected rejection of the L2 read is reported and read as `unknown`, in the same settle step)
    return budget.spendOnRead(() => this.readL2Now<T>(key), undefined, OUT_OF_TIME_READ, (err: unknown) => this.readFailed<T>(err, key));
  }

  /** A read that makes one L2 call and no other (`get`, `has`): within a budget of its own. Never rejects. */
  readL2Once<T>(key: string): Promise<ReadResult<T>> {
    const budget = this.budget();
    if (!budget.unraced) return this.readL2<T>(key, budget);
    return this.readL2Direct<T>(key).catch((err: unknown) => this.readFailed<T>(err, key));
  }

  /**
   * The L2 read itself, no budget (the caller checked `budget.unraced` and charges the time). Never
   * throws (a synchronous failure is reported and read as `unknown`); an unexpected rejection is the
   * caller's to map with `readFailed`, as `readL2` does.
   */
  readL2Direct<T>(key: string): Promise<ReadResult<T>> {
    try {
      return this.readL2Now<T>(key);
    } catch (err) {
      return Promise.resolve(this.readFailed<T>(err, key));
    }
  }

  /** An unexpected failure of an L2 read: reported, read as `unknown`. */
  readFailed<T>(err: unknown, key: string): ReadResult<T> {
    this.onError(err, 'l2.get', key);
    return { status: 'unknown', reason: 'error' };
  }

  private readL2Now<T>(key: string): Promise<ReadResult<T>> {
    if (!this.emitter.has('l2_read')) return this.l2.readEntry<T>(key);
    // timed only while someone listens (analytics' L2 latency histogram)
    const t0 = performance.now();
    return this.l2.readEntry<T>(key).then((r) => {
      this.emit('l2_read', key, 'l2', { latencyMs: performance.now() - t0, kind: r.status });
      return r;
    });
  }

  /** Counts `p` as background work until it settles (either way), so `close()` can wait for it. */
  track(p: Promise<unknown>): void {
    this.pending++;
    p.then(this.untrack, this.untrack);
  }

  /** Resolves once every tracked promise has settled (at once when none is pending). */
  settled(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.drained.push(resolve));
  }

  /** Whether tracked background work has not settled yet. */
  get busy(): boolean {
    return this.pending > 0;
  }

  /** Builds an event the way core does: full key, entity / operation / namespace parsed from it. */
  emit(type: TieredEventType, key: string | undefined, source: TieredSource, extra?: Partial<TieredEvent>): void {
    const e: TieredEvent = { type, source, ...extra };
    // keys are canonical (full, with prefix) everywhere inside TieredCache
    if (key !== undefined) e.key = key;
    this.emitter.emit(key === undefined ? e : this.labelled(e, key));
  }

  onError(err: unknown, op: string, key?: string): void {
    this.c.errors++;
    if (this.emitter.has('error')) this.emit('error', key, 'l2', { kind: op, error: err });
  }
}

/**
 * The namespace of a full key, exactly as core reads it (`{prefix}:{entity}:{operation}:…` →
 * entity + operation; `{prefix}:{entity}:{id}` → entity): `entity` / `operation` unescaped (the form
 * of TTL rules and events), `label` as it appears in the key (core's `namespace` field of events).
 * Core keeps this private (`CacheService.nsOf`); a shared export is the wanted fix (see README).
 */
export function namespaceOf(full: string, prefix: string): { entity: string; operation?: string; label: string } | undefined {
  // core's one namespace-of-key parser (escaped parts, as in the key), unescaped for events and TTL rules
  const ns = parseNamespace(full, prefix);
  if (ns === undefined) return undefined;
  if (ns.operation === undefined) return { entity: unescape(ns.entity), label: ns.entity };
  return { entity: unescape(ns.entity), operation: unescape(ns.operation), label: `${ns.entity}:${ns.operation}` };
}

/** core's `unescapeKeyPart`, skipped (no regex) for the usual part without an escape. */
function unescape(part: string): string {
  return part.includes('%') ? unescapeKeyPart(part) : part;
}
