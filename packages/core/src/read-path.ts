import { maxOverCopies } from './barrier-layout';
import type { Barriers } from './barriers';
import { parseBarrier } from './barriers';
import type { StoreClock } from './clock';
import type { Codec } from './codec';
import { decodeEntry } from './entry';
import type { CacheEntry } from './entry';
import type { GuardedStore } from './guarded-store';
import { Guard, isFailure } from './guarded-store';
import type { Namespaces, NsInfo } from './namespaces';
import type { Metrics } from './stats';
import type { ReadResult } from './types';

type FetchStatus = 'ok' | 'missing' | 'error' | 'corrupt' | 'invalidated';

/** What a read resolves to: GET → value (counted), LOAD → fresh entry (counted), ENTRY → entry incl. grace, HAS → boolean, RESULT → tri-state ReadResult. */
export const enum ReadMode {
  GET,
  LOAD,
  ENTRY,
  HAS,
  RESULT,
}

const MISS: ReadResult = Object.freeze({ status: 'miss' });
const UNKNOWN: ReadResult = Object.freeze({ status: 'unknown', reason: 'error' });
/** The tag barriers of a read did not answer within what was left of its `opTimeout`. */
const TAGS_OUT_OF_TIME: unique symbol = Symbol('tagsOutOfTime');

/**
 * The read path: one read = the value GET and its namespace barriers in one round trip (one MGET,
 * or one GET when the barriers are cached), then the tag barriers if the entry has tags; decoding,
 * corrupt entries, barrier checks, counting and the shape of the result per mode.
 */
export class ReadPath {
  constructor(
    private readonly codec: Codec,
    private readonly guard: GuardedStore,
    private readonly barriers: Barriers,
    private readonly namespaces: Namespaces,
    private readonly metrics: Metrics,
    private readonly clock: StoreClock,
    private readonly opTimeoutMs: number,
  ) {}

  /** Reads a full key: resolves per `mode`; never rejects for store failures. */
  async read(k: string, ns: NsInfo | undefined, mode: ReadMode): Promise<unknown> {
    const t0 = performance.now();
    let raw: Buffer | undefined;
    let nsBarrier = 0;
    const cachedNs = ns === undefined ? 0 : this.barriers.cachedNs(ns, t0);
    if (cachedNs >= 0) {
      // No namespace, or its barriers were read less than barrierCacheMs ago and no local invalidation since: one GET.
      nsBarrier = cachedNs;
      const r = await this.guard.get(k, ns);
      if (isFailure(r)) return this.failedRead(mode, k, ns, r.wrongType, t0);
      raw = r;
    } else {
      const n = ns as NsInfo;
      const bk = n.barrierKeys;
      const epoch = this.barriers.epoch;
      if (this.guard.nodes === undefined) {
        // One MGET for the value and its namespace barriers.
        const vals = await this.guard.run('get', (s) => s.mget(bk.length === 1 ? [k, bk[0] as string] : bk.length === 2 ? [k, bk[0] as string, bk[1] as string] : [k, ...bk]), k, ns, Guard.NONE, k);
        if (isFailure(vals)) return this.failedRead(mode, k, ns, false, t0);
        raw = vals[0];
        for (let i = 1; i < vals.length; i++) {
          const b = parseBarrier(vals[i]);
          if (b > nsBarrier) nsBarrier = b;
        }
      } else {
        // Cluster: the value and each copy of the entity's barriers (one slot per copy) live on their
        // own nodes, each read under its node's breaker, in the same tick (one round trip per node). The
        // barrier is the max over the copies that answered; only when none did are this entity's keys a
        // miss — no other entity's.
        const [v, bars] = await Promise.all([this.guard.get(k, ns), this.barriers.ofNs(n, k)]);
        if (isFailure(v)) return this.failedRead(mode, k, ns, v.wrongType, t0);
        if (isFailure(bars)) return this.failedRead(mode, k, ns, false, t0);
        raw = v;
        nsBarrier = bars;
      }
      this.barriers.keepNs(n, nsBarrier, t0, epoch);
    }
    return this.judge(k, ns, mode, raw, nsBarrier, t0);
  }

  /**
   * The rest of a read once the raw value and its namespace barrier are known (also the fused miss's,
   * see `LockedReads`): decode (a corrupt entry is counted, removed, a miss), tag barriers, the
   * barrier check, counting and the result per mode.
   */
  judge(k: string, ns: NsInfo | undefined, mode: ReadMode, raw: Buffer | undefined, nsBarrier: number, t0: number): unknown {
    if (raw === undefined) return this.settle(mode, k, ns, 'missing', undefined, 0, t0);
    let entry: CacheEntry;
    try {
      entry = decodeEntry(this.codec, raw);
    } catch {
      this.corruptFound(k, ns, raw.length);
      return this.settle(mode, k, ns, 'corrupt', undefined, raw.length, t0);
    }
    // Synchronous unless the entry carries tags (their barriers are one more round trip): no promise
    // of its own on the common path.
    if (entry.tags !== undefined && entry.tags.length > 0) return this.judgeTagged(k, ns, mode, raw, entry, nsBarrier, t0);
    return this.verdict(k, ns, mode, raw, entry, nsBarrier, t0);
  }

  /**
   * The tag barriers are one more round trip: it gets what is left of the read's `opTimeout` (counted
   * from the read's start), so a whole read — `readEntry`, `readOrLock` — settles within `opTimeout`
   * (`CacheService.boundedReads`); past it the read is `unknown` (an `error`), never late.
   */
  private async judgeTagged(k: string, ns: NsInfo | undefined, mode: ReadMode, raw: Buffer, entry: CacheEntry, nsBarrier: number, t0: number): Promise<unknown> {
    const left = this.opTimeoutMs - (performance.now() - t0);
    let timer: NodeJS.Timeout | undefined;
    const t =
      left <= 0
        ? TAGS_OUT_OF_TIME
        : await Promise.race([
            this.barriers.ofTags(entry.tags as string[], 'get'),
            new Promise<typeof TAGS_OUT_OF_TIME>((resolve) => {
              timer = setTimeout(resolve, Math.ceil(left), TAGS_OUT_OF_TIME);
            }),
          ]);
    clearTimeout(timer);
    if (t === TAGS_OUT_OF_TIME || isFailure(t)) return this.settle(mode, k, ns, 'error', undefined, raw.length, t0);
    return this.verdict(k, ns, mode, raw, entry, t > nsBarrier ? t : nsBarrier, t0);
  }

  /** The barrier check of a decoded entry, then counting and the result per mode. */
  private verdict(k: string, ns: NsInfo | undefined, mode: ReadMode, raw: Buffer, entry: CacheEntry, barrier: number, t0: number): unknown {
    if (barrier !== 0 && entry.createdAt <= barrier) {
      this.metrics.invalidated++;
      this.guard.drop(k);
      return this.settle(mode, k, ns, 'invalidated', undefined, raw.length, t0);
    }
    return this.settle(mode, k, ns, 'ok', entry, raw.length, t0);
  }

  failedRead(mode: ReadMode, k: string, ns: NsInfo | undefined, wrongType: boolean, t0: number): unknown {
    if (!wrongType) return this.settle(mode, k, ns, 'error', undefined, 0, t0);
    this.corruptFound(k, ns, 0);
    return this.settle(mode, k, ns, 'corrupt', undefined, 0, t0);
  }

  private corruptFound(k: string, ns: NsInfo | undefined, bytes: number): void {
    const m = this.metrics;
    m.corrupt++;
    if (m.events.has('corrupt')) m.emitFor('corrupt', k, ns, { bytes });
    this.guard.drop(k);
  }

  /** Ends a read that started at `t0`: counts it (GET / LOAD; only then is its latency measured) and shapes the result for the mode. */
  private settle(mode: ReadMode, k: string, ns: NsInfo | undefined, status: FetchStatus, entry: CacheEntry | undefined, bytes: number, t0: number): unknown {
    if (mode === ReadMode.ENTRY) return status === 'ok' ? entry : undefined;
    if (mode === ReadMode.RESULT) {
      if (status === 'ok') return { status: 'hit', entry };
      return status === 'error' ? UNKNOWN : MISS;
    }
    const fresh = status === 'ok' && (entry as CacheEntry).expiresAt > this.clock.now();
    if (mode === ReadMode.HAS) return fresh;
    this.metrics.countRead(k, ns, fresh, status === 'error', bytes, performance.now() - t0);
    if (!fresh) return undefined;
    return mode === ReadMode.GET ? (entry as CacheEntry).value : entry;
  }

  /** One result per full key, in order; one round trip for values + namespace barriers, one more if entries carry tags. */
  async mget<T>(ks: readonly string[]): Promise<(T | undefined)[]> {
    const out: (T | undefined)[] = new Array<T | undefined>(ks.length).fill(undefined);
    if (ks.length === 0) return out;
    const nss = ks.map((k) => this.namespaces.of(k));
    const m = this.metrics;
    const t0 = performance.now();
    const missAll = () => {
      const latencyMs = performance.now() - t0;
      for (let i = 0; i < ks.length; i++) m.countRead(ks[i] as string, nss[i], false, false, 0, latencyMs);
      return out;
    };
    // (a barrier copy on a master that is down is not asked: the others answer for it)
    const barrierKeys = [...new Set(nss.flatMap((n) => (n === undefined ? [] : this.barriers.liveCopies(n.barrierGroups).flat())))];
    // one guarded call per Cluster node (one in all elsewhere): keys on a dead master are misses, the rest is served
    const mgetByNode = (keys: readonly string[]) => this.guard.runByNode<string, Buffer | undefined>('mget', keys, (x) => x, (s, group) => s.mget(group));
    const [raws, bars] = await Promise.all([mgetByNode(ks), mgetByNode(barrierKeys)]);
    if (this.guard.nodes === undefined && (isFailure(raws[0]) || isFailure(bars[0]))) return missAll();
    // barrier key → value; absent when it could not be read
    const barrierOf = new Map<string, number>();
    barrierKeys.forEach((bk, i) => {
      const b = bars[i];
      if (!isFailure(b)) barrierOf.set(bk, parseBarrier(b));
    });
    const entries: (CacheEntry | undefined)[] = new Array<CacheEntry | undefined>(ks.length).fill(undefined);
    const tagSet = new Set<string>();
    for (let i = 0; i < ks.length; i++) {
      const raw = raws[i];
      if (raw === undefined || isFailure(raw)) continue;
      try {
        const e = decodeEntry(this.codec, raw);
        entries[i] = e;
        if (e.tags) for (const t of e.tags) tagSet.add(t);
      } catch {
        this.corruptFound(ks[i] as string, nss[i], raw.length);
      }
    }
    const tagBarrier = new Map<string, number>();
    if (tagSet.size > 0) {
      const tags = [...tagSet];
      const copies = tags.map((t) => this.barriers.liveCopies(this.namespaces.tagBarrierCopies(t).map((k) => [k])).map((g) => g[0] as string));
      const tagKeys = copies.flat();
      const tb = await mgetByNode(tagKeys);
      if (this.guard.nodes === undefined && isFailure(tb[0])) return missAll();
      const read = new Map<string, number>();
      tagKeys.forEach((tk, i) => {
        const b = tb[i];
        if (!isFailure(b)) read.set(tk, parseBarrier(b));
      });
      // a tag with no readable copy: Infinity (the entries carrying it are a miss)
      tags.forEach((t, i) => tagBarrier.set(t, maxOverCopies((copies[i] as string[]).map((k) => [k]), (k) => read.get(k))));
    }
    const latencyMs = performance.now() - t0;
    const now = this.clock.now();
    for (let i = 0; i < ks.length; i++) {
      const e = entries[i];
      const k = ks[i] as string;
      const ns = nss[i];
      let fresh = false;
      if (e !== undefined) {
        let barrier = 0;
        // an entity with no readable barrier copy: Infinity (every key of that entity is a miss)
        if (ns) barrier = maxOverCopies(ns.barrierGroups, (bk) => barrierOf.get(bk));
        if (e.tags) for (const t of e.tags) barrier = Math.max(barrier, tagBarrier.get(t) ?? 0);
        if (barrier === Infinity) {
          // unverifiable (a barrier could not be read): a miss, the entry stays
        } else if (barrier !== 0 && e.createdAt <= barrier) {
          m.invalidated++;
          this.guard.drop(k);
        } else if (e.expiresAt > now) {
          fresh = true;
          out[i] = e.value as T;
        }
      }
      m.countRead(k, ns, fresh, false, fresh ? (raws[i] as Buffer).length : 0, latencyMs);
    }
    return out;
  }
}
