// stratacache-load <scenario> [options]: runs one scenario, prints the summary, writes the reports,
// exits 0 when the scenario's check passed, 1 when it failed, 2 on a usage error. The last line
// says why.
import { DEFAULTS, parseCommand, UsageError, type RunOptions } from './options';
import { runScenario } from './run';
import { findScenario, SCENARIOS } from './scenarios';
import { summaryLines } from './report/report';

export const OPTION_HELP: [string, string, (o: RunOptions) => string][] = [
  ['--rate <n>', 'open loop: n requests/s on a schedule, latency from the intended send time', (o) => (o.rate === undefined ? 'off (closed loop)' : String(o.rate))],
  ['-c, --concurrency <n>', 'closed loop: n requests in flight', (o) => String(o.concurrency)],
  ['-n, --requests <n>', 'at most n requests (hard cap)', (o) => String(o.requests)],
  ['-d, --duration <t>', 'at most this long (500ms, 30s, 2m; hard cap)', (o) => `${o.durationMs / 1000}s`],
  ['--minutes <m>', 'same as --duration in minutes (soak)', () => '–'],
  ['--sessions <n>', 'MCP sessions to spread requests over', (o) => String(o.sessions)],
  ['--keys <n>', 'distinct keys (demo CRM reads: up to 210)', (o) => String(o.keys)],
  ['--skew <s>', 'Zipf exponent (0 = uniform)', (o) => String(o.skew)],
  ['--seed <n>', 'PRNG seed (key picks repeat run to run)', (o) => String(o.seed)],
  ['--url <url>', 'MCP endpoint of a running gateway (loopback only); default: start one in process', () => 'in process'],
  ['--upstream-url <url>', 'that gateway\'s demo upstream, to read GET /__stats (origin calls)', () => '–'],
  ['--redis <harness|none|url>', 'Redis of the in-process gateway: start redis-server, embedded store, or a loopback URL', (o) => o.redis],
  ['--upstream-latency <t>', 'simulated latency of the in-process demo CRM', (o) => `${o.upstreamLatencyMs}ms`],
  ['--timeout <t>', 'per-request timeout', (o) => `${o.timeoutMs}ms`],
  ['--interval <t>', 'time-series bucket (charts, progress)', (o) => `${o.intervalMs}ms`],
  ['-o, --out <dir>', 'where JSON/HTML/PNG reports go', (o) => o.out],
  ['--no-html / --no-png', 'skip the HTML report / the PNG chart', () => 'both written'],
  ['-q, --quiet', 'no progress output', () => 'off'],
  ['--min-hit-rate <0..1>', 'zipf: fail below this hit rate', (o) => String(o.minHitRate)],
  ['--min-rps <n>', 'zipf: fail below this throughput (10K/min = 167)', (o) => String(o.minRps)],
  ['--write-ratio <0..1>', 'mixed: share of update_job writes', (o) => String(o.writeRatio)],
  ['--webhook-ratio <0..1>', 'mixed: share of signed job.updated webhooks (needs WEBHOOK_SECRET with --url)', (o) => String(o.webhookRatio)],
  ['--stampede <n>', 'stampede: concurrent requests on the expired key', (o) => String(o.stampede)],
  ['--ttl <t>', 'stampede: get_job TTL in process / wait before the burst with --url', (o) => `${o.ttlMs}ms`],
  ['--down-at <t> / --down-for <t>', 'redis-down, failover: when the fault starts / how long Redis stays down', () => 'duration/3 (failover: /4) / duration/3'],
  ['--down-cmd <sh> / --up-cmd <sh>', 'redis-down: commands that stop / start a Redis this tool did not start', () => '–'],
  ['--topology <sentinel|cluster>', 'failover: what the harness starts', (o) => o.topology],
  ['--max-outage <t>', 'failover: fail when the outage window is longer', (o) => `${o.maxOutageMs}ms`],
  ['--max-drift <x>', 'soak: fail when p99 of the last third / first third is higher', (o) => String(o.maxDrift)],
  ['--max-heap-growth <mb>', 'soak: fail when the heap grew more', (o) => String(o.maxHeapGrowthMb)],
];

export function helpText(): string {
  const lines = ['usage: stratacache-load <scenario> [options]', '', 'scenarios:'];
  for (const s of SCENARIOS) lines.push(`  ${s.name.padEnd(11)} ${s.summary}`, `  ${''.padEnd(11)} check: ${s.checks}`);
  lines.push('', 'options (default):');
  for (const [flag, what, def] of OPTION_HELP) lines.push(`  ${flag.padEnd(32)} ${what} (${def(DEFAULTS)})`);
  lines.push('', 'Every run is bounded by --requests and --duration and targets loopback only.', 'Exit code: 0 check passed, 1 check failed or run error, 2 usage error.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  let cmd;
  try {
    cmd = parseCommand(argv, (name) => findScenario(name)?.defaults ?? {});
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${helpText()}\n\nusage error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (cmd.help || !cmd.scenario) {
    process.stdout.write(`${helpText()}\n`);
    return cmd.help ? 0 : 2;
  }
  const scenario = findScenario(cmd.scenario);
  if (!scenario) {
    process.stderr.write(`usage error: unknown scenario "${cmd.scenario}" (one of: ${SCENARIOS.map((s) => s.name).join(', ')})\n`);
    return 2;
  }
  try {
    const { report, files } = await runScenario(scenario, cmd.options);
    const lines = summaryLines(report);
    const verdict = lines.pop()!;
    process.stdout.write(`${lines.join('\n')}\nreports     ${[files.json, files.html, files.png].filter(Boolean).join('  ')}\n${verdict}\n`);
    return report.check.passed ? 0 : 1;
  } catch (err) {
    process.stdout.write(`FAIL: ${scenario.name} could not run: ${(err as Error).message}\n`);
    return 1;
  }
}
