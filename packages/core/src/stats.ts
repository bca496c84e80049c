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
