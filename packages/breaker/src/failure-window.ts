/**
 * @internal Timestamps of the last `capacity` failures in a ring buffer. The threshold is reached
 * exactly when the buffer is full and its oldest entry is still inside the window, so recording a
 * failure is O(1) and memory is O(capacity).
 */
export class FailureWindow {
  readonly #times: Float64Array;
  readonly #capacity: number;
  #next = 0;
  #size = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
    this.#times = new Float64Array(capacity);
  }

  /** Records a failure at `at`; returns true when `capacity` failures fall inside `windowMs` before `at`. */
  record(at: number, windowMs: number): boolean {
    this.#times[this.#next] = at;
    this.#next = this.#next + 1 === this.#capacity ? 0 : this.#next + 1;
    if (this.#size < this.#capacity) this.#size++;
    if (this.#size < this.#capacity) return false;
    // Buffer full: the oldest entry is the one that will be overwritten next.
    return at - (this.#times[this.#next] as number) < windowMs;
  }

  /** Failures whose age at `now` is below `windowMs`. O(capacity). */
  count(now: number, windowMs: number): number {
    let n = 0;
    for (let i = 0; i < this.#size; i++) {
      if (now - (this.#times[i] as number) < windowMs) n++;
    }
    return n;
  }

  clear(): void {
    this.#next = 0;
    this.#size = 0;
  }
}
