export { ShardConfigError, ShardUnavailableError, TenantLimitError, type ShardConfigErrorReason } from './errors';
export { TENANT_LIMIT_DEFAULTS, MIN_L1_SHARE, type TenantLimits } from './tenant-registry';
export { redactUrl } from './redact';
export {
  validateConnectionConfig,
  describeConnection,
  type ConnectionConfig,
  type ConnectionKind,
  type UrlConnectionConfig,
  type ClusterConnectionConfig,
  type SentinelConnectionConfig,
  type MemoryConnectionConfig,
  type ClientConnectionConfig,
  type ShardTlsConfig,
  type HostPort,
} from './shard-config';
export {
  createRedisConnection,
  FAST_FAIL_REDIS_OPTIONS,
  FAST_FAILOVER_CLUSTER_OPTIONS,
  FAST_FAILOVER_SENTINEL_OPTIONS,
  type RedisConnectionConfig,
  type CreateConnectionOptions,
} from './connection-factory';
export { murmur3 } from './hash';
export { RendezvousHash, type HashNode } from './rendezvous-hash';
export { HashedStore, type HashedStoreOptions, type HashedShard, type HashedShardStats } from './hashed-store';
export {
  ShardRouter,
  type ShardRouterOptions,
  type ShardDefinition,
  type ShardCacheOptions,
  type ShardCacheContext,
  type ShardCache,
  type ShardHealth,
  type RouterHealth,
  type RouterEvent,
  type RouterEventListener,
  type RouterEventOrigin,
  type RouterResources,
} from './shard-router';
export { tieredCaches, TieredTenantCache } from './tiered-caches';
