import { CircuitBreaker } from '@stratacache/breaker';
import type { TieredEventType } from '@stratacache/tiered';
import { CacheService, MemoryStore, RedisStore, type CacheEventType, type CacheServiceOptions, type CacheStats, type Store } from '@stratacache/core';
import { createRedisConnection, type RedisConnectionConfig } from './connection-factory';
import { ShardConfigError } from './errors';
import {
  ID,
  SHARD_BREAKER_DEFAULTS,
  checkCacheOptions,
  checkTenantId,
  errorMessage,
  resolveLimits,
  serviceOf,
  validateCacheServiceOptions,
  type RouterEvent,
  type RouterEventListener,
  type RouterHealth,
  type RouterResources,
  type ShardCache,
  type ShardCacheContext,
  type ShardCacheOptions,
  type ShardDefinition,
  type ShardHealth,
  type ShardRouterOptions,
} from './router-options';
import { describeConnection, validateConnectionConfig, type ClientConnectionConfig, type ConnectionKind } from './shard-config';
import { TenantRegistry } from './tenant-registry';

export type {
  RouterEvent,
  RouterEventListener,
  RouterEventOrigin,
  RouterHealth,
  RouterResources,
  ShardCache,
  ShardCacheContext,
  ShardCacheOptions,
  ShardDefinition,
  ShardHealth,
  ShardRouterOptions,
} from './router-options';

/** Something a router forwards events from: a CacheService, or the wrapper `createCache` built (e.g. a TieredCache). */
interface EventSource {
  emitter: { on(type: string, listener: (e: RouterEvent) => void): () => void };
  shard: string;
  tenant: string | undefined;
  /** `'cache'`: the tenant cache itself (a wrapper's own events, L1 included); `'l2'`: the CacheService under a wrapper. */
  layer: 'cache' | 'l2';
  /** Unsubscribe function per event type (or `'*'`) this source is subscribed to. */
  offs: Map<string, () => void>;
}

interface ShardState {
  id: string;
  def: ShardDefinition;
  kind: ConnectionKind;
  target: string;
  store?: Store;
  breaker: CircuitBreaker;
  ownsStore: boolean;
  /** Shard-level CacheService (health, admin). */
  admin?: CacheService;
}

/**
 * Routes tenants to their own Redis (or Cluster, Sentinel group, embedded memory store).
 *
 * Each shard has its own connection and circuit breaker, created lazily on first use, so a failing
 * shard only degrades its own tenants (their reads become misses / origin calls; other shards are
 * untouched). `forTenant(t)` returns a `CacheService` (or what `createCache` builds).
 *
 * ```ts
 * const router = new ShardRouter({
 *   shards: {
 *     stamford: { url: 'redis://stamford-redis:6379' },
 *     guilford: { cluster: { nodes: ['10.0.0.1:7000', '10.0.0.2:7000'] } },
 *     shared:   { sentinel: { sentinels: ['10.0.1.1:26379'], name: 'mymaster' } },
 *   },
 *   tenants: { acme: 'shared' },
 *   defaultShard: 'shared',
 * });
 * await router.forTenant('stamford').getOrSet('user:1', loadUser);
 * ```
 */
export class ShardRouter<C extends ShardCache = CacheService> {
  readonly prefix: string;
  readonly defaultShard: string | undefined;
  readonly keyspace: 'tenant' | 'shard';
  readonly #shards = new Map<string, ShardState>();
  readonly #tenants = new Map<string, string>();
  readonly #registry: TenantRegistry<C>;
  readonly #common: ShardCacheOptions;
  readonly #connectionName: string;
  readonly #createCache: (ctx: ShardCacheContext) => C;
  readonly #listeners = new Set<{ type: string; fn: RouterEventListener }>();
  readonly #sources = new Map<string, EventSource[]>();
  #closed = false;

  constructor(options: ShardRouterOptions<C>) {
    if (!options || typeof options !== 'object') {
      throw new ShardConfigError('invalid-option', '', 'ShardRouter options must be an object with `shards`');
    }
    const shards = options.shards;
    if (!shards || typeof shards !== 'object' || Array.isArray(shards) || Object.keys(shards).length === 0) {
      throw new ShardConfigError('empty-shards', 'shards', 'at least one shard is required, e.g. { shards: { main: { url: "redis://localhost:6379" } } }');
    }
    const prefix = options.prefix ?? 'sc';
    if (typeof prefix !== 'string' || prefix.length === 0 || /\s/.test(prefix)) {
      throw new ShardConfigError('invalid-option', 'prefix', 'must be a non-empty string without whitespace');
    }
    this.prefix = prefix;
    const keyspace = options.keyspace ?? 'tenant';
    if (keyspace !== 'tenant' && keyspace !== 'shard') {
      throw new ShardConfigError('invalid-option', 'keyspace', `must be 'tenant' or 'shard', got ${JSON.stringify(keyspace)}`);
    }
    this.keyspace = keyspace;
    this.#common = checkCacheOptions(options.cache, 'cache');
    this.#connectionName = options.connectionName ?? 'stratacache';
    this.#registry = new TenantRegistry<C>(resolveLimits(options), (key) => {
      for (const src of this.#sources.get(key) ?? []) this.#detach(src);
      this.#sources.delete(key);
    });

    for (const [id, def] of Object.entries(shards)) {
      if (!ID.test(id)) {
        throw new ShardConfigError('invalid-option', `shards.${id}`, 'shard ids are 1-64 characters: letters, digits, "_", "-", "."');
      }
      const kind = validateConnectionConfig(def, `shards.${id}`);
      const shardCache = checkCacheOptions((def as { cache?: ShardCacheOptions }).cache, `shards.${id}.cache`);
      // Breakers hold no timers: create them now, so bad breaker options fail at construction.
      let breaker: CircuitBreaker;
      try {
        breaker = new CircuitBreaker({
          ...SHARD_BREAKER_DEFAULTS,
          ...(this.#common.breaker ?? {}),
          ...(shardCache.breaker ?? {}),
          name: `shard:${id}`,
        });
      } catch (e) {
        throw new ShardConfigError('invalid-option', `shards.${id}.cache.breaker`, errorMessage(e), { cause: e });
      }
      validateCacheServiceOptions({ ...this.#common, ...shardCache }, breaker, prefix, `shards.${id}.cache`);
      this.#shards.set(id, {
        id,
        def,
        kind,
        target: describeConnection(def),
        ownsStore: kind !== 'client' || (def as ClientConnectionConfig).owned === true,
        breaker,
      });
    }

    if (options.tenants !== undefined) {
      if (!options.tenants || typeof options.tenants !== 'object' || Array.isArray(options.tenants)) {
        throw new ShardConfigError('invalid-option', 'tenants', 'must be an object { tenant: shardId }');
      }
      for (const [tenant, shard] of Object.entries(options.tenants)) {
        checkTenantId(tenant, `tenants.${tenant}`);
        if (typeof shard !== 'string' || !this.#shards.has(shard)) {
          throw new ShardConfigError('unknown-shard', `tenants.${tenant}`, `shard ${JSON.stringify(shard)} is not defined (shards: ${this.shardIds().join(', ')})`);
        }
        this.#tenants.set(tenant, shard);
      }
    }

    if (options.defaultShard !== undefined && !this.#shards.has(options.defaultShard)) {
      throw new ShardConfigError('unknown-shard', 'defaultShard', `shard ${JSON.stringify(options.defaultShard)} is not defined (shards: ${this.shardIds().join(', ')})`);
    }
    this.defaultShard = options.defaultShard;
    if (options.createCache !== undefined && typeof options.createCache !== 'function') {
      throw new ShardConfigError('invalid-option', 'createCache', 'must be a function');
    }
    this.#createCache = options.createCache ?? ((ctx) => new CacheService(ctx.options) as unknown as C);
  }

  /** Shard ids in declaration order. */
  shardIds(): string[] {
    return [...this.#shards.keys()];
  }

  /** The shard id serving `tenant`: explicit mapping, else a shard of the same name, else `defaultShard`. */
  shardOf(tenant: string): string {
    checkTenantId(tenant, 'tenant');
    const mapped = this.#tenants.get(tenant);
    if (mapped !== undefined) return mapped;
    if (this.#shards.has(tenant)) return tenant;
    if (this.defaultShard !== undefined) return this.defaultShard;
    throw new ShardConfigError(
      'unknown-tenant',
      'tenant',
      `unknown tenant ${JSON.stringify(tenant)}: not in \`tenants\`, not a shard id, and no \`defaultShard\` is configured`,
    );
  }

  /** The cache of `tenant` (created with its shard connection on first use). */
  forTenant(tenant: string): C {
    const shard = this.shardOf(tenant);
    return this.#cacheFor(shard, this.keyspace === 'tenant' ? tenant : undefined);
  }

  /** The shard-level cache of a shard (key space `{prefix}:…`, shared by its tenants in `'shard'` keyspace). */
  forShard(shard: string): C {
    if (!this.#shards.has(shard)) {
      throw new ShardConfigError('unknown-shard', 'shard', `shard ${JSON.stringify(shard)} is not defined (shards: ${this.shardIds().join(', ')})`);
    }
    return this.#cacheFor(shard, undefined);
  }

  /** The Store of a shard (opens the connection). Owned by the router. */
  storeOf(shard: string): Store {
    const state = this.#shards.get(shard);
    if (!state) {
      throw new ShardConfigError('unknown-shard', 'shard', `shard ${JSON.stringify(shard)} is not defined (shards: ${this.shardIds().join(', ')})`);
    }
    if (this.#closed) throw new ShardConfigError('closed', '', 'the ShardRouter is closed');
    return this.#open(state).store!;
  }

  /**
   * Subscribe to the events of every tenant cache, current and future, tagged with shard, tenant and
   * layer: a CacheService's own events (`layer: 'cache'`); for wrappers built by `createCache` that
   * have an `on('*', …)` (a `TieredCache`: L1 hits, stale serves, bus…) their own events
   * (`layer: 'cache'`) **and** the events of their L2 CacheService exposed as `service`
   * (`layer: 'l2'`) — count requests from one layer only. The router subscribes its caches only to
   * the event types someone listens to, so the cache hot path does not build events nobody reads
   * (a listener of `'*'` receives every type, hits included).
   */
  on(type: CacheEventType | TieredEventType | '*', listener: RouterEventListener): () => void {
    const entry = { type: type as string, fn: listener };
    this.#listeners.add(entry);
    // Subscribe each cache to this type only (not '*'), so e.g. a TieredCache builds hit events only if someone listens to hits.
    if (this.#countOf(entry.type) === 1) for (const list of this.#sources.values()) for (const src of list) this.#subscribe(src, entry.type);
    return () => {
      if (!this.#listeners.delete(entry) || this.#countOf(entry.type) > 0) return;
      for (const list of this.#sources.values()) {
        for (const src of list) {
          src.offs.get(entry.type)?.();
          src.offs.delete(entry.type);
        }
      }
    };
  }

  #countOf(type: string): number {
    let n = 0;
    for (const l of this.#listeners) if (l.type === type) n++;
    return n;
  }

  #subscribe(src: EventSource, type: string): void {
    if (src.offs.has(type)) return;
    const origin = { shard: src.shard, tenant: src.tenant, layer: src.layer };
    src.offs.set(
      type,
      src.emitter.on(type, (e: RouterEvent) => {
        for (const l of this.#listeners) {
          if (l.type !== type) continue;
          try {
            l.fn(e, origin);
          } catch {
            // listeners never break the cache
          }
        }
      }),
    );
  }

  #attach(src: EventSource): void {
    for (const l of this.#listeners) this.#subscribe(src, l.type);
  }

  #detach(src: EventSource): void {
    for (const off of src.offs.values()) off();
    src.offs.clear();
  }

  #cacheFor(shard: string, tenant: string | undefined): C {
    if (this.#closed) throw new ShardConfigError('closed', '', 'the ShardRouter is closed');
    const key = tenant === undefined ? shard : `${shard}\u0000${tenant}`;
    const existing = this.#registry.get(key);
    if (existing !== undefined) return existing;
    const l1MaxBytes = this.#registry.admit(tenant);
    let cache: C;
    try {
      cache = this.#build(shard, tenant, l1MaxBytes);
    } catch (e) {
      this.#registry.cancel(l1MaxBytes);
      throw e;
    }
    this.#registry.add(key, { cache, shard, tenant, lastUsed: Date.now(), l1Bytes: l1MaxBytes });
    // Forward the events of every layer: the cache itself (a CacheService, or a wrapper with its own
    // `on`, such as TieredTenantCache: L1 events included) and the `service` under a wrapper.
    const list: EventSource[] = [];
    const svc = serviceOf(cache);
    if (svc !== undefined && svc === (cache as unknown)) list.push({ emitter: svc, shard, tenant, layer: 'cache', offs: new Map() });
    else {
      const own = (cache as { on?: unknown }).on;
      if (typeof own === 'function') list.push({ emitter: cache as unknown as EventSource['emitter'], shard, tenant, layer: 'cache', offs: new Map() });
      if (svc) list.push({ emitter: svc, shard, tenant, layer: 'l2', offs: new Map() });
    }
    if (list.length > 0) {
      this.#sources.set(key, list);
      for (const src of list) this.#attach(src);
    }
    return cache;
  }

  #build(shard: string, tenant: string | undefined, l1MaxBytes: number): C {
    const state = this.#open(this.#shards.get(shard)!);
    const options: CacheServiceOptions = {
      ...this.#common,
      ...(state.def.cache ?? {}),
      store: state.store!,
      breaker: state.breaker,
      prefix: tenant === undefined ? this.prefix : `${this.prefix}:${tenant}`,
    };
    return this.#createCache({ shard, tenant, store: state.store!, breaker: state.breaker, options, l1MaxBytes });
  }

  /** The per-tenant bounds in force and what is used of them. */
  resources(): RouterResources {
    const r = this.#registry;
    return {
      tenants: r.tenants,
      maxTenants: r.limits.maxTenants,
      l1Reserved: r.l1Reserved,
      l1MaxBytes: r.limits.l1MaxBytes,
      evicted: r.evicted,
      openShards: [...this.#shards.values()].filter((s) => s.store !== undefined).length,
    };
  }

  /** Closes every tenant cache idle for at least `tenantIdleTimeout` now (the router also does it periodically). */
  evictIdle(): number {
    return this.#registry.sweep();
  }

  #open(state: ShardState): ShardState {
    if (state.store) return state;
    const def = state.def;
    let store: Store;
    if (state.kind === 'memory') store = new MemoryStore();
    else if (state.kind === 'client') store = new RedisStore((def as ClientConnectionConfig).client, { ownsClient: false });
    else {
      const client = createRedisConnection(def as RedisConnectionConfig, { connectionName: `${this.#connectionName}:${state.id}` });
      store = new RedisStore(client, { ownsClient: true });
    }
    state.store = store;
    return state;
  }

  /** Tenants known to be on `shard` (explicit mapping, plus the shard's own name). */
  tenantsOf(shard: string): string[] {
    const out = [...this.#tenants].filter(([, s]) => s === shard).map(([t]) => t);
    for (const c of this.#registry.entries()) if (c.shard === shard && c.tenant && !out.includes(c.tenant)) out.push(c.tenant);
    return out;
  }

  /**
   * Health of every shard. Shards nobody used yet report `'idle'` without connecting, unless
   * `connect: true`. Each probe is bounded by the shard's `opTimeout`.
   */
  async health(opts: { connect?: boolean } = {}): Promise<RouterHealth> {
    const out: Record<string, ShardHealth> = {};
    await Promise.all(
      [...this.#shards.values()].map(async (s) => {
        const base = { shard: s.id, kind: s.kind, target: s.target, tenants: this.tenantsOf(s.id) };
        if (!s.store && !opts.connect) {
          out[s.id] = { ...base, status: 'idle', circuit: undefined, pingMs: undefined, connected: false };
          return;
        }
        const h = await this.#admin(s).health();
        out[s.id] = { ...base, status: h.status, circuit: h.circuit, pingMs: h.pingMs, connected: h.connected };
      }),
    );
    const open = Object.values(out).filter((h) => h.status !== 'idle');
    const status =
      open.every((h) => h.status === 'ok') ? 'ok' : open.every((h) => h.status === 'down') ? 'down' : 'degraded';
    return { status, shards: out };
  }

  /**
   * CacheService stats of every tenant cache alive (of the L2 `service` for wrappers), and for a
   * wrapper with its own `stats()` (a TieredCache) those as `cacheStats`.
   */
  stats(): Array<{ shard: string; tenant: string | undefined; stats: CacheStats; cacheStats?: unknown }> {
    const out: Array<{ shard: string; tenant: string | undefined; stats: CacheStats; cacheStats?: unknown }> = [];
    for (const c of this.#registry.entries()) {
      const svc = serviceOf(c.cache);
      if (!svc) continue;
      const entry: { shard: string; tenant: string | undefined; stats: CacheStats; cacheStats?: unknown } = { shard: c.shard, tenant: c.tenant, stats: svc.stats() };
      const own = (c.cache as { stats?: unknown }).stats;
      if (svc !== (c.cache as unknown) && typeof own === 'function') entry.cacheStats = (own as () => unknown).call(c.cache);
      out.push(entry);
    }
    return out;
  }

  #admin(s: ShardState): CacheService {
    if (!s.admin) {
      this.#open(s);
      s.admin = new CacheService({
        ...this.#common,
        ...(s.def.cache ?? {}),
        store: s.store!,
        breaker: s.breaker,
        prefix: this.prefix,
      });
    }
    return s.admin;
  }

  /** Closes every tenant cache, then every connection the router opened. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#registry.closeAll();
    await Promise.allSettled([...this.#shards.values()].map((s) => s.admin?.close() ?? Promise.resolve()));
    await Promise.allSettled(
      [...this.#shards.values()].map(async (s) => {
        if (s.store && s.ownsStore) await s.store.close();
        s.store = undefined;
        s.admin = undefined;
      }),
    );
    this.#listeners.clear();
    this.#sources.clear();
  }
}
