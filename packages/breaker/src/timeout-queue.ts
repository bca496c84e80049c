/** A call waiting in a {@link TimeoutQueue}. */
export interface TimeoutEntry {
  deadline: number;
  prev: TimeoutEntry | undefined;
  next: TimeoutEntry | undefined;
  /** Set once the entry left the queue (settled or expired). */
  done: boolean;
}

/**
 * Deadlines of in-flight calls sharing one timeout (a breaker's `callTimeout`, core's `opTimeout`). Every call has the same timeout and the
 * clock is monotonic, so insertion order is deadline order: a doubly linked FIFO with O(1) add and
 * remove, served by ONE timer armed for the head. Unlike a `setTimeout` per call, a call that
 * settles in time costs two pointer updates. When the queue is empty the timer is left to fire
 * (or re-used by the next call) but unref'd, so it never keeps the process alive on its own.
 */
export class TimeoutQueue<E extends TimeoutEntry> {
  readonly #timeoutMs: number;
  readonly #onExpire: (entry: E) => void;
  #head: E | undefined;
  #tail: E | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerRefed = false;

  constructor(timeoutMs: number, onExpire: (entry: E) => void) {
    this.#timeoutMs = timeoutMs;
    this.#onExpire = onExpire;
  }

  add(entry: E): void {
    const now = performance.now();
    entry.deadline = now + this.#timeoutMs;
    entry.done = false;
    entry.next = undefined;
    entry.prev = this.#tail;
    if (this.#tail === undefined) this.#head = entry;
    else this.#tail.next = entry;
    this.#tail = entry;
    // Arm for the HEAD, which is older than this entry when called re-entrantly from an expiry.
    if (this.#timer === undefined) this.#arm((this.#head as E).deadline - now);
    else if (!this.#timerRefed) {
      // A timer armed for an earlier deadline fires no later than this entry's deadline.
      this.#timer.ref();
      this.#timerRefed = true;
    }
  }

  /** Removes a pending entry (no-op if it already left the queue). */
  remove(entry: E): void {
    if (entry.done) return;
    entry.done = true;
    const { prev, next } = entry;
    if (prev === undefined) this.#head = next as E | undefined;
    else prev.next = next;
    if (next === undefined) this.#tail = prev as E | undefined;
    else next.prev = prev;
    entry.prev = entry.next = undefined;
    if (this.#head === undefined && this.#timer !== undefined && this.#timerRefed) {
      this.#timer.unref();
      this.#timerRefed = false;
    }
  }

  /** Removes every pending entry, oldest first, calling `each` for it (e.g. to reject it on close). */
  drain(each: (entry: E) => void): void {
    let head = this.#head;
    while (head !== undefined) {
      this.remove(head);
      each(head);
      head = this.#head;
    }
  }

  /** Arms the timer `remainingMs` ahead; `#fire` expires anything due within 1 ms, so flooring never fires late. */
  #arm(remainingMs: number): void {
    const timer = setTimeout(this.#fire, Math.max(1, Math.floor(remainingMs)));
    this.#timer = timer;
    this.#timerRefed = true;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#timerRefed = false;
    const now = performance.now();
    let head = this.#head;
    // Expire entries due within 1 ms: timers have millisecond resolution and may fire a fraction early.
    while (head !== undefined && head.deadline - now < 1) {
      this.remove(head);
      this.#onExpire(head);
      head = this.#head;
    }
    // onExpire may have added entries (and armed a timer for the new head) re-entrantly.
    if (head !== undefined && this.#timer === undefined) this.#arm(head.deadline - now);
  };
}
