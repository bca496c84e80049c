import { CacheService, type TtlPolicy } from '@stratacache/core';
import { ShardRouter } from '@stratacache/shard';
import { TieredCache } from '@stratacache/tiered';
import {
  BYTES,
  INVALIDATIONS,
  ORIGIN_CALLS,
  ORIGIN_ERRORS,
  RES_HIT,
  RES_MISS,
  RES_STALE,
  Row,
  SRC_L1,
  SRC_L2,
  SRC_ORIGIN,
  SRC_STALE,
  TenantRows,
  Totals,
  inc,
  sourceIndex,
} from './counters';
import { LabelFolder, NONE } from './labels';
import { TopK } from './top-k';

/** The fields of core's `CacheEvent` / tiered's `TieredEvent` the collector reads. */
export interface ObservedEvent {
  type: string;
  source: string;
  key?: string;
  entity?: string;
  operation?: string;
  latencyMs?: number;
  bytes?: number;
  kind?: string;
  target?: string;
  count?: number;
  ok?: boolean;
  state?: string;
  error?: unknown;
}

/** One invalidation as seen by the collector (fed to the invalidation log and the TTL advisor). */
export interface InvalidationObservation {
  at: number;
  tenant: string;
  /** Entity (or `entity:operation` for namespace invalidations; `tag:<t>` for tags; `*` for clear). */
  entity: string;
  kind: string;
  target: string;
  count: number;
  ok: boolean;
}

/** Hooks for the slower consumers (invalidation log, advisor, tracing). Called synchronously; keep them O(1). */
export interface CollectorObserver {
  invalidation?(o: InvalidationObservation): void;
  /** A read that missed every cache layer (the origin will be / was asked). */
  miss?(tenant: string, entity: string, key: string): void;
  /** A value was written (the write path, not the read path). */
  set?(tenant: string, entity: string, key: string): void;
  /** A timed step: an origin call (`layer: 'origin'`) or an L2 round trip (`'l2'`). */
  timed?(layer: 'origin' | 'l2', e: ObservedEvent, tenant: string): void;
}

export interface AttachOptions {
  /** Tenant label of a CacheService / TieredCache (a ShardRouter tags its own events). Default `'none'`. */
  tenant?: string;
  /**
   * TieredCache and ShardRouter. `'counted'` (default): the collector does not subscribe to `hit` events
   * (a hit subscription alone makes every L1 hit build an event: about 4× slower L1 hits, see the
   * benchmark); L1 and L2 hits are read from `stats()` (`l1Hits`, `l2Hits`; a router's tenant caches:
   * `router.stats()`) and counted per tenant
   * under entity `'all'`; misses, stale serves, origin calls, errors and invalidations stay per entity
   * and per key. `'events'`: every hit is an event — per-entity hit rates and hits in the top-K, at that cost.
   */
  hits?: 'counted' | 'events';
}

/** Entity label of hits counted from `stats()` (`hits: 'counted'`). */
export const ALL_ENTITIES = 'all';
const TIERED_TYPES_BUT_HIT = ['miss', 'stale', 'origin', 'error', 'invalidate', 'set', 'delete', 'bus', 'refresh'] as const;
const ROUTER_TYPES_BUT_HIT = [...TIERED_TYPES_BUT_HIT, 'breaker', 'corrupt', 'too_large', 'bypass'] as const;

/** Hits of every tenant cache of a router, from `stats()`: a wrapper's own (`l1Hits` / `l2Hits`), else the CacheService's. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function* routerHits(router: ShardRouter<any>): Iterable<{ id: string; shard: string; tenant: string | undefined; l1: number; l2: number }> {
  for (const s of router.stats()) {
    const own = s.cacheStats as { l1Hits?: unknown; l2Hits?: unknown } | undefined;
    const tiered = own !== undefined && typeof own.l1Hits === 'number' && typeof own.l2Hits === 'number';
    yield { id: `${s.shard}\u0000${s.tenant ?? ''}`, shard: s.shard, tenant: s.tenant, l1: tiered ? (own.l1Hits as number) : 0, l2: tiered ? (own.l2Hits as number) : s.stats.hits };
  }
}

export type Attachable = CacheService | TieredCache | ShardRouter<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

type Handler = (e: ObservedEvent, t: TenantRows) => void;

/**
 * Turns cache events into counters. Listeners do O(1) work: two map lookups and a few increments
 * (plus the amortised O(1) top-K update); nothing is awaited, nothing is allocated per hit.
 */
export class Collector {
  readonly totals = new Totals();
  readonly tenants = new Map<string, TenantRows>();
  readonly topK: TopK;
  readonly observers = new Set<CollectorObserver>();
  /** Span builder (set only when a tracer is configured: otherwise one `undefined` check per timed event). */
  tracer: Required<Pick<CollectorObserver, 'timed'>> | undefined;
  private readonly entities: LabelFolder;
  private readonly tenantLabels: LabelFolder;
  private readonly tieredCaches = new Set<TieredCache>();
  /** TieredCaches attached in `'counted'` mode, with the l1Hits already counted. */
  private readonly counted = new Map<TieredCache, { t: TenantRows; l1: number; l2: number }>();
  /** Routers attached in `'counted'` mode, with the hits already counted per tenant cache. */
  private readonly countedRouters = new Map<ShardRouter<any>, Map<string, { l1: number; l2: number }>>(); // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Default of {@link AttachOptions.hits}. */
  hitsMode: 'counted' | 'events' = 'counted';
  private readonly detachers = new Set<() => void>();
  /** TtlPolicies of the attached CacheServices / TieredCaches (the advisor's default). */
  readonly ttlPolicies = new Set<TtlPolicy>();

  constructor(opts: { topK: number; maxEntities: number; maxTenants: number; entities?: readonly string[]; tenants?: readonly string[] }) {
    this.topK = new TopK(opts.topK);
    this.entities = new LabelFolder(opts.maxEntities, opts.entities);
    this.tenantLabels = new LabelFolder(opts.maxTenants, opts.tenants);
  }

  /** Subscribes to a CacheService, TieredCache (its own events and its L2's) or ShardRouter (every layer). Returns detach. */
  attach(target: Attachable, opts: AttachOptions = {}): () => void {
    const offs: (() => void)[] = [];
    if (target instanceof ShardRouter) {
      const prefix = target.prefix;
      const request = this.requestHandler(() => prefix);
      const l2 = this.l2Handler();
      const tenantRows = new Map<string | undefined, TenantRows>();
      const handler = (e: ObservedEvent, o: { shard: string; tenant: string | undefined; layer: 'cache' | 'l2' }): void => {
        let t = tenantRows.get(o.tenant);
        if (t === undefined) {
          t = this.tenant(o.tenant ?? o.shard);
          tenantRows.set(o.tenant, t);
        }
        (o.layer === 'l2' ? l2 : request)(e, t);
      };
      const mode = opts.hits ?? this.hitsMode;
      if (mode !== 'counted' && mode !== 'events') throw new TypeError("attach: hits must be 'counted' or 'events'");
      if (mode === 'events') offs.push(target.on('*', handler));
      else {
        for (const type of ROUTER_TYPES_BUT_HIT) offs.push(target.on(type, handler));
        const seen = new Map<string, { l1: number; l2: number }>();
        for (const h of routerHits(target)) seen.set(h.id, h);
        this.countedRouters.set(target, seen);
        offs.push(() => {
          this.sync();
          this.countedRouters.delete(target);
        });
      }
    } else if (target instanceof TieredCache) {
      const t = this.tenant(opts.tenant);
      const request = this.requestHandler(() => target.l2.prefix);
      const mode = opts.hits ?? this.hitsMode;
      if (mode !== 'counted' && mode !== 'events') throw new TypeError("attach: hits must be 'counted' or 'events'");
      const l2 = this.l2Handler();
      if (mode === 'events') offs.push(target.on('*', (e) => request(e, t)));
      else {
        for (const type of TIERED_TYPES_BUT_HIT) offs.push(target.on(type, (e) => request(e, t)));
        const st = target.stats();
        this.counted.set(target, { t, l1: st.l1Hits, l2: st.l2Hits });
        offs.push(() => {
          this.sync();
          this.counted.delete(target);
        });
      }
      offs.push(target.l2.on('*', (e) => l2(e, t)));
      this.seedCircuit(t, (target.l2 as { breaker?: { state: string } }).breaker);
      this.ttlPolicies.add(target.l2.ttlPolicy);
      this.tieredCaches.add(target);
      offs.push(() => this.tieredCaches.delete(target));
    } else if (target instanceof CacheService) {
      const t = this.tenant(opts.tenant);
      const request = this.requestHandler(() => target.prefix);
      offs.push(target.on('*', (e) => request(e, t)));
      this.seedCircuit(t, target.breaker);
      this.ttlPolicies.add(target.ttlPolicy);
    } else {
      throw new TypeError('attach: expected a CacheService, TieredCache or ShardRouter');
    }
    const detach = (): void => {
      for (const off of offs.splice(0)) off();
      this.detachers.delete(detach);
    };
    this.detachers.add(detach);
    return detach;
  }

  detachAll(): void {
    for (const d of [...this.detachers]) d();
  }

  /** L1 evictions of the attached TieredCaches (read from their `stats()`). */
  l1Evictions(): number {
    let n = 0;
    for (const c of this.tieredCaches) n += c.stats().l1.evictions;
    return n;
  }

  /** Brings the counted L1 hits up to date (called before any read of the rows). */
  sync(): void {
    for (const [cache, c] of this.counted) {
      const st = cache.stats();
      const row = this.row(c.t, ALL_ENTITIES);
      if (st.l1Hits > c.l1) row.v[SRC_L1 * 3 + RES_HIT]! += st.l1Hits - c.l1;
      if (st.l2Hits > c.l2) row.v[SRC_L2 * 3 + RES_HIT]! += st.l2Hits - c.l2;
      c.l1 = st.l1Hits;
      c.l2 = st.l2Hits;
    }
    for (const [router, seen] of this.countedRouters) {
      for (const h of routerHits(router)) {
        let prev = seen.get(h.id);
        // a tenant cache closed (idle) and created again starts from 0
        if (prev === undefined || h.l1 < prev.l1 || h.l2 < prev.l2) prev = { l1: 0, l2: 0 };
        if (h.l1 > prev.l1 || h.l2 > prev.l2) {
          const row = this.row(this.tenant(h.tenant ?? h.shard), ALL_ENTITIES);
          row.v[SRC_L1 * 3 + RES_HIT]! += h.l1 - prev.l1;
          row.v[SRC_L2 * 3 + RES_HIT]! += h.l2 - prev.l2;
        }
        seen.set(h.id, { l1: h.l1, l2: h.l2 });
      }
    }
  }

  *rows(): Iterable<Row> {
    this.sync();
    for (const t of this.tenants.values()) yield* t.byLabel.values();
  }

  tenant(name: string | undefined): TenantRows {
    const label = this.tenantLabels.fold(name);
    let t = this.tenants.get(label);
    if (t === undefined) {
      t = new TenantRows(label);
      this.tenants.set(label, t);
    }
    return t;
  }

  private row(t: TenantRows, entity: string | undefined): Row {
    const raw = entity ?? '';
    let r = t.memo.get(raw);
    if (r !== undefined) return r;
    const label = this.entities.fold(entity);
    r = t.byLabel.get(label);
    if (r === undefined) {
      r = new Row(t.label, label);
      t.byLabel.set(label, r);
    }
    if (t.memo.size < 4 * this.entities.max) t.memo.set(raw, r);
    return r;
  }

  /** Events of the layer a user calls (CacheService alone, or the TieredCache / router tenant cache). */
  private requestHandler(prefixOf: () => string): Handler {
    const totals = this.totals;
    const topK = this.topK;
    return (e, t) => {
      totals.events++;
      switch (e.type) {
        case 'hit': {
          const s = sourceIndex(e.source);
          this.row(t, e.entity).v[s * 3 + RES_HIT]!++;
          if (e.latencyMs !== undefined) totals.latency[s]!.record(e.latencyMs);
          if (e.bytes !== undefined) this.row(t, e.entity).v[BYTES]! += e.bytes;
          if (e.key !== undefined) topK.hit(e.key, e.latencyMs, e.bytes);
          if (this.tracer !== undefined && s === 1 && e.latencyMs !== undefined) this.tracer.timed('l2', e, t.label);
          return;
        }
        case 'miss':
          this.row(t, e.entity).v[SRC_ORIGIN * 3 + RES_MISS]!++;
          if (e.latencyMs !== undefined) {
            totals.latency[sourceIndex(e.source)]!.record(e.latencyMs);
            if (this.tracer !== undefined && e.source === 'l2') this.tracer.timed('l2', e, t.label);
          }
          if (e.key !== undefined) {
            topK.miss(e.key);
            for (const o of this.observers) o.miss?.(t.label, e.entity ?? NONE, e.key);
          }
          return;
        case 'stale':
          this.row(t, e.entity).v[SRC_STALE * 3 + RES_STALE]!++;
          if (e.key !== undefined) topK.hit(e.key);
          return;
        case 'origin':
          this.row(t, e.entity).v[ORIGIN_CALLS]!++;
          if (e.latencyMs !== undefined) {
            totals.latency[SRC_ORIGIN]!.record(e.latencyMs);
            if (e.key !== undefined) topK.origin(e.key, e.latencyMs);
          }
          if (this.tracer !== undefined) this.tracer.timed('origin', e, t.label);
          return;
        case 'error':
          if (e.kind === 'factory' || e.kind === 'origin') this.row(t, e.entity).v[ORIGIN_ERRORS]!++;
          else inc(totals.storeErrorsByOp, e.kind ?? 'unknown');
          return;
        case 'invalidate':
          this.invalidate(e, t, prefixOf());
          return;
        case 'breaker':
          this.breaker(e, t);
          return;
        case 'set':
          totals.writes++;
          if (e.key !== undefined) for (const o of this.observers) o.set?.(t.label, e.entity ?? NONE, e.key);
          return;
        case 'delete':
          totals.deletes++;
          return;
        case 'bus':
          totals.busMessages++;
          return;
        default:
          return;
      }
    };
  }

  /** Events of the CacheService under a TieredCache: L2 round-trip latency, bytes, breaker, store errors. */
  private l2Handler(): Handler {
    const totals = this.totals;
    return (e, t) => {
      switch (e.type) {
        case 'hit':
          if (e.latencyMs !== undefined) totals.latency[1]!.record(e.latencyMs);
          if (e.bytes !== undefined) this.row(t, e.entity).v[BYTES]! += e.bytes;
          if (this.tracer !== undefined) this.tracer.timed('l2', e, t.label);
          return;
        case 'miss':
        case 'set':
          if (e.latencyMs !== undefined) {
            totals.latency[1]!.record(e.latencyMs);
            if (this.tracer !== undefined) this.tracer.timed('l2', e, t.label);
          }
          return;
        case 'error':
          inc(totals.storeErrorsByOp, e.kind ?? 'unknown');
          return;
        case 'breaker':
          this.breaker(e, t);
          return;
        default:
          return;
      }
    };
  }

  /** The circuit's state at attach time, so it is known before its first transition (events only report changes). */
  private seedCircuit(t: TenantRows, breaker: { state: string } | undefined): void {
    if (breaker !== undefined && !this.totals.circuit.has(t.label)) this.totals.circuit.set(t.label, breaker.state);
  }

  private breaker(e: ObservedEvent, t: TenantRows): void {
    const state = e.state ?? 'UNKNOWN';
    inc(this.totals.breakerTransitions, state);
    this.totals.circuit.set(t.label, state);
  }

  private invalidate(e: ObservedEvent, t: TenantRows, prefix: string): void {
    const kind = e.kind ?? 'unknown';
    inc(this.totals.invalidationsByKind, kind);
    const target = kind === 'key' && e.key !== undefined ? e.key : (e.target ?? e.key ?? '');
    const entity = e.entity ?? invalidationEntity(kind, target, prefix);
    this.row(t, entity.split(':')[0]).v[INVALIDATIONS]!++;
    if (this.observers.size === 0) return;
    const o: InvalidationObservation = { at: Date.now(), tenant: t.label, entity, kind, target, count: e.count ?? 0, ok: e.ok !== false };
    for (const ob of this.observers) ob.invalidation?.(o);
  }
}

/** The entity an invalidation is about, from its kind and target (keys and patterns are full, with prefix). */
export function invalidationEntity(kind: string, target: string, prefix: string): string {
  if (kind === 'clear') return '*';
  if (kind === 'tag') return `tag:${target}`;
  if (kind === 'namespace') return target;
  const rest = target.startsWith(`${prefix}:`) ? target.slice(prefix.length + 1) : target;
  const i = rest.indexOf(':');
  return i === -1 ? rest : rest.slice(0, i);
}
