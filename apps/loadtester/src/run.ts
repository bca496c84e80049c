// Runs one scenario end to end: recorder + progress around the measured load, then the report
// (JSON, HTML, PNG) in --out. Returns the report; the CLI turns its check into the exit code.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runLoad, type LoadMode } from './driver';
import type { RunOptions } from './options';
import { createProgress, type Progress } from './progress';
import { Recorder } from './recorder';
import type { Scenario, ScenarioContext } from './scenario';
import { buildReport, type Report } from './report/report';
import { renderHtml } from './report/html';
import { latencyPng } from './report/png';

export interface RunResult {
  report: Report;
  files: { json: string; html?: string; png?: string };
}

export interface RunHooks {
  log?: (line: string) => void;
  /** Forces the progress style (tests); default: a bar when stderr is a TTY. */
  tty?: boolean;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
}

export async function runScenario(scenario: Scenario, options: RunOptions, hooks: RunHooks = {}): Promise<RunResult> {
  const log = hooks.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const startedAt = new Date();
  let rec = new Recorder(options.intervalMs);
  let progress: Progress | undefined;
  let loads = 0;
  const ctx: ScenarioContext = {
    options,
    get rec() {
      return rec;
    },
    log: options.quiet ? () => undefined : log,
    async load(op, overrides = {}) {
      if (loads++ > 0) throw new Error('a scenario measures one load');
      const mode: LoadMode = overrides.mode ?? (options.rate !== undefined ? { kind: 'rate', rate: options.rate } : { kind: 'concurrency', concurrency: options.concurrency });
      const maxRequests = overrides.maxRequests ?? options.requests;
      const durationMs = overrides.durationMs ?? options.durationMs;
      rec = new Recorder(options.intervalMs);
      progress = createProgress(rec, { scenario: scenario.name, maxRequests, durationMs, quiet: options.quiet, ...(hooks.tty !== undefined ? { tty: hooks.tty } : {}), write: log });
      rec.start();
      progress.start();
      try {
        return await runLoad({ mode, maxRequests, durationMs }, op, rec);
      } finally {
        rec.stop();
        progress.stop();
      }
    },
  };
  try {
    const outcome = await scenario.run(ctx);
    const report = buildReport(scenario.name, startedAt, options, rec, outcome);
    const dir = path.resolve(options.out);
    await mkdir(dir, { recursive: true });
    const base = path.join(dir, `${scenario.name}-${stamp(startedAt)}`);
    const files: RunResult['files'] = { json: `${base}.json` };
    await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
    if (options.html) {
      files.html = `${base}.html`;
      await writeFile(files.html, renderHtml(report));
    }
    if (options.png) {
      files.png = `${base}.png`;
      await writeFile(files.png, latencyPng(report));
    }
    return { report, files };
  } finally {
    rec.destroy();
  }
}
