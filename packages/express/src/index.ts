export { routeCache, type ExpressRouteCache } from './route-cache';
export {
  RouteCacheError,
  RouteCacheOptionsError,
  type RouteCacheOptions,
  type RouteCacheConfig,
  type RouteCacheLayer,
  type InvalidationSpec,
  type XCache,
  type CacheMetadata,
} from '@stratacache/http';
