import type { StoreClock } from './clock';
import { toMs } from './duration';
import { encodeEntry } from './entry';
import type { CacheEntry } from './entry';
import { CacheOptionsError } from './errors';
import type { GuardedStore } from './guarded-store';
import { Guard, isFailure } from './guarded-store';
import type { Invalidation } from './invalidation';
import type { Namespaces, NsInfo } from './namespaces';
import type { ResolvedOptions } from './options';
import type { Metrics } from './stats';
import type { TtlHint } from './ttl-policy';
import { FAIL, OK } from './types';
import type { MsetEntry, SetOptions, SetResult } from './types';

/** A write's TTL, grace and tags, validated and resolved through the TTL policy. */
export interface WritePlan {
  ttlMs: number;
  graceMs: number;
  tags: string[] | undefined;
}

/**
 * The write path: TTL resolution (policy + jitter, capped at `maxTtl`), the entry envelope, the size
 * limit, and the guarded store write — `set`, `mset`, `setEntry` and the background write of getOrSet.
 */
export class WritePath {
  constructor(
    private readonly cfg: ResolvedOptions,
    private readonly guard: GuardedStore,
    private readonly namespaces: Namespaces,
    private readonly invalidation: Invalidation,
    private readonly metrics: Metrics,
    private readonly clock: StoreClock,
  ) {}

  plan(k: string, ns: NsInfo | undefined, opts: SetOptions | undefined): WritePlan {
    // Every TTL — explicit or from a rule — goes through the policy, so jitter applies to all of them.
    const n = ns ?? this.namespaces.of(k);
    const hint: TtlHint = n ? (n.operation === undefined ? { entity: n.entity } : { entity: n.entity, operation: n.operation }) : {};
    if (opts?.ttl !== undefined) hint.ttl = opts.ttl;
    if (opts?.jitter !== undefined) hint.jitter = opts.jitter;
    const ttlMs = this.cfg.ttlPolicy.resolve(k, hint);
    // 0 = do not cache this value (returned by the call, never stored)
    if (!(ttlMs >= 0) || (ttlMs > 0 && ttlMs < 1)) throw new CacheOptionsError(`ttl must be >= 0 ms (0 = do not cache), got ${String(opts?.ttl ?? ttlMs)}`);
    const graceMs = opts?.grace === undefined ? 0 : toMs(opts.grace, 'grace');
    let tags: string[] | undefined;
    if (opts?.tags !== undefined) {
      if (!Array.isArray(opts.tags)) throw new CacheOptionsError('tags must be an array of strings');
      for (const t of opts.tags) {
        if (typeof t !== 'string' || t.length === 0 || t.length > 256) {
          throw new CacheOptionsError(`each tag must be a non-empty string of at most 256 characters, got ${JSON.stringify(t)}`);
        }
      }
      tags = opts.tags.length === 0 ? undefined : [...new Set(opts.tags)];
    }
    return { ttlMs: Math.min(ttlMs, this.cfg.maxTtlMs), graceMs, tags };
  }

  /** The entry envelope of a value written now under `plan`. */
  private envelope(value: unknown, plan: WritePlan, createdAt: number, now: number): CacheEntry {
    // TTL counts from the write; createdAt (compared with barriers) is when the value was produced.
    const entry: CacheEntry = { value, createdAt, expiresAt: now + plan.ttlMs };
    if (plan.graceMs > 0) entry.graceUntil = entry.expiresAt + plan.graceMs;
    if (plan.tags) entry.tags = plan.tags;
    return entry;
  }

  private physicalTtl(plan: WritePlan): number {
    return Math.min(plan.ttlMs + plan.graceMs, this.cfg.maxTtlMs);
  }

  /** Encodes an entry, or counts and reports it as too large (undefined). */
  encodeOrRefuse(k: string, ns: NsInfo | undefined, entry: CacheEntry): Buffer | undefined {
    const bytes = encodeEntry(this.cfg.codec, entry);
    if (bytes.length > this.cfg.maxItemSize) {
      const m = this.metrics;
      m.tooLarge++;
      if (m.events.has('too_large')) m.emitFor('too_large', k, ns, { bytes: bytes.length });
      return undefined;
    }
    return bytes;
  }

  async writeValue(k: string, ns: NsInfo | undefined, value: unknown, plan: WritePlan, createdAt: number): Promise<SetResult> {
    if (plan.ttlMs === 0) return FAIL.bypass; // do not cache this value
    const bytes = this.encodeOrRefuse(k, ns, this.envelope(value, plan, createdAt, this.clock.now()));
    if (bytes === undefined) return FAIL.too_large;
    return this.writeBytes(k, ns, bytes, this.physicalTtl(plan));
  }

  async writeBytes(k: string, ns: NsInfo | undefined, bytes: Buffer, physicalTtlMs: number): Promise<SetResult> {
    const t0 = performance.now();
    const r = await this.guard.run('set', (s) => s.set(k, bytes, physicalTtlMs), k, ns, Guard.NONE, k);
    if (isFailure(r)) return FAIL[r.reason];
    this.metrics.countWrite(k, ns, bytes.length, physicalTtlMs, performance.now() - t0);
    return OK;
  }

  async set(k: string, value: unknown, opts: SetOptions | undefined): Promise<SetResult> {
    if (value === undefined) throw new CacheOptionsError('set: value must not be undefined (use del() to remove a key)');
    const ns = this.namespaces.of(k);
    const plan = this.plan(k, ns, opts);
    if (plan.ttlMs === 0) {
      // ttl 0 = do not cache this value: an older entry must not be served in its place.
      const r = await this.invalidation.deleteKeys([k]);
      return r.reason === undefined ? FAIL.bypass : FAIL[r.reason];
    }
    return this.writeValue(k, ns, value, plan, this.clock.stamp());
  }

  async mset<T>(entries: readonly MsetEntry<T>[], key: (k: string) => string): Promise<SetResult[]> {
    if (!Array.isArray(entries)) throw new CacheOptionsError('mset expects an array of { key, value, ttl?, tags? }');
    const list: readonly MsetEntry<T>[] = entries;
    const createdAt = this.clock.stamp();
    const now = this.clock.now();
    const prepared = list.map((e) => {
      if (typeof e !== 'object' || e === null) throw new CacheOptionsError('mset: each entry must be an object { key, value }');
      const k = key(e.key);
      if (e.value === undefined) throw new CacheOptionsError(`mset: value of ${k} must not be undefined`);
      const ns = this.namespaces.of(k);
      return { k, ns, plan: this.plan(k, ns, e), value: e.value };
    });
    const results: SetResult[] = new Array<SetResult>(prepared.length).fill(OK);
    const batch: { key: string; value: Buffer; ttlMs: number }[] = [];
    const idx: number[] = [];
    const uncached: number[] = [];
    prepared.forEach((p, i) => {
      if (p.plan.ttlMs === 0) {
        // ttl 0 = do not cache: the older entry is removed, not left in place
        results[i] = FAIL.bypass;
        uncached.push(i);
        return;
      }
      const bytes = this.encodeOrRefuse(p.k, p.ns, this.envelope(p.value, p.plan, createdAt, now));
      if (bytes === undefined) results[i] = FAIL.too_large;
      else {
        batch.push({ key: p.k, value: bytes, ttlMs: this.physicalTtl(p.plan) });
        idx.push(i);
      }
    });
    if (uncached.length > 0) {
      const r = await this.invalidation.deleteKeys(uncached.map((i) => (prepared[i] as { k: string }).k));
      if (r.reason !== undefined) for (const i of uncached) results[i] = FAIL[r.reason];
    }
    if (batch.length === 0) return results;
    // one guarded call per Cluster node: a dead master fails only its own entries
    const outcomes = await this.guard.runByNode('mset', batch, (b) => b.key, (s, group) => s.mset(group));
    for (let j = 0; j < batch.length; j++) {
      const i = idx[j] as number;
      const p = prepared[i];
      const b = batch[j];
      const o = outcomes[j];
      if (isFailure(o)) results[i] = FAIL[o.reason];
      else if (p && b) this.metrics.countWrite(p.k, p.ns, b.value.length, b.ttlMs);
    }
    return results;
  }

  async setEntry(k: string, entry: CacheEntry, physicalTtlMs: number): Promise<SetResult> {
    this.checkEntry(entry, physicalTtlMs);
    const ns = this.namespaces.of(k);
    const bytes = this.encodeOrRefuse(k, ns, entry);
    if (bytes === undefined) return FAIL.too_large;
    return this.writeBytes(k, ns, bytes, Math.min(Math.round(physicalTtlMs), this.cfg.maxTtlMs));
  }

  /** Validates a ready envelope and its physical TTL (throws `CacheOptionsError`). */
  checkEntry(entry: CacheEntry, physicalTtlMs: number): void {
    if (typeof entry !== 'object' || entry === null || typeof entry.createdAt !== 'number' || typeof entry.expiresAt !== 'number') {
      throw new CacheOptionsError('setEntry: entry must be a CacheEntry { value, createdAt, expiresAt, graceUntil?, tags? }');
    }
    if (entry.value === undefined) throw new CacheOptionsError('setEntry: entry.value must not be undefined');
    if (!(typeof physicalTtlMs === 'number' && physicalTtlMs >= 1 && Number.isFinite(physicalTtlMs))) {
      throw new CacheOptionsError(`setEntry: physicalTtlMs must be a positive number of ms, got ${String(physicalTtlMs)}`);
    }
  }
}
