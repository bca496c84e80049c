import type { BarrierLayout } from './barrier-layout';
import { CacheOptionsError } from './errors';
import type { KeyBuilder } from './key-builder';
import { unescapeKeyPart } from './key-builder';
import { NsCounters } from './stats';
import type { NsLabel } from './stats';
import type { NamespaceRef } from './types';

/** The namespace of a full key, as it appears in the key (escaped). */
export interface KeyNamespace {
  entity: string;
  /** Absent for `{prefix}:{entity}:{id}` keys (and for an empty operation part). */
  operation?: string;
}

/**
 * The one namespace-of-key parser: `{prefix}:{entity}:{operation}:…` → `{ entity, operation }`;
 * `{prefix}:{entity}:{id}` → `{ entity }`; `undefined` when the key has no namespace (`{prefix}:{id}`).
 * `fullKey` must start with `{prefix}:`; parts are returned as they appear in the key (escaped — see
 * `unescapeKeyPart` for the readable form). Core's barriers, stats and TTL rules and TieredCache's
 * events all use it.
 */
export function parseNamespace(fullKey: string, prefix: string): KeyNamespace | undefined {
  const start = prefix.length + 1;
  const c1 = fullKey.indexOf(':', start);
  if (c1 === -1 || c1 === start) return undefined;
  const c2 = fullKey.indexOf(':', c1 + 1);
  const entity = fullKey.slice(start, c1);
  return c2 === -1 || c2 === c1 + 1 ? { entity } : { entity, operation: fullKey.slice(c1 + 1, c2) };
}

/** Per-namespace info, cached: barrier keys, counters and the cached barrier value. */
export interface NsInfo extends NsLabel {
  /** Cached max of the namespace barriers (see `barrierCacheMs`), valid while `barrierEpoch` matches and not older than the window. */
  barrierAt: number;
  barrierFetchedAt: number;
  barrierEpoch: number;
  /** Every barrier key of the namespace (all copies). */
  barrierKeys: string[];
  /** The copies of the namespace's barriers (one on a standalone store): each copy's keys share one slot; the barrier is the max over the copies. */
  barrierGroups: string[][];
}

/**
 * Namespaces of one CacheService: key → namespace info (bounded by `maxNamespaces`, the rest share
 * the `'(other)'` counters) and the barrier key layout.
 *
 * Barrier layout: `{prefix}:__ns:{entity}` and `{prefix}:__ns:{entity}:{operation}` share the hash
 * tag `{entity}`, so both land in one slot (one MGET, also on a Cluster); `{prefix}:__tag:{tag}` has
 * no hash tag (tags spread over the slots). On a Cluster each barrier has copies in other slots
 * (see {@link BarrierLayout}); a copy's entity and operation barriers again share one slot.
 */
export class Namespaces {
  private readonly cache = new Map<string, NsInfo>();
  private readonly prefixColon: string;

  constructor(
    readonly prefix: string,
    private readonly maxNamespaces: number,
    private readonly otherNs: NsCounters,
    private readonly keys: KeyBuilder,
    private readonly layout: BarrierLayout,
  ) {
    this.prefixColon = `${prefix}:`;
  }

  /** The namespace of a full key (cached), or undefined for keys without one. */
  of(fullKey: string): NsInfo | undefined {
    const start = this.prefixColon.length;
    const c1 = fullKey.indexOf(':', start);
    if (c1 === -1 || c1 === start) return undefined;
    const c2 = fullKey.indexOf(':', c1 + 1);
    // cache lookup before parsing: no allocation but the id on the hot path
    const id = c2 === -1 ? fullKey.slice(start, c1) : fullKey.slice(start, c2);
    let info = this.cache.get(id);
    if (info !== undefined) return info;
    const ns = parseNamespace(fullKey, this.prefix) as KeyNamespace;
    const own = this.cache.size < this.maxNamespaces;
    info = this.make(ns.entity, ns.operation, own);
    if (own) this.cache.set(id, info);
    return info;
  }

  /** Every tracked namespace (for `stats()`). */
  all(): Iterable<NsInfo> {
    return this.cache.values();
  }

  private make(entity: string, operation: string | undefined, ownStats: boolean): NsInfo {
    const entityCopies = this.barrierCopies(entity, undefined);
    const opCopies = operation === undefined ? undefined : this.barrierCopies(entity, operation);
    // same entity, same placements: copy i of the operation barrier shares copy i's slot
    const barrierGroups = entityCopies.map((k, i) => (opCopies === undefined ? [k] : [k, opCopies[i] as string]));
    return {
      barrierAt: 0,
      barrierFetchedAt: 0,
      barrierEpoch: -1,
      entity: unescapeKeyPart(entity),
      operation: operation === undefined ? undefined : unescapeKeyPart(operation),
      label: operation === undefined ? entity : `${entity}:${operation}`,
      barrierKeys: barrierGroups.flat(),
      barrierGroups,
      stats: ownStats ? new NsCounters() : this.otherNs,
    };
  }

  /** The barrier keys of a namespace (escaped parts), one per copy; both barriers of one entity share the hash tag `{entity}` (copy 0), `{j~entity}` (copy i). */
  barrierCopies(entity: string, operation: string | undefined): string[] {
    return this.layout.ns(this.prefixColon, entity, operation);
  }

  /** The barrier keys of a tag, one per copy. */
  tagBarrierCopies(tag: string): string[] {
    return this.layout.tag(this.prefixColon, tag);
  }

  /** Namespace target → escaped parts as they appear in keys built by `keys` (so user input cannot widen it). */
  target(n: NamespaceRef | string): { entity: string; operation: string | undefined } {
    let entity: unknown;
    let operation: unknown;
    if (typeof n === 'string') {
      const i = n.indexOf(':');
      entity = i === -1 ? n : n.slice(0, i);
      operation = i === -1 ? undefined : n.slice(i + 1);
    } else if (typeof n === 'object' && n !== null) {
      entity = n.entity;
      operation = n.operation;
    }
    if (typeof entity !== 'string' || entity.length === 0) {
      throw new CacheOptionsError(`namespace entity must be a non-empty string, got ${JSON.stringify(entity)}`);
    }
    if (operation !== undefined && (typeof operation !== 'string' || operation.length === 0)) {
      throw new CacheOptionsError(`namespace operation must be a non-empty string, got ${JSON.stringify(operation)}`);
    }
    // The one namespace function (shared with TieredCache's L1 matcher): escaped as in keys.
    const ref = this.keys.namespaceKey(entity, operation);
    return { entity: ref.entity, operation: ref.operation };
  }
}
