import { StratacacheError } from '@stratacache/core';

/** Base class of every error thrown by `@stratacache/http` (and the express / fastify adapters). */
export class RouteCacheError extends StratacacheError {}

/** Invalid route-caching options (global or per route). Code `E_ROUTE_CACHE_OPTIONS`. */
export class RouteCacheOptionsError extends RouteCacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_ROUTE_CACHE_OPTIONS', message, options);
  }
}
