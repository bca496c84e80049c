import { CacheOptionsError, toMs } from '@stratacache/core';
import type { Duration } from '@stratacache/core';

/** What a `getOrSet` factory receives. */
export interface FactoryContext<T = unknown> {
  /** Aborted when `hardTimeout` fires (or the cache closes). Pass it to fetch/DB drivers. */
  readonly signal: AbortSignal;
  /** The stale value (expired, within grace) if there is one — e.g. for conditional requests. */
  readonly staleValue: T | undefined;
  /** Overrides the TTL for this value. `0` = do not cache it (it is still returned). */
  setTtl(ttl: Duration): void;
  /** Sets the tags of this value (replaces the tags from the call options). */
  setTags(tags: readonly string[]): void;
  /** Return `ctx.skip()` to cache nothing; the call resolves the stale value if any, else `undefined`. */
  skip(): T;
  /**
   * Return `ctx.fail(error)` to mark the result as a failure (e.g. an upstream answered 503): it is
   * handled exactly like a thrown error — nothing is cached, a stale value within grace is served
   * (fail-safe) and the origin is not called again for `failSafeThrottle`; without a stale value the
   * call rejects with `error`.
   */
  fail(error: unknown): T;
}

/** Marker returned by `skip()`. */
export const SKIP: unique symbol = Symbol('stratacache.tiered.skip');

export class FactoryContextImpl<T> implements FactoryContext<T> {
  ttl: number | undefined;
  tags: readonly string[] | undefined;
  skipped = false;
  failure: { error: unknown } | undefined;
  constructor(
    readonly signal: AbortSignal,
    readonly staleValue: T | undefined,
    ttl: number | undefined,
    tags: readonly string[] | undefined,
  ) {
    this.ttl = ttl;
    this.tags = tags;
  }
  setTtl(ttl: Duration): void {
    // 0 = do not cache this value (same as core); negative / malformed durations throw CacheOptionsError
    this.ttl = toMs(ttl, 'FactoryContext.setTtl');
  }
  setTags(tags: readonly string[]): void {
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string' && t.length > 0)) {
      throw new CacheOptionsError('FactoryContext.setTags: tags must be an array of non-empty strings');
    }
    this.tags = [...tags];
  }
  skip(): T {
    this.skipped = true;
    return SKIP as unknown as T;
  }
  fail(error: unknown): T {
    this.failure = { error };
    return SKIP as unknown as T;
  }
}
