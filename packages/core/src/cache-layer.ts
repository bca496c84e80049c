import { CacheNotConfiguredError } from './errors';
import { KeyBuilder } from './key-builder';
import type { KeyIdentifier } from './key-builder';
import type { CacheLayer, InvalidateResult, InvalidateSpec, InvalidateTarget, NamespaceRef } from './types';

let defaultCache: CacheLayer | undefined;

/** Sets (or clears with `undefined`) the cache used by `cached()` and decorators without a `cache` option: any layer (CacheService, TieredCache, a tenant's cache). */
export function setDefaultCache(cache: CacheLayer | undefined): void {
  defaultCache = cache;
}

export function getDefaultCache(): CacheLayer | undefined {
  return defaultCache;
}

/** A cache layer, or a thunk returning one (called per call). */
export type CacheRef = CacheLayer | (() => CacheLayer);

/** Resolves a `cache` option: an instance, a thunk, or the default cache. */
export function resolveCache(ref: CacheRef | undefined, where: string): CacheLayer {
  const c = typeof ref === 'function' ? ref() : (ref ?? defaultCache);
  if (!c) throw new CacheNotConfiguredError(`${where}: no cache (pass { cache } or call setDefaultCache(cache))`);
  return c;
}

/** Builds keys relative to the layer's prefix for layers without a KeyBuilder (the layer adds its prefix). */
const relativeKeys = new KeyBuilder({ prefix: '_' });

/** `{prefix}:{entity}:{operation}:{identifier}` with the layer's KeyBuilder, or the same key relative to its prefix. */
export function buildKey(cache: CacheLayer, entity: string, operation: string, identifier: KeyIdentifier | undefined): string {
  if (cache.keys !== undefined) return cache.keys.build(entity, operation, identifier);
  return relativeKeys.build(entity, operation, identifier).slice(2);
}

/**
 * Runs an invalidation spec (any mix of keys, patterns, tags, namespaces) on any layer, one target at
 * a time (the shape every layer's `invalidate` accepts); the results are added up, the first failure kept.
 */
export async function invalidateOn(cache: CacheLayer, spec: InvalidateSpec): Promise<InvalidateResult> {
  const targets: InvalidateTarget[] = [];
  for (const key of [...(spec.key !== undefined ? [spec.key] : []), ...(spec.keys ?? [])]) targets.push({ key });
  for (const pattern of [...(spec.pattern !== undefined ? [spec.pattern] : []), ...(spec.patterns ?? [])]) targets.push({ pattern });
  for (const tag of [...(spec.tag !== undefined ? [spec.tag] : []), ...(spec.tags ?? [])]) targets.push({ tag });
  for (const n of [...(spec.namespace !== undefined ? [spec.namespace] : []), ...(spec.namespaces ?? [])]) targets.push({ namespace: namespaceRef(n) });
  const total: InvalidateResult = { deleted: 0, barriers: 0, ok: true };
  for (const t of targets) {
    const r = await cache.invalidate(t);
    total.deleted += r.deleted;
    total.barriers += r.barriers;
    if (!r.ok && total.ok) {
      total.ok = false;
      if (r.reason !== undefined) total.reason = r.reason;
    }
  }
  return total;
}

function namespaceRef(n: NamespaceRef | string): NamespaceRef {
  if (typeof n !== 'string') return n;
  const i = n.indexOf(':');
  return i === -1 ? { entity: n } : { entity: n.slice(0, i), operation: n.slice(i + 1) };
}
