import { CacheOptionsError, toMs } from '@stratacache/core';
import type { Duration } from '@stratacache/core';

/** What a `getOrSet` factory receives. */
export interface FactoryContext<T = unknown> {
  /** Aborted when `hardTimeout` fires (or the cache closes). Pass it to fetch/DB drivers. */
  readonly signal: AbortSignal;
  /** The stale value (expired, within grace) if there is one — e.g. for conditional requests. */
  readonly staleValue: T | undefined;
  /** Overrides the TTL for this value. */
  setTtl(ttl: Duration): void;
  /** Sets the tags of this value (replaces the tags from the call options). */
  setTags(tags: readonly string[]): void;
  /** Return `ctx.skip()` to cache nothing; the call resolves the stale value if any, else `undefined`. */
  skip(): T;
}

/** Marker returned by `skip()`. */
export const SKIP: unique symbol = Symbol('stratacache.tiered.skip');

export class FactoryContextImpl<T> implements FactoryContext<T> {
  ttl: number | undefined;
  tags: readonly string[] | undefined;
  skipped = false;
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
    const ms = toMs(ttl, 'FactoryContext.setTtl');
    if (ms === 0) throw new CacheOptionsError('FactoryContext.setTtl: ttl must be > 0 ms (use skip() to cache nothing)');
    this.ttl = ms;
  }
  setTags(tags: readonly string[]): void {
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string' && t.length > 0)) {
      throw new TypeError('FactoryContext.setTags: tags must be an array of non-empty strings');
    }
    this.tags = [...tags];
  }
  skip(): T {
    this.skipped = true;
    return SKIP as unknown as T;
  }
}
