import type { CircuitBreaker } from '@stratacache/breaker';
import { BarrierLayout } from './barrier-layout';
import { Barriers } from './barriers';
import { StoreClock } from './clock';
import type { Codec } from './codec';
import type { CacheEntry } from './entry';
import { CacheOptionsError } from './errors';
import type { CacheEventListener, CacheEventType } from './events';
import { GetOrSet } from './get-or-set';
import { Guard, GuardedStore, isFailure } from './guarded-store';
import { Invalidation, toResult } from './invalidation';
import { KeyError } from './key-builder';
import { LockedReads } from './locked-reads';
import type { LockedReadResult } from './locked-reads';
import type { KeyBuilder } from './key-builder';
import { Namespaces } from './namespaces';
import { MAX_KEY_LENGTH, resolveOptions } from './options';
import type { CacheServiceOptions } from './options';
import { ReadMode, ReadPath } from './read-path';
import { Metrics } from './stats';
import type { CacheStats } from './stats';
import type { LockClaim, Store, StorePublish } from './store';
import type { TtlPolicy } from './ttl-policy';
import type { Factory, GetOrSetOptions, HealthReport, InvalidateResult, InvalidateSpec, MsetEntry, ReadResult, SetOptions, SetResult } from './types';
import { WritePath } from './write-path';

/**
 * The cache: typed get/set/getOrSet over a {@link Store}, one entry envelope, TTL policy, tag and
 * namespace invalidation as O(1) lazy barriers, events and stats, and fail-safe store access (every
 * store call goes through one guarded wrapper: circuit breaker + `opTimeout` + error accounting; a
 * store failure is a miss for readers and a reported, skipped write for writers — never an exception).
 *
 * A facade over its parts: `options.ts` (validation), `guarded-store.ts` (resilience),
 * `read-path.ts`, `write-path.ts`, `get-or-set.ts`, `invalidation.ts` + `barriers.ts`,
 * `namespaces.ts`, `stats.ts`.
 */
export class CacheService {
  readonly store: Store;
  readonly keys: KeyBuilder;
  readonly ttlPolicy: TtlPolicy;
  readonly breaker: CircuitBreaker;
  readonly prefix: string;
  readonly opTimeoutMs: number;
  /**
   * `readEntry` and `readOrLock` settle within `opTimeout` as a whole (the entry, its namespace and
   * tag barriers; past it the answer is `unknown`), so an upper layer that gives a read a budget of
   * `opTimeout` needs no timer of its own for that read.
   */
  readonly boundedReads = true;
  readonly maxItemSize: number;
  readonly maxTtlMs: number;
  /** The codec entries are encoded with (upper layers may use it to size values). */
  readonly codec: Codec;

  private readonly prefixColon: string;
  private readonly ownsStore: boolean;
  private readonly metrics = new Metrics();
  private readonly clock: StoreClock;
  private readonly guard: GuardedStore;
  private readonly namespaces: Namespaces;
  private readonly barriers: Barriers;
  private readonly reads: ReadPath;
  private readonly writes: WritePath;
  private readonly loader: GetOrSet;
  private readonly invalidation: Invalidation;
  private readonly locked: LockedReads;

  constructor(opts: CacheServiceOptions = {}) {
    const cfg = resolveOptions(opts);
    this.store = cfg.store;
    this.keys = cfg.keys;
    this.ttlPolicy = cfg.ttlPolicy;
    this.breaker = cfg.breaker;
    this.prefix = cfg.prefix;
    this.prefixColon = cfg.prefixColon;
    this.opTimeoutMs = cfg.opTimeoutMs;
    this.maxItemSize = cfg.maxItemSize;
    this.maxTtlMs = cfg.maxTtlMs;
    this.codec = cfg.codec;
    this.ownsStore = cfg.ownsStore;

    const store = this.store;
    this.clock = new StoreClock(cfg.clock, typeof store.time === 'function' ? () => store.time!() : undefined, cfg.opTimeoutMs);
    this.clock.start(cfg.clockSyncMs);
    const m = this.metrics;
    m.events.onListenerError = opts.onListenerError;
    m.hitSampleEvery = m.hitCountdown = cfg.hitSampleEvery;
    this.guard = new GuardedStore(cfg, m);
    this.namespaces = new Namespaces(cfg.prefix, cfg.maxNamespaces, m.otherNs, cfg.keys, new BarrierLayout(cfg.barrierCopies));
    this.barriers = new Barriers(cfg.barrierCacheMs, this.guard, this.namespaces);
    this.reads = new ReadPath(cfg.codec, this.guard, this.barriers, this.namespaces, m, this.clock, cfg.opTimeoutMs);
    this.invalidation = new Invalidation(cfg, this.guard, this.namespaces, this.barriers, m, this.clock, (k) => this.key(k));
    this.writes = new WritePath(cfg, this.guard, this.namespaces, this.invalidation, m, this.clock);
    this.loader = new GetOrSet(this.guard, this.reads, this.writes, this.namespaces, m, this.clock);
    this.locked = new LockedReads(this.guard, this.barriers, this.reads, this.writes, m, cfg.maxTtlMs);
  }

  // ---------------------------------------------------------------------------------------------
  // keys and the one clock

  /** The full store key for `key`: used as is when it already starts with `{prefix}:`, else prefixed. */
  key(key: string): string {
    if (typeof key !== 'string' || key.length === 0) {
      throw new KeyError(`cache key must be a non-empty string, got ${key === '' ? 'an empty string' : typeof key}`);
    }
    if (key.length > MAX_KEY_LENGTH) throw new KeyError(`cache key is longer than ${MAX_KEY_LENGTH} characters (build it with cache.keys to hash long identifiers)`);
    return key.startsWith(this.prefixColon) ? key : this.prefixColon + key;
  }

  /** The full glob of `glob` (relative to the prefix, or already full), as `invalidatePattern` uses it. */
  fullPattern(glob: string): string {
    return this.invalidation.fullPattern(glob);
  }

  /**
   * Epoch ms on the store's clock: the local clock (`clock` option, default `Date.now`) plus the
   * offset to Redis server time (`TIME`, measured in the background with rtt/2 correction; 0 for the
   * MemoryStore). Entry expiry is computed and checked with it.
   */
  now(): number {
    return this.clock.now();
  }

  /**
   * Like `now()`, but strictly increasing on this instance (sub-ms fraction on ties) and never later
   * than the store's time when taken (the lower bound of the measured offset). Every entry's
   * `createdAt` comes from it — in core and in TieredCache — and every barrier value from the same
   * sequence's upper bound, so an entry produced before an invalidation (on any instance, whatever its
   * local clock skew) is older than the barrier.
   */
  stamp(): number {
    return this.clock.stamp();
  }

  /**
   * Measures the offset to the store's clock now (it is also measured at construction and every
   * `clockSyncInterval`, in the background). Resolves false when the store has no clock or did not answer.
   */
  syncClock(): Promise<boolean> {
    return this.clock.sync();
  }

  /** The current offset (ms) added to the local clock. */
  get clockOffsetMs(): number {
    return this.clock.offsetMs;
  }

  // ---------------------------------------------------------------------------------------------
  // reads

  /** The value, or `undefined` on a miss, a logically expired entry, a store failure, or an open circuit. Never rejects for store failures. */
  get<T = unknown>(key: string): Promise<T | undefined> {
    return this.readKey(key, ReadMode.GET) as Promise<T | undefined>;
  }

  /** True when a fresh entry exists (barriers and logical expiry respected). Not counted as a hit or miss. */
  has(key: string): Promise<boolean> {
    return this.readKey(key, ReadMode.HAS) as Promise<boolean>;
  }

  /**
   * The raw envelope, including a logically expired entry still inside its grace period (for stale
   * serving). `undefined` when missing, corrupt, unreachable, or invalidated by a tag/namespace barrier
   * (invalidation is deletion, not expiry: such an entry must never be served as stale). Not counted as hit/miss.
   */
  getEntry<T = unknown>(key: string): Promise<CacheEntry<T> | undefined> {
    return this.readKey(key, ReadMode.ENTRY) as Promise<CacheEntry<T> | undefined>;
  }

  /**
   * Tri-state read of the raw envelope (grace included), for upper layers (TieredCache's L2 port):
   * `hit` with the entry, `miss` (the store answered: none, corrupt or invalidated), or `unknown`
   * (the store, a shard, or a barrier could not be read, or the circuit is open). Not counted as hit/miss.
   */
  readEntry<T = unknown>(key: string): Promise<ReadResult<T>> {
    return this.readKey(key, ReadMode.RESULT) as Promise<ReadResult<T>>;
  }

  /** Shared entry of get/has/getEntry/readEntry. Not async: one promise less on the hot path of upper layers (tiered's L2 read). */
  private readKey(key: string, mode: ReadMode): Promise<unknown> {
    let k: string;
    try {
      k = this.key(key);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.reads.read(k, this.namespaces.of(k), mode);
  }

  /** One result per key, in order; one round trip for values + namespace barriers, one more if entries carry tags. */
  async mget<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    if (!Array.isArray(keys)) throw new CacheOptionsError('mget expects an array of keys');
    const list: readonly string[] = keys;
    return this.reads.mget<T>(list.map((key) => this.key(key)));
  }

  /**
   * The cached value, or the factory's (then cached). Concurrent calls for one key in this process
   * share one factory call (single-flight). Factory errors reach the caller unchanged and are not
   * cached; store failures never do (the factory runs instead). `useCache: false` bypasses the cache.
   */
  getOrSet<T>(key: string, factory: Factory<T>, opts?: GetOrSetOptions): Promise<T> {
    let k: string;
    try {
      k = this.key(key);
      if (typeof factory !== 'function') throw new CacheOptionsError('getOrSet: factory must be a function');
      if (opts !== undefined) this.writes.plan(k, undefined, opts); // validate options before any work
    } catch (err) {
      return Promise.reject(err);
    }
    return this.loader.run(k, factory, opts);
  }

  // ---------------------------------------------------------------------------------------------
  // writes

  /**
   * Stores a value. Resolves `{ ok: true }`, or `{ ok: false, reason }` when the value is too large
   * (`too_large`) or the store is down/slow (`unavailable`, `timeout`, `error`) — never rejects for those.
   * Rejects with `CacheOptionsError` / `KeyError` for invalid arguments (including `value === undefined`).
   */
  async set<T>(key: string, value: T, opts?: SetOptions): Promise<SetResult> {
    return this.writes.set(this.key(key), value, opts);
  }

  /** Writes many entries in one pipelined batch. One SetResult per entry, in order. */
  async mset<T = unknown>(entries: readonly MsetEntry<T>[]): Promise<SetResult[]> {
    return this.writes.mset(entries, (k) => this.key(k));
  }

  /**
   * Writes a ready envelope (for upper layers such as tiered) with an explicit physical TTL in ms.
   * Subject to `maxItemSize`; never rejects for store failures. A value that cannot be stored (encoding
   * fails, over `maxItemSize`) settles the returned promise at once, before any store round trip.
   */
  setEntry<T>(key: string, entry: CacheEntry<T>, physicalTtlMs: number): Promise<SetResult> {
    // Not async, on purpose: the returned promise is the write path's own, which has already settled
    // when the value is refused (encoded and size-checked before its first await). Upper layers
    // (tiered) rely on that to keep a refused value out of L1 without waiting for the round trip.
    try {
      return this.writes.setEntry(this.key(key), entry, physicalTtlMs);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // the fused miss (issue 13): read-or-lock, write-and-release

  /** Whether the store implements the fused miss (`readOrLock` / `writeAndRelease` / `extendLock`); otherwise use `readEntry` and a separate lock. */
  get lockedReads(): boolean {
    return this.locked.supported;
  }

  /**
   * `readEntry` and the stampede lock in one round trip: the entry (decoded, barrier-checked, tri-state
   * like `readEntry`; a corrupt entry is counted, removed and a miss) and, when the store holds no value
   * (or always, with `force`), `claim` taken (`lock: 'led'`) or found held (`'busy'`). The lock key
   * must be in the key's Cluster slot: build it with `lockKeyFor`. Never rejects for store failures.
   */
  readOrLock<T = unknown>(key: string, claim: LockClaim, force = false): Promise<LockedReadResult<T>> {
    let k: string;
    try {
      k = this.key(key);
      if (!this.locked.supported) throw new CacheOptionsError(`readOrLock: the ${this.store.kind} store does not implement it (check lockedReads)`);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.locked.readOrLock<T>(k, this.namespaces.of(k), claim, force);
  }

  /**
   * After a `readOrLock` that led: writes the envelope (like `setEntry`; `undefined` = nothing to
   * write), releases `claim` if its token still owns it and publishes `publish` — one round trip.
   * Like `setEntry`, a value that cannot be stored settles at once (the lock is released anyway).
   */
  writeAndRelease<T>(key: string, entry: CacheEntry<T> | undefined, physicalTtlMs: number, claim: LockClaim, publish?: StorePublish): Promise<SetResult> {
    try {
      const k = this.key(key);
      if (!this.locked.supported) throw new CacheOptionsError(`writeAndRelease: the ${this.store.kind} store does not implement it (check lockedReads)`);
      if (entry !== undefined) this.writes.checkEntry(entry, physicalTtlMs);
      return this.locked.writeAndRelease(k, this.namespaces.of(k), entry, physicalTtlMs, claim, publish);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Extends a lock taken by `readOrLock` (owner only); false when lost or the store did not answer. */
  extendLock(key: string, claim: LockClaim): Promise<boolean> {
    return this.locked.extendLock(this.key(key), claim);
  }

  // ---------------------------------------------------------------------------------------------
  // deletes and invalidation

  /**
   * Deletes keys; resolves how many existed. Kept for compatibility: it cannot tell "nothing to
   * delete" from "the store was unreachable" (both resolve 0; a failure also emits `error`). Use
   * {@link CacheService.delete}, which says what happened.
   */
  async del(keys: string | readonly string[]): Promise<number> {
    const r = await this.delete(keys);
    return r.deleted;
  }

  /**
   * Deletes keys and says what happened: `{ ok: true, deleted }`, or `{ ok: false, reason, deleted: 0 }`
   * when the store could not be reached (the keys may still exist). Never rejects for store failures.
   */
  async delete(keys: string | readonly string[]): Promise<InvalidateResult> {
    const given: readonly string[] | undefined = typeof keys === 'string' ? [keys] : Array.isArray(keys) ? keys : undefined;
    if (given === undefined) throw new CacheOptionsError('delete expects a key or an array of keys');
    return toResult(await this.invalidation.deleteKeys(given.map((x) => this.key(x))));
  }

  /** Invalidates by key(s), glob pattern(s), tag(s) and/or namespace(s). Never rejects for store failures (see `ok`). */
  invalidate(spec: InvalidateSpec): Promise<InvalidateResult> {
    return this.invalidation.invalidate(spec);
  }

  /** Deletes every key matching the glob (relative to the prefix, or full). Escape user input (`escapeGlob`, `keys.pattern`). */
  invalidatePattern(glob: string): Promise<InvalidateResult> {
    return this.invalidate({ pattern: glob });
  }

  /** O(1): writes one barrier; every entry tagged `tag` created before now becomes a miss (and is deleted on read). */
  invalidateTag(tag: string): Promise<InvalidateResult> {
    return this.invalidate({ tag });
  }

  /** O(1) regardless of key count: one barrier for `entity` (all operations) or `entity:operation`. */
  invalidateNamespace(entity: string, operation?: string): Promise<InvalidateResult> {
    return this.invalidate({ namespace: operation === undefined ? { entity } : { entity, operation } });
  }

  /** Removes every key under `{prefix}:` (entries and barriers) with SCAN + UNLINK — never FLUSHDB; other prefixes are untouched. */
  clear(): Promise<InvalidateResult> {
    return this.invalidation.clear();
  }

  /**
   * Forgets every cached namespace/tag barrier value (see `barrierCacheMs`), so the next read of each
   * namespace or tag asks the store. Call it when another instance tells this one that it invalidated
   * a tag or namespace (TieredCache does, on its invalidation bus). Cheap and synchronous.
   */
  refreshBarriers(): void {
    this.barriers.refresh();
  }

  // ---------------------------------------------------------------------------------------------
  // observability and lifecycle

  /** Subscribes to one event type or `'*'`; returns the unsubscribe function. Events cost nothing while nobody listens. */
  on(type: CacheEventType | '*', listener: CacheEventListener): () => void {
    if (typeof listener !== 'function') throw new CacheOptionsError('on: listener must be a function');
    return this.metrics.events.on(type, listener);
  }

  stats(): CacheStats {
    return this.metrics.snapshot(this.namespaces.all());
  }

  /**
   * The state of the circuit that guards `key`'s calls: its master's breaker on a Cluster (OPEN while
   * that master is down, whatever the others), else the store's breaker.
   */
  circuitFor(key: string): CircuitBreaker['state'] {
    return this.guard.stateOf(this.key(key));
  }

  /**
   * Pings the store (bypassing the breaker, bounded by opTimeout). `down` = no answer, `degraded` =
   * answers but a circuit is not CLOSED (on a Cluster: the store's or one master's).
   */
  async health(): Promise<HealthReport> {
    const r = await this.guard.run('ping', (s) => s.ping(), undefined, undefined, Guard.PROBE);
    const pingMs = isFailure(r) ? undefined : r;
    const circuit = this.guard.worstState();
    const up = pingMs !== undefined;
    return {
      status: !up ? 'down' : circuit === 'CLOSED' ? 'ok' : 'degraded',
      connected: up && this.store.isReady(),
      circuit,
      pingMs,
      store: this.store.kind,
    };
  }

  /** Waits for background writes (bounded by opTimeout), then closes the store if this service created it. Idempotent. */
  async close(): Promise<void> {
    if (this.guard.closed) return;
    await this.guard.close();
    this.metrics.events.clear();
    this.clock.stop();
    if (this.ownsStore) await this.store.close();
  }
}
