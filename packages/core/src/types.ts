import type { CircuitState } from '@stratacache/breaker';
import type { Duration } from './duration';
import type { CacheEntry } from './entry';
import type { KeyIdentifier } from './key-builder';

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

/** Options of one `getOrSet` call. Upper layers (TieredCache) extend this shape, never redefine it. */
export interface GetOrSetOptions extends SetOptions {
  /** `false` bypasses the cache for this call: no read, no write, the factory runs. Default true. */
  useCache?: boolean;
}

export type SetFailureReason = 'too_large' | 'unavailable' | 'timeout' | 'error' | 'bypass';
/** What a write did, in every layer: `{ ok: true }` or `{ ok: false, reason }`. */
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

/** What a delete / invalidation did, in every layer. */
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
  /** The breaker of the store (on a Cluster: the worst state among the per-node breakers). */
  circuit: CircuitState;
  pingMs: number | undefined;
  store: string;
}

/**
 * Given to a getOrSet factory: adjust or cancel the write of what it returns. Upper layers extend it
 * (TieredCache adds `signal`, `staleValue`, `fail()`, and may narrow `skip()`'s return type).
 */
export interface FactoryContext {
  readonly key: string;
  setTtl(ttl: Duration): void;
  setTags(tags: readonly string[]): void;
  /** Return the value but do not cache it. */
  skip(): unknown;
}

export type Factory<T> = (ctx: FactoryContext) => T | Promise<T>;

/** One invalidation target: exactly one field. Every layer's `invalidate` accepts it. */
export interface InvalidateTarget {
  key?: string;
  pattern?: string;
  tag?: string;
  namespace?: NamespaceRef;
}

/**
 * The small interface `cached()` and the decorators need from a cache: CacheService, TieredCache and
 * a ShardRouter's tenant cache all fit it. `keys` (a KeyBuilder) is used when present to build keys
 * from parts; without it keys are built relative to the layer's prefix.
 */
export interface CacheLayer {
  /** `cached()` and the decorators pass a factory that ignores its context, so every layer's context shape fits. */
  getOrSet<T>(key: string, factory: () => T | Promise<T>, options?: GetOrSetOptions): Promise<T>;
  invalidate(target: InvalidateTarget): Promise<InvalidateResult>;
  readonly keys?: { build(entity: string, operation: string, identifier?: KeyIdentifier): string };
}

export const OK: SetResult = Object.freeze({ ok: true });
export const FAIL: Readonly<Record<SetFailureReason, SetResult>> = {
  too_large: Object.freeze({ ok: false, reason: 'too_large' }),
  unavailable: Object.freeze({ ok: false, reason: 'unavailable' }),
  timeout: Object.freeze({ ok: false, reason: 'timeout' }),
  error: Object.freeze({ ok: false, reason: 'error' }),
  bypass: Object.freeze({ ok: false, reason: 'bypass' }),
};
