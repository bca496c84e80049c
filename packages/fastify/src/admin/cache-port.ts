import type { CacheLayer, InvalidateResult, InvalidateTarget } from '@stratacache/core';

/** One invalidation target of `POST /cache/invalidate` (exactly one field). */
export type AdminInvalidateTarget =
  | { key: string }
  | { pattern: string }
  | { tag: string }
  | { namespace: string; operation?: string };

/** What the admin routes need from a cache: any layer, a router, or an app's own adapter. */
export interface AdminCache {
  stats(): unknown;
  health(): Promise<{ ok: boolean; [k: string]: unknown }>;
  invalidate(target: AdminInvalidateTarget): Promise<InvalidateResult>;
  clear(): Promise<InvalidateResult>;
}

/** The layers `adminCache()` accepts: a CacheService, a TieredCache (duck-typed), or a ShardRouter of them. */
interface LayerLike extends CacheLayer {
  clear(): Promise<InvalidateResult>;
  stats(): unknown;
  health?(): Promise<{ status: string }>;
  service?: { health(): Promise<{ status: string }> };
}
interface RouterLike {
  shardIds(): string[];
  forShard(id: string): unknown;
  stats(): unknown;
  health(): Promise<unknown>;
}

function isRouter(x: unknown): x is RouterLike {
  return typeof (x as RouterLike).shardIds === 'function' && typeof (x as RouterLike).forShard === 'function';
}
function isLayer(x: unknown): x is LayerLike {
  return typeof (x as LayerLike).invalidate === 'function' && typeof (x as LayerLike).clear === 'function' && typeof (x as LayerLike).stats === 'function';
}
export function isAdminCache(x: unknown): x is AdminCache {
  return typeof x === 'object' && x !== null && !isRouter(x) && typeof (x as AdminCache).health === 'function' && typeof (x as AdminCache).clear === 'function' && (x as { getOrSet?: unknown }).getOrSet === undefined;
}

function toTarget(t: AdminInvalidateTarget): InvalidateTarget {
  if ('key' in t) return { key: t.key };
  if ('pattern' in t) return { pattern: t.pattern };
  if ('tag' in t) return { tag: t.tag };
  return { namespace: t.operation === undefined ? { entity: t.namespace } : { entity: t.namespace, operation: t.operation } };
}

function sum(results: InvalidateResult[]): InvalidateResult {
  const total: InvalidateResult = { deleted: 0, barriers: 0, ok: true };
  for (const r of results) {
    total.deleted += r.deleted;
    total.barriers += r.barriers;
    if (!r.ok && total.ok) {
      total.ok = false;
      if (r.reason !== undefined) total.reason = r.reason;
    }
  }
  return total;
}

async function layerHealth(l: LayerLike): Promise<{ status: string }> {
  if (typeof l.health === 'function') return l.health();
  if (l.service && typeof l.service.health === 'function') return l.service.health();
  return { status: 'ok' };
}

/**
 * The admin view of a cache: a `CacheService`, a `TieredCache`, a `ShardRouter` of either (every
 * shard), or a list of layers (each one invalidated / cleared, stats side by side).
 */
export function adminCache(cache: unknown): AdminCache {
  if (isAdminCache(cache)) return cache;
  if (isRouter(cache)) {
    const router = cache;
    const layers = (): LayerLike[] => router.shardIds().map((id) => router.forShard(id)).filter(isLayer);
    return {
      stats: () => router.stats(),
      async health() {
        const h = (await router.health()) as { ok?: boolean; status?: string };
        return { ok: h.ok ?? h.status === 'ok', ...(h as object) };
      },
      invalidate: async (t) => sum(await Promise.all(layers().map((l) => l.invalidate(toTarget(t))))),
      clear: async () => sum(await Promise.all(layers().map((l) => l.clear()))),
    };
  }
  const list = (Array.isArray(cache) ? cache : [cache]) as unknown[];
  if (list.length === 0 || !list.every(isLayer)) {
    throw new TypeError('stratacache admin: `cache` must be a CacheService, TieredCache, ShardRouter, a list of layers, or an AdminCache');
  }
  const layers = list;
  return {
    stats: () => (layers.length === 1 ? layers[0]!.stats() : layers.map((l) => l.stats())),
    async health() {
      const hs = await Promise.all(layers.map(layerHealth));
      const ok = hs.every((h) => h.status === 'ok');
      return layers.length === 1 ? { ok, ...hs[0] } : { ok, layers: hs };
    },
    invalidate: async (t) => sum(await Promise.all(layers.map((l) => l.invalidate(toTarget(t))))),
    clear: async () => sum(await Promise.all(layers.map((l) => l.clear()))),
  };
}
