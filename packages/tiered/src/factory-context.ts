import { CacheOptionsError, toMs } from '@stratacache/core';
import type { Duration, FactoryContext as CoreFactoryContext } from '@stratacache/core';

/** What a `getOrSet` factory receives: core's `FactoryContext` (`key`, `setTtl`, `setTags`, `skip`) and more. */
export interface FactoryContext<T = unknown> extends CoreFactoryContext {
  /** Aborted when `hardTimeout` fires (or the cache closes). Pass it to fetch/DB drivers. */
  readonly signal: AbortSignal;
  /** The stale value (expired, within grace) if there is one — e.g. for conditional requests. */
  readonly staleValue: T | undefined;
  // key, setTtl (`0` = do not cache this value) and setTags (replaces the call's tags) come from core.
  /** Return `ctx.skip()` to cache nothing (core's `skip`; here it also returns a marker to return): the call resolves the stale value if any, else `undefined`. */
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
  /** The signal's controller, made on the first read of `signal` (most factories never read it: no AbortController per miss). */
  private ac: AbortController | undefined;
  private abortedWith: { reason: unknown } | undefined;
  constructor(
    readonly key: string,
    readonly staleValue: T | undefined,
    ttl: number | undefined,
    tags: readonly string[] | undefined,
  ) {
    this.ttl = ttl;
    this.tags = tags;
  }
  get signal(): AbortSignal {
    if (this.ac === undefined) {
      this.ac = new AbortController();
      // read after the call was aborted: already aborted, with the same reason
      if (this.abortedWith !== undefined) this.ac.abort(this.abortedWith.reason);
    }
    return this.ac.signal;
  }
  /** Aborts the signal (hard timeout, close); the first reason wins, as with an AbortController. */
  abort(reason: unknown): void {
    if (this.abortedWith !== undefined) return;
    this.abortedWith = { reason };
    this.ac?.abort(reason);
  }
  setTtl(ttl: Duration): void {
    // 0 = do not cache this value (same as core); negative / malformed durations throw CacheOptionsError
    this.ttl = toMs(ttl, 'FactoryContext.setTtl');
  }
  setTags(tags: readonly string[]): void {
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string' && t.length > 0)) {
      throw new CacheOptionsError('FactoryContext.setTags: tags must be an array of non-empty strings');
    }
    this.tags = [...(tags as readonly string[])];
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
