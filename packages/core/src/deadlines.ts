import { StoreClosedError, StoreTimeoutError } from './errors';

type Reject = (err: unknown) => void;

/**
 * Cheap per-operation timeouts for the hot path: instead of one timer (and closures) per call,
 * pending calls are grouped in time buckets of `opTimeout / 4`; one unref'd interval rejects every
 * call of a bucket once it is `opTimeout` old. Rejecting a promise that already settled is a no-op,
 * so settled calls need no bookkeeping. Precision: a call times out between `opTimeout` and
 * `1.5 × opTimeout` (+ event-loop delay), never before `opTimeout`. The interval only runs while calls are pending.
 */
export class Deadlines {
  private readonly tickMs: number;
  private readonly buckets: { at: number; rejects: Reject[] }[] = [];
  private current: Reject[] | undefined;
  private currentAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {
    this.tickMs = Math.max(1, Math.floor(timeoutMs / 4));
  }

  /** A promise that settles like `p`, or rejects with StoreTimeoutError after the timeout. */
  race<T>(p: Promise<T>, op: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      p.then(resolve, reject);
      this.add(reject, op);
    });
  }

  private add(reject: Reject, _op: string): void {
    const now = performance.now();
    if (this.current === undefined || now - this.currentAt >= this.tickMs) {
      this.current = [];
      this.currentAt = now;
      this.buckets.push({ at: now, rejects: this.current });
      if (this.timer === undefined) {
        this.timer = setInterval(this.tick, this.tickMs);
        this.timer.unref();
      }
    }
    this.current.push(reject);
  }

  private readonly tick = (): void => {
    const now = performance.now();
    while (this.buckets.length > 0) {
      const b = this.buckets[0] as { at: number; rejects: Reject[] };
      // the bucket's last call was added up to one tick after `b.at`: never reject before timeoutMs
      if (now - b.at < this.timeoutMs + this.tickMs) break;
      this.buckets.shift();
      if (b.rejects === this.current) this.current = undefined;
      const err = new StoreTimeoutError('operation', this.timeoutMs);
      for (const r of b.rejects) r(err);
    }
    if (this.buckets.length === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  };

  /** Stops the interval and rejects every call still pending (so nobody waits on a closed cache). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const buckets = this.buckets.splice(0);
    this.current = undefined;
    if (buckets.length === 0) return;
    const err = new StoreClosedError('cache');
    for (const b of buckets) for (const r of b.rejects) r(err);
  }
}
