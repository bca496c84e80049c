/** What a Redis call of a read resolves to when the read's budget ran out first: the answer is unknown. */
export const OUT_OF_TIME: unique symbol = Symbol('stratacache.tiered.outOfTime');
export type OutOfTime = typeof OUT_OF_TIME;

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

  constructor(ms: number) {
    this.left = ms;
  }

  /** True once nothing is left: further Redis steps of this read are skipped. */
  get exhausted(): boolean {
    return this.left <= 0;
  }

  /** Milliseconds left. */
  get remaining(): number {
    return Math.max(0, this.left);
  }

  /**
   * Starts `call` (only if something is left) and races it against what is left. When the budget
   * runs out first, resolves {@link OUT_OF_TIME}; `late` then receives the call's eventual value
   * (e.g. to release a lock that was acquired too late).
   */
  spend<T>(call: () => Promise<T>, late?: (value: T) => void): Promise<T | OutOfTime> {
    const left = this.left;
    if (left <= 0) return Promise.resolve(OUT_OF_TIME);
    const t0 = performance.now();
    let p: Promise<T>;
    try {
      p = call();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<T | OutOfTime>((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        this.left = 0;
        resolve(OUT_OF_TIME);
      }, Math.ceil(left));
      p.then(
        (v) => {
          if (done) {
            late?.(v);
            return;
          }
          done = true;
          clearTimeout(timer);
          this.left -= performance.now() - t0;
          resolve(v);
        },
        (err: unknown) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          this.left -= performance.now() - t0;
          reject(err);
        },
      );
    });
  }
}
