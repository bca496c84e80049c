import type { CollectorObserver, InvalidationObservation } from './collector';
import type { TrendBackend } from './trend-backend';

/** Invalidations waiting for the next flush: at most this many (older ones are dropped and counted). */
export const MAX_PENDING_INVALIDATIONS = 1_000;

export interface InvalidationRecord {
  id: string;
  at: number;
  /** Instance id of the process that invalidated. */
  who: string;
  tenant: string;
  entity: string;
  kind: string;
  target: string;
  count: number;
  ok: boolean;
}

export interface InvalidationStats {
  /** Records looked at (the newest `sample`, within `windowMs`). */
  total: number;
  windowMs: number;
  /** Per entity, most invalidated first. */
  byEntity: { entity: string; invalidations: number; perMinute: number; keysDeleted: number }[];
  byKind: Record<string, number>;
}

/**
 * Invalidation history in a capped Redis Stream (XADD MAXLEN ~ `maxLen`; in process with the
 * embedded store): who / what / kind / count / when. Observations are buffered (bounded) and written
 * with the trend flush — the invalidating call never waits for the log.
 */
export class InvalidationLog implements CollectorObserver {
  private pending: Record<string, string>[] = [];
  dropped = 0;

  constructor(
    private readonly backend: TrendBackend,
    readonly stream: string,
    readonly maxLen: number,
    private readonly who: string,
  ) {}

  invalidation(o: InvalidationObservation): void {
    if (this.pending.length >= MAX_PENDING_INVALIDATIONS) {
      this.pending.shift();
      this.dropped++;
    }
    this.pending.push({
      at: String(o.at),
      who: this.who,
      tenant: o.tenant,
      entity: o.entity,
      kind: o.kind,
      target: o.target.length > 200 ? o.target.slice(0, 200) : o.target,
      count: String(o.count),
      ok: o.ok ? '1' : '0',
    });
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      await this.backend.append(this.stream, batch, this.maxLen);
    } catch (err) {
      this.pending = batch.concat(this.pending).slice(-MAX_PENDING_INVALIDATIONS);
      throw err;
    }
  }

  /** The newest `count` records (every instance), newest first. */
  async history(count = 100): Promise<InvalidationRecord[]> {
    const rows = await this.backend.tail(this.stream, Math.max(1, Math.min(count, this.maxLen)));
    return rows.map(({ id, fields: f }) => ({
      id,
      at: Number(f.at),
      who: f.who ?? '',
      tenant: f.tenant ?? '',
      entity: f.entity ?? '',
      kind: f.kind ?? '',
      target: f.target ?? '',
      count: Number(f.count ?? 0),
      ok: f.ok !== '0',
    }));
  }

  /** Rate per entity and most invalidated, over the last `windowMs` (from at most `sample` records). */
  async stats(windowMs = 3_600_000, sample = 1_000, now = Date.now()): Promise<InvalidationStats> {
    const recs = (await this.history(sample)).filter((r) => r.at >= now - windowMs);
    const by = new Map<string, { entity: string; invalidations: number; perMinute: number; keysDeleted: number }>();
    const byKind: Record<string, number> = {};
    for (const r of recs) {
      const e = by.get(r.entity) ?? { entity: r.entity, invalidations: 0, perMinute: 0, keysDeleted: 0 };
      e.invalidations++;
      e.keysDeleted += r.count;
      by.set(r.entity, e);
      byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
    }
    const minutes = windowMs / 60_000;
    for (const e of by.values()) e.perMinute = e.invalidations / minutes;
    return { total: recs.length, windowMs, byEntity: [...by.values()].sort((a, b) => b.invalidations - a.invalidations), byKind };
  }
}
