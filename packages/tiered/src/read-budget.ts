import { TimeoutQueue } from '@stratacache/breaker';
import type { TimeoutEntry } from '@stratacache/breaker';

/** What a Redis call of a read resolves to when the read's budget ran out first: the answer is unknown. */
export const OUT_OF_TIME: unique symbol = Symbol('stratacache.tiered.outOfTime');
export type OutOfTime = typeof OUT_OF_TIME;

/** One budgeted call in flight: settles with the call, or with `outOfTime` once the budget runs out. */
class Spend<T, O> implements TimeoutEntry {
  deadline = 0;
  prev: TimeoutEntry | undefined = undefined;
  next: TimeoutEntry | undefined = undefined;
  done = false;
  /** Set when the call settles first; after that neither the queue nor a timer can settle it. */
  settled = false;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(
    readonly budget: ReadBudget,
    readonly t0: number,
    readonly resolve: (v: T | O) => void,
    readonly outOfTime: O,
    readonly late: ((value: T) => void) | undefined,
  ) {}

  /** The budget ran out before the call answered. */
  expire(): void {
    if (this.settled) return;
    this.settled = true;
    this.budget.spent();
    this.resolve(this.outOfTime);
  }
}

/**
 * The deadlines of the first Redis call of every read of one TieredCache. Every read starts with
 * the same budget (`opTimeout`). When the L2 bounds its reads itself (`boundedReads`: core's
 * `readEntry` / `readOrLock` settle within `opTimeout`), that first call needs no deadline here at
 * all — only its time is charged. Otherwise those calls form a FIFO in deadline order and share one
 * timer (the breaker's `TimeoutQueue`): an L2 hit that answers in time costs two pointer updates, no
 * timer of its own. Later calls of a read (less left) use a timer each (the miss path only).
 */
export class BudgetClock {
  private readonly queue: TimeoutQueue<Spend<unknown, unknown>>;

  constructor(
    readonly fullMs: number,
    /** The L2 settles every read within `fullMs` by itself. */
    readonly bounded = false,
  ) {
    this.queue = new TimeoutQueue<Spend<unknown, unknown>>(fullMs, (s) => s.expire());
  }

  /** A new budget of one read. */
  budget(): ReadBudget {
    return new ReadBudget(this.fullMs, this);
  }

  /** @internal */
  add(s: Spend<unknown, unknown>): void {
    this.queue.add(s);
  }

  /** @internal */
  remove(s: Spend<unknown, unknown>): void {
    this.queue.remove(s);
  }
}

/**
 * One deadline per read (issue 10): every Redis call one read makes — the L2 read, the stampede
 * lock, the leader's double-check, a follower's re-reads — draws from one budget of `opTimeout`.
 * Only time spent waiting for Redis counts (the factory's own time, and a follower's wait for the
 * leader's signal, do not). Past the budget a call's answer is {@link OUT_OF_TIME} ("unknown"), the
 * call itself goes on (core bounds it and counts its failure), and later Redis steps are skipped.
 * The L2 write and the bus publish after the factory are not awaited by the caller at all.
 */
export class ReadBudget {
  private left: number;

  constructor(
    ms: number,
    private readonly clock?: BudgetClock,
  ) {
    this.left = ms;
  }

  /**
   * The read's first call needs no race: the L2 settles every read within the whole budget by itself
   * (`boundedReads`) and nothing is spent yet. The caller may then start that call directly and
   * `charge` its time when it settles (the L2-hit path: no closures, no promise of the budget's own).
   */
  get unraced(): boolean {
    const clock = this.clock;
    return clock !== undefined && clock.bounded && this.left === clock.fullMs;
  }

  /** True once nothing is left: further Redis steps of this read are skipped. */
  get exhausted(): boolean {
    return this.left <= 0;
  }

  /** Milliseconds left. */
  get remaining(): number {
    return Math.max(0, this.left);
  }

  /** @internal the budget ran out during a call */
  spent(): void {
    this.left = 0;
  }

  /**
   * Starts `call` (only if something is left) and races it against what is left. When the budget
   * runs out first, resolves `outOfTime` ({@link OUT_OF_TIME} unless given); `late` then receives the
   * call's eventual value (e.g. to release a lock that was acquired too late).
   */
  spend<T>(call: () => Promise<T>, late?: (value: T) => void): Promise<T | OutOfTime>;
  /** …resolving `failed(err)` instead of rejecting when the call fails or throws. */
  spend<T, O>(call: () => Promise<T>, late: ((value: T) => void) | undefined, outOfTime: O, failed?: (err: unknown) => O): Promise<T | O>;
  spend<T, O>(call: () => Promise<T>, late?: (value: T) => void, outOfTime: O = OUT_OF_TIME as O, failed?: (err: unknown) => O): Promise<T | O> {
    return this.run(call, late, outOfTime, failed, false);
  }

  /**
   * `spend` for a read of the L2 (`readEntry`, `readOrLock`): when the L2 bounds its reads by
   * `opTimeout` itself (`boundedReads`) and this is the read's first call, no race is set up.
   */
  spendOnRead<T, O>(call: () => Promise<T>, late: ((value: T) => void) | undefined, outOfTime: O, failed: (err: unknown) => O): Promise<T | O> {
    return this.run(call, late, outOfTime, failed, true);
  }

  private run<T, O>(call: () => Promise<T>, late: ((value: T) => void) | undefined, outOfTime: O, failed: ((err: unknown) => O) | undefined, bounded: boolean): Promise<T | O> {
    const left = this.left;
    if (left <= 0) return Promise.resolve(outOfTime);
    const t0 = performance.now();
    let p: Promise<T>;
    try {
      p = call();
    } catch (err) {
      return failed === undefined ? Promise.reject(err) : Promise.resolve(failed(err));
    }
    const clock = this.clock;
    if (bounded && clock !== undefined && clock.bounded && left === clock.fullMs) {
      // the read's first call, on an L2 that settles it within the whole budget: no race needed
      return p.then(
        (v) => {
          this.left -= performance.now() - t0;
          return v;
        },
        failed === undefined
          ? undefined
          : (err: unknown) => {
              this.left -= performance.now() - t0;
              return failed(err);
            },
      );
    }
    return new Promise<T | O>((resolve, reject) => {
      const s = new Spend<T, O>(this, t0, resolve, outOfTime, late);
      // the read's first call (a full budget) shares the clock's one timer; later ones get their own
      const queued = clock !== undefined && left === clock.fullMs;
      if (queued) clock.add(s as Spend<unknown, unknown>);
      else s.timer = setTimeout(() => s.expire(), Math.ceil(left));
      p.then(
        (v) => {
          if (s.settled) {
            s.late?.(v);
            return;
          }
          settle(s, clock, queued);
          resolve(v);
        },
        (err: unknown) => {
          if (s.settled) return;
          settle(s, clock, queued);
          if (failed === undefined) reject(err);
          else resolve(failed(err));
        },
      );
    });
  }

  /** @internal */
  charge(ms: number): void {
    this.left -= ms;
  }
}

function settle<T, O>(s: Spend<T, O>, clock: BudgetClock | undefined, queued: boolean): void {
  s.settled = true;
  if (queued) (clock as BudgetClock).remove(s as Spend<unknown, unknown>);
  else clearTimeout(s.timer);
  s.budget.charge(performance.now() - s.t0);
}
