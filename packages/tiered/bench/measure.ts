/**
 * The bench's measuring loops, shared by the main process (stratacache and the raw baselines) and
 * the peer process (`peer-host.ts`: BentoCache, cache-manager), so every contender is measured by
 * the same code.
 */

/** The value of the hit sections (a small object). */
export const HIT_VALUE = { id: 1, name: 'widget', tags: ['a', 'b'], price: 9.99 };
/** The value of the miss sections: ≈ 1 KB of JSON. */
export const MISS_VALUE = { id: 1, items: Array.from({ length: 16 }, (_, i) => ({ i, name: `item-${i}`, note: 'x'.repeat(32) })) };

/** Sync loop throughput (ops/s), best of 3 runs. */
export function syncOps(fn: (i: number) => unknown, ms: number): number {
  let best = 0;
  for (let r = 0; r < 3; r++) {
    let ops = 0;
    const end = performance.now() + ms / 3;
    let sink = 0;
    while (performance.now() < end) {
      for (let i = 0; i < 2_000; i++) if (fn(ops + i) !== undefined) sink++;
      ops += 2_000;
    }
    if (sink < 0) console.log(sink);
    best = Math.max(best, ops / (ms / 3 / 1000));
  }
  return best;
}

/** Async throughput with `inflight` concurrent loops (ops/s). */
export async function asyncOps(fn: (i: number) => Promise<unknown>, ms: number, inflight: number): Promise<number> {
  let ops = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: inflight }, async (_, w) => {
      let i = w;
      while (performance.now() < end) {
        for (let j = 0; j < 64; j++) {
          await fn(i);
          i += inflight;
          ops++;
        }
      }
    }),
  );
  return ops / ((performance.now() - t0) / 1000);
}

/** What one round of `inflight` concurrent loops did: its rate, its operations and this process's CPU (user + system, µs). */
export interface CpuRound {
  rate: number;
  ops: number;
  cpuUs: number;
}

/** `asyncOps` plus this process's CPU over the round. */
export async function cpuRound(fn: (i: number) => Promise<unknown>, ms: number, inflight: number): Promise<CpuRound> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const rate = await asyncOps(fn, ms, inflight);
  const c = process.cpuUsage(c0);
  return { rate, ops: (rate * (performance.now() - t0)) / 1000, cpuUs: c.user + c.system };
}

/** Latency of `n` sequential calls (µs each). */
export async function seqLatencies(fn: (i: number) => Promise<unknown>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push((performance.now() - t0) * 1000);
  }
  return out;
}

export const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};
