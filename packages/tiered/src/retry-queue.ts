/** One L2 invalidation/delete that failed and is retried in the background. */
export interface RetryTask {
  /** Deduplication id: a newer task with the same id replaces the older one. */
  id: string;
  /** Runs the L2 operation once; resolves true when it landed. Must not reject. */
  run(): Promise<boolean>;
  /** Give up after this time (epoch ms): the entry (or every entry a barrier hides) has expired by then. */
  until: number;
  /** Called once when the operation landed. */
  landed(): void;
}

interface Slot {
  task: RetryTask;
  attempt: number;
  next: number;
}

/**
 * Bounded, deduplicated queue of failed L2 invalidations, retried with exponential backoff
 * (`baseMs` doubling up to `capMs`) until each lands or its `until` passes. When full, the oldest
 * task is dropped (reported through `onDrop`). Timers are unref'd; `close()` stops everything.
 */
export class RetryQueue {
  private readonly slots = new Map<string, Slot>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private closed = false;

  constructor(
    private readonly max: number,
    private readonly onDrop: (task: RetryTask, why: 'full' | 'expired') => void,
    private readonly baseMs = 100,
    private readonly capMs = 5_000,
  ) {}

  get size(): number {
    return this.slots.size;
  }

  add(task: RetryTask): void {
    if (this.closed) return;
    const prev = this.slots.get(task.id);
    if (prev !== undefined) this.slots.delete(task.id);
    else if (this.slots.size >= this.max) {
      const oldest = this.slots.keys().next().value as string;
      const dropped = this.slots.get(oldest)!;
      this.slots.delete(oldest);
      this.onDrop(dropped.task, 'full');
    }
    this.slots.set(task.id, { task, attempt: 0, next: Date.now() + this.baseMs });
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.running || this.slots.size === 0) return;
    let next = Infinity;
    for (const s of this.slots.values()) if (s.next < next) next = s.next;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), Math.max(0, next - Date.now()));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    this.running = true;
    try {
      for (const [id, s] of [...this.slots]) {
        if (this.closed) return;
        const now = Date.now();
        if (s.next > now) continue;
        if (now >= s.task.until) {
          this.slots.delete(id);
          this.onDrop(s.task, 'expired');
          continue;
        }
        const ok = await s.task.run().catch(() => false);
        if (this.slots.get(id) !== s) continue; // replaced while running
        if (ok) {
          this.slots.delete(id);
          s.task.landed();
        } else {
          s.attempt++;
          s.next = Date.now() + Math.min(this.capMs, this.baseMs * 2 ** s.attempt);
        }
      }
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.slots.clear();
  }
}
