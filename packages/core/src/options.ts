import { CircuitBreaker } from '@stratacache/breaker';
import type { CircuitBreakerOptions } from '@stratacache/breaker';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { createCodec } from './codec';
import type { Codec } from './codec';
import { toMs } from './duration';
import type { Duration } from './duration';
import { CacheOptionsError } from './errors';
import type { CacheEvent } from './events';
import { escapeGlob } from './glob';
import { KeyBuilder } from './key-builder';
import type { KeyBuilderOptions } from './key-builder';
import { MemoryStore } from './memory-store';
import type { MemoryStoreOptions } from './memory-store';
import { RedisStore } from './redis-store';
import type { Store } from './store';
import { TtlPolicy } from './ttl-policy';
import type { TtlPolicyOptions } from './ttl-policy';

export interface CacheServiceOptions {
  /** The L2 store. Default: a `RedisStore` when `redis` is set, else an embedded `MemoryStore`. A passed store is not closed by `close()`. */
  store?: Store;
  /** Redis to use when no `store` is given: URL, ioredis options, or an existing `Redis` / `Cluster` (kept as is). */
  redis?: string | RedisOptions | Redis | Cluster;
  /** Options of the embedded MemoryStore used when neither `store` nor `redis` is given (e.g. `{ maxEntries: 100_000 }`). */
  memory?: MemoryStoreOptions;
  /** Key prefix; every key, barrier and `clear()` stays under `{prefix}:`. Default `'sc'`. */
  prefix?: string;
  /** TTL when neither the call nor a TTL rule gives one. Default: the TtlPolicy default (`DEFAULT_TTL_MS`, 5 minutes). */
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
  /**
   * Breaker around the store, or its options. Default: threshold 5 in 30 s, reset 5 s, 1 probe. On a
   * Cluster store (`RedisStore` on an ioredis `Cluster`) failures are counted per master: the
   * options apply to each node's own breaker; a passed instance is shared by all nodes.
   */
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
   * On a Redis Cluster: how many copies of each namespace/tag barrier are written, in slots of
   * different thirds (n-ths) of the slot space, so a dead master leaves the others readable. A read
   * takes the max over the copies it can read (one extra parallel `GET` per copy when the barrier
   * cache is cold); only when no copy can be read are the entity's (tag's) keys a miss. Default 3;
   * `1` = one barrier key (the layout before). Ignored (always 1) on a non-Cluster store.
   */
  clusterBarrierCopies?: number;
  /**
   * The local clock (epoch ms). Default `Date.now`. Inject one in tests to simulate a skewed machine:
   * the clock is corrected against the store's clock (Redis `TIME`, see `clockSyncInterval`).
   */
  clock?: () => number;
  /** How often the offset to the store's clock is measured again (background, never on a read). Default `'10s'` (the drift allowance of the clock bounds grows with the time since the last measurement). */
  clockSyncInterval?: Duration;
  /**
   * Called when an event listener (`on()`) throws. Listeners never break a cache call: a throwing one is
   * counted in `stats().listenerErrors` and handed here (a handler that throws is ignored). Default: none.
   */
  onListenerError?: (error: unknown, event: CacheEvent) => void;
  /**
   * Every this-many-th hit emits a `sampled_hit` event (`count`: this interval) — a cheap per-key hit
   * sample for observers that do not subscribe to every `hit` (analytics' top-K). A countdown on the
   * hit path; no event is built when nobody listens. Default `HIT_SAMPLE_EVERY` (64); 1 .. 2^30.
   */
  hitSampleEvery?: number;
}

/** Default `hitSampleEvery` of CacheService and TieredCache. */
export const HIT_SAMPLE_EVERY = 64;
/** Largest `hitSampleEvery` (the countdown stays a small integer). */
export const MAX_HIT_SAMPLE_EVERY = 2 ** 30;

/** The options of a CacheService, validated once, with defaults filled in (internal). */
export interface ResolvedOptions {
  prefix: string;
  /** `{prefix}:` */
  prefixColon: string;
  /** `{prefix}:` with glob characters escaped. */
  globPrefix: string;
  opTimeoutMs: number;
  maxTtlMs: number;
  maxItemSize: number;
  maxNamespaces: number;
  /** 0 = off (always for the MemoryStore). */
  barrierCacheMs: number;
  /** Barrier copies: `clusterBarrierCopies` on a Cluster RedisStore, 1 elsewhere. */
  barrierCopies: number;
  codec: Codec;
  ttlPolicy: TtlPolicy;
  keys: KeyBuilder;
  /** The store's breaker: the passed instance, or one made from the options. */
  breaker: CircuitBreaker;
  /** Options for more breakers of the same kind (per Cluster node); undefined when an instance was passed (shared by all nodes). */
  breakerOptions: CircuitBreakerOptions | undefined;
  store: Store;
  ownsStore: boolean;
  /** The store answers in-process (MemoryStore): no deadline needed. */
  local: boolean;
  clock: (() => number) | undefined;
  clockSyncMs: number;
  hitSampleEvery: number;
}

/** Longest key (characters) the cache accepts; longer identifiers are hashed by the KeyBuilder. */
export const MAX_KEY_LENGTH = 8 * 1024;

const BREAKER_DEFAULTS: CircuitBreakerOptions = { failureThreshold: 5, monitoringWindow: 30_000, resetTimeout: 5_000, halfOpenMaxCalls: 1 };

/** Validates `opts` (throws CacheOptionsError / KeyError) and fills the defaults. Creates the store when none is passed. */
export function resolveOptions(opts: CacheServiceOptions): ResolvedOptions {
  if (typeof opts !== 'object' || opts === null) throw new CacheOptionsError('CacheService options must be an object');
  const prefix = opts.prefix ?? 'sc';
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > 128 || /\s/.test(prefix)) {
    throw new CacheOptionsError(`prefix must be a non-empty string of at most 128 characters without whitespace, got ${JSON.stringify(prefix)}`);
  }
  const opTimeoutMs = toMs(opts.opTimeout ?? 200, 'opTimeout');
  if (opTimeoutMs < 1) throw new CacheOptionsError('opTimeout must be at least 1 ms');
  const maxTtlMs = toMs(opts.maxTtl ?? '30d', 'maxTtl');
  if (maxTtlMs < 1000) throw new CacheOptionsError('maxTtl must be at least 1 s');
  const maxItemSize = opts.maxItemSize ?? 512 * 1024;
  if (!(Number.isInteger(maxItemSize) && maxItemSize > 0)) {
    throw new CacheOptionsError(`maxItemSize must be a positive integer number of bytes, got ${String(maxItemSize)}`);
  }
  const maxNamespaces = opts.maxNamespaces ?? 1000;
  if (!(Number.isInteger(maxNamespaces) && maxNamespaces >= 0)) throw new CacheOptionsError(`maxNamespaces must be an integer >= 0, got ${String(maxNamespaces)}`);
  const bcm = opts.barrierCacheMs ?? 10;
  if (!(typeof bcm === 'number' && Number.isFinite(bcm) && bcm >= 0)) {
    throw new CacheOptionsError(`barrierCacheMs must be a finite number of ms >= 0, got ${String(bcm)}`);
  }
  const copies = opts.clusterBarrierCopies ?? 3;
  if (!(Number.isInteger(copies) && copies >= 1 && copies <= 8)) throw new CacheOptionsError(`clusterBarrierCopies must be an integer from 1 to 8, got ${String(copies)}`);

  let codec: Codec;
  if (opts.codec !== undefined) {
    if (typeof opts.codec?.encode !== 'function' || typeof opts.codec?.decode !== 'function') {
      throw new CacheOptionsError('codec must have encode() and decode()');
    }
    codec = opts.codec;
  } else {
    codec = createCodec(opts.compressThreshold === undefined ? {} : { compressThreshold: opts.compressThreshold });
  }

  let ttlPolicy: TtlPolicy;
  if (opts.ttl instanceof TtlPolicy) {
    if (opts.defaultTtl !== undefined) throw new CacheOptionsError('pass defaultTtl inside the TtlPolicy, not next to a TtlPolicy instance');
    ttlPolicy = opts.ttl;
  } else {
    const ttlOpts: TtlPolicyOptions = { prefix, ...(opts.ttl ?? {}) };
    if (opts.defaultTtl !== undefined) ttlOpts.defaultTtl = opts.defaultTtl;
    ttlPolicy = new TtlPolicy(ttlOpts);
  }

  const kbOpts: KeyBuilderOptions = { prefix };
  if (opts.keyDefaults !== undefined) kbOpts.defaults = opts.keyDefaults;
  if (opts.maxIdentifierLength !== undefined) kbOpts.maxIdentifierLength = opts.maxIdentifierLength;
  const keys = new KeyBuilder(kbOpts);

  const breakerOptions = opts.breaker instanceof CircuitBreaker ? undefined : { name: `stratacache:${prefix}`, ...BREAKER_DEFAULTS, ...(opts.breaker ?? {}) };
  const breaker = opts.breaker instanceof CircuitBreaker ? opts.breaker : new CircuitBreaker(breakerOptions);

  // An empty string (an unset REDIS_URL exported as '') means "no Redis", like undefined.
  const redis = opts.redis === '' ? undefined : opts.redis;
  if (opts.store !== undefined && redis !== undefined) throw new CacheOptionsError('pass either store or redis, not both');
  if (opts.memory !== undefined && (opts.store !== undefined || redis !== undefined)) {
    throw new CacheOptionsError('memory options apply only to the embedded store (no store, no redis)');
  }
  if (opts.store !== undefined && (typeof opts.store?.get !== 'function' || typeof opts.store?.set !== 'function')) {
    throw new CacheOptionsError('store must implement the Store interface');
  }
  if (opts.clock !== undefined && typeof opts.clock !== 'function') throw new CacheOptionsError('clock must be a function returning epoch ms');
  if (opts.onListenerError !== undefined && typeof opts.onListenerError !== 'function') throw new CacheOptionsError('onListenerError must be a function (error, event) => void');
  const hitSampleEvery = opts.hitSampleEvery ?? HIT_SAMPLE_EVERY;
  if (!(Number.isInteger(hitSampleEvery) && hitSampleEvery >= 1 && hitSampleEvery <= MAX_HIT_SAMPLE_EVERY)) {
    throw new CacheOptionsError(`hitSampleEvery must be an integer between 1 and ${MAX_HIT_SAMPLE_EVERY}, got ${String(hitSampleEvery)}`);
  }
  const clockSyncMs = toMs(opts.clockSyncInterval ?? 10_000, 'clockSyncInterval');
  if (clockSyncMs < 1000) throw new CacheOptionsError('clockSyncInterval must be at least 1 s');

  const store = opts.store ?? (redis !== undefined ? new RedisStore(redis) : new MemoryStore(opts.memory));
  const local = store instanceof MemoryStore;
  return {
    prefix,
    prefixColon: `${prefix}:`,
    globPrefix: `${escapeGlob(prefix)}:`,
    opTimeoutMs,
    maxTtlMs,
    maxItemSize,
    maxNamespaces,
    barrierCacheMs: local ? 0 : bcm,
    barrierCopies: store instanceof RedisStore && store.isCluster ? copies : 1,
    codec,
    ttlPolicy,
    keys,
    breaker,
    breakerOptions,
    store,
    ownsStore: opts.store === undefined,
    local,
    clock: opts.clock,
    clockSyncMs,
    hitSampleEvery,
  };
}
