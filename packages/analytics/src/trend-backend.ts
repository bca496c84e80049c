/**
 * Where cross-instance buckets and the invalidation log live: Redis (every instance adds into the
 * same hashes, so numbers add up exactly) or, with the embedded store, this process.
 */
export interface BucketWrite {
  key: string;
  /** Physical retention of the bucket (PEXPIRE), ms. */
  ttlMs: number;
  /** field -> integer increment (HINCRBY). */
  fields: Map<string, number>;
}

export interface LogEntry {
  id: string;
  fields: Record<string, string>;
}

export interface TrendBackend {
  readonly kind: 'redis' | 'memory';
  /** Adds every increment (one pipeline on Redis). Rejects when the store did not take them all. */
  increment(writes: readonly BucketWrite[]): Promise<void>;
  /** The hashes of `keys` (missing ones as `{}`), one pipeline. */
  read(keys: readonly string[]): Promise<Record<string, number>[]>;
  /** Appends to a capped log (XADD MAXLEN ~). */
  append(stream: string, entries: readonly Record<string, string>[], maxLen: number): Promise<void>;
  /** Newest first. */
  tail(stream: string, count: number): Promise<LogEntry[]>;
  /** Store facts (Redis INFO); undefined for the embedded store. */
  info(): Promise<Record<string, string> | undefined>;
}

/** In-process backend for the embedded store: same shapes, same retention. Bounded by retention and `maxLen`. */
export class MemoryTrendBackend implements TrendBackend {
  readonly kind = 'memory' as const;
  private readonly hashes = new Map<string, { expiresAt: number; h: Map<string, number> }>();
  private readonly logs = new Map<string, LogEntry[]>();
  private seq = 0;

  increment(writes: readonly BucketWrite[]): Promise<void> {
    const now = Date.now();
    for (const w of writes) {
      let b = this.hashes.get(w.key);
      if (b === undefined || b.expiresAt <= now) {
        b = { expiresAt: 0, h: new Map() };
        this.hashes.set(w.key, b);
      }
      b.expiresAt = now + w.ttlMs;
      for (const [f, n] of w.fields) b.h.set(f, (b.h.get(f) ?? 0) + n);
    }
    if (this.seq++ % 64 === 0) for (const [k, b] of this.hashes) if (b.expiresAt <= now) this.hashes.delete(k);
    return Promise.resolve();
  }

  read(keys: readonly string[]): Promise<Record<string, number>[]> {
    const now = Date.now();
    return Promise.resolve(
      keys.map((k) => {
        const b = this.hashes.get(k);
        return b === undefined || b.expiresAt <= now ? {} : Object.fromEntries(b.h);
      }),
    );
  }

  append(stream: string, entries: readonly Record<string, string>[], maxLen: number): Promise<void> {
    let log = this.logs.get(stream);
    if (log === undefined) this.logs.set(stream, (log = []));
    for (const fields of entries) log.push({ id: `${Date.now()}-${this.seq++}`, fields });
    if (log.length > maxLen) log.splice(0, log.length - maxLen);
    return Promise.resolve();
  }

  tail(stream: string, count: number): Promise<LogEntry[]> {
    const log = this.logs.get(stream) ?? [];
    return Promise.resolve(log.slice(-count).reverse());
  }

  info(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
}
