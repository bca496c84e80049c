import { CircuitBreaker } from '@stratacache/breaker';
import type { CircuitBreakerOptions, CircuitState } from '@stratacache/breaker';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { createCodec } from './codec';
import type { Codec } from './codec';
import { toMs } from './duration';
import type { Duration } from './duration';
import { Deadlines } from './deadlines';
import { StoreClock } from './clock';
import { decodeEntry, encodeEntry } from './entry';
import type { CacheEntry } from './entry';
import { CacheOptionsError, StoreTimeoutError, isStoreUnavailable } from './errors';
import { CacheEventEmitter } from './events';
import type { CacheEvent, CacheEventListener, CacheEventType } from './events';
import { escapeGlob } from './glob';
import { KeyBuilder, KeyError, unescapeKeyPart } from './key-builder';
import type { KeyBuilderOptions } from './key-builder';
import { MemoryStore } from './memory-store';
import type { MemoryStoreOptions } from './memory-store';
import { RedisStore } from './redis-store';
import { followConnection } from './connection-link';
import { Latency, NsCounters } from './stats';
import type { CacheStats, NamespaceStats } from './stats';
import type { Store } from './store';
import { TtlPolicy } from './ttl-policy';
import type { TtlHint, TtlPolicyOptions } from './ttl-policy';

export interface CacheServiceOptions {
  /** The L2 store. Default: a `RedisStore` when `redis` is set, else an embedded `MemoryStore`. A passed store is not closed by `close()`. */
  store?: Store;
  /** Redis to use when no `store` is given: URL, ioredis options, or an existing `Redis` / `Cluster` (kept as is). */
  redis?: string | RedisOptions | Redis | Cluster;
  /** Options of the embedded MemoryStore used when neither `store` nor `redis` is given (e.g. `{ maxEntries: 100_000 }`). */
  memory?: MemoryStoreOptions;
  /** Key prefix; every key, barrier and `clear()` stays under `{prefix}:`. Default `'sc'`. */
  prefix?: string;
  /** TTL when neither the call nor a TTL rule gives one. Default: the TtlPolicy default (`'5m'`). */
  defaultTtl?: Duration;
  /** TTL rules (per entity/operation or key pattern, jitter) or a ready TtlPolicy. */
  ttl?: TtlPolicyOptions | TtlPolicy;
  /** Encoded payloads of at least this many bytes are compressed. Default 1024. */
  compressThreshold?: number;
  /** Custom codec (must detect corrupt input by throwing). Default: `createCodec({ compressThreshold })`. */
  codec?: Codec;
  /** Largest encoded entry (bytes) that is cached; larger values are served but not stored. Default 524288 (512 KB). */
  maxItemSize?: number;
  /** Per store operation timeout; past it a read is a miss and a write is skipped. Default 200 ms. */
  opTimeout?: Duration;
  /** Longest physical TTL of an entry and lifetime of tag/namespace barriers. Default `'30d'`. */
  maxTtl?: Duration;
  /** Breaker around the store, or its options. Default: threshold 5 in 30 s, reset 5 s, 1 probe. */
  breaker?: CircuitBreakerOptions | CircuitBreaker;
  /** Default identifier params per entity/operation for `keys` (see KeyBuilder). */
  keyDefaults?: KeyBuilderOptions['defaults'];
  /** Longest identifier before the KeyBuilder hashes it. */
  maxIdentifierLength?: number;
  /** Namespaces tracked separately in `stats().byNamespace` (the rest is `'(other)'`). Default 1000. */
  maxNamespaces?: number;
  /**
   * How long (ms) a namespace/tag barrier value read from a Redis store may be reused by later reads
   * of this instance instead of being fetched again with every read. Default 10. `0` = every read
   * fetches its barriers (previous behaviour). This instance's own invalidations (and
   * `refreshBarriers()`, which TieredCache calls on every tag/namespace/clear bus message) take effect
   * at once; an invalidation made by *another* instance that does not notify this one becomes visible
   * here within this window. Ignored for the in-process MemoryStore (always exact).
   */
  barrierCacheMs?: number;
  /**
   * The local clock (epoch ms). Default `Date.now`. Inject one in tests to simulate a skewed machine:
   * the clock is corrected against the store's clock (Redis `TIME`, see `clockSyncInterval`).
   */
  clock?: () => number;
  /** How often the offset to the store's clock is measured again (background, never on a read). Default `'10s'` (the drift allowance of the clock bounds grows with the time since the last measurement). */
  clockSyncInterval?: Duration;
}

/**
 * Per-write options. `ttl` is a Duration (ms number or `'5m'`); explicit ttl wins over TTL rules.
 * `ttl: 0` = do not cache this value (`set` then removes any older entry of the key and resolves
 * `{ ok: false, reason: 'bypass' }`; `getOrSet` returns the value without storing it).
 */
export interface SetOptions {
  ttl?: Duration;
  /** Jitter fraction for this write (overrides the TTL rule's / policy's); `0` = exactly the TTL. Jitter applies to explicit TTLs too. */
  jitter?: number;
  tags?: readonly string[];
  /** Keep the entry this long after its logical expiry (physical TTL = ttl + grace), for stale serving by upper layers. */
  grace?: Duration;
}

export interface GetOrSetOptions extends SetOptions {
  /** `false` bypasses the cache for this call: no read, no write, the factory runs. Default true. */
  useCache?: boolean;
}

export type SetFailureReason = 'too_large' | 'unavailable' | 'timeout' | 'error' | 'bypass';
export type SetResult = { ok: true } | { ok: false; reason: SetFailureReason };

export interface MsetEntry<T = unknown> extends SetOptions {
  key: string;
  value: T;
}

export interface NamespaceRef {
  entity: string;
  operation?: string;
}

export interface InvalidateSpec {
  key?: string;
  keys?: readonly string[];
  /** Redis glob, relative to the prefix (`'jobs:list:*'`) or full. Escape user input with `escapeGlob` / `keys.pattern`. */
  pattern?: string;
  patterns?: readonly string[];
  tag?: string;
  tags?: readonly string[];
  /** `{ entity, operation? }` or `'entity'` / `'entity:operation'`. O(1): one barrier write. */
  namespace?: NamespaceRef | string;
  namespaces?: readonly (NamespaceRef | string)[];
}

export interface InvalidateResult {
  /** Keys deleted now (key and pattern targets). Tag and namespace targets delete lazily and add 0. */
  deleted: number;
  /** Barriers written (one per tag / namespace). */
  barriers: number;
  /** false when part of the invalidation could not reach the store (see `reason`). */
  ok: boolean;
  reason?: SetFailureReason;
}

/**
 * A tri-state read (see `readEntry`): `hit` — an entry exists and no barrier invalidates it (it may be
 * logically expired but inside its grace period: check `entry.expiresAt`); `miss` — the store answered
 * that there is none (missing, corrupt, or invalidated by a tag/namespace barrier); `unknown` — the
 * store (or one of its shards, or a barrier) could not be read: never treat it as a miss of an
 * invalidation, and never as "not invalidated".
 */
export type ReadResult<T = unknown> =
  | { status: 'hit'; entry: CacheEntry<T> }
  | { status: 'miss' }
  | { status: 'unknown'; reason: SetFailureReason };

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  connected: boolean;
  circuit: CircuitState;
  pingMs: number | undefined;
  store: string;
}

/** Given to a getOrSet factory: adjust or cancel the write of what it returns. */
export interface FactoryContext {
  readonly key: string;
  setTtl(ttl: Duration): void;
  setTags(tags: readonly string[]): void;
  /** Return the value but do not cache it. */
  skip(): void;
}

export type Factory<T> = (ctx: FactoryContext) => T | Promise<T>;

/** Per-namespace info, cached: barrier keys and counters. */
interface NsInfo {
  /** Cached max of the namespace barriers (see `barrierCacheMs`), valid while `barrierEpoch` matches and not older than the window. */
  barrierAt: number;
  barrierFetchedAt: number;
  barrierEpoch: number;
  /** Unescaped (readable) entity / operation. */
  entity: string;
  operation: string | undefined;
  /** `entity:operation` as in the key (escaped). */
  label: string;
  barrierKeys: string[];
  stats: NsCounters;
}

type FetchStatus = 'ok' | 'missing' | 'error' | 'corrupt' | 'invalidated';

/** What a read resolves to: GET → value (counted), LOAD → fresh entry (counted), ENTRY → entry incl. grace, HAS → boolean, RESULT → tri-state ReadResult. */
const enum ReadMode {
  GET,
  LOAD,
  ENTRY,
  HAS,
  RESULT,
}

interface WritePlan {
  ttlMs: number;
  graceMs: number;
  tags: string[] | undefined;
}

const OK: SetResult = Object.freeze({ ok: true });
const FAIL: Record<SetFailureReason, SetResult> = {
  too_large: Object.freeze({ ok: false, reason: 'too_large' }),
  unavailable: Object.freeze({ ok: false, reason: 'unavailable' }),
  timeout: Object.freeze({ ok: false, reason: 'timeout' }),
  error: Object.freeze({ ok: false, reason: 'error' }),
  bypass: Object.freeze({ ok: false, reason: 'bypass' }),
};

const MAX_KEY_LENGTH = 8 * 1024;
const MISS: ReadResult = Object.freeze({ status: 'miss' });
const UNKNOWN: ReadResult = Object.freeze({ status: 'unknown', reason: 'error' });
/** Bound of the tag-barrier cache (cleared when full). */
const MAX_CACHED_TAGS = 10_000;
const OTHER_NS = '(other)';

function onTimeout(reject: (e: unknown) => void, op: string, ms: number): void {
  reject(new StoreTimeoutError(op, ms));
}

function isWrongType(err: unknown): boolean {
  return err instanceof Error && typeof err.message === 'string' && err.message.startsWith('WRONGTYPE');
}

function parseBarrier(b: Buffer | undefined): number {
  if (b === undefined) return 0;
  const n = Number(b.toString('latin1'));
  return Number.isFinite(n) ? n : 0;
}

class FactoryCtx implements FactoryContext {
  ttl: Duration | undefined;
  tags: readonly string[] | undefined;
  skipped = false;
  constructor(readonly key: string) {}
  setTtl(ttl: Duration): void {
    this.ttl = ttl;
  }
  setTags(tags: readonly string[]): void {
    this.tags = tags;
  }
  skip(): void {
    this.skipped = true;
  }
}

/**
 * The cache: typed get/set/getOrSet over a {@link Store}, one entry envelope, TTL policy, tag and
 * namespace invalidation as O(1) lazy barriers, events and stats, and fail-safe store access (every
 * store call goes through the circuit breaker and `opTimeout`; a store failure is a miss for readers
 * and a reported, skipped write for writers — never an exception).
 */
export class CacheService {
  readonly store: Store;
  readonly keys: KeyBuilder;
  readonly ttlPolicy: TtlPolicy;
  readonly breaker: CircuitBreaker;
  readonly prefix: string;
  readonly opTimeoutMs: number;
  readonly maxItemSize: number;
  readonly maxTtlMs: number;

  /** The codec entries are encoded with (upper layers may use it to size values). */
  readonly codec: Codec;
  private readonly prefixColon: string;
  private readonly globPrefix: string;
  private readonly ownsStore: boolean;
  /** The store answers synchronously (MemoryStore): no timeout needed. */
  private readonly local: boolean;
  private readonly events = new CacheEventEmitter();
  private readonly deadlines: Deadlines;
  private readonly flights = new Map<string, Promise<unknown>>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly nsCache = new Map<string, NsInfo>();
  private readonly maxNamespaces: number;
  private readonly otherNs = new NsCounters();
  private readonly unsubscribeBreaker: () => void;
  private closed = false;
  /** See `barrierCacheMs`; 0 = off. */
  private readonly barrierCacheMs: number;
  /** Bumped by every local barrier write and `refreshBarriers()`: cached barrier values of an older epoch are ignored. */
  private barrierEpoch = 0;
  /** Cached tag barriers (tag → value, fetch time, epoch); bounded, see `barrierCacheMs`. */
  private readonly tagBarriers = new Map<string, { at: number; fetchedAt: number; epoch: number }>();

  // counters
  private hits = 0;
  private misses = 0;
  private writes = 0;
  private deletes = 0;
  private errors = 0;
  private timeouts = 0;
  private corrupt = 0;
  private tooLarge = 0;
  private bypass = 0;
  private invalidated = 0;
  private originCalls = 0;
  private bytesRead = 0;
  private bytesWritten = 0;
  private readonly clock: StoreClock;
  private readonly l2Latency = new Latency();
  private readonly originLatency = new Latency();

  constructor(opts: CacheServiceOptions = {}) {
    if (typeof opts !== 'object' || opts === null) throw new CacheOptionsError('CacheService options must be an object');
    const prefix = opts.prefix ?? 'sc';
    if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > 128 || /\s/.test(prefix)) {
      throw new CacheOptionsError(`prefix must be a non-empty string of at most 128 characters without whitespace, got ${JSON.stringify(prefix)}`);
    }
    this.prefix = prefix;
    this.prefixColon = `${prefix}:`;
    this.globPrefix = `${escapeGlob(prefix)}:`;

    this.opTimeoutMs = toMs(opts.opTimeout ?? 200, 'opTimeout');
    if (this.opTimeoutMs < 1) throw new CacheOptionsError('opTimeout must be at least 1 ms');
    this.deadlines = new Deadlines(this.opTimeoutMs);
    this.maxTtlMs = toMs(opts.maxTtl ?? '30d', 'maxTtl');
    if (this.maxTtlMs < 1000) throw new CacheOptionsError('maxTtl must be at least 1 s');
    const maxItemSize = opts.maxItemSize ?? 512 * 1024;
    if (!(Number.isInteger(maxItemSize) && maxItemSize > 0)) {
      throw new CacheOptionsError(`maxItemSize must be a positive integer number of bytes, got ${String(maxItemSize)}`);
    }
    this.maxItemSize = maxItemSize;
    const maxNs = opts.maxNamespaces ?? 1000;
    if (!(Number.isInteger(maxNs) && maxNs >= 0)) throw new CacheOptionsError(`maxNamespaces must be an integer >= 0, got ${String(maxNs)}`);
    this.maxNamespaces = maxNs;
    const bcm = opts.barrierCacheMs ?? 10;
    if (!(typeof bcm === 'number' && Number.isFinite(bcm) && bcm >= 0)) {
      throw new CacheOptionsError(`barrierCacheMs must be a finite number of ms >= 0, got ${String(bcm)}`);
    }

    if (opts.codec !== undefined) {
      if (typeof opts.codec?.encode !== 'function' || typeof opts.codec?.decode !== 'function') {
        throw new CacheOptionsError('codec must have encode() and decode()');
      }
      this.codec = opts.codec;
    } else {
      this.codec = createCodec(opts.compressThreshold === undefined ? {} : { compressThreshold: opts.compressThreshold });
    }

    if (opts.ttl instanceof TtlPolicy) {
      if (opts.defaultTtl !== undefined) throw new CacheOptionsError('pass defaultTtl inside the TtlPolicy, not next to a TtlPolicy instance');
      this.ttlPolicy = opts.ttl;
    } else {
      const ttlOpts: TtlPolicyOptions = { prefix, ...(opts.ttl ?? {}) };
      if (opts.defaultTtl !== undefined) ttlOpts.defaultTtl = opts.defaultTtl;
      this.ttlPolicy = new TtlPolicy(ttlOpts);
    }

    const kbOpts: KeyBuilderOptions = { prefix };
    if (opts.keyDefaults !== undefined) kbOpts.defaults = opts.keyDefaults;
    if (opts.maxIdentifierLength !== undefined) kbOpts.maxIdentifierLength = opts.maxIdentifierLength;
    this.keys = new KeyBuilder(kbOpts);

    if (opts.breaker instanceof CircuitBreaker) this.breaker = opts.breaker;
    else {
      this.breaker = new CircuitBreaker({
        name: `stratacache:${prefix}`,
        failureThreshold: 5,
        monitoringWindow: 30_000,
        resetTimeout: 5_000,
        halfOpenMaxCalls: 1,
        ...(opts.breaker ?? {}),
      });
    }

    // An empty string (an unset REDIS_URL exported as '') means "no Redis", like undefined.
    const redis = opts.redis === '' ? undefined : opts.redis;
    if (opts.store !== undefined && redis !== undefined) {
      throw new CacheOptionsError('pass either store or redis, not both');
    }
    if (opts.memory !== undefined && (opts.store !== undefined || redis !== undefined)) {
      throw new CacheOptionsError('memory options apply only to the embedded store (no store, no redis)');
    }
    if (opts.store !== undefined) {
      if (typeof opts.store?.get !== 'function' || typeof opts.store?.set !== 'function') {
        throw new CacheOptionsError('store must implement the Store interface');
      }
      this.store = opts.store;
      this.ownsStore = false;
    } else if (redis !== undefined) {
      this.store = new RedisStore(redis);
      this.ownsStore = true;
    } else {
      this.store = new MemoryStore(opts.memory);
      this.ownsStore = true;
    }
    this.local = this.store instanceof MemoryStore;
    this.barrierCacheMs = this.local ? 0 : bcm;

    if (opts.clock !== undefined && typeof opts.clock !== 'function') throw new CacheOptionsError('clock must be a function returning epoch ms');
    const syncEvery = toMs(opts.clockSyncInterval ?? 10_000, 'clockSyncInterval');
    if (syncEvery < 1000) throw new CacheOptionsError('clockSyncInterval must be at least 1 s');
    const store = this.store;
    this.clock = new StoreClock(opts.clock, typeof store.time === 'function' ? () => store.time!() : undefined, this.opTimeoutMs);
    this.clock.start(syncEvery);

    const offState = this.breaker.on('stateChange', (e) => {
      if (this.events.has('breaker')) this.events.emit({ type: 'breaker', source: 'l2', state: e.to });
    });
    // The breaker follows the connection: open when it drops, probe as soon as it is back.
    const unfollow = followConnection(this.store, this.breaker, this.opTimeoutMs);
    this.unsubscribeBreaker = () => {
      offState();
      unfollow();
    };
  }

  // ---------------------------------------------------------------------------------------------
  // keys and namespaces

  /** The full store key for `key`: used as is when it already starts with `{prefix}:`, else prefixed. */
  key(key: string): string {
    if (typeof key !== 'string' || key.length === 0) {
      throw new KeyError(`cache key must be a non-empty string, got ${key === '' ? 'an empty string' : typeof key}`);
    }
    if (key.length > MAX_KEY_LENGTH) throw new KeyError(`cache key is longer than ${MAX_KEY_LENGTH} characters (build it with cache.keys to hash long identifiers)`);
    return key.startsWith(this.prefixColon) ? key : this.prefixColon + key;
  }

  // ---------------------------------------------------------------------------------------------
  // the one clock

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

  /** Namespace of a full key: `{prefix}:{entity}:{operation}:…` → entity + operation; `{prefix}:{entity}:{id}` → entity. */
  private nsOf(fullKey: string): NsInfo | undefined {
    const start = this.prefixColon.length;
    const c1 = fullKey.indexOf(':', start);
    if (c1 === -1 || c1 === start) return undefined;
    const c2 = fullKey.indexOf(':', c1 + 1);
    const id = c2 === -1 ? fullKey.slice(start, c1) : fullKey.slice(start, c2);
    let info = this.nsCache.get(id);
    if (info !== undefined) return info;
    const entity = fullKey.slice(start, c1);
    const operation = c2 === -1 || c2 === c1 + 1 ? undefined : fullKey.slice(c1 + 1, c2);
    // entity/operation as they appear in the key (escaped); barriers use these, events and TTL rules the readable form.
    info = this.makeNs(entity, operation, this.nsCache.size < this.maxNamespaces);
    if (this.nsCache.size < this.maxNamespaces) this.nsCache.set(id, info);
    return info;
  }

  private makeNs(entity: string, operation: string | undefined, ownStats: boolean): NsInfo {
    const entityBarrier = this.nsBarrierKey(entity, undefined);
    return {
      barrierAt: 0,
      barrierFetchedAt: 0,
      barrierEpoch: -1,
      entity: unescapeKeyPart(entity),
      operation: operation === undefined ? undefined : unescapeKeyPart(operation),
      label: operation === undefined ? entity : `${entity}:${operation}`,
      barrierKeys: operation === undefined ? [entityBarrier] : [entityBarrier, this.nsBarrierKey(entity, operation)],
      stats: ownStats ? new NsCounters() : this.otherNs,
    };
  }

  /** Barrier keys share a hash tag per entity so both land in one slot (one MGET, also on a Cluster). */
  private nsBarrierKey(entity: string, operation: string | undefined): string {
    return operation === undefined ? `${this.prefixColon}__ns:{${entity}}` : `${this.prefixColon}__ns:{${entity}}:${operation}`;
  }

  private tagBarrierKey(tag: string): string {
    return `${this.prefixColon}__tag:${tag}`;
  }

  /** The full glob of `glob` (relative to the prefix, or already full), as `invalidatePattern` uses it. */
  fullPattern(glob: string): string {
    return this.resolvePattern(glob);
  }

  private resolvePattern(glob: string): string {
    if (typeof glob !== 'string' || glob.length === 0) throw new CacheOptionsError('pattern must be a non-empty glob string');
    if (glob.startsWith(this.globPrefix) || glob.startsWith(this.prefixColon)) return glob;
    return this.globPrefix + glob;
  }

  // ---------------------------------------------------------------------------------------------
  // resilience: breaker + timeout around every store call

  private timed<T>(p: Promise<T>, op: string): Promise<T> {
    return this.local ? p : this.deadlines.race(p, op);
  }

  /** Records a store failure: breaker, counters, `error` event. Returns the SetResult reason. */
  private failed(err: unknown, op: string, key: string | undefined, ns: NsInfo | undefined): SetFailureReason {
    // A part of the store (one shard) could not answer: unknown, but the store as a whole did — its own breaker covers the part.
    const partial = isStoreUnavailable(err);
    if (partial) this.breaker.onSuccess();
    else this.breaker.onFailure(err);
    this.errors++;
    if (ns) ns.stats.errors++;
    if (partial) {
      if (this.events.has('error')) this.emitFor('error', key, ns, { kind: op, error: err });
      return 'unavailable';
    }
    const timeout = err instanceof StoreTimeoutError;
    if (timeout) this.timeouts++;
    if (this.events.has('error')) this.emitFor('error', key, ns, { kind: op, error: err });
    return timeout ? 'timeout' : 'error';
  }

  private rejected(op: string, key: string | undefined, ns: NsInfo | undefined): void {
    this.errors++;
    if (ns) ns.stats.errors++;
    if (this.events.has('error')) this.emitFor('error', key, ns, { kind: op, error: new Error(`circuit ${this.breaker.state}`) });
  }

  private emitFor(type: CacheEventType, key: string | undefined, ns: NsInfo | undefined, extra: Partial<CacheEvent>): void {
    const e: CacheEvent = { type, source: type === 'origin' ? 'origin' : 'l2', ...extra };
    if (key !== undefined) e.key = key;
    if (ns) {
      e.entity = ns.entity;
      if (ns.operation !== undefined) e.operation = ns.operation;
      e.namespace = ns.label;
    }
    this.events.emit(e);
  }

  private background(p: Promise<unknown>): void {
    this.pending.add(p);
    p.then(
      () => this.pending.delete(p),
      () => this.pending.delete(p),
    );
  }

  /** Deletes a corrupt or barrier-invalidated entry without making anyone wait. */
  private dropInBackground(key: string): void {
    if (this.closed || !this.breaker.tryAcquire()) return;
    this.background(
      this.timed(this.store.del(key), 'del').then(
        () => this.breaker.onSuccess(),
        (e: unknown) => {
          this.failed(e, 'del', key, undefined);
        },
      ),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // reads

  /** One read: value GET + namespace barrier GETs in the same tick (one round trip), then tag barriers if the entry has tags. */
  private async read(k: string, ns: NsInfo | undefined, mode: ReadMode): Promise<unknown> {
    if (this.closed) return this.settle(mode, k, ns, 'error', undefined, 0, 0);
    if (!this.breaker.tryAcquire()) {
      this.rejected('get', k, ns);
      return this.settle(mode, k, ns, 'error', undefined, 0, 0);
    }
    const t0 = performance.now();
    let raw: Buffer | undefined;
    let nsBarrier = 0;
    try {
      if (ns === undefined) raw = await this.timed(this.store.get(k), 'get');
      else if (ns.barrierEpoch === this.barrierEpoch && t0 - ns.barrierFetchedAt < this.barrierCacheMs) {
        // Barriers read less than barrierCacheMs ago and no local invalidation since: one GET.
        nsBarrier = ns.barrierAt;
        raw = await this.timed(this.store.get(k), 'get');
      } else {
        // One MGET for the value and its namespace barriers (on a Cluster the store splits it per slot, auto-pipelined).
        const bk = ns.barrierKeys;
        const epoch = this.barrierEpoch;
        const vals = await this.timed(this.store.mget(bk.length === 1 ? [k, bk[0] as string] : [k, bk[0] as string, bk[1] as string]), 'get');
        raw = vals[0];
        for (let i = 1; i < vals.length; i++) {
          const n = parseBarrier(vals[i]);
          if (n > nsBarrier) nsBarrier = n;
        }
        // Only when no barrier was written locally (or announced) while the read was in flight.
        if (this.barrierCacheMs > 0 && epoch === this.barrierEpoch) {
          ns.barrierAt = nsBarrier;
          ns.barrierFetchedAt = t0;
          ns.barrierEpoch = epoch;
        }
      }
      this.breaker.onSuccess();
    } catch (err) {
      if (isWrongType(err)) {
        // A foreign value of another type sits under our key: the server answered, so it is not a failure.
        this.breaker.onSuccess();
        this.corruptFound(k, ns, 0);
        return this.settle(mode, k, ns, 'corrupt', undefined, 0, performance.now() - t0);
      }
      this.failed(err, 'get', k, ns);
      return this.settle(mode, k, ns, 'error', undefined, 0, performance.now() - t0);
    }
    if (raw === undefined) return this.settle(mode, k, ns, 'missing', undefined, 0, performance.now() - t0);
    let entry: CacheEntry;
    try {
      entry = decodeEntry(this.codec, raw);
    } catch {
      this.corruptFound(k, ns, raw.length);
      return this.settle(mode, k, ns, 'corrupt', undefined, raw.length, performance.now() - t0);
    }
    let barrier = nsBarrier;
    if (entry.tags !== undefined && entry.tags.length > 0) {
      const cached = this.cachedTagBarrier(entry.tags, t0);
      if (cached >= 0) {
        if (cached > barrier) barrier = cached;
      } else {
        if (!this.breaker.tryAcquire()) {
          this.rejected('get', k, ns);
          return this.settle(mode, k, ns, 'error', undefined, raw.length, performance.now() - t0);
        }
        const tags = entry.tags;
        const epoch = this.barrierEpoch;
        const t1 = performance.now();
        try {
          const bars = await this.timed(this.store.mget(tags.map((t) => this.tagBarrierKey(t))), 'get');
          this.breaker.onSuccess();
          const keep = this.barrierCacheMs > 0 && epoch === this.barrierEpoch;
          if (keep && this.tagBarriers.size + tags.length > MAX_CACHED_TAGS) this.tagBarriers.clear();
          for (let i = 0; i < bars.length; i++) {
            const n = parseBarrier(bars[i]);
            if (n > barrier) barrier = n;
            if (keep) this.tagBarriers.set(tags[i] as string, { at: n, fetchedAt: t1, epoch });
          }
        } catch (err) {
          this.failed(err, 'get', k, ns);
          return this.settle(mode, k, ns, 'error', undefined, raw.length, performance.now() - t0);
        }
      }
    }
    const latencyMs = performance.now() - t0;
    if (barrier !== 0 && entry.createdAt <= barrier) {
      this.invalidated++;
      this.dropInBackground(k);
      return this.settle(mode, k, ns, 'invalidated', undefined, raw.length, latencyMs);
    }
    return this.settle(mode, k, ns, 'ok', entry, raw.length, latencyMs);
  }

  /** Max cached barrier of `tags`, or -1 when one of them is not cached (or too old). */
  private cachedTagBarrier(tags: readonly string[], now: number): number {
    if (this.barrierCacheMs === 0) return -1;
    let max = 0;
    for (const t of tags) {
      const c = this.tagBarriers.get(t);
      if (c === undefined || c.epoch !== this.barrierEpoch || now - c.fetchedAt >= this.barrierCacheMs) return -1;
      if (c.at > max) max = c.at;
    }
    return max;
  }

  /**
   * Forgets every cached namespace/tag barrier value (see `barrierCacheMs`), so the next read of each
   * namespace or tag asks the store. Call it when another instance tells this one that it invalidated
   * a tag or namespace (TieredCache does, on its invalidation bus). Cheap and synchronous.
   */
  refreshBarriers(): void {
    this.barrierEpoch++;
    this.tagBarriers.clear();
  }

  private corruptFound(k: string, ns: NsInfo | undefined, bytes: number): void {
    this.corrupt++;
    if (this.events.has('corrupt')) this.emitFor('corrupt', k, ns, { bytes });
    this.dropInBackground(k);
  }

  /** Ends a read: counts it (GET / LOAD) and shapes the result for the mode. */
  private settle(mode: ReadMode, k: string, ns: NsInfo | undefined, status: FetchStatus, entry: CacheEntry | undefined, bytes: number, latencyMs: number): unknown {
    if (mode === ReadMode.ENTRY) return status === 'ok' ? entry : undefined;
    if (mode === ReadMode.RESULT) {
      if (status === 'ok') return { status: 'hit', entry };
      return status === 'error' ? UNKNOWN : MISS;
    }
    const fresh = status === 'ok' && (entry as CacheEntry).expiresAt > this.clock.now();
    if (mode === ReadMode.HAS) return fresh;
    this.countRead(k, ns, fresh, status === 'error', bytes, latencyMs);
    if (!fresh) return undefined;
    return mode === ReadMode.GET ? (entry as CacheEntry).value : entry;
  }

  /** Counts a read outcome (hit when a fresh entry was found). */
  private countRead(k: string, ns: NsInfo | undefined, fresh: boolean, errored: boolean, bytes: number, latencyMs: number): void {
    if (!errored) this.l2Latency.add(latencyMs);
    if (fresh) {
      this.hits++;
      this.bytesRead += bytes;
      if (ns) ns.stats.hits++;
      if (this.events.has('hit')) this.emitFor('hit', k, ns, { latencyMs, bytes });
    } else {
      this.misses++;
      if (ns) ns.stats.misses++;
      if (this.events.has('miss')) this.emitFor('miss', k, ns, { latencyMs });
    }
  }

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
    return this.read(k, this.nsOf(k), mode);
  }

  /** One result per key, in order; one round trip for values + namespace barriers, one more if entries carry tags. */
  async mget<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    if (!Array.isArray(keys)) throw new CacheOptionsError('mget expects an array of keys');
    const ks = keys.map((key) => this.key(key));
    const out: (T | undefined)[] = new Array<T | undefined>(ks.length).fill(undefined);
    if (ks.length === 0) return out;
    const nss = ks.map((k) => this.nsOf(k));
    const countAll = (latencyMs: number) => {
      for (let i = 0; i < ks.length; i++) this.countRead(ks[i] as string, nss[i], false, false, 0, latencyMs);
    };
    if (this.closed || !this.breaker.tryAcquire()) {
      this.rejected('mget', undefined, undefined);
      countAll(0);
      return out;
    }
    const barrierKeys = [...new Set(nss.flatMap((n) => n?.barrierKeys ?? []))];
    const t0 = performance.now();
    let raws: (Buffer | undefined)[];
    let bars: (Buffer | undefined)[];
    try {
      [raws, bars] = await this.timed(Promise.all([this.store.mget(ks), this.store.mget(barrierKeys)]), 'mget');
      this.breaker.onSuccess();
    } catch (err) {
      this.failed(err, 'mget', undefined, undefined);
      countAll(performance.now() - t0);
      return out;
    }
    const barrierOf = new Map<string, number>();
    barrierKeys.forEach((bk, i) => barrierOf.set(bk, parseBarrier(bars[i])));
    const entries: (CacheEntry | undefined)[] = new Array<CacheEntry | undefined>(ks.length).fill(undefined);
    const tagSet = new Set<string>();
    for (let i = 0; i < ks.length; i++) {
      const raw = raws[i];
      if (raw === undefined) continue;
      try {
        const e = decodeEntry(this.codec, raw);
        entries[i] = e;
        if (e.tags) for (const t of e.tags) tagSet.add(t);
      } catch {
        this.corruptFound(ks[i] as string, nss[i], raw.length);
      }
    }
    const tagBarrier = new Map<string, number>();
    if (tagSet.size > 0) {
      const tags = [...tagSet];
      if (!this.breaker.tryAcquire()) {
        this.rejected('mget', undefined, undefined);
        countAll(performance.now() - t0);
        return out;
      }
      try {
        const tb = await this.timed(this.store.mget(tags.map((t) => this.tagBarrierKey(t))), 'mget');
        this.breaker.onSuccess();
        tags.forEach((t, i) => tagBarrier.set(t, parseBarrier(tb[i])));
      } catch (err) {
        this.failed(err, 'mget', undefined, undefined);
        countAll(performance.now() - t0);
        return out;
      }
    }
    const latencyMs = performance.now() - t0;
    const now = this.clock.now();
    for (let i = 0; i < ks.length; i++) {
      const e = entries[i];
      const k = ks[i] as string;
      const ns = nss[i];
      let fresh = false;
      if (e !== undefined) {
        let barrier = 0;
        if (ns) for (const bk of ns.barrierKeys) barrier = Math.max(barrier, barrierOf.get(bk) ?? 0);
        if (e.tags) for (const t of e.tags) barrier = Math.max(barrier, tagBarrier.get(t) ?? 0);
        if (barrier !== 0 && e.createdAt <= barrier) {
          this.invalidated++;
          this.dropInBackground(k);
        } else if (e.expiresAt > now) {
          fresh = true;
          out[i] = e.value as T;
        }
      }
      this.countRead(k, ns, fresh, false, fresh ? (raws[i] as Buffer).length : 0, latencyMs);
    }
    return out;
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
      if (opts !== undefined) this.plan(k, undefined, opts); // validate options before any work
    } catch (err) {
      return Promise.reject(err);
    }
    if (opts?.useCache === false) {
      this.bypass++;
      if (this.events.has('bypass')) this.emitFor('bypass', k, this.nsOf(k), {});
      const ctx = new FactoryCtx(k);
      return Promise.resolve().then(() => factory(ctx));
    }
    const inflight = this.flights.get(k);
    if (inflight !== undefined) return inflight as Promise<T>;
    const p = this.loadOrCompute(k, factory, opts);
    this.flights.set(k, p);
    const done = () => {
      if (this.flights.get(k) === p) this.flights.delete(k);
    };
    p.then(done, done);
    return p;
  }

  private async loadOrCompute<T>(k: string, factory: Factory<T>, opts: GetOrSetOptions | undefined): Promise<T> {
    const ns = this.nsOf(k);
    const hit = (await this.read(k, ns, ReadMode.LOAD)) as CacheEntry | undefined;
    if (hit !== undefined) return hit.value as T;

    // createdAt = when the factory started, so an invalidation that lands while the factory runs wins.
    const createdAt = this.clock.stamp();
    const ctx = new FactoryCtx(k);
    const t0 = performance.now();
    this.originCalls++;
    const value = await factory(ctx);
    const ms = performance.now() - t0;
    this.originLatency.add(ms);
    if (this.events.has('origin')) this.emitFor('origin', k, ns, { latencyMs: ms });
    if (!ctx.skipped && value !== undefined && !this.closed) {
      const o: SetOptions = { ...opts };
      if (ctx.ttl !== undefined) o.ttl = ctx.ttl;
      if (ctx.tags !== undefined) o.tags = ctx.tags;
      let plan: WritePlan | undefined;
      try {
        plan = this.plan(k, ns, o);
      } catch {
        plan = undefined; // an invalid ctx.setTtl/setTags: serve the value, skip the write
      }
      // Fire-and-forget: the caller gets the value now; ordering on one connection keeps a later read consistent.
      if (plan) {
        this.background(
          this.writeValue(k, ns, value, plan, createdAt).catch((err: unknown) => {
            // e.g. EncodeError (a symbol, a cycle): the caller has its value; report, don't throw
            this.errors++;
            if (this.events.has('error')) this.emitFor('error', k, ns, { kind: 'encode', error: err });
          }),
        );
      }
    }
    return value;
  }

  // ---------------------------------------------------------------------------------------------
  // writes

  private plan(k: string, ns: NsInfo | undefined, opts: SetOptions | undefined): WritePlan {
    // Every TTL — explicit or from a rule — goes through the policy, so jitter applies to all of them.
    const n = ns ?? this.nsOf(k);
    const hint: TtlHint = n ? (n.operation === undefined ? { entity: n.entity } : { entity: n.entity, operation: n.operation }) : {};
    if (opts?.ttl !== undefined) hint.ttl = opts.ttl;
    if (opts?.jitter !== undefined) hint.jitter = opts.jitter;
    const ttlMs = this.ttlPolicy.resolve(k, hint);
    // 0 = do not cache this value (returned by the call, never stored)
    if (!(ttlMs >= 0) || (ttlMs > 0 && ttlMs < 1)) throw new CacheOptionsError(`ttl must be >= 0 ms (0 = do not cache), got ${String(opts?.ttl ?? ttlMs)}`);
    const graceMs = opts?.grace === undefined ? 0 : toMs(opts.grace, 'grace');
    let tags: string[] | undefined;
    if (opts?.tags !== undefined) {
      if (!Array.isArray(opts.tags)) throw new CacheOptionsError('tags must be an array of strings');
      for (const t of opts.tags) {
        if (typeof t !== 'string' || t.length === 0 || t.length > 256) {
          throw new CacheOptionsError(`each tag must be a non-empty string of at most 256 characters, got ${JSON.stringify(t)}`);
        }
      }
      tags = opts.tags.length === 0 ? undefined : [...new Set(opts.tags)];
    }
    return { ttlMs: Math.min(ttlMs, this.maxTtlMs), graceMs, tags };
  }

  private encodeOrRefuse(k: string, ns: NsInfo | undefined, entry: CacheEntry): Buffer | undefined {
    const bytes = encodeEntry(this.codec, entry);
    if (bytes.length > this.maxItemSize) {
      this.tooLarge++;
      if (this.events.has('too_large')) this.emitFor('too_large', k, ns, { bytes: bytes.length });
      return undefined;
    }
    return bytes;
  }

  private async writeValue(k: string, ns: NsInfo | undefined, value: unknown, plan: WritePlan, createdAt: number): Promise<SetResult> {
    if (plan.ttlMs === 0) return FAIL.bypass; // do not cache this value
    // TTL counts from the write; createdAt (compared with barriers) is when the value was produced.
    const now = this.clock.now();
    const entry: CacheEntry = { value, createdAt, expiresAt: now + plan.ttlMs };
    if (plan.graceMs > 0) entry.graceUntil = entry.expiresAt + plan.graceMs;
    if (plan.tags) entry.tags = plan.tags;
    const bytes = this.encodeOrRefuse(k, ns, entry);
    if (bytes === undefined) return FAIL.too_large;
    return this.writeBytes(k, ns, bytes, Math.min(plan.ttlMs + plan.graceMs, this.maxTtlMs));
  }

  private async writeBytes(k: string, ns: NsInfo | undefined, bytes: Buffer, physicalTtlMs: number): Promise<SetResult> {
    if (this.closed) return FAIL.unavailable;
    if (!this.breaker.tryAcquire()) {
      this.rejected('set', k, ns);
      return FAIL.unavailable;
    }
    const t0 = performance.now();
    try {
      await this.timed(this.store.set(k, bytes, physicalTtlMs), 'set');
      this.breaker.onSuccess();
    } catch (err) {
      return FAIL[this.failed(err, 'set', k, ns)];
    }
    this.writes++;
    this.bytesWritten += bytes.length;
    if (ns) ns.stats.writes++;
    if (this.events.has('set')) this.emitFor('set', k, ns, { latencyMs: performance.now() - t0, bytes: bytes.length, ttlMs: physicalTtlMs });
    return OK;
  }

  /**
   * Stores a value. Resolves `{ ok: true }`, or `{ ok: false, reason }` when the value is too large
   * (`too_large`) or the store is down/slow (`unavailable`, `timeout`, `error`) — never rejects for those.
   * Rejects with `CacheOptionsError` / `KeyError` for invalid arguments (including `value === undefined`).
   */
  async set<T>(key: string, value: T, opts?: SetOptions): Promise<SetResult> {
    const k = this.key(key);
    if (value === undefined) throw new CacheOptionsError('set: value must not be undefined (use del() to remove a key)');
    const ns = this.nsOf(k);
    const plan = this.plan(k, ns, opts);
    if (plan.ttlMs === 0) {
      // ttl 0 = do not cache this value: an older entry must not be served in its place.
      const r = await this.deleteKeys([k]);
      return r.reason === undefined ? FAIL.bypass : FAIL[r.reason];
    }
    return this.writeValue(k, ns, value, plan, this.clock.stamp());
  }

  /** Writes many entries in one pipelined batch. One SetResult per entry, in order. */
  async mset<T = unknown>(entries: readonly MsetEntry<T>[]): Promise<SetResult[]> {
    if (!Array.isArray(entries)) throw new CacheOptionsError('mset expects an array of { key, value, ttl?, tags? }');
    const createdAt = this.clock.stamp();
    const now = this.clock.now();
    const prepared = entries.map((e) => {
      if (typeof e !== 'object' || e === null) throw new CacheOptionsError('mset: each entry must be an object { key, value }');
      const k = this.key(e.key);
      if (e.value === undefined) throw new CacheOptionsError(`mset: value of ${k} must not be undefined`);
      const ns = this.nsOf(k);
      return { k, ns, plan: this.plan(k, ns, e), value: e.value };
    });
    const results: SetResult[] = new Array<SetResult>(prepared.length).fill(OK);
    const batch: { key: string; value: Buffer; ttlMs: number }[] = [];
    const idx: number[] = [];
    const uncached: string[] = [];
    prepared.forEach((p, i) => {
      if (p.plan.ttlMs === 0) {
        // ttl 0 = do not cache: the older entry is removed, not left in place
        results[i] = FAIL.bypass;
        uncached.push(p.k);
        return;
      }
      const entry: CacheEntry = { value: p.value, createdAt, expiresAt: now + p.plan.ttlMs };
      if (p.plan.graceMs > 0) entry.graceUntil = entry.expiresAt + p.plan.graceMs;
      if (p.plan.tags) entry.tags = p.plan.tags;
      const bytes = this.encodeOrRefuse(p.k, p.ns, entry);
      if (bytes === undefined) results[i] = FAIL.too_large;
      else {
        batch.push({ key: p.k, value: bytes, ttlMs: Math.min(p.plan.ttlMs + p.plan.graceMs, this.maxTtlMs) });
        idx.push(i);
      }
    });
    if (uncached.length > 0) {
      const r = await this.deleteKeys(uncached);
      if (r.reason !== undefined) prepared.forEach((p, i) => p.plan.ttlMs === 0 && (results[i] = FAIL[r.reason as SetFailureReason]));
    }
    if (batch.length === 0) return results;
    const fail = (r: SetFailureReason) => {
      for (const i of idx) results[i] = FAIL[r];
      return results;
    };
    if (this.closed) return fail('unavailable');
    if (!this.breaker.tryAcquire()) {
      this.rejected('mset', undefined, undefined);
      return fail('unavailable');
    }
    try {
      await this.timed(this.store.mset(batch), 'mset');
      this.breaker.onSuccess();
    } catch (err) {
      return fail(this.failed(err, 'mset', undefined, undefined));
    }
    for (let j = 0; j < batch.length; j++) {
      const p = prepared[idx[j] as number];
      const b = batch[j];
      if (!p || !b) continue;
      this.writes++;
      this.bytesWritten += b.value.length;
      if (p.ns) p.ns.stats.writes++;
      if (this.events.has('set')) this.emitFor('set', p.k, p.ns, { bytes: b.value.length, ttlMs: b.ttlMs });
    }
    return results;
  }

  /**
   * Writes a ready envelope (for upper layers such as tiered) with an explicit physical TTL in ms.
   * Subject to `maxItemSize`; never rejects for store failures.
   */
  async setEntry<T>(key: string, entry: CacheEntry<T>, physicalTtlMs: number): Promise<SetResult> {
    const k = this.key(key);
    if (typeof entry !== 'object' || entry === null || typeof entry.createdAt !== 'number' || typeof entry.expiresAt !== 'number') {
      throw new CacheOptionsError('setEntry: entry must be a CacheEntry { value, createdAt, expiresAt, graceUntil?, tags?, gen? }');
    }
    if (entry.value === undefined) throw new CacheOptionsError('setEntry: entry.value must not be undefined');
    if (!(typeof physicalTtlMs === 'number' && physicalTtlMs >= 1 && Number.isFinite(physicalTtlMs))) {
      throw new CacheOptionsError(`setEntry: physicalTtlMs must be a positive number of ms, got ${String(physicalTtlMs)}`);
    }
    const ns = this.nsOf(k);
    const bytes = this.encodeOrRefuse(k, ns, entry);
    if (bytes === undefined) return FAIL.too_large;
    return this.writeBytes(k, ns, bytes, Math.min(Math.round(physicalTtlMs), this.maxTtlMs));
  }

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
    const list = typeof keys === 'string' ? [this.key(keys)] : Array.isArray(keys) ? keys.map((x) => this.key(x)) : undefined;
    if (list === undefined) throw new CacheOptionsError('delete expects a key or an array of keys');
    const r = await this.deleteKeys(list);
    const result: InvalidateResult = { deleted: r.n, barriers: 0, ok: r.reason === undefined };
    if (r.reason !== undefined) result.reason = r.reason;
    return result;
  }

  private async deleteKeys(list: string[]): Promise<{ n: number; reason?: SetFailureReason }> {
    if (list.length === 0) return { n: 0 };
    if (this.closed) return { n: 0, reason: 'unavailable' };
    if (!this.breaker.tryAcquire()) {
      this.rejected('del', list[0], undefined);
      return { n: 0, reason: 'unavailable' };
    }
    let n: number;
    try {
      n = await this.timed(this.store.del(list.length === 1 ? (list[0] as string) : list), 'del');
      this.breaker.onSuccess();
    } catch (err) {
      return { n: 0, reason: this.failed(err, 'del', list[0], undefined) };
    }
    this.deletes += n;
    for (const k of list) {
      const ns = this.nsOf(k);
      if (ns) ns.stats.deletes++;
      if (this.events.has('delete')) this.emitFor('delete', k, ns, {});
    }
    return { n };
  }

  // ---------------------------------------------------------------------------------------------
  // invalidation

  /** Invalidates by key(s), glob pattern(s), tag(s) and/or namespace(s). Never rejects for store failures (see `ok`). */
  async invalidate(spec: InvalidateSpec): Promise<InvalidateResult> {
    if (typeof spec !== 'object' || spec === null) throw new CacheOptionsError('invalidate expects { key?, keys?, pattern?, tag?, tags?, namespace? }');
    const keys = [...(spec.key !== undefined ? [spec.key] : []), ...(spec.keys ?? [])].map((x) => this.key(x));
    const patterns = [...(spec.pattern !== undefined ? [spec.pattern] : []), ...(spec.patterns ?? [])].map((p) => this.resolvePattern(p));
    const tags = [...(spec.tag !== undefined ? [spec.tag] : []), ...(spec.tags ?? [])];
    for (const t of tags) if (typeof t !== 'string' || t.length === 0) throw new CacheOptionsError('tags must be non-empty strings');
    const nss = [...(spec.namespace !== undefined ? [spec.namespace] : []), ...(spec.namespaces ?? [])].map((n) => this.parseNamespace(n));
    if (keys.length + patterns.length + tags.length + nss.length === 0) {
      throw new CacheOptionsError('invalidate: give at least one of key, keys, pattern, patterns, tag, tags, namespace, namespaces');
    }
    const result: InvalidateResult = { deleted: 0, barriers: 0, ok: true };
    const note = (reason: SetFailureReason | undefined) => {
      if (reason !== undefined && result.ok) {
        result.ok = false;
        result.reason = reason;
      }
    };
    if (keys.length > 0) {
      const r = await this.deleteKeys(keys);
      result.deleted += r.n;
      note(r.reason);
      this.emitInvalidate('key', keys.length === 1 ? keys[0] : `${keys.length} keys`, r.n, r.reason);
    }
    for (const p of patterns) {
      const r = await this.deletePattern(p);
      result.deleted += r.n;
      note(r.reason);
      this.emitInvalidate('pattern', p, r.n, r.reason);
    }
    const barrierKeys: { key: string; kind: string; target: string }[] = [];
    for (const t of new Set(tags)) barrierKeys.push({ key: this.tagBarrierKey(t), kind: 'tag', target: t });
    for (const n of nss) {
      barrierKeys.push({ key: this.nsBarrierKey(n.entity, n.operation), kind: 'namespace', target: n.operation === undefined ? n.entity : `${n.entity}:${n.operation}` });
    }
    if (barrierKeys.length > 0) {
      const r = await this.writeBarriers(barrierKeys.map((b) => b.key));
      note(r);
      if (r === undefined) result.barriers += barrierKeys.length;
      for (const b of barrierKeys) this.emitInvalidate(b.kind, b.target, 0, r);
    }
    return result;
  }

  private emitInvalidate(kind: string, target: string | undefined, count: number, failure?: SetFailureReason): void {
    if (!this.events.has('invalidate')) return;
    const e: CacheEvent = { type: 'invalidate', source: 'l2', kind, count, ok: failure === undefined };
    if (failure !== undefined) e.reason = failure;
    if (target !== undefined) e.target = target;
    this.events.emit(e);
  }

  /** Namespace target → escaped parts as they appear in keys built by `keys` (so user input cannot widen it). */
  private parseNamespace(n: NamespaceRef | string): { entity: string; operation: string | undefined } {
    let entity: unknown;
    let operation: unknown;
    if (typeof n === 'string') {
      const i = n.indexOf(':');
      entity = i === -1 ? n : n.slice(0, i);
      operation = i === -1 ? undefined : n.slice(i + 1);
    } else if (typeof n === 'object' && n !== null) {
      entity = n.entity;
      operation = n.operation;
    }
    if (typeof entity !== 'string' || entity.length === 0) {
      throw new CacheOptionsError(`namespace entity must be a non-empty string, got ${JSON.stringify(entity)}`);
    }
    if (operation !== undefined && (typeof operation !== 'string' || operation.length === 0)) {
      throw new CacheOptionsError(`namespace operation must be a non-empty string, got ${JSON.stringify(operation)}`);
    }
    // The one namespace function (shared with TieredCache's L1 matcher): escaped as in keys.
    const ref = this.keys.namespaceKey(entity, operation as string | undefined);
    return { entity: ref.entity, operation: ref.operation };
  }

  /** Writes one timestamp per barrier key; entries created at or before it are invalid from now on. */
  private async writeBarriers(keys: string[]): Promise<SetFailureReason | undefined> {
    if (this.closed) return 'unavailable';
    if (!this.breaker.tryAcquire()) {
      this.rejected('invalidate', keys[0], undefined);
      return 'unavailable';
    }
    const stampAt = this.clock.barrierStamp();
    const at = Buffer.from(String(stampAt), 'latin1');
    // Before and after the write: a read whose barrier fetch overlaps the write must not cache what it saw.
    this.refreshBarriers();
    try {
      await this.timed(this.store.mset(keys.map((key) => ({ key, value: at, ttlMs: this.maxTtlMs }))), 'invalidate');
      this.breaker.onSuccess();
      // A value this instance produces from now on must be newer than the barrier (see StoreClock).
      await this.clock.waitPast(stampAt, this.opTimeoutMs);
      return undefined;
    } catch (err) {
      return this.failed(err, 'invalidate', keys[0], undefined);
    } finally {
      this.refreshBarriers();
    }
  }

  private async deletePattern(glob: string): Promise<{ n: number; reason?: SetFailureReason }> {
    if (this.closed) return { n: 0, reason: 'unavailable' };
    if (!this.breaker.tryAcquire()) {
      this.rejected('deleteMatching', glob, undefined);
      return { n: 0, reason: 'unavailable' };
    }
    // SCAN over a large keyspace legitimately takes longer than one op: allow 100 × opTimeout (min 10 s).
    try {
      const n = await this.timedLong(this.store.deleteMatching(glob));
      this.breaker.onSuccess();
      this.deletes += n;
      return { n };
    } catch (err) {
      return { n: 0, reason: this.failed(err, 'deleteMatching', glob, undefined) };
    }
  }

  private timedLong<T>(p: Promise<T>): Promise<T> {
    const ms = Math.max(10_000, this.opTimeoutMs * 100);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(onTimeout, ms, reject, 'deleteMatching', ms);
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
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
  async clear(): Promise<InvalidateResult> {
    this.refreshBarriers();
    const r = await this.deletePattern(`${this.globPrefix}*`);
    this.refreshBarriers();
    this.emitInvalidate('clear', this.prefix, r.n, r.reason);
    const result: InvalidateResult = { deleted: r.n, barriers: 0, ok: r.reason === undefined };
    if (r.reason !== undefined) result.reason = r.reason;
    return result;
  }

  /**
   * Latest tag/namespace barrier (epoch ms) that applies to `key` and `tags` (0 = none), for upper
   * layers that hold their own copy: an entry with `createdAt <= barrierTime` is invalidated.
   * `undefined` when the store cannot be asked (treat the copy as unverifiable).
   */
  async barrierTime(key: string, tags?: readonly string[]): Promise<number | undefined> {
    const k = this.key(key);
    const ns = this.nsOf(k);
    const bkeys = [...(ns?.barrierKeys ?? []), ...(tags ?? []).map((t) => this.tagBarrierKey(t))];
    if (bkeys.length === 0) return 0;
    if (this.closed || !this.breaker.tryAcquire()) return undefined;
    try {
      const bars = await this.timed(this.store.mget(bkeys), 'get');
      this.breaker.onSuccess();
      return bars.reduce((m, b) => Math.max(m, parseBarrier(b)), 0);
    } catch (err) {
      this.failed(err, 'get', k, ns);
      return undefined;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // observability and lifecycle

  /** Subscribes to one event type or `'*'`; returns the unsubscribe function. Events cost nothing while nobody listens. */
  on(type: CacheEventType | '*', listener: CacheEventListener): () => void {
    if (typeof listener !== 'function') throw new CacheOptionsError('on: listener must be a function');
    return this.events.on(type, listener);
  }

  stats(): CacheStats {
    const reads = this.hits + this.misses;
    const byNamespace: Record<string, NamespaceStats> = {};
    for (const info of this.nsCache.values()) {
      const s = info.stats;
      if (s.hits + s.misses + s.writes + s.deletes + s.errors > 0) byNamespace[info.label] = s.snapshot();
    }
    const o = this.otherNs;
    if (o.hits + o.misses + o.writes + o.deletes + o.errors > 0) byNamespace[OTHER_NS] = o.snapshot();
    return {
      hits: this.hits,
      misses: this.misses,
      writes: this.writes,
      deletes: this.deletes,
      errors: this.errors,
      timeouts: this.timeouts,
      corrupt: this.corrupt,
      tooLarge: this.tooLarge,
      bypass: this.bypass,
      invalidated: this.invalidated,
      originCalls: this.originCalls,
      hitRate: reads === 0 ? 0 : this.hits / reads,
      bytesRead: this.bytesRead,
      bytesWritten: this.bytesWritten,
      latency: { l2: this.l2Latency.snapshot(), origin: this.originLatency.snapshot() },
      byNamespace,
    };
  }

  /** Pings the store (bypassing the breaker, bounded by opTimeout). `down` = no answer, `degraded` = answers but the circuit is not CLOSED. */
  async health(): Promise<HealthReport> {
    let pingMs: number | undefined;
    if (!this.closed) {
      try {
        pingMs = await this.timed(this.store.ping(), 'ping');
      } catch {
        pingMs = undefined;
      }
    }
    const circuit = this.breaker.state;
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
    if (this.closed) return;
    await Promise.allSettled([...this.pending]);
    this.closed = true;
    this.unsubscribeBreaker();
    this.events.clear();
    this.deadlines.stop();
    this.clock.stop();
    if (this.ownsStore) await this.store.close();
  }
}
