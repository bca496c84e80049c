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
 * The store cannot serve commands right now: its connection is down (closed, reconnecting, failed
 * to connect) or the server stopped answering. Rejected at once, without a network wait; the
 * CacheService counts it as a store failure and answers from the origin.
 */
export class StoreUnavailableError extends StratacacheError {
  constructor(kind: string, why: string) {
    super('E_STORE_UNAVAILABLE', `${kind} store is unavailable: ${why}`);
  }
}
