import type { Duration, SetOptions, SetResult } from '@stratacache/core';

/**
 * What warming needs from a cache: `set` (a warm write always replaces the entry: it is a refresh,
 * not a read), and optionally `on('invalidate')` (re-warm after invalidation) and `key()` / `l2.key()`
 * (the canonical full key). `TieredCache` and `CacheService` fit as they are.
 */
export interface WarmCache {
  set(key: string, value: unknown, options?: SetOptions): Promise<SetResult>;
  on?(type: 'invalidate', listener: (event: InvalidationEventLike) => void): () => void;
  /** CacheService: the full store key. */
  key?(key: string): string;
  /** TieredCache: its L2's full store key. */
  readonly l2?: { key(key: string): string };
}

/** The fields of core's / tiered's `invalidate` event that warming reads. */
export interface InvalidationEventLike {
  type: string;
  key?: string;
  /** `'key' | 'pattern' | 'tag' | 'namespace' | 'clear'`. */
  kind?: string;
  /** The full pattern, the tag, or `entity[:operation]`. */
  target?: string;
  ok?: boolean;
}

/** Where smart warming reads its candidates: analytics' top-K (`CacheAnalytics.topKeys(n)` fits). */
export interface WarmCandidateSource {
  topKeys(n: number): readonly WarmCandidate[];
}

export interface WarmCandidate {
  /** Full store key. */
  key: string;
  requests: number;
  misses: number;
}

/** Write options of a warmed value (the same as a cache write). */
export interface WarmWriteOptions {
  ttl?: Duration;
  tags?: readonly string[];
  grace?: Duration;
  /** The origin (rate-limit group) this key's factory calls. Default `'default'`. */
  origin?: string;
}

/** A declared key: warmed by `start()`, re-warmed after invalidation, refreshed on its schedule. */
export interface WarmEntry<T = unknown> extends WarmWriteOptions {
  key: string;
  factory: () => T | Promise<T>;
  /** Refresh interval (Duration). Must be shorter than `ttl` so the key never expires between refreshes. */
  every?: Duration;
  /** Refresh on a cron pattern (5 or 6 fields, server time) instead of `every`. */
  cron?: string;
  /** Warm at `start()`. Default true. */
  atStart?: boolean;
}

/** Loads any key that matches `pattern` (a glob relative to the cache prefix): used for smart warming and for re-warming keys not declared one by one. */
export interface WarmLoader<T = unknown> extends WarmWriteOptions {
  pattern: string;
  load: (key: string) => T | Promise<T>;
}

export type WarmReason = 'start' | 'schedule' | 'invalidation' | 'smart' | 'manual';

/** The payload of one warm job (JSON; the factory is found again by key in the worker's process). */
export interface WarmJobData {
  key: string;
  reason: WarmReason;
}

export interface QueueStats {
  origin: string;
  waiting: number;
  active: number;
  completed: number;
  failed: number;
  delayed: number;
  /** Jobs completed during the last minute. */
  throughputPerMinute: number;
}

export interface FailedWarmJob {
  id: string;
  key: string;
  origin: string;
  reason: WarmReason;
  /** The last error message. */
  error: string;
  attempts: number;
  failedAt: number;
}

/** Emitted while the start-up set warms, once per finished key. */
export interface WarmProgress {
  total: number;
  done: number;
  failed: number;
  key: string;
  ok: boolean;
}

export interface ReadyReport {
  /** true when every start-up key finished (warmed or failed) before the deadline. */
  complete: boolean;
  total: number;
  warmed: number;
  failed: number;
  pending: number;
}

export type WarmerEvent =
  | { type: 'progress'; progress: WarmProgress }
  | { type: 'warmed'; key: string; reason: WarmReason; origin: string; ms: number }
  | { type: 'failed'; key: string; reason: WarmReason; origin: string; error: string; attempt: number; final: boolean }
  | { type: 'error'; error: unknown; where: string };
