import { AnalyticsConfigError } from './errors';
import { durationOpt, numOpt } from './options';

export type AlertSeverity = 'info' | 'warning' | 'critical';
export type AlertRuleType = 'hit_rate_below' | 'breaker_open' | 'invalidation_rate_above' | 'memory_above' | 'origin_error_rate_above' | 'p99_above';

/** One rule as configured (JSON-friendly; durations in ms or strings like `'5m'`). */
export interface AlertRuleConfig {
  type: AlertRuleType;
  /** Default `<type>` (`<type>#<n>` when a type repeats). */
  id?: string;
  severity?: AlertSeverity;
  /** Window the rate is measured over. Default 5 min. */
  window?: number | string;
  /** After an alert resolved, the same rule does not fire again for this long. Default 15 min. */
  cooldown?: number | string;
  /** hit_rate_below / origin_error_rate_above: a fraction 0..1. */
  threshold?: number;
  /** hit_rate_below (default 100), origin_error_rate_above / p99_above (default 20): reads needed in the window. */
  minRequests?: number;
  /** invalidation_rate_above: invalidations per minute. */
  perMinute?: number;
  /** memory_above: % of Redis maxmemory. */
  percent?: number;
  /** p99_above: milliseconds. */
  ms?: number;
  /** p99_above: which latency. Default `'origin'`. */
  source?: 'origin' | 'l2' | 'l1';
  /**
   * hit_rate_below, invalidation_rate_above, origin_error_rate_above, p99_above: what the window is
   * measured on. `'local'` (default): this process's counters, exact window. `'shared'`: the
   * per-minute buckets in Redis summed over every instance (this one flushes first), the window
   * rounded out to whole minutes.
   */
  scope?: AlertScope;
}

export type AlertScope = 'local' | 'shared';

/** A validated rule. */
export interface AlertRule {
  id: string;
  type: AlertRuleType;
  severity: AlertSeverity;
  windowMs: number;
  cooldownMs: number;
  threshold: number;
  minRequests: number;
  source: 'origin' | 'l2' | 'l1';
  scope: AlertScope;
}

export const ALERT_RULE_DEFAULTS = { windowMs: 300_000, cooldownMs: 900_000, severity: 'warning' as AlertSeverity, scope: 'local' as AlertScope };
/** Rules measured over a window of counters (the ones with a `scope`). */
const WINDOWED: AlertRuleType[] = ['hit_rate_below', 'invalidation_rate_above', 'origin_error_rate_above', 'p99_above'];

const TYPES: AlertRuleType[] = ['hit_rate_below', 'breaker_open', 'invalidation_rate_above', 'memory_above', 'origin_error_rate_above', 'p99_above'];
const KNOWN = new Set(['type', 'id', 'severity', 'window', 'cooldown', 'threshold', 'minRequests', 'perMinute', 'percent', 'ms', 'source', 'scope']);

/** Validates a rule list (e.g. parsed from JSON). Throws {@link AnalyticsConfigError} naming the rule and field. */
export function parseAlertRules(input: unknown, path = 'rules'): AlertRule[] {
  if (!Array.isArray(input)) throw new AnalyticsConfigError(path, 'must be an array of rules, e.g. [{ "type": "hit_rate_below", "threshold": 0.8 }]');
  const ids = new Set<string>();
  return input.map((raw, i) => {
    const p = `${path}[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new AnalyticsConfigError(p, 'must be an object');
    const r = raw as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!KNOWN.has(k)) throw new AnalyticsConfigError(`${p}.${k}`, `unknown field (known: ${[...KNOWN].join(', ')})`);
    const type = r.type as AlertRuleType;
    if (!TYPES.includes(type)) throw new AnalyticsConfigError(`${p}.type`, `must be one of ${TYPES.join(', ')}, got ${JSON.stringify(r.type)}`);
    const severity = (r.severity ?? ALERT_RULE_DEFAULTS.severity) as AlertSeverity;
    if (!['info', 'warning', 'critical'].includes(severity)) throw new AnalyticsConfigError(`${p}.severity`, 'must be info, warning or critical');
    if (r.id !== undefined && (typeof r.id !== 'string' || r.id.length === 0)) throw new AnalyticsConfigError(`${p}.id`, 'must be a non-empty string');
    let id: string = r.id === undefined ? type : (r.id);
    if (r.id === undefined) for (let n = 2; ids.has(id); n++) id = `${type}#${n}`;
    if (ids.has(id)) throw new AnalyticsConfigError(`${p}.id`, `duplicate rule id ${JSON.stringify(id)}`);
    ids.add(id);
    const need = (field: string, min: number, max = Infinity): number => {
      if (r[field] === undefined) throw new AnalyticsConfigError(`${p}.${field}`, `is required for ${type}`);
      const v = numOpt(r[field], `${p}.${field}`, 0, min);
      if (v > max) throw new AnalyticsConfigError(`${p}.${field}`, `must be <= ${max}, got ${v}`);
      return v;
    };
    let threshold = 0;
    let minRequests = 0;
    if (type === 'hit_rate_below' || type === 'origin_error_rate_above') {
      threshold = need('threshold', 0, 1);
      minRequests = numOpt(r.minRequests, `${p}.minRequests`, type === 'hit_rate_below' ? 100 : 20);
    } else if (type === 'invalidation_rate_above') threshold = need('perMinute', 0);
    else if (type === 'memory_above') threshold = need('percent', 0, 100);
    else if (type === 'p99_above') {
      threshold = need('ms', 0);
      minRequests = numOpt(r.minRequests, `${p}.minRequests`, 20);
    }
    const source = (r.source ?? 'origin') as AlertRule['source'];
    if (!['origin', 'l2', 'l1'].includes(source)) throw new AnalyticsConfigError(`${p}.source`, 'must be origin, l2 or l1');
    const scope = (r.scope ?? ALERT_RULE_DEFAULTS.scope) as AlertScope;
    if (scope !== 'local' && scope !== 'shared') throw new AnalyticsConfigError(`${p}.scope`, `must be 'local' or 'shared', got ${JSON.stringify(r.scope)}`);
    if (r.scope !== undefined && !WINDOWED.includes(type)) throw new AnalyticsConfigError(`${p}.scope`, `only for ${WINDOWED.join(', ')}`);
    return {
      id,
      type,
      severity,
      windowMs: durationOpt(r.window, `${p}.window`, ALERT_RULE_DEFAULTS.windowMs),
      cooldownMs: durationOpt(r.cooldown, `${p}.cooldown`, ALERT_RULE_DEFAULTS.cooldownMs),
      threshold,
      minRequests,
      source,
      scope,
    };
  });
}
