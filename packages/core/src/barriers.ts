import type { GuardedStore, StoreFailure } from './guarded-store';
import { firstFailure } from './guarded-store';
import type { NsInfo, Namespaces } from './namespaces';

/** Bound of the tag-barrier cache (cleared when full). */
const MAX_CACHED_TAGS = 10_000;

/** A barrier value as stored (epoch ms as latin1 digits); 0 = none or unreadable as a number. */
export function parseBarrier(b: Buffer | undefined): number {
  if (b === undefined) return 0;
  const n = Number(b.toString('latin1'));
  return Number.isFinite(n) ? n : 0;
}

/**
 * Reading tag and namespace barriers, with the short-lived cache of their values (`barrierCacheMs`):
 * a value is reused while it is younger than the window and no local invalidation (or
 * `refresh()`) happened since it was fetched (the epoch).
 */
export class Barriers {
  /** Bumped by every local barrier write and `refresh()`: cached barrier values of an older epoch are ignored. */
  epoch = 0;
  /** Cached tag barriers (tag → value, fetch time, epoch); bounded. */
  private readonly tags = new Map<string, { at: number; fetchedAt: number; epoch: number }>();

  constructor(
    /** 0 = off. */
    readonly cacheMs: number,
    private readonly guard: GuardedStore,
    private readonly ns: Namespaces,
  ) {}

  /** Forgets every cached barrier value: the next read of each namespace or tag asks the store. */
  refresh(): void {
    this.epoch++;
    this.tags.clear();
  }

  /** The cached max of `ns`'s barriers, or -1 when not cached (or too old). */
  cachedNs(ns: NsInfo, now: number): number {
    return ns.barrierEpoch === this.epoch && now - ns.barrierFetchedAt < this.cacheMs ? ns.barrierAt : -1;
  }

  /** Keeps a namespace barrier value fetched at `fetchedAt` — unless a barrier was written (or announced) since `epoch`. */
  keepNs(ns: NsInfo, at: number, fetchedAt: number, epoch: number): void {
    if (this.cacheMs > 0 && epoch === this.epoch) {
      ns.barrierAt = at;
      ns.barrierFetchedAt = fetchedAt;
      ns.barrierEpoch = epoch;
    }
  }

  /** Max cached barrier of `tags`, or -1 when one of them is not cached (or too old). */
  cachedTags(tags: readonly string[], now: number): number {
    if (this.cacheMs === 0) return -1;
    let max = 0;
    for (const t of tags) {
      const c = this.tags.get(t);
      if (c === undefined || c.epoch !== this.epoch || now - c.fetchedAt >= this.cacheMs) return -1;
      if (c.at > max) max = c.at;
    }
    return max;
  }

  /** Max barrier of `tags` (cached when fresh, else one guarded MGET), or the failure when they cannot be read. */
  async ofTags(tags: readonly string[], op: string): Promise<number | StoreFailure> {
    const cached = this.cachedTags(tags, performance.now());
    if (cached >= 0) return cached;
    const epoch = this.epoch;
    const t1 = performance.now();
    // Tag barriers spread over the slots: one guarded call per Cluster node, so a dead master makes only
    // entries with a tag on it unverifiable.
    const bars = await this.guard.runByNode<string, Buffer | undefined>(op, tags.map((t) => this.ns.tagBarrierKey(t)), (k) => k, (s, group) => s.mget(group));
    const failure = firstFailure(bars);
    if (failure !== undefined) return failure;
    const keep = this.cacheMs > 0 && epoch === this.epoch;
    if (keep && this.tags.size + tags.length > MAX_CACHED_TAGS) this.tags.clear();
    let max = 0;
    for (let i = 0; i < bars.length; i++) {
      const n = parseBarrier(bars[i] as Buffer | undefined);
      if (n > max) max = n;
      if (keep) this.tags.set(tags[i] as string, { at: n, fetchedAt: t1, epoch });
    }
    return max;
  }
}
