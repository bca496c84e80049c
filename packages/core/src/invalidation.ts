import type { Barriers } from './barriers';
import type { StoreClock } from './clock';
import { CacheOptionsError } from './errors';
import type { CacheEvent } from './events';
import { Guard, firstFailure, isFailure } from './guarded-store';
import type { GuardedStore } from './guarded-store';
import type { Namespaces } from './namespaces';
import type { ResolvedOptions } from './options';
import type { Metrics } from './stats';
import type { InvalidateResult, InvalidateSpec, SetFailureReason } from './types';

/** Keys deleted, or why not. */
export interface Deleted {
  n: number;
  reason?: SetFailureReason;
}

/**
 * Invalidation: deleting keys, deleting by glob (SCAN + UNLINK), and writing tag / namespace
 * barriers (one timestamp each; entries created at or before it are invalid from then on, checked
 * lazily by the read path). A new invalidation kind is added here and in `InvalidateSpec`.
 */
export class Invalidation {
  constructor(
    private readonly cfg: ResolvedOptions,
    private readonly guard: GuardedStore,
    private readonly namespaces: Namespaces,
    private readonly barriers: Barriers,
    private readonly metrics: Metrics,
    private readonly clock: StoreClock,
    private readonly key: (k: string) => string,
  ) {}

  /** The full glob of `glob` (relative to the prefix, or already full). */
  fullPattern(glob: string): string {
    if (typeof glob !== 'string' || glob.length === 0) throw new CacheOptionsError('pattern must be a non-empty glob string');
    if (glob.startsWith(this.cfg.globPrefix) || glob.startsWith(this.cfg.prefixColon)) return glob;
    return this.cfg.globPrefix + glob;
  }

  async deleteKeys(list: string[]): Promise<Deleted> {
    if (list.length === 0) return { n: 0 };
    let n: number;
    if (list.length === 1) {
      const k = list[0] as string;
      const r = await this.guard.run('del', (s) => s.del(k), k, undefined, Guard.NONE, k);
      if (isFailure(r)) return { n: 0, reason: r.reason };
      n = r;
    } else {
      // one guarded call per Cluster node; the count of a group is carried by its first item
      const outcomes = await this.guard.runByNode<string, number>('del', list, (k) => k, async (s, group) => {
        const count = await s.del(group);
        return group.map((_, j) => (j === 0 ? count : 0));
      });
      const failure = firstFailure(outcomes);
      if (failure !== undefined) return { n: 0, reason: failure.reason };
      n = (outcomes as (number | undefined)[]).reduce<number>((a, c) => a + (c ?? 0), 0);
    }
    const m = this.metrics;
    m.deletes += n;
    for (const k of list) {
      const ns = this.namespaces.of(k);
      if (ns) ns.stats.deletes++;
      if (m.events.has('delete')) m.emitFor('delete', k, ns, {});
    }
    return { n };
  }

  /** SCAN over a large keyspace legitimately takes longer than one op: 100 × opTimeout (at least 10 s). */
  async deletePattern(glob: string): Promise<Deleted> {
    const n = await this.guard.run('deleteMatching', (s) => s.deleteMatching(glob), glob, undefined, Guard.LONG);
    if (isFailure(n)) return { n: 0, reason: n.reason };
    this.metrics.deletes += n;
    return { n };
  }

  /**
   * Writes one timestamp to every barrier key (every copy of each barrier, one guarded call per Cluster
   * node); entries created at or before it are invalid from now on. A copy that could not be written
   * fails the whole write (`ok: false`, retried by TieredCache's background queue) although readers,
   * who take the max over the copies they can read, already see the invalidation through the others.
   */
  private async writeBarriers(keys: string[]): Promise<SetFailureReason | undefined> {
    // The wait after the write is about twice the clock's bounds: tighten loose ones first (≤ 10 ms).
    await this.clock.tighten(this.cfg.opTimeoutMs);
    const stampAt = this.clock.barrierStamp();
    const at = Buffer.from(String(stampAt), 'latin1');
    // Before and after the write: a read whose barrier fetch overlaps the write must not cache what it saw.
    this.barriers.refresh();
    try {
      const entries = keys.map((key) => ({ key, value: at, ttlMs: this.cfg.maxTtlMs }));
      const outcomes = await this.guard.runByNode('invalidate', entries, (e) => e.key, (s, group) => s.mset(group));
      const failure = firstFailure(outcomes);
      // A value this instance produces from now on must be newer than the barrier (see StoreClock) — also
      // when only some copies were written: readers see it through those.
      if (failure === undefined || outcomes.some((o) => !isFailure(o))) await this.clock.waitPast(stampAt, this.cfg.opTimeoutMs);
      return failure?.reason;
    } finally {
      this.barriers.refresh();
    }
  }

  async invalidate(spec: InvalidateSpec): Promise<InvalidateResult> {
    if (typeof spec !== 'object' || spec === null) throw new CacheOptionsError('invalidate expects { key?, keys?, pattern?, tag?, tags?, namespace? }');
    const keys = [...(spec.key !== undefined ? [spec.key] : []), ...(spec.keys ?? [])].map((x) => this.key(x));
    const patterns = [...(spec.pattern !== undefined ? [spec.pattern] : []), ...(spec.patterns ?? [])].map((p) => this.fullPattern(p));
    const tags = [...(spec.tag !== undefined ? [spec.tag] : []), ...(spec.tags ?? [])];
    for (const t of tags) if (typeof t !== 'string' || t.length === 0) throw new CacheOptionsError('tags must be non-empty strings');
    const nss = [...(spec.namespace !== undefined ? [spec.namespace] : []), ...(spec.namespaces ?? [])].map((n) => this.namespaces.target(n));
    if (keys.length + patterns.length + tags.length + nss.length === 0) {
      throw new CacheOptionsError('invalidate: give at least one of key, keys, pattern, patterns, tag, tags, namespace, namespaces');
    }
    const result: InvalidateResult = { deleted: 0, barriers: 0, ok: true };
    const note = (reason: SetFailureReason | undefined) => {
      if (reason !== undefined && result.ok) {
        result.ok = false;
        result.reason = reason;
      }
    };
    if (keys.length > 0) {
      const r = await this.deleteKeys(keys);
      result.deleted += r.n;
      note(r.reason);
      this.emitInvalidate('key', keys.length === 1 ? keys[0] : `${keys.length} keys`, r.n, r.reason);
    }
    for (const p of patterns) {
      const r = await this.deletePattern(p);
      result.deleted += r.n;
      note(r.reason);
      this.emitInvalidate('pattern', p, r.n, r.reason);
    }
    const barrierKeys: { keys: string[]; kind: string; target: string }[] = [];
    for (const t of new Set(tags)) barrierKeys.push({ keys: this.namespaces.tagBarrierCopies(t), kind: 'tag', target: t });
    for (const n of nss) {
      barrierKeys.push({ keys: this.namespaces.barrierCopies(n.entity, n.operation), kind: 'namespace', target: n.operation === undefined ? n.entity : `${n.entity}:${n.operation}` });
    }
    if (barrierKeys.length > 0) {
      const r = await this.writeBarriers(barrierKeys.flatMap((b) => b.keys));
      note(r);
      if (r === undefined) result.barriers += barrierKeys.length;
      for (const b of barrierKeys) this.emitInvalidate(b.kind, b.target, 0, r);
    }
    return result;
  }

  async clear(): Promise<InvalidateResult> {
    this.barriers.refresh();
    const r = await this.deletePattern(`${this.cfg.globPrefix}*`);
    this.barriers.refresh();
    this.emitInvalidate('clear', this.cfg.prefix, r.n, r.reason);
    return toResult(r);
  }

  private emitInvalidate(kind: string, target: string | undefined, count: number, failure?: SetFailureReason): void {
    const m = this.metrics;
    if (!m.events.has('invalidate')) return;
    const e: CacheEvent = { type: 'invalidate', source: 'l2', kind, count, ok: failure === undefined };
    if (failure !== undefined) e.reason = failure;
    if (target !== undefined) e.target = target;
    m.events.emit(e);
  }
}

/** A delete's outcome as an InvalidateResult. */
export function toResult(r: Deleted): InvalidateResult {
  const result: InvalidateResult = { deleted: r.n, barriers: 0, ok: r.reason === undefined };
  if (r.reason !== undefined) result.reason = r.reason;
  return result;
}
