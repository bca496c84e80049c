import { StoreUnavailableError, StratacacheError } from '@stratacache/core';

/** Why a {@link ShardConfigError} was thrown (stable, switch on it). */
export type ShardConfigErrorReason =
  | 'empty-shards'
  | 'unknown-shard'
  | 'unknown-tenant'
  | 'malformed-url'
  | 'unknown-scheme'
  | 'conflicting-options'
  | 'missing-option'
  | 'invalid-option'
  | 'closed';

/**
 * Invalid shard / connection configuration, or a lookup the configuration cannot answer
 * (unknown tenant without a default shard). Code `E_SHARD_CONFIG`.
 * Messages never contain passwords: URLs are redacted (`redis://user:***@host`).
 */
export class ShardConfigError extends StratacacheError {
  /** Machine-readable reason. */
  readonly reason: ShardConfigErrorReason;
  /** Dotted path of the offending option, e.g. `shards.stamford.url` (empty when not applicable). */
  readonly path: string;

  constructor(reason: ShardConfigErrorReason, path: string, message: string, options?: { cause?: unknown }) {
    super('E_SHARD_CONFIG', path ? `${path}: ${message}` : message, options);
    this.reason = reason;
    this.path = path;
  }
}

/**
 * `ShardRouter.forTenant` of a new tenant while `maxTenants` tenant caches are alive (after idle
 * ones were evicted). Code `E_TENANT_LIMIT`. Existing tenants keep working; retry later, raise
 * `maxTenants`, or lower `tenantIdleTimeout`.
 */
export class TenantLimitError extends StratacacheError {
  readonly tenant: string;
  readonly limit: number;

  constructor(tenant: string, limit: number) {
    super('E_TENANT_LIMIT', `tenant ${JSON.stringify(tenant)} refused: ${limit} tenant caches are alive (maxTenants) and none is idle`);
    this.tenant = tenant;
    this.limit = limit;
  }
}

/**
 * A shard of a `HashedStore` in `'degrade'` mode failed: the read's answer is unknown (never
 * "missing"), the write was not applied. CacheService reads it as unknown without tripping its own
 * breaker. Code `E_STORE_UNAVAILABLE` (a core `StoreUnavailableError`).
 */
export class ShardUnavailableError extends StoreUnavailableError {
  readonly shard: string;
  readonly operation: string;
  constructor(shard: string, operation: string, cause: unknown) {
    super(`shard ${shard} could not answer ${operation}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.shard = shard;
    this.operation = operation;
  }
}
