// Command-line options of every scenario: names, defaults, parsing. One table, used by the CLI,
// the README and `--help`.
import { parseArgs } from 'node:util';

export interface RunOptions {
  rate: number | undefined;
  concurrency: number;
  requests: number;
  durationMs: number;
  sessions: number;
  keys: number;
  skew: number;
  seed: number;
  url: string | undefined;
  upstreamUrl: string | undefined;
  redis: string;
  upstreamLatencyMs: number;
  timeoutMs: number;
  intervalMs: number;
  out: string;
  html: boolean;
  png: boolean;
  quiet: boolean;
  minHitRate: number;
  minRps: number;
  writeRatio: number;
  webhookRatio: number;
  stampede: number;
  ttlMs: number;
  downCmd: string | undefined;
  upCmd: string | undefined;
  downAtMs: number | undefined;
  downForMs: number | undefined;
  topology: 'sentinel' | 'cluster';
  maxOutageMs: number;
  maxDrift: number;
  maxHeapGrowthMb: number;
}

/** Hard limits: every run is bounded in count and time. */
export const LIMITS = { requests: 10_000_000, durationMs: 24 * 3_600_000, sessions: 2_000, concurrency: 10_000, rate: 100_000, stampede: 100_000 } as const;

export const DEFAULTS: RunOptions = {
  rate: undefined,
  concurrency: 32,
  requests: 100_000,
  durationMs: 30_000,
  sessions: 16,
  keys: 200,
  skew: 1.1,
  seed: 1,
  url: undefined,
  upstreamUrl: undefined,
  redis: 'harness',
  upstreamLatencyMs: 20,
  timeoutMs: 10_000,
  intervalMs: 1_000,
  out: 'loadtest-results',
  html: true,
  png: true,
  quiet: false,
  minHitRate: 0.5,
  minRps: 0,
  writeRatio: 0.1,
  webhookRatio: 0.05,
  stampede: 1_000,
  ttlMs: 1_000,
  downCmd: undefined,
  upCmd: undefined,
  downAtMs: undefined,
  downForMs: undefined,
  topology: 'sentinel',
  maxOutageMs: 30_000,
  maxDrift: 3,
  maxHeapGrowthMb: 128,
};

export class UsageError extends Error {
  override name = 'UsageError';
}

/** '250ms', '30s', '2m', '1h' or a plain number of ms. */
export function parseDurationMs(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${what}: not a duration (e.g. 500ms, 30s, 2m): ${text}`);
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!);
}

function num(text: string, what: string, min: number, max: number, integer = false): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${what}: expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${text}`);
  }
  return n;
}

const spec = {
  rate: { type: 'string' },
  concurrency: { type: 'string', short: 'c' },
  requests: { type: 'string', short: 'n' },
  duration: { type: 'string', short: 'd' },
  minutes: { type: 'string' },
  sessions: { type: 'string' },
  keys: { type: 'string' },
  skew: { type: 'string' },
  seed: { type: 'string' },
  url: { type: 'string' },
  'upstream-url': { type: 'string' },
  redis: { type: 'string' },
  'upstream-latency': { type: 'string' },
  timeout: { type: 'string' },
  interval: { type: 'string' },
  out: { type: 'string', short: 'o' },
  'no-html': { type: 'boolean' },
  'no-png': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'min-hit-rate': { type: 'string' },
  'min-rps': { type: 'string' },
  'write-ratio': { type: 'string' },
  'webhook-ratio': { type: 'string' },
  stampede: { type: 'string' },
  ttl: { type: 'string' },
  'down-cmd': { type: 'string' },
  'up-cmd': { type: 'string' },
  'down-at': { type: 'string' },
  'down-for': { type: 'string' },
  topology: { type: 'string' },
  'max-outage': { type: 'string' },
  'max-drift': { type: 'string' },
  'max-heap-growth': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ParsedCommand {
  scenario: string | undefined;
  help: boolean;
  options: RunOptions;
}

export function parseCommand(argv: string[], scenarioDefaults: (name: string) => Partial<RunOptions> = () => ({})): ParsedCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: argv.filter((a) => a !== '--'), options: spec, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  const scenario = parsed.positionals[0];
  if (parsed.positionals.length > 1) throw new UsageError(`one scenario at a time, got: ${parsed.positionals.join(' ')}`);
  const o: RunOptions = { ...DEFAULTS, ...(scenario ? scenarioDefaults(scenario) : {}) };
  if (v.rate !== undefined) o.rate = num(v.rate, '--rate', 0.001, LIMITS.rate);
  if (v.concurrency !== undefined) o.concurrency = num(v.concurrency, '--concurrency', 1, LIMITS.concurrency, true);
  if (v.requests !== undefined) o.requests = num(v.requests, '--requests', 1, LIMITS.requests, true);
  if (v.duration !== undefined) o.durationMs = parseDurationMs(v.duration, '--duration');
  if (v.minutes !== undefined) o.durationMs = Math.round(num(v.minutes, '--minutes', 0.001, 24 * 60) * 60_000);
  if (o.durationMs < 1 || o.durationMs > LIMITS.durationMs) throw new UsageError(`--duration: at most 24h`);
  if (v.sessions !== undefined) o.sessions = num(v.sessions, '--sessions', 1, LIMITS.sessions, true);
  if (v.keys !== undefined) o.keys = num(v.keys, '--keys', 1, 1_000_000, true);
  if (v.skew !== undefined) o.skew = num(v.skew, '--skew', 0, 10);
  if (v.seed !== undefined) o.seed = num(v.seed, '--seed', 0, 2 ** 31, true);
  if (v.url !== undefined) o.url = v.url;
  if (v['upstream-url'] !== undefined) o.upstreamUrl = v['upstream-url'];
  if (v.redis !== undefined) o.redis = v.redis;
  if (v['upstream-latency'] !== undefined) o.upstreamLatencyMs = parseDurationMs(v['upstream-latency'], '--upstream-latency');
  if (v.timeout !== undefined) o.timeoutMs = parseDurationMs(v.timeout, '--timeout');
  if (v.interval !== undefined) o.intervalMs = Math.max(50, parseDurationMs(v.interval, '--interval'));
  if (v.out !== undefined) o.out = v.out;
  if (v['no-html']) o.html = false;
  if (v['no-png']) o.png = false;
  if (v.quiet) o.quiet = true;
  if (v['min-hit-rate'] !== undefined) o.minHitRate = num(v['min-hit-rate'], '--min-hit-rate', 0, 1);
  if (v['min-rps'] !== undefined) o.minRps = num(v['min-rps'], '--min-rps', 0, LIMITS.rate);
  if (v['write-ratio'] !== undefined) o.writeRatio = num(v['write-ratio'], '--write-ratio', 0, 1);
  if (v['webhook-ratio'] !== undefined) o.webhookRatio = num(v['webhook-ratio'], '--webhook-ratio', 0, 1);
  if (v.stampede !== undefined) o.stampede = num(v.stampede, '--stampede', 1, LIMITS.stampede, true);
  if (v.ttl !== undefined) o.ttlMs = parseDurationMs(v.ttl, '--ttl');
  if (v['down-cmd'] !== undefined) o.downCmd = v['down-cmd'];
  if (v['up-cmd'] !== undefined) o.upCmd = v['up-cmd'];
  if (v['down-at'] !== undefined) o.downAtMs = parseDurationMs(v['down-at'], '--down-at');
  if (v['down-for'] !== undefined) o.downForMs = parseDurationMs(v['down-for'], '--down-for');
  if (v.topology !== undefined) {
    if (v.topology !== 'sentinel' && v.topology !== 'cluster') throw new UsageError(`--topology: sentinel or cluster, got ${v.topology}`);
    o.topology = v.topology;
  }
  if (v['max-outage'] !== undefined) o.maxOutageMs = parseDurationMs(v['max-outage'], '--max-outage');
  if (v['max-drift'] !== undefined) o.maxDrift = num(v['max-drift'], '--max-drift', 1, 1000);
  if (v['max-heap-growth'] !== undefined) o.maxHeapGrowthMb = num(v['max-heap-growth'], '--max-heap-growth', 0, 1_000_000);
  return { scenario, help: v.help === true, options: o };
}
