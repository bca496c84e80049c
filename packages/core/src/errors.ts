import { StratacacheError } from '@stratacache/breaker';

/** The one base class of every stratacache error (defined in `@stratacache/breaker`); codes: `docs/errors.md`. */
export { StratacacheError };
/** @deprecated Old spelling of {@link StratacacheError} (the same class). */
export const StrataCacheError = StratacacheError;
/** @deprecated Old spelling of {@link StratacacheError}. */
export type StrataCacheError = StratacacheError;

/** Invalid options or arguments passed to a public entry point. */
export class CacheOptionsError extends StratacacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_CACHE_OPTIONS', message, options);
  }
}

/** A store operation did not answer within the operation timeout (`opTimeout`). Never thrown at readers. */
export class StoreTimeoutError extends StratacacheError {
  constructor(operation: string, timeoutMs: number) {
    super('E_STORE_TIMEOUT', `store ${operation} did not answer within ${timeoutMs} ms`);
  }
}

/** The store was used after `close()`. */
export class StoreClosedError extends StratacacheError {
  constructor(kind: string) {
    super('E_STORE_CLOSED', `${kind} store is closed`);
  }
}

/** A decorator or `cached()` wrapper found no CacheService to use (pass `cache` or call `setDefaultCache`). */
export class CacheNotConfiguredError extends StratacacheError {
  constructor(message: string) {
    super('E_CACHE_NOT_CONFIGURED', message);
  }
}

/**
 * A store could not answer for part of its keyspace (e.g. one shard of a `HashedStore` is down) —
 * the answer is *unknown*, never "missing". Stores reject reads and writes with it (or a subclass);
 * CacheService treats such a read as unknown (a miss for readers, an unverifiable barrier = the
 * entry is not served) and such a write as `{ ok: false, reason: 'unavailable' }`, without counting
 * it against its own circuit breaker (the failing part has its own). Code `E_STORE_UNAVAILABLE`.
 */
export class StoreUnavailableError extends StratacacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_STORE_UNAVAILABLE', message, options);
  }
}

/** True for a {@link StoreUnavailableError} (by code, so it works across copies of the package). */
export function isStoreUnavailable(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'E_STORE_UNAVAILABLE';
}
