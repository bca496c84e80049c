import type { RedisInfo } from '@stratacache/analytics';

export interface TimelinePoint {
  t: number;
  /** Circuit state per cache label (`closed` / `half-open` / `open`). */
  circuits: Record<string, string>;
  usedMemory?: number;
  keys?: number;
}

/**
 * Breaker states and Redis memory / keys over time, sampled on each dashboard read and on a timer
 * (bounded: `max` points, default 360).
 */
export class BreakerTimeline {
  private readonly list: TimelinePoint[] = [];
  constructor(private readonly max = 360) {}

  sample(circuits: Record<string, string>, redis: RedisInfo | undefined, now = Date.now()): void {
    const p: TimelinePoint = { t: now, circuits: { ...circuits } };
    if (redis) {
      p.usedMemory = redis.usedMemory;
      p.keys = redis.keys;
    }
    this.list.push(p);
    if (this.list.length > this.max) this.list.splice(0, this.list.length - this.max);
  }

  points(): TimelinePoint[] {
    return this.list.slice();
  }
}
