/**
 * The L2 port: a byte store with millisecond TTLs. `MemoryStore` and `RedisStore` implement it;
 * third-party stores must pass the exported contract suite (`@stratacache/core/testing`).
 *
 * Semantics (identical for every implementation, modelled on Redis):
 * - values are bytes (`Buffer`); `get` of a missing or expired key resolves `undefined`;
 * - `ttlMs` is a positive integer number of milliseconds; omitted = no expiry;
 * - `deleteMatching(glob)` uses Redis glob syntax (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x`);
 * - `publish`/`subscribe` are fire-and-forget pub/sub (no persistence, at-most-once; on a Redis
 *   Cluster two messages may arrive in another order than they were published);
 * - reads are tri-state: resolve a value (hit), resolve `undefined` (the store answered: missing), or
 *   reject (unknown). A store must never answer "missing" for a part it could not read (e.g. a dead
 *   shard): reject, ideally with `StoreUnavailableError` when only a part of the store failed;
 * - errors (connection lost, timeouts) reject; the CacheService turns them into misses for readers
 *   and never reads an unreadable barrier as "not invalidated".
 */
export interface Store {
  /** `'memory'`, `'redis'`, `'redis-cluster'` or a third-party name. */
  readonly kind: string;
  get(key: string): Promise<Buffer | undefined>;
  /** One result per key, in order. Works across Cluster slots. */
  mget(keys: readonly string[]): Promise<(Buffer | undefined)[]>;
  set(key: string, value: Buffer, ttlMs?: number): Promise<void>;
  mset(entries: readonly StoreEntry[]): Promise<void>;
  /** Resolves the number of keys that existed. */
  del(keys: string | readonly string[]): Promise<number>;
  /** Deletes every key matching a Redis glob; resolves the number deleted. Never blocks the server (SCAN, not KEYS). */
  deleteMatching(glob: string): Promise<number>;
  /** Resolves the number of receivers (as reported by the store; 0 is fine). */
  publish(channel: string, message: Buffer | string): Promise<number>;
  /** Resolves once subscribed; the returned function unsubscribes this handler. */
  subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>>;
  /** Round-trip latency in ms. Rejects when the store is unreachable. */
  ping(): Promise<number>;
  /**
   * Optional: the store's own clock (epoch ms, e.g. Redis `TIME`). When present, CacheService
   * corrects its clock against it, so barriers and `createdAt` written by machines with skewed clocks
   * compare correctly. Stores without it (MemoryStore) use the local clock.
   */
  time?(): Promise<number>;
  /** True when the store believes it can serve commands now. */
  isReady(): boolean;
  /**
   * Optional: connection-aware stores (`RedisStore`) call `listener` when they become unable to
   * serve commands (`down`: connection closed / failed, or no reply within the store's hang
   * timeout) and when they can again (`ready`). Only changes are reported. Returns an unsubscribe
   * function. `CacheService` uses it to open its breaker at once and to probe as soon as the
   * store is ready again; the invalidation bus uses it to know when messages may have been missed.
   */
  onConnectionChange?(listener: ConnectionListener): () => void;
  /**
   * Optional (the fused miss): in one atomic step, the value of `key` — and, when it is missing (or
   * always, with `force`), the lock `claim` taken with `SET lock token NX PX ttl` (the semantics and
   * value layout of `@stratacache/lock` without fencing: owner-only release / extend by token). `also`
   * are keys read in the same round trip (a single server only: a Cluster store rejects them — read
   * them in parallel). `lock.key` must live in `key`'s hash slot on a Cluster (see `lockKeyFor`).
   * Stores without it: callers fall back to a GET plus a separate lock.
   */
  readOrLock?(key: string, claim: LockClaim, force: boolean, also?: readonly string[]): Promise<ReadOrLockReply>;
  /**
   * Optional (the fused miss): in one atomic step, writes `value` under `key` (unless `value` is
   * undefined), releases `claim` only if its token still owns it, then publishes `publish` (if given).
   * Resolves whether the lock was released.
   */
  writeAndRelease?(key: string, value: Buffer | undefined, ttlMs: number, claim: LockClaim, publish?: StorePublish): Promise<boolean>;
  /** Optional: extends `claim` to its `ttlMs` only if its token still owns it; resolves whether it did. */
  extendLock?(claim: LockClaim): Promise<boolean>;
  close(): Promise<void>;
}

/** A cross-process lock as the store sees it: the lock key, the owner's token, the TTL in ms. */
export interface LockClaim {
  key: string;
  token: string;
  ttlMs: number;
}

/**
 * What `readOrLock` answers: the value (or undefined); the lock — `led` this caller holds it now,
 * `busy` someone else holds it, `none` not tried (the value exists and `force` was off); the `also` values.
 */
export interface ReadOrLockReply {
  value: Buffer | undefined;
  lock: LockState;
  also: (Buffer | undefined)[];
}

export type LockState = 'led' | 'busy' | 'none';

/** A message to publish in the same step as a write. */
/** Who receives the answer of `RedisStore.getInto` (internal: the guarded read's deadline object). */
export interface GetSink {
  answer(value: Buffer | undefined): void;
  fail(err: unknown): void;
}

export interface StorePublish {
  channel: string;
  message: string;
  /**
   * Optional: this message is `head` + one part, and messages of one batch with the same channel,
   * `head` and `sep` may be sent as one: `head` + their parts joined by `sep` (a store that batches
   * writes, e.g. RedisStore on a single server, then publishes once per batch).
   */
  merge?: { head: string; sep: string };
}

export interface StoreEntry {
  key: string;
  value: Buffer;
  ttlMs?: number;
}

export type MessageHandler = (message: Buffer, channel: string) => void;

/** A change of a store's ability to serve commands (see `Store.onConnectionChange`). */
export interface ConnectionChange {
  state: 'ready' | 'down';
  /**
   * `connect`: (re)connected (and subscriptions restored); `close`: the connection closed, ended or
   * failed to connect; `timeout`: commands got no reply within the hang timeout (a stopped server
   * keeps TCP open); `reply`: the server answers again after a `timeout`.
   */
  reason: 'connect' | 'close' | 'timeout' | 'reply';
  /**
   * Whether commands can be sent (the command connection is ready and answering), when the store
   * knows it apart from `state`: `state` is also `down` while only the pub/sub connection is down
   * (messages may be missed), which on a Cluster (one subscriber node) says nothing about the
   * commands. Undefined = same as `state`.
   */
  commands?: boolean;
}

export type ConnectionListener = (change: ConnectionChange) => void;
