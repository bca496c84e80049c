// The run's report: every figure the JSON, the HTML page and the terminal summary show.
import type { LatencySummary, Recorder, SeriesPoint } from '../recorder';
import type { RunOptions } from '../options';
import type { Check, ScenarioOutcome } from '../scenario';

export interface Report {
  tool: 'stratacache-load';
  scenario: string;
  startedAt: string;
  target: string;
  mode: string;
  options: RunOptions;
  durationMs: number;
  requests: number;
  throughputRps: number;
  latencyMs: LatencySummary;
  hits: number;
  misses: number;
  hitRate: number | null;
  originCalls: number | null;
  reads: number;
  /** 100 × (1 − origin calls / reads); null when the origin count is unknown. */
  originCallsAvoidedPct: number | null;
  errors: number;
  errorsByType: Record<string, number>;
  series: SeriesPoint[];
  percentileCurve: { percentile: number; ms: number }[];
  check: Check;
  details: Record<string, unknown>;
}

export function modeLabel(o: RunOptions, scenario: string): string {
  if (scenario === 'stampede') return `burst of ${o.stampede}`;
  if (o.rate !== undefined || scenario === 'soak') return `open loop, ${o.rate ?? 100} req/s`;
  return `closed loop, ${o.concurrency} in flight`;
}

export function buildReport(scenario: string, startedAt: Date, options: RunOptions, rec: Recorder, out: ScenarioOutcome): Report {
  const durationMs = Math.round(rec.elapsedMs());
  const avoided = out.originCalls === null || out.reads === 0 ? null : Math.round(10000 * (1 - out.originCalls / out.reads)) / 100;
  return {
    tool: 'stratacache-load',
    scenario,
    startedAt: startedAt.toISOString(),
    target: out.target,
    mode: modeLabel(options, scenario),
    options,
    durationMs,
    requests: rec.requests,
    throughputRps: Math.round((rec.requests * 1000) / Math.max(1, durationMs)),
    latencyMs: rec.latency(),
    hits: rec.hits,
    misses: rec.misses,
    hitRate: rec.hitRate(),
    originCalls: out.originCalls,
    reads: out.reads,
    originCallsAvoidedPct: avoided,
    errors: rec.errors,
    errorsByType: { ...rec.errorsByType },
    series: rec.series,
    percentileCurve: rec.percentileCurve(),
    check: out.check,
    details: out.details,
  };
}

/** The fault window of a drill (redis-down, failover), ms since the run started; null otherwise. */
export function faultWindow(r: Report): { fromMs: number; toMs: number; label: string } | null {
  const d = r.details;
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  const down = num(d['downAtMs']);
  if (down !== undefined) return { fromMs: down, toMs: num(d['upAtMs']) ?? r.durationMs, label: 'Redis down' };
  const killed = num(d['killedAtMs']);
  if (killed !== undefined) return { fromMs: killed, toMs: killed + (num(d['outageMs']) ?? 0), label: 'master killed → outage' };
  return null;
}

/** The terminal summary; its last line is the verdict with the reason. */
export function summaryLines(r: Report): string[] {
  const l = r.latencyMs;
  const errs = Object.entries(r.errorsByType).map(([k, v]) => `${k} ×${v}`).join(', ');
  return [
    `scenario    ${r.scenario} (${r.mode}) → ${r.target}`,
    `requests    ${r.requests} in ${(r.durationMs / 1000).toFixed(1)} s = ${r.throughputRps} req/s`,
    `latency ms  p50 ${l.p50}  p95 ${l.p95}  p99 ${l.p99}  p99.9 ${l.p999}  max ${l.max}`,
    `hit rate    ${r.hitRate === null ? 'n/a' : `${(r.hitRate * 100).toFixed(1)}%`}   origin calls ${r.originCalls ?? 'n/a'}   avoided ${r.originCallsAvoidedPct === null ? 'n/a' : `${r.originCallsAvoidedPct}%`}`,
    `errors      ${r.errors}${errs ? ` (${errs})` : ''}`,
    `${r.check.passed ? 'PASS' : 'FAIL'}: ${r.check.reason}`,
  ];
}
