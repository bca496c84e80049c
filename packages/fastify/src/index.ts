export { stratacacheRoutes, type StratacacheRoutesOptions } from './route-cache';
export { RouteCacheOptionsError } from './errors';
export { RouteCacheError, type RouteCacheConfig, type RouteCacheLayer, type InvalidationSpec, type XCache, type CacheMetadata } from '@stratacache/http';
