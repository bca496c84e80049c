import type { Advisor } from './advisor';
import { AnalyticsConfigError } from './errors';
import { durationOpt, numOpt } from './options';

export interface AdaptiveTtlOptions {
  /** Lowest TTL auto-apply sets. Required. */
  minTtl: number | string;
  /** Highest TTL auto-apply sets. Required. */
  maxTtl: number | string;
  /** Fraction of the gap to the measured interval closed per evaluation (0 < step ≤ 1). Default 0.5. */
  step?: number;
  /** Evaluation period (unref'd timer); `0` = only `evaluate()`. Default 60 s. */
  interval?: number | string;
  /** Changes kept in the log. Default 500. */
  historySize?: number;
}

export interface TtlChange {
  id: number;
  at: number;
  selector: string;
  fromMs: number;
  toMs: number;
  reason: string;
  /** Set when the change was reverted. */
  revertedAt?: number;
}

/**
 * Opt-in adaptive TTL: on each evaluation, for every `ttl_up` / `ttl_down` recommendation, moves the
 * selector's TTL a `step` of the way to the measured invalidation interval, within `[minTtl, maxTtl]`,
 * through the public `TtlPolicy.setTtl`. Every change is recorded with its reason and can be
 * reverted (one, or all in reverse order).
 */
export class AdaptiveTtl {
  readonly minTtlMs: number;
  readonly maxTtlMs: number;
  readonly step: number;
  private readonly changes: TtlChange[] = [];
  private readonly historySize: number;
  private readonly timer: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(
    private readonly advisor: Advisor,
    o: AdaptiveTtlOptions,
  ) {
    if (typeof o !== 'object' || o === null) throw new AnalyticsConfigError('adaptiveTtl', 'must be an object with minTtl and maxTtl');
    if (o.minTtl === undefined || o.maxTtl === undefined) throw new AnalyticsConfigError('adaptiveTtl', 'minTtl and maxTtl are required (auto-apply stays within them)');
    this.minTtlMs = durationOpt(o.minTtl, 'adaptiveTtl.minTtl', 0);
    this.maxTtlMs = durationOpt(o.maxTtl, 'adaptiveTtl.maxTtl', 0);
    if (!(this.minTtlMs > 0) || this.maxTtlMs < this.minTtlMs) throw new AnalyticsConfigError('adaptiveTtl.maxTtl', 'must be >= minTtl > 0');
    this.step = numOpt(o.step, 'adaptiveTtl.step', 0.5);
    if (!(this.step > 0 && this.step <= 1)) throw new AnalyticsConfigError('adaptiveTtl.step', 'must be in (0, 1]');
    this.historySize = o.historySize ?? 500;
    const interval = durationOpt(o.interval, 'adaptiveTtl.interval', 60_000);
    if (interval > 0) {
      this.timer = setInterval(() => this.evaluate(), interval);
      this.timer.unref();
    }
  }

  /** Applies one step for every TTL recommendation; returns the changes made. */
  evaluate(now = Date.now()): TtlChange[] {
    const made: TtlChange[] = [];
    for (const r of this.advisor.recommendations()) {
      if ((r.kind !== 'ttl_up' && r.kind !== 'ttl_down') || r.currentTtlMs === undefined || r.suggestedTtlMs === undefined) continue;
      const from = r.currentTtlMs;
      const target = clamp(r.suggestedTtlMs, this.minTtlMs, this.maxTtlMs);
      const to = Math.round(clamp(from + this.step * (target - from), this.minTtlMs, this.maxTtlMs));
      if (Math.abs(to - from) < Math.max(1, from * 0.01)) continue;
      this.advisor.ttlPolicy.setTtl(r.entity, to);
      const c: TtlChange = { id: ++this.seq, at: now, selector: r.entity, fromMs: from, toMs: to, reason: `${r.kind}: ${r.reason}` };
      this.changes.push(c);
      if (this.changes.length > this.historySize) this.changes.shift();
      made.push(c);
    }
    return made;
  }

  /** Every change, oldest first. */
  history(): TtlChange[] {
    return [...this.changes];
  }

  /** Sets the selector of change `id` back to the TTL it had before that change. False when unknown or already reverted. */
  revert(id: number, now = Date.now()): boolean {
    const c = this.changes.find((x) => x.id === id);
    if (!c || c.revertedAt !== undefined) return false;
    this.advisor.ttlPolicy.setTtl(c.selector, c.fromMs);
    c.revertedAt = now;
    return true;
  }

  /** Reverts every change not yet reverted, newest first: each selector ends at its TTL before adaptive TTL touched it. */
  revertAll(now = Date.now()): number {
    let n = 0;
    for (let i = this.changes.length - 1; i >= 0; i--) if (this.revert(this.changes[i]!.id, now)) n++;
    return n;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
