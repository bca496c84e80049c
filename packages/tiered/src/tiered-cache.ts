import type { Duration, InvalidateResult, SetOptions, SetResult } from '@stratacache/core';
import { CacheOptionsError, toMs } from '@stratacache/core';
import { newSenderId } from './bus-message';
import { coarseNow } from './clock';
import type { TieredEventListener, TieredEventType } from './events';
import { FactoryRunner } from './factory-runner';
import type { LockKeeper } from './lock-keeper';
import { L1Invalidator } from './l1-invalidator';
import { L1Tier } from './l1-tier';
import type { L2Cache, L2InvalidateTarget } from './l2';
import { L2Writer } from './l2-writer';
import type { TieredCacheOptions } from './options';
import { resolveOptions } from './options';
import { ReadPath } from './read-path';
import { MAX_KEYS_TRACKED, Runtime } from './runtime';
import { KeySignals, StampedeGuard } from './stampede-guard';
import type { Factory, GetOrSetOptions, TieredStats } from './types';
import { checkJitter, checkTags } from './validate';
import { TieredClosedError } from './errors';

/** Keys up to this length take the no-lookup path (core's own limit is 8 KiB; longer ones go through core's check). */
const MAX_FAST_KEY = 8 * 1024;

/**
 * L1 (lru-cache, in process) over L2 (a core `CacheService`), with an invalidation bus across
 * instances, a cross-process stampede guard, grace / stale-while-revalidate, soft and hard
 * factory timeouts and refresh-ahead. See the package README for the full contract.
 *
 * This class is the facade: the L1 hit path (synchronous) and argument checks live here; the parts
 * are `L1Tier` (L1 read/fill), `ReadPath` (the getOrSet state machine), `StampedeGuard`,
 * `FactoryRunner`, `L2Writer` and `L1Invalidator` (bus + matching).
 */
export class TieredCache {
  readonly l2: L2Cache;
  readonly instanceId: string;
  private readonly rt: Runtime;
  private readonly l1: L1Tier | undefined;
  /** The raw lru-cache when reads may go straight to it (LRU policy), for the hit path. */
  private readonly lru: L1Tier['lru'];
  private readonly refreshAheadDefault: number;
  private readonly invalidator: L1Invalidator;
  private readonly signals = new KeySignals();
  private readonly writer: L2Writer;
  private readonly reads: ReadPath;
  /** Keeps the stampede locks of running factories alive (stopped on close). */
  private readonly keeper: LockKeeper;
  /** `{prefix}:` of the L2. */
  private readonly prefixColon: string;
  /** key as given → canonical full key (bounded: cleared when full). */
  private readonly canonical = new Map<string, string>();

  constructor(l2: L2Cache, options?: TieredCacheOptions) {
    if (typeof l2 !== 'object' || l2 === null || typeof l2.readEntry !== 'function' || typeof l2.setEntry !== 'function') {
      throw new CacheOptionsError('TieredCache: the first argument must be a core CacheService (with readEntry/setEntry)');
    }
    this.l2 = l2;
    this.prefixColon = `${l2.prefix}:`;
    const opts = resolveOptions(options);
    this.rt = new Runtime(l2, opts);
    this.rt.emitter.onListenerError = options?.onListenerError;
    this.instanceId = opts.instanceId ?? newSenderId();
    this.l1 = opts.l1 ? new L1Tier(this.rt, opts.l1, opts.busDownL1Ttl) : undefined;
    this.lru = this.l1?.lru;
    this.refreshAheadDefault = opts.refreshAhead;
    this.invalidator = new L1Invalidator(this.rt, this.l1, this.signals, this.instanceId);
    this.writer = new L2Writer(this.rt, this.l1, this.invalidator, this.signals);
    const runner = new FactoryRunner(this.rt, this.writer);
    this.keeper = runner.keeper;
    const guard = new StampedeGuard(this.rt, this.l1, runner, this.signals);
    this.reads = new ReadPath(this.rt, this.l1, guard, runner);
  }

  /**
   * Resolves once the invalidation bus is subscribed (at once without a bus), or after
   * `timeout` (a Duration, default 5 s) if Redis is unreachable — check `busConnected`. Never rejects.
   * Reads and writes work before; until the bus is up, L1 copies are trusted for `busDownL1Ttl` only.
   */
  ready(timeout: Duration = 5_000): Promise<void> {
    let timeoutMs: number;
    try {
      timeoutMs = toMs(timeout, 'TieredCache.ready timeout');
    } catch (err) {
      return Promise.reject(err);
    }
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      this.invalidator.ready,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      }),
    ]).finally(() => clearTimeout(timer));
  }

  // ---------------------------------------------------------------- reads

  /**
   * The value if it is fresh in L1 or L2, else `undefined` (an expired entry is a miss for `get`;
   * use `getOrSet` for grace). The L1 hit path is synchronous and returns a resolved promise.
   */
  get<T = unknown>(key: string): Promise<T | undefined> {
    const l1 = this.l1;
    if (l1 !== undefined) {
      const rec = l1.lookup(key);
      if (rec !== undefined) {
        // Every L1 key is a canonical full key: a direct hit means `key` is one.
        const v = l1.serve<T>(key, rec);
        if (v !== undefined) return Promise.resolve(v);
      }
    }
    let k: string;
    try {
      k = this.fullKey(key);
    } catch (err) {
      return Promise.reject(err);
    }
    if (k !== key && l1 !== undefined) {
      const v = l1.hit<T>(k);
      if (v !== undefined) return Promise.resolve(v);
    }
    return this.reads.get<T>(k);
  }

  /**
   * Synchronous L1-only read: the value if a trusted fresh copy is in L1, else `undefined`.
   * Never touches L2. Counts as an L1 hit when found.
   */
  getL1<T = unknown>(key: string): T | undefined {
    const l1 = this.l1;
    if (l1 === undefined) return undefined;
    const lru = this.lru;
    const rec = lru !== undefined ? lru.get(key) : l1.lookup(key);
    if (rec === undefined) {
      const k = this.fullKey(key); // a relative key: one memo lookup more
      return k === key ? undefined : l1.hit<T>(k);
    }
    // Every L1 key is a canonical full key: a direct hit means `key` is one (the fast, recommended form).
    return l1.serve<T>(key, rec);
  }

  /**
   * The canonical full key (core's `key()`: validated, prefix added when missing). Memoised in a
   * bounded map so the L1 hit path does one map lookup instead of building a string per call.
   */
  private fullKey(key: string): string {
    // Fast path, the recommended form (`keys.build()` / `l2.key()`): already full — no lookup, no allocation.
    if (typeof key === 'string' && key.length <= MAX_FAST_KEY && key.startsWith(this.prefixColon)) return key;
    const c = this.canonical.get(key);
    if (c !== undefined) return c;
    const k = this.l2.key(key); // throws core's KeyError for an invalid key
    if (this.canonical.size >= MAX_KEYS_TRACKED) this.canonical.clear();
    this.canonical.set(key, k);
    return k;
  }

  /** Whether L1 holds a copy of `key` (fresh or not), without touching recency. For tests and diagnostics. */
  hasInL1(key: string): boolean {
    return this.l1?.peek(this.fullKey(key)) !== undefined;
  }

  /** True if a fresh value exists in L1 or L2. */
  async has(key: string): Promise<boolean> {
    key = this.fullKey(key);
    if (this.l1?.has(key) === true) return true;
    const r = await this.rt.readL2Once(key);
    return r.status === 'hit' && r.entry.expiresAt > this.l2.now();
  }

  /**
   * Returns the cached value, or calls `factory` once (per key, across concurrent callers in this
   * process and — on Redis — across processes) and caches its result in L2 and L1. All Redis calls
   * of one read share one deadline (`opTimeout`); the caller never waits for the L2 write.
   * An L1 hit returns an already-resolved promise without any `await` inside.
   */
  getOrSet<T>(key: string, factory: Factory<T>, options?: GetOrSetOptions): Promise<T> {
    const l1 = this.l1;
    if (l1 !== undefined && (options === undefined || (options.useCache !== false && options.forceFresh !== true))) {
      const lru = this.lru;
      let rec = lru !== undefined ? lru.get(key) : l1.lookup(key);
      if (rec === undefined) {
        // Not found as given: a relative key names the same entry as its full form (one identity).
        try {
          const k = this.fullKey(key);
          if (k !== key) {
            key = k;
            rec = lru !== undefined ? lru.get(key) : l1.lookup(key);
          }
        } catch (err) {
          return Promise.reject(err);
        }
      }
      // Every L1 key is a canonical full key, so from here on `key` is one when `rec` was found.
      if (rec !== undefined) {
        const now = coarseNow();
        if (l1.trusted(rec, now)) {
          if (l1.hitListeners) this.rt.emit('hit', key, 'l1');
          if (--l1.countdown === 0) l1.sampled(key);
          const ra = options === undefined || options.refreshAhead === undefined ? this.refreshAheadDefault : options.refreshAhead;
          if (ra > 0 && now >= rec.createdLocal + ra * (rec.expiresAt - rec.createdLocal)) {
            this.reads.refreshAheadOf(key, factory, options, rec);
          }
          return Promise.resolve((l1.clone ? structuredClone(rec.value) : rec.value) as T);
        }
      }
    }
    try {
      // One identity: `user:get:1` and `sc:user:get:1` are one entry in L1, the single-flight map, the bus and L2.
      key = this.fullKey(key);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.reads.getOrSet(key, factory, options);
  }

  // ---------------------------------------------------------------- writes

  /**
   * Writes L2 (awaited), then L1; tells other instances their L1 copy is stale. Resolves core's `SetResult`:
   * `{ ok: false, reason }` when L2 refused the value (`too_large`, or `error` for a value it cannot encode —
   * then it is not in L1 either) or could not be reached (then it is kept in L1 as this process's fail-safe copy).
   */
  async set(key: string, value: unknown, options?: SetOptions): Promise<SetResult> {
    this.rt.checkOpen();
    key = this.fullKey(key);
    const ttl = options?.ttl === undefined ? undefined : toMs(options.ttl, 'TieredCache.set ttl');
    if (value === undefined) throw new CacheOptionsError('TieredCache.set: value must not be undefined (use delete())');
    const grace = options?.grace === undefined ? this.rt.opts.grace : toMs(options.grace, 'TieredCache.set grace');
    const jitter = checkJitter(options?.jitter);
    if (options?.tags !== undefined) checkTags(options.tags);
    if (this.writer.resolveTtl(key, ttl, jitter) === 0) {
      // ttl 0 = do not cache this value: the older entry must not be served in its place (L2, every L1).
      const r = await this.invalidator.invalidateAll('d', [key], { key }, 'key');
      return r.ok ? { ok: false, reason: 'bypass' } : { ok: false, reason: r.reason ?? 'error' };
    }
    return (await this.writer.start(key, value, ttl, grace, options?.tags, this.l2.stamp(), jitter)).done;
  }

  // ---------------------------------------------------------------- deletes & invalidation

  /**
   * Deletes a key from L2 and L1 here, and from L1 on every other instance. Deleted entries are never
   * served stale. Resolves core's `InvalidateResult`: when L2 could not be reached (`ok: false`), the
   * L1 copies are still dropped here and on every instance, an `error` event is emitted, and the L2
   * delete is retried in the background until it lands or the entry has expired.
   */
  async delete(key: string): Promise<InvalidateResult> {
    this.rt.checkOpen();
    const k = this.fullKey(key);
    return this.invalidator.invalidateAll('d', [k], { key: k }, 'key');
  }

  /** Alias of {@link delete}. */
  del(key: string): Promise<InvalidateResult> {
    return this.delete(key);
  }

  /**
   * Invalidates by key, glob pattern, tag or namespace (`{ entity, operation? }`) on L2, this L1 and
   * every other instance's L1. Same result and failure handling as {@link delete}.
   */
  async invalidate(target: L2InvalidateTarget): Promise<InvalidateResult> {
    this.rt.checkOpen();
    if (typeof target !== 'object' || target === null) throw new CacheOptionsError('TieredCache.invalidate: target must be an object');
    const kinds = ['key', 'pattern', 'tag', 'namespace'].filter((k) => (target as Record<string, unknown>)[k] !== undefined);
    if (kinds.length !== 1) throw new CacheOptionsError('TieredCache.invalidate: give exactly one of key, pattern, tag, namespace');
    if (target.key !== undefined) return this.delete(target.key);
    if (target.pattern !== undefined) {
      const glob = this.l2.fullPattern(target.pattern);
      return this.invalidator.invalidateAll('p', [glob], { pattern: glob }, 'pattern');
    }
    if (target.tag !== undefined) {
      if (typeof target.tag !== 'string' || target.tag.length === 0) throw new CacheOptionsError('tags must be non-empty strings');
      return this.invalidator.invalidateAll('t', [target.tag], { tag: target.tag }, 'tag');
    }
    const ns = target.namespace!;
    if (typeof ns !== 'object' || ns === null || typeof ns.entity !== 'string' || ns.entity.length === 0) {
      throw new CacheOptionsError('TieredCache.invalidate: namespace.entity must be a non-empty string');
    }
    if (ns.operation !== undefined && (typeof ns.operation !== 'string' || ns.operation.length === 0)) {
      throw new CacheOptionsError('TieredCache.invalidate: namespace.operation must be a non-empty string');
    }
    // Bus messages carry the raw names; both sides escape them through core's one namespace function.
    const parts = ns.operation === undefined ? [ns.entity] : [ns.entity, ns.operation];
    return this.invalidator.invalidateAll('n', parts, { namespace: ns.operation === undefined ? { entity: ns.entity } : { entity: ns.entity, operation: ns.operation } }, 'namespace');
  }

  invalidateTag(tag: string): Promise<InvalidateResult> {
    return this.invalidate({ tag });
  }

  invalidatePattern(pattern: string): Promise<InvalidateResult> {
    return this.invalidate({ pattern });
  }

  invalidateNamespace(entity: string, operation?: string): Promise<InvalidateResult> {
    return this.invalidate({ namespace: operation === undefined ? { entity } : { entity, operation } });
  }

  /** Clears L2 (the whole prefix), this L1 and every other instance's L1. Same result and failure handling as {@link delete}. */
  async clear(): Promise<InvalidateResult> {
    this.rt.checkOpen();
    return this.invalidator.invalidateAll('c', [], undefined, 'clear');
  }

  /** Drops only this instance's L1 (nothing else). */
  clearL1(): void {
    this.l1?.cache.clear();
  }

  // ---------------------------------------------------------------- observability & lifecycle

  on(type: TieredEventType | '*', listener: TieredEventListener): () => void {
    const rt = this.rt;
    const off = rt.emitter.on(type, listener);
    // the hit paths read a flag, not the emitter (the L1 tier keeps its own copy, see L1Tier)
    const syncHitFlags = (): void => {
      rt.hitListeners = rt.emitter.has('hit');
      if (this.l1 !== undefined) this.l1.hitListeners = rt.hitListeners;
    };
    syncHitFlags();
    return () => {
      off();
      syncHitFlags();
    };
  }

  stats(): TieredStats {
    const c = { ...this.rt.c, l1Hits: this.l1?.hits ?? 0 };
    const reads = c.l1Hits + c.l2Hits + c.misses + c.stale;
    const o = this.rt.opts.l1;
    return {
      ...c,
      hitRate: reads === 0 ? 0 : (c.l1Hits + c.l2Hits) / reads,
      l1: this.l1?.stats() ?? { enabled: false, size: 0, bytes: 0, maxEntries: o?.maxEntries ?? 0, maxBytes: o?.maxBytes ?? 0, policy: 'off', evictions: 0, rejected: 0 },
      bus: this.invalidator.stats(),
      listenerErrors: this.rt.emitter.listenerErrors,
      sampledHitsPending: { l1: this.l1 === undefined ? 0 : this.rt.opts.hitSampleEvery - this.l1.countdown, l2: this.rt.opts.hitSampleEvery - this.rt.l2Countdown },
    };
  }

  /** Whether the invalidation bus is subscribed (true when there is no bus). */
  get busConnected(): boolean {
    return this.invalidator.busUp;
  }

  /**
   * Stops the bus, aborts running factories (their signal fires), waits up to `timeout` (a Duration) for
   * background refreshes and L2 writes, and clears L1. Does not close the L2 CacheService (you own it).
   */
  async close(timeout: Duration = 2_000): Promise<void> {
    const rt = this.rt;
    if (rt.closed) return;
    const timeoutMs = toMs(timeout, 'TieredCache.close timeout');
    rt.closed = true;
    this.invalidator.stopRetries();
    for (const ac of rt.aborts) ac.abort(new TieredClosedError());
    this.signals.wakeAll();
    if (rt.busy) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([rt.settled(), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
    this.keeper.stop();
    await this.invalidator.close();
    this.l1?.cache.clear();
    rt.emitter.clear();
  }
}
