import type { CacheRef } from './cache-layer';
import { buildKey, resolveCache } from './cache-layer';
import type { Duration } from './duration';
import { CacheOptionsError } from './errors';
import type { KeyIdentifier } from './key-builder';
import type { GetOrSetOptions } from './types';

/** A key given as a string (relative to the prefix, or full) or as KeyBuilder parts. */
export type CachedKey = string | { entity: string; operation: string; params?: KeyIdentifier };

export interface CachedOptions<A extends unknown[]> {
  /** Builds the key from the call's arguments. */
  key: (...args: A) => CachedKey;
  cache?: CacheRef;
  ttl?: Duration;
  tags?: readonly string[] | ((...args: A) => readonly string[]);
  /** Per-call bypass: return false to skip the cache for these arguments. */
  useCache?: (...args: A) => boolean;
}

/**
 * Wraps a function so its results are cached (getOrSet semantics: single-flight, fail-safe, errors
 * not cached) in any layer (`CacheLayer`: CacheService, TieredCache, a tenant's cache). `this` is forwarded.
 */
export function cached<A extends unknown[], R>(
  fn: (...args: A) => R | Promise<R>,
  opts: CachedOptions<A>,
): (...args: A) => Promise<Awaited<R>> {
  if (typeof fn !== 'function') throw new CacheOptionsError('cached: fn must be a function');
  if (typeof opts !== 'object' || opts === null || typeof opts.key !== 'function') {
    throw new CacheOptionsError('cached: opts.key must be a function (...args) => key');
  }
  return function cachedCall(this: unknown, ...args: A): Promise<Awaited<R>> {
    let key: string;
    let o: GetOrSetOptions;
    let cache;
    try {
      cache = resolveCache(opts.cache, 'cached()');
      const k = opts.key(...args);
      key = typeof k === 'string' ? k : buildKey(cache, k.entity, k.operation, k.params);
      o = {};
      if (opts.ttl !== undefined) o.ttl = opts.ttl;
      if (opts.tags !== undefined) o.tags = typeof opts.tags === 'function' ? opts.tags(...args) : opts.tags;
      if (opts.useCache !== undefined) o.useCache = opts.useCache(...args);
    } catch (err) {
      return Promise.reject(err);
    }
    return cache.getOrSet<Awaited<R>>(key, () => fn.apply(this, args) as Promise<Awaited<R>>, o);
  };
}
