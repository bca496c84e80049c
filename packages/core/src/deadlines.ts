import { TimeoutQueue } from '@stratacache/breaker';
import type { TimeoutEntry } from '@stratacache/breaker';
import { StoreClosedError, StoreTimeoutError } from './errors';

/**
 * A call with a deadline (see {@link Deadlines.watch}): settles once, with the call's outcome
 * (`settle` / `settleFailed`) or the timeout (`reject`), whichever comes first.
 */
export interface DeadlineCall<T> extends TimeoutEntry {
  readonly op: string;
  reject(err: unknown): void;
  settle(v: T): void;
  settleFailed(err: unknown): void;
}

class Pending<T, R> implements DeadlineCall<T> {
  deadline = 0;
  prev: TimeoutEntry | undefined = undefined;
  next: TimeoutEntry | undefined = undefined;
  done = false;

  constructor(
    readonly op: string,
    private readonly resolve: (r: R) => void,
    private readonly ok: (v: T) => R,
    private readonly fail: (err: unknown) => R,
  ) {}

  /** The deadline passed (or the queue was stopped): the call's outcome no longer counts. */
  reject(err: unknown): void {
    this.resolve(this.fail(err));
  }

  settle(v: T): void {
    this.resolve(this.ok(v));
  }

  settleFailed(err: unknown): void {
    this.resolve(this.fail(err));
  }
}

const same = <T>(v: T): T => v;

/**
 * Exact per-operation timeouts for the hot path: every call has the same timeout, so the calls in
 * flight form a FIFO in deadline order, served by one timer armed for the oldest (the breaker's
 * `TimeoutQueue`). A call that settles in time costs an object and two pointer updates, no timer.
 * A call times out at `opTimeout` (timer resolution: within 1 ms, + event-loop delay), never before.
 */
export class Deadlines {
  private readonly queue: TimeoutQueue<DeadlineCall<unknown>>;

  constructor(private readonly timeoutMs: number) {
    this.queue = new TimeoutQueue<DeadlineCall<unknown>>(timeoutMs, (e) => e.reject(new StoreTimeoutError(e.op, timeoutMs)));
  }

  /** A promise that settles like `p`, or rejects with StoreTimeoutError once `opTimeout` has passed. */
  race<T>(p: Promise<T>, op: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.watch(p, new Pending<T, T>(op, resolve, same, (err) => {
        reject(err);
        return undefined as T;
      }));
    });
  }

  /** Settles `e` with `p`'s outcome, or rejects it once `opTimeout` has passed (then `p`'s late outcome is ignored). */
  watch<T>(p: Promise<T>, e: DeadlineCall<T>): void {
    const q = this.queue;
    q.add(e);
    p.then(
      (v) => {
        if (e.done) return; // timed out (or stopped) first
        q.remove(e);
        e.settle(v);
      },
      (err: unknown) => {
        if (e.done) return;
        q.remove(e);
        e.settleFailed(err);
      },
    );
  }

  /** Starts the deadline of `e`, which settles itself (see `GuardedCall` as a `GetSink`): `remove` it when it does. */
  add(e: DeadlineCall<unknown>): void {
    this.queue.add(e);
  }

  remove(e: DeadlineCall<unknown>): void {
    this.queue.remove(e);
  }

  /** Rejects every call still pending (so nobody waits on a closed cache). */
  stop(): void {
    const err = new StoreClosedError('cache');
    this.queue.drain((e) => e.reject(err));
  }
}
