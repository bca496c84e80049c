// Timing primitives of the bench: throughput at N in flight for a fixed time, sequential latency
// percentiles for a fixed count. Every loop is bounded in count and time.

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** ops/s of `fn` with `inflight` calls outstanding, for `ms` (at most `maxOps` calls). */
export async function opsPerSec(fn: (i: number) => unknown, ms: number, inflight: number, maxOps = 5_000_000): Promise<number> {
  let i = 0;
  const start = performance.now();
  const deadline = start + ms;
  const worker = async (): Promise<void> => {
    while (i < maxOps) {
      // check the clock every 64 calls
      if ((i & 63) === 0 && performance.now() >= deadline) return;
      await fn(i++);
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  return (i * 1000) / (performance.now() - start);
}

/** p50 / p99 in µs of `count` sequential awaited calls (after `warm` unmeasured ones), bounded by `maxMs`. */
export async function seqLatency(fn: (i: number) => unknown, count: number, warm = Math.min(200, count), maxMs = 20_000): Promise<{ p50: number; p99: number; n: number }> {
  for (let i = 0; i < warm; i++) await fn(-1 - i);
  const xs: number[] = [];
  const deadline = performance.now() + maxMs;
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const t = performance.now();
    await fn(i);
    xs.push((performance.now() - t) * 1000);
  }
  xs.sort((a, b) => a - b);
  return { p50: percentile(xs, 50), p99: percentile(xs, 99), n: xs.length };
}

/** Runs each measurement `rounds` times, interleaved (A B C A B C …), and keeps each one's best. */
export async function interleaved(fns: (() => Promise<number>)[], rounds: number): Promise<number[]> {
  const best = fns.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < fns.length; k++) best[k] = Math.max(best[k]!, await fns[k]!());
  }
  return best;
}

export const fmtOps = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));
export const fmtUs = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`);
