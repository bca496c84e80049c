import type { CacheService } from './cache-service';
import { CacheNotConfiguredError } from './errors';

let defaultCache: CacheService | undefined;

/** Sets (or clears with `undefined`) the CacheService used by `cached()` and decorators without a `cache` option. */
export function setDefaultCache(cache: CacheService | undefined): void {
  defaultCache = cache;
}

export function getDefaultCache(): CacheService | undefined {
  return defaultCache;
}

export type CacheRef = CacheService | (() => CacheService);

/** Resolves a `cache` option: an instance, a thunk, or the default cache. */
export function resolveCache(ref: CacheRef | undefined, where: string): CacheService {
  const c = typeof ref === 'function' ? ref() : (ref ?? defaultCache);
  if (!c) throw new CacheNotConfiguredError(`${where}: no CacheService (pass { cache } or call setDefaultCache(cache))`);
  return c;
}
