import { maxOverCopies } from './barrier-layout';
import type { GuardedStore, StoreFailure } from './guarded-store';
import { Guard, firstFailure, isFailure } from './guarded-store';
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

  /**
   * The copies worth asking: on a Cluster, those whose master's circuit is CLOSED — a copy on a master
   * that is down (OPEN) or being probed (HALF_OPEN) would only hold the read up to `opTimeout` — as
   * long as one is left; all of them otherwise (and always off a Cluster).
   */
  liveCopies<G extends readonly string[]>(groups: readonly G[]): readonly G[] {
    if (this.guard.nodes === undefined || groups.length < 2) return groups;
    const live = groups.filter((g) => this.guard.stateOf(g[0] as string) === 'CLOSED');
    return live.length === 0 ? groups : live;
  }

  /**
   * Max of `ns`'s barriers on a Cluster: one guarded MGET per copy (its keys share one slot), each under
   * its node's breaker, all sent in this tick. The max over the copies that answered; the failure when
   * none did (the entity's keys are then unverifiable — no other entity's).
   */
  async ofNs(ns: NsInfo, key: string): Promise<number | StoreFailure> {
    const groups = this.liveCopies(ns.barrierGroups);
    const answers = await Promise.all(groups.map((g) => this.guard.run('get', (s) => s.mget(g), key, ns, Guard.NONE, g[0])));
    const read = new Map<string, number>();
    let failure: StoreFailure | undefined;
    answers.forEach((a, i) => {
      if (isFailure(a)) failure ??= a;
      else (groups[i] as string[]).forEach((k, j) => read.set(k, parseBarrier(a[j])));
    });
    const max = maxOverCopies(groups, (k) => read.get(k));
    return max === Infinity ? (failure as StoreFailure) : max;
  }

  /** Max barrier of `tags` (cached when fresh, else one guarded MGET per node over their copies), or the failure when a tag has no readable copy. */
  async ofTags(tags: readonly string[], op: string): Promise<number | StoreFailure> {
    const cached = this.cachedTags(tags, performance.now());
    if (cached >= 0) return cached;
    const epoch = this.epoch;
    const t1 = performance.now();
    // Tag barriers spread over the slots: one guarded call per Cluster node, so a dead master makes only
    // entries with a tag on it unverifiable — and only if every copy of that tag is on a dead master.
    const copies = tags.map((t) => this.liveCopies(this.ns.tagBarrierCopies(t).map((k) => [k])).map((g) => g[0] as string));
    const keys = copies.flat();
    const bars = await this.guard.runByNode<string, Buffer | undefined>(op, keys, (k) => k, (s, group) => s.mget(group));
    const read = new Map<string, number>();
    keys.forEach((k, i) => {
      const b = bars[i];
      if (!isFailure(b)) read.set(k, parseBarrier(b));
    });
    const values = copies.map((c) => maxOverCopies(c.map((k) => [k]), (k) => read.get(k)));
    if (values.includes(Infinity)) return firstFailure(bars) as StoreFailure;
    const keep = this.cacheMs > 0 && epoch === this.epoch;
    if (keep && this.tags.size + tags.length > MAX_CACHED_TAGS) this.tags.clear();
    let max = 0;
    for (let i = 0; i < values.length; i++) {
      const n = values[i] as number;
      if (n > max) max = n;
      if (keep) this.tags.set(tags[i] as string, { at: n, fetchedAt: t1, epoch });
    }
    return max;
  }
}
