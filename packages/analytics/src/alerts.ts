import type { CacheAnalytics } from './analytics';
import { parseAlertRules, type AlertRule, type AlertRuleConfig, type AlertRuleType, type AlertSeverity } from './alert-rules';
import { INVALIDATIONS, ORIGIN_CALLS, ORIGIN_ERRORS, RES_HIT, SRC_L1, SRC_L2 } from './counters';
import { AnalyticsConfigError } from './errors';
import type { LogHistogram, Percentiles } from './log-histogram';
import type { Aggregate } from './trends';
import { durationOpt, intOpt } from './options';
import { deliver, slackBody, type DeliveryAttempt, type WebhookOptions } from './webhook';

export interface AlertsOptions {
  /** Rules (validated at construction: a bad rule is an {@link AnalyticsConfigError} naming it). */
  /** `AlertRuleConfig[]`, or anything parsed from JSON / YAML (validated). */
  rules: AlertRuleConfig[] | readonly unknown[];
  /** Evaluation period (unref'd timer). `0` = only `evaluate()`. Default 30 s. */
  interval?: number | string;
  webhook?: WebhookOptions;
  /** Alerts kept in the history. Default 500. */
  historySize?: number;
}

export interface Alert {
  id: string;
  ruleId: string;
  type: AlertRuleType;
  severity: AlertSeverity;
  status: 'firing' | 'resolved';
  message: string;
  value: number;
  threshold: number;
  instance: string;
  firedAt: number;
  resolvedAt?: number;
  /** Evaluations that found the condition still true while firing (deduplicated, not re-sent). */
  repeats: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  /** Webhook attempts (fire and resolve notifications), and whether the last notification got through. */
  deliveries: DeliveryAttempt[];
  delivered?: boolean;
}

interface Snapshot {
  at: number;
  requests: number;
  hits: number;
  originCalls: number;
  originErrors: number;
  invalidations: number;
  hist: LogHistogram[] | undefined;
}

/** Snapshots kept for windows (one per evaluation). */
export const MAX_SNAPSHOTS = 256;

/**
 * Evaluates alert rules on an interval against this process's counters (windowed deltas) and Redis
 * INFO; deduplicates (one firing alert per rule), applies a cooldown after resolution, keeps a
 * bounded history, supports acknowledgement, and notifies a webhook (Slack-compatible) with retries.
 */
export class AlertManager {
  readonly rules: AlertRule[];
  private readonly snapshots: Snapshot[] = [];
  private readonly active = new Map<string, Alert>();
  private readonly lastResolved = new Map<string, number>();
  private readonly history: Alert[] = [];
  private readonly historySize: number;
  private readonly webhook: WebhookOptions | undefined;
  private readonly pending = new Set<Promise<void>>();
  private readonly needHist: boolean;
  private readonly timer: NodeJS.Timeout | undefined;
  private seq = 0;
  deliveryFailures = 0;
  /** Shared-scope windows that could not be read from Redis (their rules were left as they were). */
  sharedReadErrors = 0;

  constructor(
    private readonly analytics: CacheAnalytics,
    options: AlertsOptions,
  ) {
    if (typeof options !== 'object' || options === null) throw new AnalyticsConfigError('alerts', 'must be an object with rules');
    this.rules = parseAlertRules(options.rules, 'alerts.rules');
    this.historySize = intOpt(options.historySize, 'alerts.historySize', 500, 1, 100_000);
    if (options.webhook !== undefined) {
      try {
        const u = new URL(options.webhook.url);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
      } catch {
        throw new AnalyticsConfigError('alerts.webhook.url', `must be an http(s) URL, got ${JSON.stringify(options.webhook?.url)}`);
      }
      intOpt(options.webhook.retries, 'alerts.webhook.retries', 5, 0, 20);
    }
    this.webhook = options.webhook;
    this.needHist = this.rules.some((r) => r.type === 'p99_above');
    const interval = durationOpt(options.interval, 'alerts.interval', 30_000);
    this.snapshot(Date.now());
    if (interval > 0) {
      this.timer = setInterval(() => void this.evaluate().catch(() => undefined), interval);
      this.timer.unref();
    }
  }

  private snapshot(at: number): Snapshot {
    const s: Snapshot = { at, requests: 0, hits: 0, originCalls: 0, originErrors: 0, invalidations: 0, hist: undefined };
    for (const r of this.analytics.collector.rows()) {
      s.requests += r.requests();
      s.hits += r.v[SRC_L1 * 3 + RES_HIT]! + r.v[SRC_L2 * 3 + RES_HIT]!;
      s.originCalls += r.v[ORIGIN_CALLS]!;
      s.originErrors += r.v[ORIGIN_ERRORS]!;
      s.invalidations += r.v[INVALIDATIONS]!;
    }
    if (this.needHist) s.hist = this.analytics.collector.totals.latency.map((h) => h.clone());
    this.snapshots.push(s);
    if (this.snapshots.length > MAX_SNAPSHOTS) this.snapshots.shift();
    return s;
  }

  /** The newest snapshot at least `windowMs` old (else the oldest). */
  private base(now: number, windowMs: number): Snapshot {
    let b = this.snapshots[0]!;
    for (const s of this.snapshots) {
      if (s.at <= now - windowMs) b = s;
      else break;
    }
    return b;
  }

  /** Evaluates every rule now; resolves with the alerts that fired. Notifications run in the background (see `idle()`). */
  async evaluate(now = Date.now()): Promise<Alert[]> {
    const bases = this.rules.map((r) => this.base(now, r.windowMs));
    const cur = this.snapshot(now);
    const shared = await this.sharedWindows(now);
    const fired: Alert[] = [];
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      const w = shared.get(rule.windowMs);
      if (rule.scope === 'shared' && w === undefined) continue; // unknown: nothing fires, nothing resolves
      const check = rule.scope === 'shared' ? sharedCheck(rule, w!.aggregate, w!.spanMs) : await this.check(rule, bases[i]!, cur);
      const open = this.active.get(rule.id);
      if (check === undefined) {
        if (open) this.resolve(open, now);
        continue;
      }
      if (open) {
        open.repeats++;
        continue;
      }
      const last = this.lastResolved.get(rule.id);
      if (last !== undefined && now - last < rule.cooldownMs) continue;
      const alert: Alert = {
        id: `${rule.id}-${now}-${++this.seq}`,
        ruleId: rule.id,
        type: rule.type,
        severity: rule.severity,
        status: 'firing',
        message: check.message,
        value: check.value,
        threshold: rule.threshold,
        instance: this.analytics.instanceId,
        firedAt: now,
        repeats: 0,
        deliveries: [],
      };
      this.active.set(rule.id, alert);
      this.history.push(alert);
      if (this.history.length > this.historySize) this.history.shift();
      fired.push(alert);
      this.notify(alert);
    }
    return fired;
  }

  /**
   * Shared-scope rules: this instance flushes its counters, then each distinct window is read once from
   * the minute buckets (every instance). A window that cannot be read leaves its rules undecided
   * (a firing alert stays firing: an unreachable Redis is not a resolution).
   */
  private async sharedWindows(now: number): Promise<Map<number, { aggregate: Aggregate; spanMs: number }>> {
    const out = new Map<number, { aggregate: Aggregate; spanMs: number }>();
    const windows = new Set(this.rules.filter((r) => r.scope === 'shared').map((r) => r.windowMs));
    if (windows.size === 0) return out;
    await this.analytics.trends.flush(now).catch(() => undefined);
    for (const ms of windows) {
      try {
        out.set(ms, await this.analytics.trends.window(ms, now));
      } catch {
        this.sharedReadErrors++;
      }
    }
    return out;
  }

  private resolve(a: Alert, now: number): void {
    a.status = 'resolved';
    a.resolvedAt = now;
    this.active.delete(a.ruleId);
    this.lastResolved.set(a.ruleId, now);
    this.notify(a);
  }

  private async check(r: AlertRule, b: Snapshot, c: Snapshot): Promise<{ value: number; message: string } | undefined> {
    const win = `${Math.round((c.at - b.at) / 1000)} s`;
    const reqs = c.requests - b.requests;
    switch (r.type) {
      case 'hit_rate_below': {
        if (reqs < r.minRequests) return undefined;
        const v = (c.hits - b.hits) / reqs;
        return v < r.threshold ? { value: v, message: `hit rate ${pct(v)} below ${pct(r.threshold)} (${reqs} reads in ${win})` } : undefined;
      }
      case 'origin_error_rate_above': {
        const calls = c.originCalls - b.originCalls + (c.originErrors - b.originErrors);
        if (calls < r.minRequests) return undefined;
        const v = (c.originErrors - b.originErrors) / calls;
        return v > r.threshold ? { value: v, message: `origin error rate ${pct(v)} above ${pct(r.threshold)} (${calls} calls in ${win})` } : undefined;
      }
      case 'invalidation_rate_above': {
        const minutes = Math.max(c.at - b.at, 1_000) / 60_000;
        const v = (c.invalidations - b.invalidations) / minutes;
        return v > r.threshold ? { value: v, message: `${v.toFixed(1)} invalidations/min above ${r.threshold}/min (over ${win})` } : undefined;
      }
      case 'breaker_open': {
        const open = [...this.analytics.collector.totals.circuit].filter(([, s]) => s === 'OPEN').map(([n]) => n);
        return open.length > 0 ? { value: open.length, message: `circuit open: ${open.join(', ')}` } : undefined;
      }
      case 'memory_above': {
        const info = await this.analytics.redisInfo();
        const v = info?.memoryPercent;
        return v !== undefined && v > r.threshold ? { value: v, message: `Redis memory ${v.toFixed(1)} % of maxmemory (${info!.usedMemory} / ${info!.maxMemory} bytes) above ${r.threshold} %` } : undefined;
      }
      case 'p99_above': {
        const idx = r.source === 'l1' ? 0 : r.source === 'l2' ? 1 : 2;
        const h = c.hist?.[idx];
        const hb = b.hist?.[idx];
        if (!h) return undefined;
        const w = hb ? h.minus(hb) : h;
        if (w.count < r.minRequests) return undefined;
        const v = w.percentile(99);
        return v > r.threshold ? { value: v, message: `${r.source} p99 ${v.toFixed(1)} ms above ${r.threshold} ms (${w.count} samples in ${win})` } : undefined;
      }
    }
  }

  private notify(a: Alert): void {
    const hook = this.webhook;
    if (hook === undefined) return;
    const p = deliver(hook, slackBody(a), a.deliveries).then((ok) => {
      a.delivered = ok;
      if (!ok) this.deliveryFailures++;
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Waits for the notifications in flight. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Marks an alert acknowledged (it still resolves on its own). False when the id is unknown. */
  acknowledge(id: string, by = 'unknown'): boolean {
    const a = this.history.find((x) => x.id === id);
    if (!a) return false;
    if (a.acknowledgedAt === undefined) {
      a.acknowledgedAt = Date.now();
      a.acknowledgedBy = by;
    }
    return true;
  }

  /** Firing alerts. */
  activeAlerts(): Alert[] {
    return [...this.active.values()];
  }

  /** Newest first, at most `limit`. */
  alertHistory(limit = 100): Alert[] {
    return this.history.slice(-limit).reverse();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

const pct = (v: number): string => `${(v * 100).toFixed(1)} %`;

/** A windowed rule over the minute buckets of every instance (`scope: 'shared'`). */
function sharedCheck(r: AlertRule, a: Aggregate, spanMs: number): { value: number; message: string } | undefined {
  const win = `${Math.round(spanMs / 1000)} s, all instances`;
  switch (r.type) {
    case 'hit_rate_below': {
      if (a.requests < r.minRequests) return undefined;
      const v = a.hits / a.requests;
      return v < r.threshold ? { value: v, message: `hit rate ${pct(v)} below ${pct(r.threshold)} (${a.requests} reads in ${win})` } : undefined;
    }
    case 'origin_error_rate_above': {
      const calls = a.originCalls + a.originErrors;
      if (calls < r.minRequests) return undefined;
      const v = a.originErrors / calls;
      return v > r.threshold ? { value: v, message: `origin error rate ${pct(v)} above ${pct(r.threshold)} (${calls} calls in ${win})` } : undefined;
    }
    case 'invalidation_rate_above': {
      const v = a.invalidations / (Math.max(spanMs, 1_000) / 60_000);
      return v > r.threshold ? { value: v, message: `${v.toFixed(1)} invalidations/min above ${r.threshold}/min (over ${win})` } : undefined;
    }
    case 'p99_above': {
      const p: Percentiles = a.latency[r.source];
      if (p.count < r.minRequests) return undefined;
      return p.p99 > r.threshold ? { value: p.p99, message: `${r.source} p99 ${p.p99.toFixed(1)} ms above ${r.threshold} ms (${p.count} samples in ${win})` } : undefined;
    }
    default:
      return undefined;
  }
}
