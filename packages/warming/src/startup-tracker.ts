import type { ReadyReport, WarmProgress } from './types';

/** Job ids finished before their `add()` resolved are remembered this long (a bounded map). */
export const MAX_EARLY_FINISHES = 10_000;

/** Counts the start-up set (jobs and `@WarmUp` tasks) to the end: progress events and `ready()`. */
export class StartupTracker {
  private total = 0;
  private done = 0;
  private failed = 0;
  private readonly ids = new Map<string, string>();
  private readonly early = new Map<string, boolean>();
  private readonly waiters = new Set<() => void>();

  constructor(private readonly progress: (p: WarmProgress) => void) {}

  expect(n: number): void {
    this.total += n;
  }

  track(id: string, key: string): void {
    const ok = this.early.get(id);
    if (ok !== undefined) {
      this.early.delete(id);
      this.count(key, ok);
    } else if (this.ids.has(id)) {
      // the same key enqueued twice (declared again) shares one job: count it once
      this.total--;
    } else this.ids.set(id, key);
  }

  /** A finished job (any process). */
  finished(id: string, ok: boolean, _error?: string): void {
    const key = this.ids.get(id);
    if (key === undefined) {
      if (this.early.size >= MAX_EARLY_FINISHES) this.early.delete(this.early.keys().next().value!);
      this.early.set(id, ok);
      return;
    }
    this.ids.delete(id);
    this.count(key, ok);
  }

  direct(name: string, ok: boolean): void {
    this.count(name, ok);
  }

  gaveUp(key: string): void {
    this.count(key, false);
  }

  private count(key: string, ok: boolean): void {
    if (ok) this.done++;
    else this.failed++;
    this.progress({ total: this.total, done: this.done, failed: this.failed, key, ok });
    if (this.done + this.failed >= this.total) for (const w of this.waiters) w();
  }

  report(): ReadyReport {
    const pending = Math.max(0, this.total - this.done - this.failed);
    return { complete: pending === 0, total: this.total, warmed: this.done, failed: this.failed, pending };
  }

  wait(ms: number): Promise<ReadyReport> {
    if (this.done + this.failed >= this.total) return Promise.resolve(this.report());
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(finish);
        resolve(this.report());
      };
      const timer = setTimeout(finish, ms);
      this.waiters.add(finish);
    });
  }

  close(): void {
    for (const w of [...this.waiters]) w();
  }
}
