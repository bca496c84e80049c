import { NOOP } from './runtime';

/** A held stampede lock that can be extended (`@stratacache/lock`'s `Lock`, or the fused miss's `FusedLock`). */
export interface Extendable {
  extend(ttl: number): Promise<unknown>;
}

/**
 * Keeps the stampede locks of running factories alive: one interval timer per TieredCache (every
 * `max(50, lockTtl / 3)` ms, only while a lock is held) extends every lock held at that moment, so a
 * lock is extended before it expires however long its factory runs. A miss only adds its lock to a
 * set and removes it — no timer of its own per factory call.
 */
export class LockKeeper {
  private readonly held = new Set<Extendable>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ttl: number) {}

  hold(lock: Extendable): void {
    this.held.add(lock);
    if (this.timer === undefined) {
      this.timer = setInterval(this.tick, Math.max(50, Math.floor(this.ttl / 3)));
      this.timer.unref();
    }
  }

  release(lock: Extendable): void {
    this.held.delete(lock);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.held.clear();
  }

  private readonly tick = (): void => {
    if (this.held.size === 0) {
      // idle: no timer until the next lock
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    for (const lock of this.held) lock.extend(this.ttl).catch(NOOP);
  };
}
