import { CacheEventEmitter } from './events';
import type { CacheEvent, CacheEventType } from './events';

/** Counters of one namespace (`entity:operation`). */
export interface NamespaceStats {
  hits: number;
  misses: number;
  writes: number;
  deletes: number;
  errors: number;
  hitRate: number;
}

export interface LatencyStats {
  count: number;
  totalMs: number;
  avgMs: number;
  maxMs: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  writes: number;
  deletes: number;
  /** Store failures, timeouts and reads/writes refused by the open circuit. */
  errors: number;
  timeouts: number;
  corrupt: number;
  tooLarge: number;
  /** Calls with `useCache: false`. */
  bypass: number;
  /** Entries found but rejected by a tag or namespace barrier (then deleted). */
  invalidated: number;
  /** Factory (origin) calls made by getOrSet / cached / @Cached. */
  originCalls: number;
  /** hits / (hits + misses), 0 when there were no reads. */
  hitRate: number;
  bytesRead: number;
  bytesWritten: number;
  latency: { l2: LatencyStats; origin: LatencyStats };
  /** Event listener calls that threw (see the `onListenerError` option); the cache calls were not affected. */
  listenerErrors: number;
  /** Hits since the last `sampled_hit` event (the next one stands for them too): 0 .. hitSampleEvery − 1. */
  sampledHitsPending: number;
  /** Per `entity:operation` (or `entity`); at most `maxNamespaces` groups, the rest under `'(other)'`. */
  byNamespace: Record<string, NamespaceStats>;
}

/** Mutable counters of one namespace (internal). */
export class NsCounters {
  hits = 0;
  misses = 0;
  writes = 0;
  deletes = 0;
  errors = 0;
  snapshot(): NamespaceStats {
    const reads = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      writes: this.writes,
      deletes: this.deletes,
      errors: this.errors,
      hitRate: reads === 0 ? 0 : this.hits / reads,
    };
  }
}

export class Latency {
  count = 0;
  totalMs = 0;
  maxMs = 0;
  add(ms: number): void {
    this.count++;
    this.totalMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }
  snapshot(): LatencyStats {
    return { count: this.count, totalMs: this.totalMs, avgMs: this.count === 0 ? 0 : this.totalMs / this.count, maxMs: this.maxMs };
  }
}

/** Where an event or a counter belongs: the namespace of a key (see `namespaces.ts`). */
export interface NsLabel {
  /** Unescaped (readable) entity / operation. */
  entity: string;
  operation: string | undefined;
  /** `entity:operation` as in the key (escaped). */
  label: string;
  stats: NsCounters;
}

/**
 * The counters, latencies and event emission of one CacheService (internal): every part (guarded
 * store, read path, write path, invalidation) counts here, and `snapshot()` is `stats()`.
 */
export class Metrics {
  readonly events = new CacheEventEmitter();
  readonly otherNs = new NsCounters();
  hits = 0;
  misses = 0;
  writes = 0;
  deletes = 0;
  errors = 0;
  timeouts = 0;
  corrupt = 0;
  tooLarge = 0;
  bypass = 0;
  invalidated = 0;
  originCalls = 0;
  bytesRead = 0;
  bytesWritten = 0;
  readonly l2Latency = new Latency();
  readonly originLatency = new Latency();
  /** Interval of `sampled_hit` events (`hitSampleEvery`), and the hits left until the next one. */
  hitSampleEvery = 64;
  hitCountdown = 64;

  /** Emits an event of `type` for `key` (with its namespace fields). Callers check `events.has(type)` first. */
  emitFor(type: CacheEventType, key: string | undefined, ns: NsLabel | undefined, extra: Partial<CacheEvent>): void {
    const e: CacheEvent = { type, source: type === 'origin' ? 'origin' : 'l2', ...extra };
    if (key !== undefined) e.key = key;
    if (ns) {
      e.entity = ns.entity;
      if (ns.operation !== undefined) e.operation = ns.operation;
      e.namespace = ns.label;
    }
    this.events.emit(e);
  }

  /** Counts a read outcome (hit when a fresh entry was found). */
  countRead(k: string, ns: NsLabel | undefined, fresh: boolean, errored: boolean, bytes: number, latencyMs: number): void {
    if (!errored) this.l2Latency.add(latencyMs);
    if (fresh) {
      this.hits++;
      this.bytesRead += bytes;
      if (ns) ns.stats.hits++;
      if (this.events.has('hit')) this.emitFor('hit', k, ns, { latencyMs, bytes });
      if (--this.hitCountdown === 0) this.sampleHit(k, ns);
    } else {
      this.misses++;
      if (ns) ns.stats.misses++;
      if (this.events.has('miss')) this.emitFor('miss', k, ns, { latencyMs });
    }
  }

  /** Every `hitSampleEvery`-th hit: re-arms the countdown; a `sampled_hit` event (`count`: the interval) when someone listens. */
  private sampleHit(k: string, ns: NsLabel | undefined): void {
    this.hitCountdown = this.hitSampleEvery;
    if (this.events.has('sampled_hit')) this.emitFor('sampled_hit', k, ns, { count: this.hitSampleEvery });
  }

  /** Counts a write that the store accepted. */
  countWrite(k: string, ns: NsLabel | undefined, bytes: number, ttlMs: number, latencyMs?: number): void {
    this.writes++;
    this.bytesWritten += bytes;
    if (ns) ns.stats.writes++;
    if (this.events.has('set')) this.emitFor('set', k, ns, latencyMs === undefined ? { bytes, ttlMs } : { latencyMs, bytes, ttlMs });
  }

  /** `stats()`: the totals and one group per tracked namespace (the rest under `'(other)'`). */
  snapshot(namespaces: Iterable<NsLabel>): CacheStats {
    const reads = this.hits + this.misses;
    const byNamespace: Record<string, NamespaceStats> = {};
    for (const info of namespaces) {
      const s = info.stats;
      if (s !== this.otherNs && s.hits + s.misses + s.writes + s.deletes + s.errors > 0) byNamespace[info.label] = s.snapshot();
    }
    const o = this.otherNs;
    if (o.hits + o.misses + o.writes + o.deletes + o.errors > 0) byNamespace[OTHER_NS] = o.snapshot();
    return {
      hits: this.hits,
      misses: this.misses,
      writes: this.writes,
      deletes: this.deletes,
      errors: this.errors,
      timeouts: this.timeouts,
      corrupt: this.corrupt,
      tooLarge: this.tooLarge,
      bypass: this.bypass,
      invalidated: this.invalidated,
      originCalls: this.originCalls,
      hitRate: reads === 0 ? 0 : this.hits / reads,
      bytesRead: this.bytesRead,
      bytesWritten: this.bytesWritten,
      latency: { l2: this.l2Latency.snapshot(), origin: this.originLatency.snapshot() },
      listenerErrors: this.events.listenerErrors,
      sampledHitsPending: this.hitSampleEvery - this.hitCountdown,
      byNamespace,
    };
  }
}

const OTHER_NS = '(other)';
