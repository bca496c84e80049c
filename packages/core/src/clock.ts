/** Samples taken per clock measurement; the one with the shortest round trip wins. */
const SAMPLES = 3;

/** Assumed worst drift of a local clock between two measurements (parts per million). */
const DRIFT_PPM = 50;

/**
 * Bounds wider than this (half-width, ms, beyond the clock's resolution) are "loose": measured while
 * the store or this process was busy. The clock then measures again after `RETIGHTEN_MS`, and a barrier
 * write measures first (at most `TIGHTEN_CAP_MS`): its wait is about twice the half-width.
 */
const LOOSE_MS = 1;
const RETIGHTEN_MS = 1_000;
const TIGHTEN_CAP_MS = 10;

/**
 * CacheService's one clock: a local clock (`Date.now` or an injected one) corrected by the offset of
 * the store's own clock (Redis `TIME`), measured per store connection over the fastest of a few
 * samples and refreshed in the background; a new measurement is intersected with the previous
 * bounds (widened by the drift allowance), so one taken under load does not loosen them. Reading it
 * never awaits.
 *
 * A sample taken between local times t0 and t1 that read server time s bounds the offset to
 * [s − t1, s − t0]. `now()` uses the midpoint (error ≤ rtt/2). For ordering across machines the two
 * stamps take opposite bounds (plus a drift allowance since the measurement): `stamp()` (entry
 * `createdAt`) is never later than the server time at which it was taken, `barrierStamp()` never
 * earlier — so an entry produced before an invalidation is older than its barrier on every instance,
 * whatever their local clock skew. After writing a barrier, CacheService waits until `stamp()` has
 * passed it (`waitPast`, usually already true when the write's round trip returns), so on one
 * instance a value produced after an invalidation returned is never taken for an invalidated one.
 * The cost: a value produced on *another* instance within ≈ one round trip after an invalidation
 * may be treated as invalidated (a miss, never a stale hit).
 */
export class StoreClock {
  private offset = 0;
  /** Half the width of the offset interval of the best sample (rtt/2). */
  private halfWidth = 0;
  private measuredAt = 0;
  private lastCreated = 0;
  private lastBarrier = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The re-measurement after loose bounds (see `LOOSE_MS`), while one is pending. */
  private retighten: NodeJS.Timeout | undefined;
  private stopped = false;
  private syncing: Promise<boolean> | undefined;
  /** Round trip (ms) of the best sample of the last measurement; undefined before the first one. */
  rttMs: number | undefined;

  /** Resolution allowance of the local clock: 1 ms for an injected (possibly integer-ms) clock. */
  private readonly granularity: number;
  readonly local: () => number;

  constructor(
    local: (() => number) | undefined,
    private readonly source: (() => Promise<number>) | undefined,
    private readonly timeoutMs: number,
  ) {
    // Default: a sub-millisecond wall clock (Date.now() has 1 ms steps, which would widen every bound).
    this.local = local ?? preciseNow;
    this.granularity = local === undefined ? 0.005 : 1;
  }

  /** Corrected epoch ms (not strictly increasing). */
  now(): number {
    return this.local() + this.offset;
  }

  /** Corrected epoch ms, strictly increasing on this instance; a lower bound of the store's time (entry `createdAt`). */
  stamp(): number {
    const l = this.local();
    const t = l + this.offset - this.uncertainty(l);
    this.lastCreated = t > this.lastCreated ? t : this.lastCreated + 0.001;
    return this.lastCreated;
  }

  /** Corrected epoch ms, strictly increasing on this instance; an upper bound of the store's time (barrier values). */
  barrierStamp(): number {
    const l = this.local();
    const t = l + this.offset + this.uncertainty(l);
    this.lastBarrier = t > this.lastBarrier ? t : this.lastBarrier + 0.001;
    return this.lastBarrier;
  }

  /**
   * Resolves once `stamp()` would return more than `barrier` (at most `capMs`): after it, a value
   * this instance produces is newer than the barrier it just wrote.
   */
  async waitPast(barrier: number, capMs: number): Promise<void> {
    const end = this.local() + capMs;
    for (;;) {
      const l = this.local();
      const need = barrier - (l + this.offset - this.uncertainty(l));
      if (need < 0 || l >= end) break;
      // usually a fraction of a round trip: yield to the event loop rather than sleep a whole timer tick
      if (need < 1) await new Promise((r) => setImmediate(r));
      else await new Promise((r) => setTimeout(r, Math.min(Math.ceil(need), Math.max(1, end - l))));
    }
    if (this.lastCreated < barrier) this.lastCreated = barrier;
  }

  private uncertainty(local: number): number {
    if (this.measuredAt === 0) return 0;
    return this.halfWidth + Math.max(0, local - this.measuredAt) * DRIFT_PPM * 1e-6;
  }


  /** Offset (ms) added to the local clock. */
  get offsetMs(): number {
    return this.offset;
  }

  /** Whether the bounds are loose (see `LOOSE_MS`): a measurement now would likely tighten them. */
  get loose(): boolean {
    return this.source !== undefined && !this.stopped && this.measuredAt !== 0 && this.uncertainty(this.local()) > LOOSE_MS + this.granularity;
  }

  /**
   * Measures again when the bounds are loose, waiting at most `min(capMs, 10 ms)` for it (the
   * measurement goes on and still counts if it takes longer). Never rejects.
   */
  async tighten(capMs: number): Promise<void> {
    if (!this.loose) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.sync(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, Math.min(capMs, TIGHTEN_CAP_MS)));
      }),
    ]);
    clearTimeout(timer);
  }

  /** Measures the offset now; resolves false (offset unchanged) when the store cannot tell the time. */
  sync(): Promise<boolean> {
    if (this.source === undefined || this.stopped) return Promise.resolve(false);
    this.syncing ??= this.measure().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async measure(): Promise<boolean> {
    const source = this.source!;
    let best: { rtt: number; offset: number; at: number } | undefined;
    for (let i = 0; i < SAMPLES; i++) {
      const t0 = this.local();
      let server: number;
      try {
        server = await withTimeout(source(), this.timeoutMs);
      } catch {
        break;
      }
      const t1 = this.local();
      const rtt = Math.max(0, t1 - t0);
      if (!Number.isFinite(server)) break;
      if (best === undefined || rtt < best.rtt) best = { rtt, offset: server - (t0 + rtt / 2), at: t1 };
    }
    if (best === undefined) return false;
    // + the local clock's resolution (TIME itself has µs resolution).
    let offset = best.offset;
    let half = best.rtt / 2 + this.granularity;
    if (this.measuredAt !== 0) {
      // Both intervals bound the true offset (the earlier one widened by the drift allowance since it
      // was measured): keep their intersection, so a sample taken while the store or this process was
      // busy (a long round trip) does not widen the bounds that every barrier wait is made of. Disjoint
      // intervals mean a clock stepped (NTP, a VM resume): the new sample alone is then the truth.
      const oldHalf = this.uncertainty(best.at);
      const lo = Math.max(offset - half, this.offset - oldHalf);
      const hi = Math.min(offset + half, this.offset + oldHalf);
      if (lo <= hi) {
        offset = (lo + hi) / 2;
        half = Math.max((hi - lo) / 2, this.granularity);
      }
    }
    this.offset = offset;
    this.halfWidth = half;
    this.measuredAt = best.at;
    this.rttMs = best.rtt;
    // still loose (busy store or process): measure again soon rather than at the next interval
    if (half > LOOSE_MS + this.granularity && this.timer !== undefined && this.retighten === undefined && !this.stopped) {
      this.retighten = setTimeout(() => {
        this.retighten = undefined;
        void this.sync();
      }, RETIGHTEN_MS);
      this.retighten.unref();
    }
    return true;
  }

  /** First measurement now, then every `intervalMs` in the background (unref'd timer). */
  start(intervalMs: number): void {
    if (this.source === undefined || this.timer !== undefined) return;
    // The first sample may include connecting (a wide interval): measure again soon after.
    void this.sync().then(() => {
      const again = setTimeout(() => void this.sync(), 1_000);
      again.unref();
    });
    this.timer = setInterval(() => void this.sync(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.retighten);
    this.timer = undefined;
    this.retighten = undefined;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('clock sample timed out')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

const ORIGIN = performance.timeOrigin;
function preciseNow(): number {
  return ORIGIN + performance.now();
}
