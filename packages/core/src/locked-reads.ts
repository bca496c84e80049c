import type { Barriers } from './barriers';
import { parseBarrier } from './barriers';
import type { CacheEntry } from './entry';
import type { GuardedStore } from './guarded-store';
import { Guard, isFailure } from './guarded-store';
import type { NsInfo } from './namespaces';
import type { ReadPath } from './read-path';
import { ReadMode } from './read-path';
import type { Metrics } from './stats';
import type { LockClaim, LockState, ReadOrLockReply, StorePublish } from './store';
import type { ReadResult, SetResult } from './types';
import { FAIL, OK } from './types';
import type { WritePath } from './write-path';

/**
 * A tri-state read (see `ReadResult`) that may have taken the stampede lock in the same round trip:
 * `lock` says whether this caller holds it now (`led`), someone else does (`busy`), or it was not
 * tried (`none`: the store held a value — which may still read as a miss when it is corrupt or
 * invalidated — or the store could not answer).
 */
export type LockedReadResult<T = unknown> = ReadResult<T> & { lock: LockState };

/**
 * The fused miss of issue 13 (the core side): `readOrLock` = the entry read and the lock in one
 * guarded round trip, its namespace barriers in the same round trip (inside the script on a single
 * server, read in parallel by the usual mechanism on a Cluster — the lock lives in the entry's slot),
 * then the usual decode + barrier check; `writeAndRelease` = the entry write, the owner-only lock
 * release and the bus publish in one guarded round trip. Every call goes through the guarded store.
 */
export class LockedReads {
  constructor(
    private readonly guard: GuardedStore,
    private readonly barriers: Barriers,
    private readonly reads: ReadPath,
    private readonly writes: WritePath,
    private readonly metrics: Metrics,
    private readonly maxTtlMs: number,
  ) {}

  /** Whether the store implements the fused calls. */
  get supported(): boolean {
    const s = this.guard.store;
    return typeof s.readOrLock === 'function' && typeof s.writeAndRelease === 'function' && typeof s.extendLock === 'function';
  }

  private get cluster(): boolean {
    return this.guard.nodes !== undefined || this.guard.store.kind === 'redis-cluster';
  }

  async readOrLock<T>(k: string, ns: NsInfo | undefined, claim: LockClaim, force: boolean): Promise<LockedReadResult<T>> {
    const t0 = performance.now();
    const cachedNs = ns === undefined ? 0 : this.barriers.cachedNs(ns, t0);
    const epoch = this.barriers.epoch;
    const bk = cachedNs >= 0 || ns === undefined ? undefined : ns.barrierKeys;
    const call = (also: readonly string[] | undefined) => this.guard.run('readOrLock', (s) => (s.readOrLock as NonNullable<typeof s.readOrLock>)(k, claim, force, also), k, ns, Guard.NONE, k);
    let reply: ReadOrLockReply;
    let nsBarrier = cachedNs;
    if (bk === undefined || !this.cluster) {
      const r = await call(bk);
      if (isFailure(r)) return this.failed(k, ns, r.wrongType, t0);
      reply = r;
      if (bk !== undefined) nsBarrier = maxBarrier(r.also);
    } else {
      // Cluster: the entry and its lock share a slot; the entity's barriers live in another — read in
      // parallel under their own node's breaker (one round trip per node, like a normal read).
      // Like a normal read, the barrier is the max over its readable copies (`Barriers.ofNs`), so a dead
      // master makes only its own keys unverifiable.
      const [r, bars] = await Promise.all([call(undefined), this.barriers.ofNs(ns as NsInfo, k)]);
      if (isFailure(r)) return this.failed(k, ns, r.wrongType, t0);
      reply = r;
      if (isFailure(bars)) return { status: 'unknown', reason: bars.reason, lock: r.lock };
      nsBarrier = bars;
    }
    if (bk !== undefined && ns !== undefined) this.barriers.keepNs(ns, nsBarrier, t0, epoch);
    const judged = (await this.reads.judge(k, ns, ReadMode.RESULT, reply.value, nsBarrier, t0)) as ReadResult<T>;
    return { ...judged, lock: reply.lock };
  }

  private async failed<T>(k: string, ns: NsInfo | undefined, wrongType: boolean, t0: number): Promise<LockedReadResult<T>> {
    const r = (await this.reads.failedRead(ReadMode.RESULT, k, ns, wrongType, t0)) as ReadResult<T>;
    return { ...r, lock: 'none' };
  }

  /**
   * Writes `entry` (unless undefined: release only), releases `claim` if still owned, publishes
   * `publish` — one guarded round trip. A value over `maxItemSize` settles at once (`too_large`,
   * before any await) and the lock is released in the background.
   */
  writeAndRelease(k: string, ns: NsInfo | undefined, entry: CacheEntry | undefined, physicalTtlMs: number, claim: LockClaim, publish: StorePublish | undefined): Promise<SetResult> {
    let bytes: Buffer | undefined;
    if (entry !== undefined) {
      bytes = this.writes.encodeOrRefuse(k, ns, entry);
      if (bytes === undefined) {
        this.guard.background(this.send(k, ns, undefined, 0, claim, undefined));
        return Promise.resolve(FAIL.too_large);
      }
    }
    return this.send(k, ns, bytes, Math.min(Math.round(physicalTtlMs), this.maxTtlMs), claim, publish);
  }

  private async send(k: string, ns: NsInfo | undefined, bytes: Buffer | undefined, ttlMs: number, claim: LockClaim, publish: StorePublish | undefined): Promise<SetResult> {
    const t0 = performance.now();
    const r = await this.guard.run('writeAndRelease', (s) => (s.writeAndRelease as NonNullable<typeof s.writeAndRelease>)(k, bytes, ttlMs, claim, publish), k, ns, Guard.NONE, k);
    if (isFailure(r)) return FAIL[r.reason];
    if (bytes === undefined) return FAIL.bypass;
    this.metrics.countWrite(k, ns, bytes.length, ttlMs, performance.now() - t0);
    return OK;
  }

  /** Extends `claim` if still owned; false when not owned or the store could not answer. */
  async extendLock(k: string, claim: LockClaim): Promise<boolean> {
    const r = await this.guard.run('extendLock', (s) => (s.extendLock as NonNullable<typeof s.extendLock>)(claim), k, undefined, Guard.NONE, k);
    return r === true;
  }
}

function maxBarrier(values: readonly (Buffer | undefined)[]): number {
  let max = 0;
  for (const b of values) {
    const n = parseBarrier(b);
    if (n > max) max = n;
  }
  return max;
}
