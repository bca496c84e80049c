export { stratacacheRoutes, type StratacacheRoutesOptions } from './route-cache';
export { RouteCacheOptionsError } from './errors';
export { RouteCacheError, type RouteCacheConfig, type RouteCacheLayer, type InvalidationSpec, type XCache, type CacheMetadata } from '@stratacache/http';
export { strataAdmin, type StrataAdminOptions, type StrataAdminDecoration } from './admin-plugin';
export { adminCache, type AdminCache, type AdminInvalidateTarget } from './admin/cache-port';
export { parseTokens, REDACT_PATHS, MIN_TOKEN_LENGTH, type AdminRole, type AdminToken } from './admin/auth';
export { adminWarming, type AdminWarming, type AdminWarmingOptions, type WarmerLike, type WarmingResult } from './admin/warming';
