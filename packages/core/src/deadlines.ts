import { TimeoutQueue } from '@stratacache/breaker';
import type { TimeoutEntry } from '@stratacache/breaker';
import { StoreClosedError, StoreTimeoutError } from './errors';

interface Pending extends TimeoutEntry {
  reject: (err: unknown) => void;
  op: string;
}

/**
 * Exact per-operation timeouts for the hot path: every call has the same timeout, so the calls in
 * flight form a FIFO in deadline order, served by one timer armed for the oldest (the breaker's
 * `TimeoutQueue`). A call that settles in time costs an object and two pointer updates, no timer.
 * A call times out at `opTimeout` (timer resolution: within 1 ms, + event-loop delay), never before.
 */
export class Deadlines {
  private readonly queue: TimeoutQueue<Pending>;

  constructor(private readonly timeoutMs: number) {
    this.queue = new TimeoutQueue<Pending>(timeoutMs, (e) => e.reject(new StoreTimeoutError(e.op, timeoutMs)));
  }

  /** A promise that settles like `p`, or rejects with StoreTimeoutError once `opTimeout` has passed. */
  race<T>(p: Promise<T>, op: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const e: Pending = { deadline: 0, prev: undefined, next: undefined, done: false, reject, op };
      this.queue.add(e);
      p.then(
        (v) => {
          this.queue.remove(e);
          resolve(v);
        },
        (err: unknown) => {
          this.queue.remove(e);
          reject(err);
        },
      );
    });
  }

  /** Rejects every call still pending (so nobody waits on a closed cache). */
  stop(): void {
    const err = new StoreClosedError('cache');
    this.queue.drain((e) => e.reject(err));
  }
}
