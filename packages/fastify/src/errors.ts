import { RouteCacheOptionsError } from '@stratacache/http';

/** Invalid options of a `@stratacache/fastify` plugin. Code `E_ROUTE_CACHE_OPTIONS` (the route-caching options error). */
export { RouteCacheOptionsError };
