import type { CacheEntry, Duration, InvalidateResult, NamespaceKey, ReadResult, SetResult } from '@stratacache/core';
import { CacheEventEmitter, CacheOptionsError, globToRegExp, toMs } from '@stratacache/core';
import { LockManager } from '@stratacache/lock';
import type { Lock, LockGuard } from '@stratacache/lock';
import type { BusMessage, BusMessageType } from './bus-message';
import { newSenderId } from './bus-message';
import { RetryQueue } from './retry-queue';
import { FactoryTimeoutError, TieredClosedError } from './errors';
import type { TieredEvent, TieredEventListener, TieredEventType, TieredSource } from './events';
import type { FactoryContext } from './factory-context';
import { FactoryContextImpl, SKIP } from './factory-context';
import type { BusStats } from './invalidation-bus';
import { InvalidationBus } from './invalidation-bus';
import { L1Cache } from './l1-cache';
import type { L1Policy } from './l1-cache';
import type { L1Record } from './l1-record';
import type { L2Cache, L2InvalidateTarget } from './l2';
import type { GetOrSetPolicy, ResolvedOptions, ResolvedPolicy, TieredCacheOptions } from './options';
import { resolveOptions, resolvePolicy } from './options';
import { estimateSize } from './size';
import { coarseNow } from './clock';
import { deepFreeze } from './freeze';
import { checkJitter, checkTags, isOptionsError } from './validate';
import { OUT_OF_TIME, ReadBudget } from './read-budget';
import type { LRUCache } from 'lru-cache';

export type Factory<T> = (ctx: FactoryContext<T>) => T | Promise<T>;

/** Per-call options of `getOrSet`. */
export interface GetOrSetOptions extends GetOrSetPolicy {
  /** Tags stored with the value (invalidate with `invalidateTag`). */
  tags?: readonly string[];
  /** `false` bypasses both tiers: the factory is called and nothing is read or written. Default `true`. */
  useCache?: boolean;
  /**
   * `true`: skip L1 and L2 (and the fail-safe throttle) and call the factory now — still once per key
   * across concurrent callers; its value is cached as usual. Default `false`.
   */
  forceFresh?: boolean;
}

/** Options of `set`. `ttl: 0` = do not cache: the key is removed everywhere and `set` resolves `{ ok: false, reason: 'bypass' }`. */
export interface TieredSetOptions {
  ttl?: Duration;
  /** Jitter fraction for this write (overrides the TTL policy's); `0` = exactly the TTL. */
  jitter?: number;
  grace?: Duration;
  tags?: readonly string[];
}

export interface TieredStats {
  l1Hits: number;
  l2Hits: number;
  /** Reads answered by the origin (factory) or with nothing. */
  misses: number;
  /** Reads answered with a stale value (expired, within grace). */
  stale: number;
  /** (l1Hits + l2Hits) / all reads. */
  hitRate: number;
  factoryCalls: number;
  factoryErrors: number;
  factoryTimeouts: number;
  softTimeouts: number;
  backgroundRefreshes: number;
  refreshAhead: number;
  /** Cross-process stampede followers that got the leader's value from L2. */
  lockFollowers: number;
  /** Followers that gave up after `lockWait` and called the factory. */
  lockWaitTimeouts: number;
  errors: number;
  l1: { enabled: boolean; size: number; bytes: number; maxEntries: number; maxBytes: number; policy: L1Policy | 'off'; evictions: number; rejected: number };
  bus: BusStats | undefined;
}

interface Fresh<T> {
  value: T | undefined;
  source: TieredSource;
  skipped?: boolean;
  /** The background L2 write + bus publish of a factory value (the caller never waits for it). */
  written?: Promise<unknown>;
}

/** A read whose budget ran out: the store's answer is unknown. */
const OUT_OF_TIME_READ: ReadResult<never> = Object.freeze({ status: 'unknown', reason: 'timeout' });
/** A settled marker for `settledNow`. */
const PENDING: unique symbol = Symbol('pending');
const PENDING_P: Promise<typeof PENDING> = Promise.resolve(PENDING);

/** Something that may serve as a stale fallback. */
interface StaleCandidate<T> {
  value: T;
  createdAt: number;
  graceUntil: number;
}

const NOOP = (): void => undefined;
/** Bound of the background retry queue of failed L2 invalidations (oldest dropped first, with an `error` event). */
const MAX_RETRIES = 1_000;
/** Bound of the memo of canonical keys (key as given → full key); cleared when full. */
const MAX_CANONICAL = 10_000;
/** Keys up to this length take the no-lookup path (core's own limit is 8 KiB; longer ones go through core's check). */
const MAX_FAST_KEY = 8 * 1024;

/**
 * L1 (lru-cache, in process) over L2 (a core `CacheService`), with an invalidation bus across
 * instances, a cross-process stampede guard, grace / stale-while-revalidate, soft and hard
 * factory timeouts and refresh-ahead. See the package README for the full contract.
 */
export class TieredCache {
  readonly l2: L2Cache;
  readonly instanceId: string;
  private readonly opts: ResolvedOptions;
  private readonly l1: L1Cache | undefined;
  private readonly l1Ttl: number;
  /** The raw lru-cache when reads may go straight to it (LRU policy), for the hit path. */
  private readonly lru: LRUCache<string, L1Record> | undefined;
  private readonly busDownTtl: number;
  private readonly refreshAheadDefault: number;
  private readonly cloneOut: boolean;
  private readonly bus: InvalidationBus | undefined;
  private readonly locks: LockManager | undefined;
  private readonly emitter = new CacheEventEmitter<TieredEvent>();
  private readonly flights = new Map<string, Promise<Fresh<unknown>>>();
  private readonly refreshing = new Map<string, Promise<Fresh<unknown>>>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly aborts = new Set<AbortController>();
  private busUp: boolean;
  /** `{prefix}:` of the L2. */
  private readonly prefixColon: string;
  /** Fail-safe throttling: key → until when the origin is not called again while a stale value exists (bounded). */
  private readonly failedUntil = new Map<string, number>();
  /** The same while L2 is unreachable: key → until when the origin is not called again while L2 cannot answer (bounded). */
  private readonly outageUntil = new Map<string, number>();
  /** key as given → canonical full key (bounded: cleared at MAX_CANONICAL entries). */
  private readonly canonical = new Map<string, string>();
  /** Failed L2 invalidations/deletes, retried in the background (bounded, deduplicated). */
  private readonly retries: RetryQueue;
  /** Kept outside `c` so the hit path does one property write. */
  private l1HitCount = 0;
  private hitListeners = false;
  private closed = false;
  private readonly busReady: Promise<void>;
  private readonly c = {
    l1Hits: 0,
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

  constructor(l2: L2Cache, options?: TieredCacheOptions) {
    if (typeof l2 !== 'object' || l2 === null || typeof l2.readEntry !== 'function' || typeof l2.setEntry !== 'function') {
      throw new CacheOptionsError('TieredCache: the first argument must be a core CacheService (with readEntry/setEntry)');
    }
    this.l2 = l2;
    this.prefixColon = `${l2.prefix}:`;
    this.opts = resolveOptions(options);
    this.retries = new RetryQueue(MAX_RETRIES, (task, why) => {
      this.onError(new Error(`L2 invalidation ${task.id.replace(/\u0000/g, ' ')} given up (${why})`), 'l2.retry');
    });
    this.instanceId = this.opts.instanceId ?? newSenderId();
    const l1o = this.opts.l1;
    this.l1 = l1o ? new L1Cache({ maxEntries: l1o.maxEntries, maxBytes: l1o.maxBytes, policy: l1o.policy }) : undefined;
    this.l1Ttl = l1o ? l1o.ttl : 0;
    this.lru = this.l1?.directReads;
    this.busDownTtl = this.opts.busDownL1Ttl;
    this.refreshAheadDefault = this.opts.refreshAhead;
    this.cloneOut = l1o ? l1o.clone : false;

    const store = l2.store;
    const isRedis = store.kind === 'redis' || store.kind === 'redis-cluster';
    const client = (store as { client?: unknown }).client;
    if (this.opts.distributedLock && isRedis && client) {
      this.locks = new LockManager(client as ConstructorParameters<typeof LockManager>[0], {
        prefix: `${l2.keys.prefix}:__tiered_lock`,
        ttl: this.opts.lockTtl,
        fencing: false,
        retries: 0,
        // the lock inside the L2 breaker: with the circuit open it is skipped at once, and its failures count
        guard: (l2 as { breaker?: LockGuard }).breaker,
        // a lock round trip must not cost more than an L2 operation when Redis is slow or down
        commandTimeout: Math.max(50, Math.min(1_000, (l2 as { opTimeoutMs?: number }).opTimeoutMs ?? 1_000)),
      });
    }

    if (this.opts.bus) {
      const channel = this.opts.bus.channel ?? `${l2.keys.prefix}:__tiered_bus`;
      this.bus = new InvalidationBus(store, channel, this.instanceId, {
        onMessage: (m) => this.onBusMessage(m),
        onDown: () => {
          this.busUp = false;
          this.emit('bus', undefined, 'l1', { kind: 'down' });
        },
        onReconnect: () => {
          // Messages may have been missed during the outage: no L1 copy is served before it was verified
          // against L2 once (its next read goes to L2: a hit replaces it, a miss drops it). The copies are
          // kept, not cleared: while L2 cannot answer they remain the fail-safe values.
          const n = this.l1?.markAllStale() ?? 0;
          this.l2.refreshBarriers?.();
          this.emit('bus', undefined, 'l1', { kind: 'reconnect', count: n });
        },
        onUp: (first) => {
          // Copies stored before the first subscription keep the bus-down trust bound for good
          // (invalidations sent before we listened were missed).
          if (first && this.l1 !== undefined && this.l1.size > 0) {
            for (const k of [...this.l1.keys()]) {
              const r = this.l1.peek(k);
              if (r !== undefined) r.freshUntil = Math.min(r.freshUntil, r.storedAt + this.busDownTtl);
            }
          }
          this.busUp = true;
        },
        onError: (err, op) => this.onError(err, `bus.${op}`),
      }, 200, Math.max(50, (l2 as { opTimeoutMs?: number }).opTimeoutMs ?? 1_000));
      this.busUp = false;
      this.busReady = this.bus.start().then(
        () => undefined,
        (err: unknown) => this.onError(err, 'bus.subscribe'),
      );
    } else {
      this.busUp = true;
      this.busReady = Promise.resolve();
    }
  }

  /**
   * Resolves once the invalidation bus is subscribed (at once without a bus), or after
   * `timeoutMs` (default 5 s) if Redis is unreachable — check `busConnected`. Never rejects.
   * Reads and writes work before; until the bus is up, L1 copies are trusted for `busDownL1Ttl` only.
   */
  ready(timeoutMs = 5_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      this.busReady,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      }),
    ]).finally(() => clearTimeout(timer));
  }

  // ---------------------------------------------------------------- reads

  /**
   * The value if it is fresh in L1 or L2, else `undefined` (an expired entry is a miss for `get`;
   * use `getOrSet` for grace). The L1 hit path is synchronous and returns a resolved promise.
   */
  get<T = unknown>(key: string): Promise<T | undefined> {
    const lru = this.lru;
    const rec = lru !== undefined ? lru.get(key) : this.l1?.get(key);
    if (rec !== undefined) {
      // Every L1 key is a canonical full key: a direct hit means `key` is one.
      const v = this.l1Serve<T>(key, rec);
      if (v !== undefined) return Promise.resolve(v);
    }
    let k: string;
    try {
      k = this.fullKey(key);
    } catch (err) {
      return Promise.reject(err);
    }
    if (k !== key) {
      const v = this.l1Hit<T>(k);
      if (v !== undefined) return Promise.resolve(v);
    }
    return this.getSlow<T>(k);
  }

  /**
   * Synchronous L1-only read: the value if a trusted fresh copy is in L1, else `undefined`.
   * Never touches L2. Counts as an L1 hit when found.
   */
  getL1<T = unknown>(key: string): T | undefined {
    const lru = this.lru;
    const rec = lru !== undefined ? lru.get(key) : this.l1?.get(key);
    if (rec === undefined) {
      const k = this.fullKey(key); // a relative key: one memo lookup more
      return k === key ? undefined : this.l1Hit<T>(k);
    }
    // Every L1 key is a canonical full key: a direct hit means `key` is one (the fast, recommended form).
    const now = coarseNow();
    if (rec.freshUntil > now && (this.busUp || rec.storedAt + this.busDownTtl > now)) {
      this.l1HitCount++;
      if (this.hitListeners) this.emit('hit', key, 'l1');
      return (this.cloneOut ? structuredClone(rec.value) : rec.value) as T;
    }
    if (rec.graceUntil <= now) this.l1?.delete(key);
    return undefined;
  }

  /**
   * The canonical full key (core's `key()`: validated, prefix added when missing). Memoised in a
   * bounded map so the L1 hit path does one map lookup instead of building a string per call.
   */
  private fullKey(key: string): string {
    // Fast path, the recommended form (`keys.build()` / `l2.key()`): already full — no lookup, no allocation.
    if (typeof key === 'string' && key.length <= MAX_FAST_KEY && key.startsWith(this.prefixColon)) return key;
    const c = this.canonical.get(key);
    if (c !== undefined) return c;
    const k = this.l2.key(key); // throws core's KeyError for an invalid key
    if (this.canonical.size >= MAX_CANONICAL) this.canonical.clear();
    this.canonical.set(key, k);
    return k;
  }

  /** The L1 hit path, by canonical full key. */
  private l1Hit<T>(key: string): T | undefined {
    const lru = this.lru;
    const rec = lru !== undefined ? lru.get(key) : this.l1?.get(key);
    return rec === undefined ? undefined : this.l1Serve<T>(key, rec);
  }

  /** Serves an L1 record if it is fresh and trusted (counted as an L1 hit). */
  private l1Serve<T>(key: string, rec: L1Record): T | undefined {
    const now = coarseNow();
    if (rec.freshUntil > now && (this.busUp || rec.storedAt + this.busDownTtl > now)) {
      this.l1HitCount++;
      if (this.hitListeners) this.emit('hit', key, 'l1');
      return (this.cloneOut ? structuredClone(rec.value) : rec.value) as T;
    }
    if (rec.graceUntil <= now) this.l1?.delete(key);
    return undefined;
  }

  /** Whether L1 holds a copy of `key` (fresh or not), without touching recency. For tests and diagnostics. */
  hasInL1(key: string): boolean {
    return this.l1?.peek(this.fullKey(key)) !== undefined;
  }

  private async getSlow<T>(key: string): Promise<T | undefined> {
    this.checkOpen();
    const read = await this.readL2Within<T>(key, new ReadBudget(this.l2.opTimeoutMs));
    const entry = read.status === 'hit' ? read.entry : undefined;
    if (entry !== undefined && entry.expiresAt > this.l2.now()) {
      this.c.l2Hits++;
      this.fillL1(key, entry);
      if (this.hitListeners) this.emit('hit', key, 'l2');
      return this.out(entry.value) as T;
    }
    this.c.misses++;
    if (this.emitter.has('miss')) this.emit('miss', key, 'l2');
    return undefined;
  }

  /** True if a fresh value exists in L1 or L2. */
  async has(key: string): Promise<boolean> {
    key = this.fullKey(key);
    if (this.l1 !== undefined) {
      const rec = this.l1.peek(key);
      const now = Date.now();
      if (rec !== undefined && rec.freshUntil > now && (this.busUp || rec.storedAt + this.opts.busDownL1Ttl > now)) return true;
    }
    const r = await this.readL2Within(key, new ReadBudget(this.l2.opTimeoutMs));
    return r.status === 'hit' && r.entry.expiresAt > this.l2.now();
  }

  /**
   * Returns the cached value, or calls `factory` once (per key, across concurrent callers in this
   * process and — on Redis — across processes) and caches its result in L2 and L1.
   * An L1 hit returns an already-resolved promise without any `await` inside.
   */
  getOrSet<T>(key: string, factory: Factory<T>, options?: GetOrSetOptions): Promise<T> {
    if (this.l1 !== undefined && (options === undefined || (options.useCache !== false && options.forceFresh !== true))) {
      let rec = this.lru !== undefined ? this.lru.get(key) : this.l1.get(key);
      if (rec === undefined) {
        // Not found as given: a relative key names the same entry as its full form (one identity).
        try {
          const k = this.fullKey(key);
          if (k !== key) {
            key = k;
            rec = this.lru !== undefined ? this.lru.get(key) : this.l1.get(key);
          }
        } catch (err) {
          return Promise.reject(err);
        }
      }
      // Every L1 key is a canonical full key, so from here on `key` is one when `rec` was found.
      if (rec !== undefined) {
        const now = coarseNow();
        if (rec.freshUntil > now && (this.busUp || rec.storedAt + this.busDownTtl > now)) {
          this.l1HitCount++;
          if (this.hitListeners) this.emit('hit', key, 'l1');
          const ra = options === undefined || options.refreshAhead === undefined ? this.refreshAheadDefault : options.refreshAhead;
          if (ra > 0 && now >= rec.createdLocal + ra * (rec.expiresAt - rec.createdLocal)) {
            this.refreshAheadOf(key, factory, options, rec);
          }
          return Promise.resolve((this.cloneOut ? structuredClone(rec.value) : rec.value) as T);
        }
      }
    }
    try {
      // One identity: `user:get:1` and `sc:user:get:1` are one entry in L1, the single-flight map, the bus and L2.
      key = this.fullKey(key);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.getOrSetSlow(key, factory, options);
  }

  // Not async: on the L2-hit path one promise (the flight's `.then`) per caller, no closure per call.
  private getOrSetSlow<T>(key: string, factory: Factory<T>, options: GetOrSetOptions | undefined): Promise<T> {
    let policy: ResolvedPolicy;
    try {
      this.checkOpen();
      if (typeof factory !== 'function') throw new CacheOptionsError('TieredCache.getOrSet: factory must be a function');
      policy = options === undefined ? this.opts : this.policyOf(options);
    } catch (err) {
      return Promise.reject(err);
    }
    if (options?.useCache === false) return this.bypass(factory);
    if (options?.tags !== undefined) {
      try {
        checkTags(options.tags);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (options?.forceFresh === true) {
      // Only a value produced after this call started is acceptable (a stampede follower's too).
      const basis: StaleCandidate<T> = { value: undefined as T, createdAt: this.l2.stamp(), graceUntil: 0 };
      return this.fetchFresh(key, factory, policy, options.tags, basis, true, new ReadBudget(this.l2.opTimeoutMs)).then(this.answer) as Promise<T>;
    }
    let flight = this.flights.get(key) as Promise<Fresh<T>> | undefined;
    if (flight === undefined) {
      // resolveMiss removes the entry itself (in `finally`, after its first await)
      flight = this.resolveMiss(key, factory, policy, options?.tags);
      this.flights.set(key, flight);
    }
    return flight.then(this.answer) as Promise<T>;
  }

  /** Counts one caller's outcome of a flight and shapes its value. */
  private readonly answer = (r: Fresh<unknown>): unknown => {
    switch (r.source) {
      case 'l2':
        this.c.l2Hits++;
        break;
      case 'stale':
        this.c.stale++;
        break;
      default:
        this.c.misses++;
    }
    return r.source === 'l2' || r.source === 'stale' ? this.out(r.value) : r.value;
  };

  private async bypass<T>(factory: Factory<T>): Promise<T> {
    this.c.factoryCalls++;
    const ctx = new FactoryContextImpl<T>(new AbortController().signal, undefined, undefined, undefined);
    const v = await factory(ctx);
    return (v === SKIP ? undefined : v) as T;
  }

  private policyOf(o: GetOrSetOptions): ResolvedPolicy {
    if (o.ttl === undefined && o.jitter === undefined && o.grace === undefined && o.softTimeout === undefined && o.hardTimeout === undefined && o.refreshAhead === undefined && o.lockWait === undefined) {
      return this.opts;
    }
    return resolvePolicy(o, this.opts, 'getOrSet');
  }

  /** The miss path: L2, then (single-flighted, guarded) the factory, with grace and timeouts. */
  private async resolveMiss<T>(key: string, factory: Factory<T>, p: ResolvedPolicy, tags: readonly string[] | undefined): Promise<Fresh<T>> {
    try {
      const l1rec = this.l1?.peek(key);
      // One deadline per read: every Redis call below draws from this budget (the factory's time does not count).
      const budget = new ReadBudget(this.l2.opTimeoutMs);
      // Tri-state: only a `miss` is L2's authority that the key is gone; `unknown` allows the L1 fail-safe copy.
      const read = await this.readL2Within<T>(key, budget);
      const entry = read.status === 'hit' ? read.entry : undefined;
      const l2Failed = read.status === 'unknown';
      const now = this.l2.now(); // entry times are on core's clock; L1 record times on the local one
      let stale: StaleCandidate<T> | undefined;
      if (entry !== undefined) {
        if (entry.expiresAt > now) {
          this.fillL1(key, entry);
          if (this.hitListeners) this.emit('hit', key, 'l2');
          if (p.refreshAhead > 0 && now >= entry.createdAt + p.refreshAhead * (entry.expiresAt - entry.createdAt)) {
            this.startBackground(key, factory, p, tags, entryStale(entry), 'ahead');
          }
          return { value: entry.value, source: 'l2' };
        }
        if ((entry.graceUntil ?? 0) > now) stale = entryStale(entry);
      }
      if (stale === undefined && l2Failed && l1rec !== undefined && l1rec.graceUntil > Date.now()) {
        // L2 could not answer: the last L1 copy within grace is the fail-safe value. (When L2 answers
        // "missing", it is the authority: the key was deleted or invalidated — never resurrect it.)
        stale = { value: l1rec.value as T, createdAt: l1rec.createdAt, graceUntil: l1rec.graceUntil };
      }
      if (this.emitter.has('miss')) this.emit('miss', key, 'l2');

      if (l2Failed) {
        // An L2 outage counts like an origin failure: one origin call per key per failSafeThrottle window.
        const until = this.outageUntil.get(key);
        if (stale !== undefined && until !== undefined && until > Date.now()) {
          this.serveStale(key, 'outage-throttled');
          return { value: stale.value, source: 'stale' };
        }
        remember(this.outageUntil, key, p.failSafeThrottle);
      } else if (this.outageUntil.size > 0) {
        this.outageUntil.delete(key);
      }

      if (stale === undefined) {
        const r = await this.fetchFresh(key, factory, p, tags, undefined, false, budget);
        return r.skipped ? { value: r.value, source: 'origin' } : r;
      }

      // Fail-safe throttling: the origin failed recently; serve the stale value without calling it.
      const failedUntil = this.failedUntil.get(key);
      if (failedUntil !== undefined) {
        if (failedUntil > Date.now()) {
          this.serveStale(key, 'fail-safe-throttled');
          return { value: stale.value, source: 'stale' };
        }
        this.failedUntil.delete(key);
      }

      // A stale value exists: never make the caller wait longer than softTimeout for a fresh one.
      const alreadyRunning = this.refreshing.has(key);
      const fresh = this.fetchFresh(key, factory, p, tags, stale, false, budget);
      if (p.softTimeout === 0) {
        // stale-while-revalidate: answer now, refresh in the background (once per key)
        this.track(fresh);
        if (!alreadyRunning) {
          this.c.backgroundRefreshes++;
          if (this.emitter.has('refresh')) this.emit('refresh', key, 'origin', { kind: 'stale' });
        }
        this.serveStale(key, 'swr');
        return { value: stale.value, source: 'stale' };
      }
      let timer: NodeJS.Timeout | undefined;
      const soft = new Promise<'soft'>((resolve) => {
        timer = setTimeout(() => resolve('soft'), p.softTimeout);
      });
      try {
        const r = await Promise.race([fresh, soft]);
        if (r === 'soft') {
          this.c.softTimeouts++;
          this.track(fresh);
          this.serveStale(key, 'soft-timeout');
          return { value: stale.value, source: 'stale' };
        }
        if (r.skipped) return r.value !== undefined ? { value: r.value, source: 'origin' } : { value: stale.value, source: 'stale' };
        return r;
      } catch {
        // factory failed or hard-timed out: fail-safe to the stale value
        this.serveStale(key, 'fail-safe');
        return { value: stale.value, source: 'stale' };
      } finally {
        clearTimeout(timer);
      }
    } finally {
      // the flight ends with this call (it always awaits before getting here, after flights.set)
      this.flights.delete(key);
    }
  }

  /** Remembers a factory failure for fail-safe throttling (bounded: the oldest key is forgotten first). */
  private noteFailure(key: string, throttleMs: number): void {
    remember(this.failedUntil, key, throttleMs);
  }

  private serveStale(key: string, kind: string): void {
    if (this.emitter.has('stale')) this.emit('stale', key, 'stale', { kind });
  }

  private refreshAheadOf<T>(key: string, factory: Factory<T>, options: GetOrSetOptions | undefined, rec: L1Record): void {
    if (this.refreshing.has(key) || this.closed) return;
    const p = options === undefined ? this.opts : this.policyOf(options);
    this.startBackground(key, factory, p, options?.tags, { value: rec.value as T, createdAt: rec.createdAt, graceUntil: Math.max(rec.graceUntil, rec.expiresAt) }, 'ahead');
  }

  private startBackground<T>(key: string, factory: Factory<T>, p: ResolvedPolicy, tags: readonly string[] | undefined, basis: StaleCandidate<T>, kind: 'ahead' | 'stale'): void {
    if (this.refreshing.has(key) || this.closed) return;
    if (kind === 'ahead') this.c.refreshAhead++;
    else this.c.backgroundRefreshes++;
    if (this.emitter.has('refresh')) this.emit('refresh', key, 'origin', { kind });
    this.track(this.fetchFresh(key, factory, p, tags, basis));
  }

  private track(p: Promise<unknown>): void {
    const q = p.then(NOOP, NOOP);
    this.background.add(q);
    void q.then(() => this.background.delete(q));
  }

  /**
   * One fresh value per key at a time in this process (single-flight for foreground misses,
   * stale refreshes and refresh-ahead alike), then the cross-process guard.
   */
  private fetchFresh<T>(key: string, factory: Factory<T>, p: ResolvedPolicy, tags: readonly string[] | undefined, basis: StaleCandidate<T> | undefined, forced = false, budget?: ReadBudget): Promise<Fresh<T>> {
    const running = this.refreshing.get(key) as Promise<Fresh<T>> | undefined;
    if (running !== undefined) return running;
    // A background refresh (refresh-ahead, stale-while-revalidate) gets its own budget.
    const run = this.leadOrFollow(key, factory, p, tags, basis, forced, budget ?? new ReadBudget(this.l2.opTimeoutMs));
    this.refreshing.set(key, run);
    const clear = (): void => {
      if (this.refreshing.get(key) === run) this.refreshing.delete(key);
    };
    run.then(clear, clear);
    return run;
  }

  /**
   * Cross-process stampede guard: one leader per key (lock), followers wait for its value. Every Redis
   * call here (lock, double-check, re-reads) draws from the read's budget; when it is spent, the
   * cross-process guard is given up for this read (the in-process one still holds) — never waited for.
   */
  private async leadOrFollow<T>(key: string, factory: Factory<T>, p: ResolvedPolicy, tags: readonly string[] | undefined, basis: StaleCandidate<T> | undefined, forced: boolean, budget: ReadBudget): Promise<Fresh<T>> {
    const staleBasis = forced ? undefined : basis; // forceFresh: no stale value for the factory context
    const locks = this.locks;
    // Redis not connected, or the read's budget spent: no cross-process guard is possible, do not wait on it.
    if (locks === undefined || budget.exhausted || !this.l2.store.isReady()) return this.runFactory(key, factory, p, tags, staleBasis, undefined);
    const deadline = Date.now() + p.lockWait;
    let delay = 10;
    let followed = false;
    for (;;) {
      let lock: Lock | null | typeof OUT_OF_TIME;
      try {
        // A lock that arrives after the budget is released at once.
        lock = await budget.spend(() => locks.tryAcquire(key, { ttl: this.opts.lockTtl }), releaseLate);
      } catch (err) {
        // Redis unreachable: no cross-process guard possible; the in-process guard still holds.
        this.onError(err, 'lock');
        return this.runFactory(key, factory, p, tags, staleBasis, undefined);
      }
      if (lock === OUT_OF_TIME) return this.runFactory(key, factory, p, tags, staleBasis, undefined);
      if (lock !== null) {
        let r: Fresh<T> | undefined;
        try {
          // Double-check: a previous leader may have written the value after our L2 read.
          const read = await this.readL2Within<T>(key, budget);
          const e = read.status === 'hit' ? read.entry : undefined;
          if (isNewer(e, basis, this.l2.now())) {
            this.fillL1(key, e);
            if (followed) this.c.lockFollowers++;
            return { value: e.value, source: 'l2' };
          }
          r = await this.runFactory(key, factory, p, tags, staleBasis, lock);
          return r;
        } finally {
          // Released once the value is in L2 (followers elsewhere then find it), not before.
          const held = lock;
          if (r?.written !== undefined) void r.written.then(() => held.release().catch(NOOP));
          else held.release().catch(NOOP);
        }
      }
      followed = true;
      const left = deadline - Date.now();
      if (left <= 0 || budget.exhausted) {
        this.c.lockWaitTimeouts++;
        return this.runFactory(key, factory, p, tags, staleBasis, undefined);
      }
      // Waiting for the leader's signal is not Redis time: it does not draw from the budget.
      await this.waitForSignal(key, Math.min(delay, left));
      delay = Math.min(delay * 2, 200);
      const read = await this.readL2Within<T>(key, budget);
      const e = read.status === 'hit' ? read.entry : undefined;
      if (isNewer(e, basis, this.l2.now())) {
        this.c.lockFollowers++;
        this.fillL1(key, e);
        return { value: e.value, source: 'l2' };
      }
      if (this.closed) throw new TieredClosedError();
    }
  }

  private waitForSignal(key: string, ms: number): Promise<void> {
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

  /** Calls the factory with its context, applies the hard timeout, writes L2 (awaited) then L1, publishes. */
  private async runFactory<T>(key: string, factory: Factory<T>, p: ResolvedPolicy, tags: readonly string[] | undefined, basis: StaleCandidate<T> | undefined, lock: Lock | undefined): Promise<Fresh<T>> {
    this.checkOpen();
    this.c.factoryCalls++;
    const ac = new AbortController();
    this.aborts.add(ac);
    const ctx = new FactoryContextImpl<T>(ac.signal, basis?.value, p.ttl, tags);
    // createdAt = the factory's start on core's clock: an invalidation that lands while it runs wins.
    const startedAt = this.l2.stamp();
    const t0 = performance.now();
    let extendTimer: NodeJS.Timeout | undefined;
    if (lock !== undefined) {
      extendTimer = setInterval(() => {
        lock.extend(this.opts.lockTtl).catch(NOOP);
      }, Math.max(50, Math.floor(this.opts.lockTtl / 3)));
      extendTimer.unref();
    }
    let hardTimer: NodeJS.Timeout | undefined;
    let value: T;
    try {
      const call = Promise.resolve().then(() => factory(ctx));
      if (p.hardTimeout > 0) {
        const hard = new Promise<never>((_, reject) => {
          hardTimer = setTimeout(() => {
            const err = new FactoryTimeoutError(key, p.hardTimeout);
            ac.abort(err);
            reject(err);
          }, p.hardTimeout);
        });
        call.catch(NOOP);
        value = await Promise.race([call, hard]);
      } else {
        value = await call;
      }
      if (ctx.failure !== undefined) throw ctx.failure.error; // ctx.fail(error): a failure, like a throw
      if (value === undefined && !ctx.skipped) {
        throw new CacheOptionsError(`TieredCache.getOrSet: the factory for ${JSON.stringify(key)} returned undefined (return null for "no value", or ctx.skip())`);
      }
    } catch (err) {
      if (err instanceof FactoryTimeoutError) this.c.factoryTimeouts++;
      else this.c.factoryErrors++;
      this.onError(err, 'factory', key);
      this.noteFailure(key, p.failSafeThrottle);
      throw err;
    } finally {
      clearTimeout(hardTimer);
      clearInterval(extendTimer);
      this.aborts.delete(ac);
    }
    this.failedUntil.delete(key);
    const latencyMs = performance.now() - t0;
    if (this.emitter.has('origin')) this.emit('origin', key, 'origin', { latencyMs });
    // skip(): nothing is cached; a value returned anyway is still handed to the caller
    if (ctx.skipped || (value as unknown) === SKIP) return { value: (value as unknown) === SKIP ? undefined : value, source: 'origin', skipped: true };
    // The caller does not wait for the L2 write and the publish (bounded by opTimeout, in the background);
    // L1 holds the value once L2 accepted it for writing (see `startWrite`).
    const { done } = await this.startWrite(key, value, ctx.ttl, p.grace, ctx.tags, startedAt, p.jitter);
    this.track(done);
    return { value, source: 'origin', written: done };
  }

  // ---------------------------------------------------------------- writes

  /**
   * Writes L2 (awaited), then L1; tells other instances their L1 copy is stale. Resolves core's `SetResult`:
   * `{ ok: false, reason }` when L2 refused the value (`too_large`, or `error` for a value it cannot encode —
   * then it is not in L1 either) or could not be reached (then it is kept in L1 as this process's fail-safe copy).
   */
  async set(key: string, value: unknown, options?: TieredSetOptions): Promise<SetResult> {
    this.checkOpen();
    key = this.fullKey(key);
    const ttl = options?.ttl === undefined ? undefined : toMs(options.ttl, 'TieredCache.set ttl');
    if (value === undefined) throw new CacheOptionsError('TieredCache.set: value must not be undefined (use delete())');
    const grace = options?.grace === undefined ? this.opts.grace : toMs(options.grace, 'TieredCache.set grace');
    const jitter = checkJitter(options?.jitter);
    if (options?.tags !== undefined) checkTags(options.tags);
    if (this.resolveTtl(key, ttl, jitter) === 0) {
      // ttl 0 = do not cache this value: the older entry must not be served in its place (L2, every L1).
      const r = await this.invalidateAll('d', [key], { key }, 'key');
      return r.ok ? { ok: false, reason: 'bypass' } : { ok: false, reason: r.reason ?? 'error' };
    }
    return (await this.startWrite(key, value, ttl, grace, options?.tags, this.l2.stamp(), jitter)).done;
  }

  /** The TTL of a write: explicit or from core's TTL policy, jitter applied to both (0 stays 0 = do not cache). */
  private resolveTtl(key: string, ttl: number | undefined, jitter: number | undefined): number {
    const hint: { entity?: string; operation?: string; ttl?: number; jitter?: number } = { ...ttlHint(key, this.l2.keys.prefix) };
    if (ttl !== undefined) hint.ttl = ttl;
    if (jitter !== undefined) hint.jitter = jitter;
    return this.l2.ttlPolicy.resolve(key, hint);
  }

  /**
   * Starts the L2 write and resolves as soon as L2 has accepted or refused the value (core encodes it
   * and checks `maxItemSize` before its first await), with `done` for the rest (the round trip and the
   * bus publish). L1 never holds a value L2 refused (encoding failed, over maxItemSize: an older copy is
   * dropped too); a value L2 accepted goes into L1 at once — if L2 then turns out unreachable, it stays
   * as this process's fail-safe copy. Other instances are told their copy is stale only after L2 stored
   * it. `createdAt` (compared with barriers) is when the value was produced; the TTL counts from the write.
   */
  private async startWrite(key: string, value: unknown, ttlIn: number | undefined, grace: number, tags: readonly string[] | undefined, createdAt: number, jitter: number | undefined): Promise<{ done: Promise<SetResult> }> {
    const ttl = this.resolveTtl(key, ttlIn, jitter);
    if (!(ttl > 0)) {
      // ttl 0 (call, ctx.setTtl or a TTL rule) = do not cache this value
      this.l1?.delete(key);
      return { done: Promise.resolve({ ok: false, reason: 'bypass' }) };
    }
    const expiresAt = this.l2.now() + ttl;
    const entry: CacheEntry = { value, createdAt, expiresAt };
    if (grace > 0) entry.graceUntil = expiresAt + grace;
    if (tags !== undefined && tags.length > 0) entry.tags = [...tags];
    const pending = this.l2.setEntry(key, entry, ttl + grace);
    let first: SetResult | typeof PENDING;
    try {
      first = await Promise.race([pending, PENDING_P]);
    } catch (err) {
      // invalid arguments (e.g. value undefined) are the caller's bug: rethrow
      if (isOptionsError(err)) throw err;
      // EncodeError (a symbol, a cycle, …): L2 refused the value — never serve it from L1
      this.onError(err, 'encode', key);
      this.l1?.delete(key);
      return { done: Promise.resolve({ ok: false, reason: 'error' }) };
    }
    if (first !== PENDING && !first.ok && first.reason === 'too_large') {
      // L2 refused the value itself (over maxItemSize): never serve it from L1 (an older copy is superseded)
      this.l1?.delete(key);
      return { done: Promise.resolve(first) };
    }
    // Accepted for writing (or L2 unreachable: the value is valid, kept as the fail-safe copy, trusted
    // for l1.ttl, and for busDownL1Ttl only while the bus is down).
    this.fillL1(key, entry);
    const done = (first === PENDING ? pending : Promise.resolve(first)).then(
      (res) => this.written(key, ttl, res),
      (err: unknown): SetResult => {
        this.onError(err, 'l2.set', key);
        return { ok: false, reason: 'error' };
      },
    );
    return { done };
  }

  /** After the L2 write: `set` event, publish (only after L2 stored it; also wakes stampede followers). */
  private async written(key: string, ttl: number, res: SetResult): Promise<SetResult> {
    this.wakeWaiters(key);
    if (!res.ok) return res;
    if (this.emitter.has('set')) this.emit('set', key, 'origin', { ttlMs: ttl });
    if (this.bus !== undefined) await this.bus.publish('s', [key]);
    return res;
  }

  /** Wakes this process's stampede followers of `key` (they re-read L2). */
  private wakeWaiters(key: string): void {
    const w = this.waiters.get(key);
    if (w !== undefined) for (const f of [...w]) f();
  }

  private fillL1(key: string, entry: CacheEntry): void {
    const l1 = this.l1;
    if (l1 === undefined) return;
    const o = this.opts.l1!;
    // L1 record times are on the local clock (the hit path reads Date.now() only): shift the
    // entry's times (core's clock, corrected against Redis) by the current offset.
    const now = Date.now();
    const shift = now - this.l2.now();
    const expiresAt = entry.expiresAt + shift;
    const graceUntil = Math.max(entry.graceUntil ?? 0, entry.expiresAt) + shift;
    if (graceUntil <= now) return;
    let value = entry.value;
    if (o.clone) value = structuredClone(value);
    else if (o.freeze) deepFreeze(value);
    let size: number;
    try {
      size = Math.max(1, Math.ceil(o.sizeOf !== undefined ? o.sizeOf(value) : estimateSize(value)));
    } catch {
      size = 1;
    }
    l1.set(key, {
      value,
      freshUntil: Math.min(now + this.l1Ttl, expiresAt),
      storedAt: now,
      expiresAt,
      graceUntil,
      createdAt: entry.createdAt,
      createdLocal: entry.createdAt + shift,
      tags: entry.tags,
      size,
    });
  }

  private out(v: unknown): unknown {
    return this.cloneOut ? structuredClone(v) : v;
  }

  // ---------------------------------------------------------------- deletes & invalidation

  /**
   * Deletes a key from L2 and L1 here, and from L1 on every other instance. Deleted entries are never
   * served stale. Resolves core's `InvalidateResult`: when L2 could not be reached (`ok: false`), the
   * L1 copies are still dropped here and on every instance, an `error` event is emitted, and the L2
   * delete is retried in the background until it lands or the entry has expired (see `retryQueue`).
   */
  async delete(key: string): Promise<InvalidateResult> {
    this.checkOpen();
    const k = this.fullKey(key);
    return this.invalidateAll('d', [k], { key: k }, 'key');
  }

  /** Alias of {@link delete}. */
  del(key: string): Promise<InvalidateResult> {
    return this.delete(key);
  }

  /**
   * Invalidates by key, glob pattern, tag or namespace (`{ entity, operation? }`) on L2, this L1 and
   * every other instance's L1. Same result and failure handling as {@link delete}.
   */
  async invalidate(target: L2InvalidateTarget): Promise<InvalidateResult> {
    this.checkOpen();
    if (typeof target !== 'object' || target === null) throw new CacheOptionsError('TieredCache.invalidate: target must be an object');
    const kinds = ['key', 'pattern', 'tag', 'namespace'].filter((k) => (target as Record<string, unknown>)[k] !== undefined);
    if (kinds.length !== 1) throw new CacheOptionsError('TieredCache.invalidate: give exactly one of key, pattern, tag, namespace');
    if (target.key !== undefined) return this.delete(target.key);
    if (target.pattern !== undefined) {
      const glob = this.l2.fullPattern(target.pattern);
      return this.invalidateAll('p', [glob], { pattern: glob }, 'pattern');
    }
    if (target.tag !== undefined) {
      if (typeof target.tag !== 'string' || target.tag.length === 0) throw new CacheOptionsError('tags must be non-empty strings');
      return this.invalidateAll('t', [target.tag], { tag: target.tag }, 'tag');
    }
    const ns = target.namespace!;
    if (typeof ns !== 'object' || ns === null || typeof ns.entity !== 'string' || ns.entity.length === 0) {
      throw new CacheOptionsError('TieredCache.invalidate: namespace.entity must be a non-empty string');
    }
    if (ns.operation !== undefined && (typeof ns.operation !== 'string' || ns.operation.length === 0)) {
      throw new CacheOptionsError('TieredCache.invalidate: namespace.operation must be a non-empty string');
    }
    // Bus messages carry the raw names; both sides escape them through core's one namespace function.
    const parts = ns.operation === undefined ? [ns.entity] : [ns.entity, ns.operation];
    return this.invalidateAll('n', parts, { namespace: ns.operation === undefined ? { entity: ns.entity } : { entity: ns.entity, operation: ns.operation } }, 'namespace');
  }

  invalidateTag(tag: string): Promise<InvalidateResult> {
    return this.invalidate({ tag });
  }

  invalidatePattern(pattern: string): Promise<InvalidateResult> {
    return this.invalidate({ pattern });
  }

  invalidateNamespace(entity: string, operation?: string): Promise<InvalidateResult> {
    return this.invalidate({ namespace: operation === undefined ? { entity } : { entity, operation } });
  }

  /** Clears L2 (the whole prefix), this L1 and every other instance's L1. Same result and failure handling as {@link delete}. */
  async clear(): Promise<InvalidateResult> {
    this.checkOpen();
    return this.invalidateAll('c', [], undefined, 'clear');
  }

  /**
   * The one invalidation path: drop local L1, apply on L2, drop local L1 again (a concurrent fill may
   * have raced the L2 write), publish the L1 drop on the bus — whether L2 succeeded or not — and on
   * failure report it and retry L2 in the background.
   */
  private async invalidateAll(type: BusMessageType, parts: string[], target: L2InvalidateTarget | undefined, kind: string): Promise<InvalidateResult> {
    this.applyLocal(type, parts);
    const until = this.retryUntil(type, parts);
    const res = await this.applyL2(target);
    this.applyLocal(type, parts);
    const label = parts.join(':');
    if (!res.ok) {
      this.onError(new Error(`L2 ${kind} invalidation failed (${res.reason ?? 'error'}); retrying in the background`), `l2.${kind}`, type === 'd' ? parts[0] : undefined);
      this.retries.add({
        id: `${type}\u0000${parts.join('\u0000')}`,
        until,
        run: async () => (await this.applyL2(target)).ok,
        landed: () => {
          // L2 now holds the invalidation: drop what may have been refilled meanwhile, here and elsewhere.
          this.applyLocal(type, parts);
          if (this.emitter.has('invalidate')) this.emit('invalidate', type === 'd' ? parts[0] : undefined, 'l2', { kind, target: label, count: 0 });
          void this.bus?.publish(type, parts);
        },
      });
    }
    if (type === 'd') {
      if (res.ok && this.emitter.has('delete')) this.emit('delete', parts[0], 'l2', { count: res.deleted });
    }
    if (this.emitter.has('invalidate')) {
      const extra: Partial<TieredEvent> = { kind, target: label, count: res.deleted, ok: res.ok };
      if (res.reason !== undefined) extra.reason = res.reason;
      this.emit('invalidate', type === 'd' ? parts[0] : undefined, 'l2', extra);
    }
    await this.bus?.publish(type, parts);
    return res;
  }

  private async applyL2(target: L2InvalidateTarget | undefined): Promise<InvalidateResult> {
    try {
      if (target === undefined) return await this.l2.clear();
      if (target.key !== undefined) return await this.l2.delete(target.key);
      return await this.l2.invalidate(target);
    } catch (err) {
      if (isOptionsError(err)) throw err;
      return { ok: false, reason: 'error', deleted: 0, barriers: 0 };
    }
  }

  /** How long a failed L2 invalidation is worth retrying: until what it hides has expired. */
  private retryUntil(type: BusMessageType, parts: readonly string[]): number {
    const max = Date.now() + this.l2.maxTtlMs;
    if (type !== 'd') return max;
    const rec = this.l1?.peek(parts[0] as string);
    // The L1 copy's grace end is the L2 entry's physical expiry only if L1 holds the latest write; keep maxTtl otherwise.
    return rec === undefined ? max : Math.max(rec.graceUntil, Date.now() + 1_000);
  }

  /** Drops only this instance's L1 (nothing else). */
  clearL1(): void {
    this.l1?.clear();
  }

  private applyLocal(type: BusMessageType, parts: readonly string[]): number {
    const l1 = this.l1;
    if (l1 === undefined) return 0;
    switch (type) {
      case 'd': {
        let n = 0;
        for (const k of parts) if (l1.delete(k)) n++;
        return n;
      }
      case 's': {
        let n = 0;
        for (const k of parts) if (this.opts.onRemoteSet === 'drop' ? l1.delete(k) : l1.markStale(k)) n++;
        return n;
      }
      case 't': {
        const tags = new Set(parts);
        return l1.deleteWhere((_k, r) => r.tags !== undefined && r.tags.some((t) => tags.has(t)));
      }
      case 'n': {
        let ns: NamespaceKey;
        try {
          ns = this.l2.keys.namespaceKey(parts[0] ?? '', parts[1]);
        } catch {
          return 0; // a malformed message from another instance
        }
        return l1.deleteWhere((k) => ns.matches(k));
      }
      case 'p': {
        // Bus patterns are full globs (core's `fullPattern`), L1 keys are full keys.
        const re = globToRegExp(parts[0] ?? '');
        return l1.deleteWhere((k) => re.test(k));
      }
      case 'c': {
        const n = l1.size;
        l1.clear();
        return n;
      }
    }
  }

  private onBusMessage(m: BusMessage): void {
    // Another instance wrote a tag/namespace barrier (or cleared): core's short-lived barrier cache
    // (`barrierCacheMs`) must not hide it from our next L2 read.
    if (m.type === 't' || m.type === 'n' || m.type === 'c') this.l2.refreshBarriers?.();
    const n = this.applyLocal(m.type, m.parts);
    if (m.type === 's' || m.type === 'd') for (const k of m.parts) this.wakeWaiters(k);
    if (this.emitter.has('bus')) this.emit('bus', m.parts.length === 1 ? m.parts[0] : undefined, 'l1', { kind: m.type, count: n });
  }

  // ---------------------------------------------------------------- observability & lifecycle

  on(type: TieredEventType | '*', listener: TieredEventListener): () => void {
    const off = this.emitter.on(type, listener);
    this.hitListeners = this.emitter.has('hit');
    return () => {
      off();
      this.hitListeners = this.emitter.has('hit');
    };
  }

  /** Builds an event the way core does: full key, entity / operation / namespace parsed from it. */
  private emit(type: TieredEventType, key: string | undefined, source: TieredSource, extra?: Partial<TieredEvent>): void {
    const e: TieredEvent = { type, source, ...extra };
    if (key !== undefined) {
      // keys are canonical (full, with prefix) everywhere inside TieredCache
      const full = key;
      e.key = full;
      const ns = ttlHint(full, this.l2.keys.prefix);
      if (ns !== undefined) {
        e.entity = ns.entity;
        if (ns.operation !== undefined) e.operation = ns.operation;
        e.namespace = ns.operation === undefined ? ns.entity : `${ns.entity}:${ns.operation}`;
      }
    }
    this.emitter.emit(e);
  }

  private onError(err: unknown, op: string, key?: string): void {
    this.c.errors++;
    if (this.emitter.has('error')) this.emit('error', key, 'l2', { kind: op, error: err });
  }

  stats(): TieredStats {
    const c = { ...this.c, l1Hits: this.l1HitCount };
    const reads = c.l1Hits + c.l2Hits + c.misses + c.stale;
    const l1 = this.l1;
    const o = this.opts.l1;
    return {
      ...c,
      hitRate: reads === 0 ? 0 : (c.l1Hits + c.l2Hits) / reads,
      l1: {
        enabled: l1 !== undefined,
        size: l1?.size ?? 0,
        bytes: l1?.bytes ?? 0,
        maxEntries: o?.maxEntries ?? 0,
        maxBytes: o?.maxBytes ?? 0,
        policy: o?.policy ?? 'off',
        evictions: l1?.evictions ?? 0,
        rejected: l1?.rejected ?? 0,
      },
      bus: this.bus?.stats(),
    };
  }

  /** Whether the invalidation bus is subscribed (true when there is no bus). */
  get busConnected(): boolean {
    return this.busUp;
  }

  /** Tri-state L2 read within the read's budget: past it, `unknown` (the read goes on in core, bounded by opTimeout). */
  private readL2Within<T>(key: string, budget: ReadBudget): Promise<ReadResult<T>> {
    return budget.spend(() => this.readL2Result<T>(key)).then((r) => (r === OUT_OF_TIME ? OUT_OF_TIME_READ : r));
  }

  /** Tri-state L2 read (core's `readEntry`); never rejects. */
  private readL2Result<T>(key: string): Promise<ReadResult<T>> {
    return this.l2.readEntry<T>(key).catch((err: unknown): ReadResult<T> => {
      this.onError(err, 'l2.get', key);
      return { status: 'unknown', reason: 'error' };
    });
  }

  private checkOpen(): void {
    if (this.closed) throw new TieredClosedError();
  }

  /**
   * Stops the bus, aborts running factories (their signal fires), waits up to `timeoutMs` for
   * background refreshes, and clears L1. Does not close the L2 CacheService (you own it).
   */
  async close(timeoutMs = 2_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.retries.close();
    for (const ac of this.aborts) ac.abort(new TieredClosedError());
    for (const set of this.waiters.values()) for (const f of [...set]) f();
    if (this.background.size > 0) {
      await Promise.race([Promise.all([...this.background]), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    }
    await this.bus?.close();
    this.l1?.clear();
    this.emitter.clear();
  }
}

/** entity / operation of a full key, as core's TTL rules expect. */
function ttlHint(full: string, prefix: string): { entity: string; operation?: string } | undefined {
  const start = prefix.length + 1;
  const c1 = full.indexOf(':', start);
  if (c1 === -1 || c1 === start) return undefined;
  const c2 = full.indexOf(':', c1 + 1);
  const entity = full.slice(start, c1);
  return c2 === -1 || c2 === c1 + 1 ? { entity } : { entity, operation: full.slice(c1 + 1, c2) };
}

/** `map[key] = now + ms` in a bounded map (the oldest key is forgotten first); nothing when `ms <= 0`. */
function remember(map: Map<string, number>, key: string, ms: number): void {
  if (ms <= 0) return;
  map.delete(key);
  if (map.size >= MAX_CANONICAL) map.delete(map.keys().next().value as string);
  map.set(key, Date.now() + ms);
}

/** Releases a lock that was acquired after the read's budget ran out. */
function releaseLate(lock: Lock | null): void {
  lock?.release().catch(NOOP);
}

function entryStale<T>(e: CacheEntry<T>): StaleCandidate<T> {
  return { value: e.value, createdAt: e.createdAt, graceUntil: Math.max(e.graceUntil ?? 0, e.expiresAt) };
}

/** A fresh entry (at `now`, core's clock) produced after `basis` (any fresh entry when there is no basis). */
function isNewer<T>(e: CacheEntry<T> | undefined, basis: StaleCandidate<T> | undefined, now: number): e is CacheEntry<T> {
  if (e === undefined || !(e.expiresAt > now)) return false;
  return basis === undefined || e.createdAt > basis.createdAt;
}
