export * from './errors';
export { CacheService } from './cache-service';
export type { CacheServiceOptions } from './options';
export { HIT_SAMPLE_EVERY } from './options';
export type {
  SetOptions,
  GetOrSetOptions,
  SetResult,
  SetFailureReason,
  MsetEntry,
  NamespaceRef,
  InvalidateSpec,
  InvalidateResult,
  ReadResult,
  HealthReport,
  FactoryContext,
  Factory,
  InvalidateTarget,
  CacheLayer,
} from './types';
export { parseNamespace } from './namespaces';
export type { KeyNamespace } from './namespaces';
export type { CacheEntry } from './entry';
export type { CacheEvent, CacheEventType, CacheEventListener, CacheSource } from './events';
export { CacheEventEmitter } from './events';
export type { CacheStats, NamespaceStats, LatencyStats } from './stats';
export type { Store, StoreEntry, MessageHandler, ConnectionChange, ConnectionListener, LockClaim, LockState, ReadOrLockReply, StorePublish } from './store';
export type { LockedReadResult } from './locked-reads';
export { lockKeyFor } from './fused-lock';
export { MemoryStore } from './memory-store';
export type { MemoryStoreOptions } from './memory-store';
export { RedisStore, DEFAULT_REDIS_OPTIONS } from './redis-store';
export type { RedisStoreOptions, RedisClient, RedisInput } from './redis-store';
export { escapeGlob, globToRegExp } from './glob';
export { cached } from './cached';
export type { CachedOptions, CachedKey } from './cached';
export { Cached, InvalidateCache, WarmUp, warmUp, setWarmUpRegistry } from './decorators';
export type { CachedDecoratorOptions, InvalidateCacheOptions, WarmUpReport, WarmUpTask, WarmUpRegistry } from './decorators';
export { setDefaultCache, getDefaultCache } from './cache-layer';
export type { CacheRef } from './cache-layer';
// sibling modules (codec, keys, TTL, durations)
export { createCodec, CorruptEntryError, EncodeError, peekHeader } from './codec';
export type { Codec, CodecOptions, CompressionAlgorithm, MsgpackCodec, EntryHeader } from './codec';
export { KeyBuilder, KeyError, escapeKeyPart, unescapeKeyPart } from './key-builder';
export type { KeyBuilderOptions, KeyIdentifier, ParsedKey, NamespaceKey } from './key-builder';
export { TtlPolicy, DEFAULT_TTL_MS } from './ttl-policy';
export type { TtlPolicyOptions, TtlRule, TtlHint, TtlDescription } from './ttl-policy';
export { toMs } from './duration';
export type { Duration } from './duration';
