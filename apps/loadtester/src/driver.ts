// Drives one operation under load, bounded in count AND time, in one of two modes:
// - rate (open loop): request i is due at start + i/rate; its latency is measured from that
//   intended send time, so a stall shows up in every request that should have been sent during
//   it (no coordinated omission). In-flight requests are capped (`maxInFlight`); a request that
//   waits for a slot still counts its wait.
// - concurrency (closed loop): N workers, each sends its next request when the previous answered.
import { errorType, type Outcome, type Recorder } from './recorder';

export type LoadMode = { kind: 'rate'; rate: number; maxInFlight?: number } | { kind: 'concurrency'; concurrency: number };

export interface LoadSpec {
  mode: LoadMode;
  /** Hard cap on requests sent. */
  maxRequests: number;
  /** Hard cap on wall time for sending, ms (in-flight requests are then awaited, up to drainMs). */
  durationMs: number;
  /** How long to wait for in-flight requests after the end; default 10 s. */
  drainMs?: number;
  signal?: AbortSignal;
}

/** op(i) performs request number i and says what happened; a throw counts as an error. */
export type Operation = (i: number) => Promise<Outcome>;

export interface LoadResult {
  sent: number;
  /** Requests still unanswered when the drain timed out (counted as errors "unanswered"). */
  unanswered: number;
  stoppedBy: 'count' | 'time' | 'signal';
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function once(op: Operation, i: number, intendedAt: number, rec: Recorder): Promise<void> {
  let outcome: Outcome;
  try {
    outcome = await op(i);
  } catch (err) {
    outcome = { ok: false, errorType: errorType(err) };
  }
  rec.record(performance.now() - intendedAt, outcome);
}

export async function runLoad(spec: LoadSpec, op: Operation, rec: Recorder): Promise<LoadResult> {
  if (!(spec.maxRequests >= 1) || !Number.isFinite(spec.maxRequests)) throw new RangeError('maxRequests must be a finite number ≥ 1');
  if (!(spec.durationMs > 0) || !Number.isFinite(spec.durationMs)) throw new RangeError('durationMs must be a finite number > 0');
  const start = performance.now();
  const deadline = start + spec.durationMs;
  const inflight = new Set<Promise<void>>();
  let sent = 0;
  let stoppedBy: LoadResult['stoppedBy'] = 'count';
  const track = (p: Promise<void>): void => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  if (spec.mode.kind === 'rate') {
    const { rate } = spec.mode;
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError('rate must be > 0');
    const cap = spec.mode.maxInFlight ?? 10_000;
    const gap = 1000 / rate;
    while (sent < spec.maxRequests) {
      if (spec.signal?.aborted) { stoppedBy = 'signal'; break; }
      const now = performance.now();
      if (now >= deadline) { stoppedBy = 'time'; break; }
      const due = start + sent * gap;
      if (due > now) {
        await sleep(Math.min(due - now, deadline - now));
        continue;
      }
      if (inflight.size >= cap) {
        await Promise.race(inflight);
        continue;
      }
      // send every request that is due by now (a timer tick can cover many at high rates)
      while (sent < spec.maxRequests && start + sent * gap <= now && inflight.size < cap) {
        track(once(op, sent, start + sent * gap, rec));
        sent++;
      }
      await Promise.resolve();
    }
  } else {
    const { concurrency } = spec.mode;
    if (!(concurrency >= 1) || !Number.isInteger(concurrency)) throw new RangeError('concurrency must be an integer ≥ 1');
    const worker = async (): Promise<void> => {
      for (;;) {
        if (sent >= spec.maxRequests) return;
        if (spec.signal?.aborted) { stoppedBy = 'signal'; return; }
        if (performance.now() >= deadline) { stoppedBy = 'time'; return; }
        const i = sent++;
        await once(op, i, performance.now(), rec);
      }
    };
    track(Promise.all(Array.from({ length: concurrency }, worker)).then(() => undefined));
  }

  const drainMs = spec.drainMs ?? 10_000;
  let unanswered = 0;
  const drained = await Promise.race([Promise.all(inflight).then(() => true), sleep(drainMs).then(() => false)]);
  if (!drained) {
    unanswered = inflight.size;
    for (let k = 0; k < unanswered; k++) rec.record(drainMs, { ok: false, errorType: 'unanswered' });
  }
  return { sent, unanswered, stoppedBy };
}
