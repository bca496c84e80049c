// Live progress while a run goes: a cli-progress bar on a TTY (throughput, hit rate, p99, errors),
// one plain line per second otherwise (CI logs, pipes), nothing with --quiet.
import { SingleBar } from 'cli-progress';
import type { Recorder } from './recorder';

export interface Progress {
  start(): void;
  stop(): void;
}

export interface ProgressOptions {
  scenario: string;
  maxRequests: number;
  durationMs: number;
  tty?: boolean;
  quiet?: boolean;
  write?: (line: string) => void;
}

function snapshot(rec: Recorder, last: { t: number; n: number }): { rps: number; hit: string; p99: string; errors: number } {
  const now = performance.now();
  const dt = Math.max(1, now - last.t);
  const rps = Math.round(((rec.requests - last.n) * 1000) / dt);
  last.t = now;
  last.n = rec.requests;
  const hr = rec.hitRate();
  return { rps, hit: hr === null ? '–' : `${(hr * 100).toFixed(1)}%`, p99: rec.p99Ms().toFixed(1), errors: rec.errors };
}

export function createProgress(rec: Recorder, opts: ProgressOptions): Progress {
  if (opts.quiet) return { start() {}, stop() {} };
  const tty = opts.tty ?? process.stderr.isTTY === true;
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const fraction = (): number => Math.min(1, Math.max(rec.requests / opts.maxRequests, rec.elapsedMs() / opts.durationMs));
  const last = { t: performance.now(), n: 0 };
  let timer: NodeJS.Timeout | undefined;
  if (tty) {
    const bar = new SingleBar({
      format: `${opts.scenario} [{bar}] {percentage}% | {requests} req | {rps} req/s | hit {hit} | p99 {p99} ms | errors {errors}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      barsize: 24,
    });
    return {
      start() {
        bar.start(1000, 0, { requests: 0, rps: 0, hit: '–', p99: '0.0', errors: 0 });
        timer = setInterval(() => bar.update(Math.round(fraction() * 1000), { requests: rec.requests, ...snapshot(rec, last) }), 250);
        timer.unref();
      },
      stop() {
        if (timer) clearInterval(timer);
        bar.update(Math.round(fraction() * 1000), { requests: rec.requests, ...snapshot(rec, last) });
        bar.stop();
      },
    };
  }
  const line = (): void => {
    const s = snapshot(rec, last);
    write(`${opts.scenario} ${(fraction() * 100).toFixed(0)}% ${rec.requests} req ${s.rps} req/s hit ${s.hit} p99 ${s.p99} ms errors ${s.errors}`);
  };
  return {
    start() {
      timer = setInterval(line, 1000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      line();
    },
  };
}
