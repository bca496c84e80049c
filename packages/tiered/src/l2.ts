import type { CacheEntry, CacheEventListener, CacheEventType, Duration, Store } from '@stratacache/core';

/** What TieredCache needs from its L2 — a subset of core's `CacheService`. */
export interface L2Cache {
  readonly store: Store;
  readonly keys: { readonly prefix: string };
  /** Full store key of a key (prefix added when missing). */
  key?(key: string): string;
  readonly ttlPolicy?: { resolve(key: string, hint?: { entity?: string; operation?: string; ttl?: Duration }): number };
  getEntry<T = unknown>(key: string): Promise<CacheEntry<T> | undefined>;
  setEntry(key: string, entry: CacheEntry, physicalTtlMs: number): Promise<unknown>;
  del(key: string): Promise<unknown>;
  /** Resolves `{ ok: false }` when the store could not be reached (then nothing is published). */
  invalidate(target: L2InvalidateTarget): Promise<{ ok: boolean; reason?: string } | unknown>;
  clear(): Promise<{ ok: boolean; reason?: string } | unknown>;
  /** Forgets cached tag/namespace barrier values (core's `barrierCacheMs`); called on every tag/namespace/clear bus message. */
  refreshBarriers?(): void;
  on?(type: CacheEventType | '*', listener: CacheEventListener): () => void;
  close(): Promise<void>;
}

export interface L2InvalidateTarget {
  key?: string;
  pattern?: string;
  tag?: string;
  namespace?: { entity: string; operation?: string };
}
