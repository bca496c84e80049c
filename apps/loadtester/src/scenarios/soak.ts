// soak: Zipf reads at a fixed --rate (open loop) for --minutes; reports memory (RSS, heap) and
// latency drift (median per-interval p99 of the last third of the run over the first third).
import type { SeriesPoint } from '../recorder';
import { demoKeyspace } from '../keyspace';
import { firstFailure, pct, stackOptions, type Scenario } from '../scenario';
import { startStack } from '../stack';
import { prng, zipfSampler } from '../zipf';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
};

export function drift(series: SeriesPoint[]): { p99Drift: number; p50Drift: number; heapGrowthMb: number; rssGrowthMb: number } {
  const pts = series.filter((p) => p.requests > 0);
  if (pts.length < 3) return { p99Drift: 1, p50Drift: 1, heapGrowthMb: 0, rssGrowthMb: 0 };
  const third = Math.max(1, Math.floor(pts.length / 3));
  const first = pts.slice(0, third);
  const last = pts.slice(-third);
  const ratio = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 100) / 100 : 1);
  return {
    p99Drift: ratio(median(last.map((p) => p.p99Ms)), median(first.map((p) => p.p99Ms))),
    p50Drift: ratio(median(last.map((p) => p.p50Ms)), median(first.map((p) => p.p50Ms))),
    heapGrowthMb: median(last.map((p) => p.heapMb)) - median(first.map((p) => p.heapMb)),
    rssGrowthMb: median(last.map((p) => p.rssMb)) - median(first.map((p) => p.rssMb)),
  };
}

export const soak: Scenario = {
  name: 'soak',
  summary: 'a fixed --rate for --minutes; reports memory and latency drift',
  checks: 'no failed request; p99 drift ≤ --max-drift; heap growth ≤ --max-heap-growth MB',
  defaults: { rate: 100, durationMs: 5 * 60_000 },
  async run(ctx) {
    const o = ctx.options;
    const stack = await startStack(stackOptions(o));
    try {
      const keys = demoKeyspace(o.keys);
      const pick = zipfSampler(keys.length, o.skew, prng(o.seed));
      const before = await stack.upstreamReads();
      const rate = o.rate ?? 100;
      await ctx.load(
        async (i) => {
          const k = keys[pick()]!;
          const r = await stack.call(i, k.tool, k.args);
          return r.ok ? { ok: true, source: r.source } : r;
        },
        { mode: { kind: 'rate', rate }, maxRequests: Math.min(o.requests, Math.ceil((rate * o.durationMs) / 1000)) },
      );
      const after = await stack.upstreamReads();
      const rec = ctx.rec;
      const d = drift(rec.series);
      const failure = firstFailure([
        [rec.errors === 0, `${rec.errors} request(s) failed`],
        [d.p99Drift <= o.maxDrift, `p99 drifted ×${d.p99Drift} (> --max-drift ${o.maxDrift})`],
        [d.heapGrowthMb <= o.maxHeapGrowthMb, `heap grew ${d.heapGrowthMb} MB (> --max-heap-growth ${o.maxHeapGrowthMb})`],
      ]);
      return {
        target: stack.mcpUrl,
        originCalls: before !== null && after !== null ? after - before : rec.misses,
        reads: rec.requests,
        check: failure ? { passed: false, reason: failure } : { passed: true, reason: `0 errors at ${rate} req/s; p99 drift ×${d.p99Drift}, heap ${d.heapGrowthMb >= 0 ? '+' : ''}${d.heapGrowthMb} MB (hit rate ${pct(rec.hitRate())})` },
        details: { rate, ...d },
      };
    } finally {
      await stack.close();
    }
  },
};
