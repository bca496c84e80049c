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
import { type Counts, newSeen, routerHits, type Seen, sourceId, tieredCounts, ZERO } from './stats-reader';
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
   * benchmark); it takes `sampled_hit` events (every `hitSampleEvery`-th hit, default 64) as that many
   * hits of their key and entity, and the exact totals from `stats()` (`l1Hits`, `l2Hits`; a router's
   * tenant caches: `router.stats()`), the part no sample attributed under entity `'all'`. Misses, stale
   * serves, origin calls, errors and invalidations are per entity and per key. `'events'`: every hit is
   * an event — exact per-entity hit rates and top-K hits, at that cost.
   */
  hits?: 'counted' | 'events';
}

/** Entity label of hits counted from `stats()` and not attributed by a sampled hit (`hits: 'counted'`). */
export const ALL_ENTITIES = 'all';
const TIERED_TYPES_BUT_HIT = ['miss', 'stale', 'origin', 'error', 'invalidate', 'set', 'delete', 'bus', 'refresh', 'l2_read'] as const;
const ROUTER_TYPES_BUT_HIT = [...TIERED_TYPES_BUT_HIT, 'breaker', 'corrupt', 'too_large', 'bypass'] as const;

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
  /** Attached TieredCaches: tenant, whether hits are `'counted'`, what was taken from `stats()`. */
  private readonly tieredCaches = new Map<TieredCache, { t: TenantRows; counted: boolean; seen: Seen }>();
  /** Attached routers: whether hits are `'counted'`, what was taken from `stats()` per tenant cache. */
  private readonly routers = new Map<ShardRouter<any>, { counted: boolean; seen: Map<string, Seen> }>(); // eslint-disable-line @typescript-eslint/no-explicit-any
  /** L1 evictions taken from the attached caches' `stats()` (monotonic: a detached or re-created cache never lowers it). */
  private evictions = 0;
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
      const seen = new Map<string, Seen>();
      for (const h of routerHits(target)) seen.set(h.id, newSeen(h));
      const sampled = this.sampledHandler();
      if (mode === 'events') offs.push(target.on('*', handler));
      else {
        for (const type of ROUTER_TYPES_BUT_HIT) offs.push(target.on(type, handler));
        // the router passes one origin object per tenant cache: resolved once, not per sample
        const byOrigin = new WeakMap<object, { s: Seen; t: TenantRows }>();
        offs.push(
          target.on('sampled_hit', (e, o) => {
            if (o.layer === 'l2') return;
            let x = byOrigin.get(o);
            if (x === undefined) {
              const id = sourceId(o.shard, o.tenant);
              let s = seen.get(id);
              if (s === undefined) seen.set(id, (s = newSeen(ZERO))); // a cache created since the last sync
              x = { s, t: this.tenant(o.tenant ?? o.shard) };
              byOrigin.set(o, x);
            }
            sampled(e, x.t, x.s);
          }),
        );
      }
      this.routers.set(target, { counted: mode === 'counted', seen });
      offs.push(() => {
        this.sync();
        this.routers.delete(target);
      });
    } else if (target instanceof TieredCache) {
      const t = this.tenant(opts.tenant);
      const request = this.requestHandler(() => target.l2.prefix);
      const mode = opts.hits ?? this.hitsMode;
      if (mode !== 'counted' && mode !== 'events') throw new TypeError("attach: hits must be 'counted' or 'events'");
      const l2 = this.l2Handler();
      const seen = newSeen(tieredCounts(target.stats()));
      if (mode === 'events') offs.push(target.on('*', (e) => request(e, t)));
      else {
        for (const type of TIERED_TYPES_BUT_HIT) offs.push(target.on(type, (e) => request(e, t)));
        const sampled = this.sampledHandler();
        offs.push(target.on('sampled_hit', (e) => sampled(e, t, seen)));
      }
      offs.push(target.l2.on('*', (e) => l2(e, t)));
      this.seedCircuit(t, (target.l2 as { breaker?: { state: string } }).breaker);
      this.ttlPolicies.add(target.l2.ttlPolicy);
      this.tieredCaches.set(target, { t, counted: mode === 'counted', seen });
      offs.push(() => {
        this.sync();
        this.tieredCaches.delete(target);
      });
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

  /** L1 evictions of the attached TieredCaches and router tenant caches (from their `stats()`; monotonic). */
  l1Evictions(): number {
    this.sync();
    return this.evictions;
  }

  /**
   * Brings what is read from `stats()` up to date (called before any read of the rows): L1 evictions,
   * and in `'counted'` mode the exact hit totals — the part not yet attributed to an entity by a
   * `sampled_hit` goes to entity `'all'`.
   */
  sync(): void {
    for (const [cache, c] of this.tieredCaches) this.take(c.t, c.counted, c.seen, tieredCounts(cache.stats()));
    for (const [router, r] of this.routers) {
      for (const h of routerHits(router)) {
        let prev = r.seen.get(h.id);
        if (prev === undefined) r.seen.set(h.id, (prev = newSeen(ZERO)));
        // a tenant cache closed (idle) and created again starts from 0
        else if (h.l1 < prev.l1 || h.l2 < prev.l2 || h.ev < prev.ev) Object.assign(prev, { l1: 0, l2: 0, ev: 0 });
        this.take(this.tenant(h.tenant ?? h.shard), r.counted, prev, h);
      }
    }
  }

  /**
   * Adds what a cache's `stats()` moved since the last sync. Counted hits stay exact at every sync: the
   * new hits no sample attributed to an entity (hits since the last sample, hits outside the sampled
   * paths) go to entity `'all'`, and the next sample of that source skips the ones it stands for.
   */
  private take(t: TenantRows, counted: boolean, seen: Seen, c: Counts): void {
    if (c.ev > seen.ev) this.evictions += c.ev - seen.ev;
    seen.ev = c.ev;
    if (!counted) return;
    const rest1 = Math.max(0, c.l1 - seen.l1 - seen.attr1);
    const rest2 = Math.max(0, c.l2 - seen.l2 - seen.attr2);
    Object.assign(seen, { l1: c.l1, l2: c.l2, attr1: 0, attr2: 0, skip1: c.pend1, skip2: c.pend2 });
    if (rest1 > 0 || rest2 > 0) {
      const row = this.row(t, ALL_ENTITIES);
      row.v[SRC_L1 * 3 + RES_HIT]! += rest1;
      row.v[SRC_L2 * 3 + RES_HIT]! += rest2;
    }
  }

  /**
   * `sampled_hit` (`'counted'` mode): one hit in `count` (the cache's `hitSampleEvery`) stands for the
   * `count` hits of its source since the previous sample — those not yet counted (see `skip1`) are
   * added to the entity's row; all `count` to the key's top-K entry.
   */
  private sampledHandler(): (e: ObservedEvent, t: TenantRows, seen: Seen) => void {
    const topK = this.topK;
    return (e, t, seen) => {
      const l1 = e.source === 'l1';
      let w = e.count ?? 1;
      if (l1) {
        w -= seen.skip1;
        seen.skip1 = 0;
        seen.attr1 += w;
      } else {
        w -= seen.skip2;
        seen.skip2 = 0;
        seen.attr2 += w;
      }
      if (w > 0) this.row(t, e.entity).v[(l1 ? SRC_L1 : SRC_L2) * 3 + RES_HIT]! += w;
      if (e.key !== undefined) topK.hit(e.key, undefined, undefined, e.count ?? 1);
    };
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
        case 'l2_read':
          // a TieredCache's L2 read, timed around core's readEntry
          if (e.latencyMs !== undefined) {
            totals.latency[SRC_L2]!.record(e.latencyMs);
            if (this.tracer !== undefined) this.tracer.timed('l2', e, t.label);
          }
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
