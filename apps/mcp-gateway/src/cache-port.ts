/**
 * What the gateway needs from a cache. `src/cache.ts` implements it on top of the
 * stratacache packages; nothing else in the app imports a cache package directly.
 */

import type { ReplayGuard } from './webhooks/replay-guard';

/** A resolved invalidation: one tag, or a namespace (entity [+ operation]). */
export type CacheTarget = { tag: string } | { entity: string; operation?: string };

/** What an invalidation did: per (shard, target) pair, applied or failed (with the store's reason). */
export interface InvalidationOutcome {
  /** True when every target was applied everywhere it had to be. */
  ok: boolean;
  /** Targets asked for. */
  targets: number;
  /** (shard, target) applications that succeeded. */
  applied: number;
  /** (shard, target) applications that failed. */
  failed: number;
  /** Distinct failure reasons (e.g. `timeout`, `circuit-open`, `connection`), for logs and answers. */
  reasons: string[];
}

/** Combines outcomes (several shards, several calls). */
export function mergeOutcomes(targets: number, outcomes: InvalidationOutcome[]): InvalidationOutcome {
  const reasons = [...new Set(outcomes.flatMap((o) => o.reasons))];
  const failed = outcomes.reduce((n, o) => n + o.failed, 0);
  return { ok: failed === 0, targets, applied: outcomes.reduce((n, o) => n + o.applied, 0), failed, reasons };
}

export interface ReadSpec {
  entity: string;
  operation: string;
  /** Identifying parameters (key fields, plus `_scope` for caller-scoped reads). */
  params: Record<string, unknown>;
  ttlMs: number;
  /** How long an expired entry may be served when the origin fails (0 = never). */
  graceMs: number;
  tags: string[];
  /** Tenant / instance the read belongs to (shard routing). */
  tenant?: string | undefined;
}

export type ReadSource = 'cache' | 'origin' | 'stale';

export interface ReadResult<T> {
  value: T;
  source: ReadSource;
}

export interface CacheStatsSnapshot {
  layer: string;
  [k: string]: unknown;
}

export interface GatewayCache {
  /** Human name of the layer in use (`core`, `tiered`, `tiered+shard`), printed at start. */
  readonly layer: string;
  /** Store kind (`memory`, `redis`). */
  readonly storeKind: string;
  /**
   * Cached read: returns the cached value, or calls `fetch` (once per key, concurrent readers share it)
   * and caches its result. A failing cache never fails the read (degrades to `fetch`).
   * When `fetch` throws and a value within grace exists, that value is returned as `stale`
   * if the layer supports it; otherwise the error propagates.
   */
  read<T>(spec: ReadSpec, fetch: () => Promise<T>): Promise<ReadResult<T>>;
  /**
   * Applies invalidations; `tenant` undefined = every tenant (every shard), else only that
   * tenant's entries. Never hides a failure: a target the store did not take is counted in
   * `failed` with its reason (rejects only on a programming error).
   */
  invalidate(targets: CacheTarget[], tenant?: string): Promise<InvalidationOutcome>;
  /** Throws `TenantError` (`E_TENANT_INVALID`) when `tenant` is not a valid tenant id. */
  validateTenant?(tenant: string): void;
  /** Webhook replay memory shared by every instance on the same store (Redis), if the layer has one. */
  replayGuard?(): ReplayGuard;
  stats(): Promise<CacheStatsSnapshot>;
  health(): Promise<{ ok: boolean; [k: string]: unknown }>;
  close(): Promise<void>;
}
