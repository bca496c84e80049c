// zipf: cached reads of the demo CRM, keys picked with a Zipf distribution (a few hot keys, a long
// tail), over many MCP sessions; open loop with --rate, closed loop with --concurrency.
import { demoKeyspace } from '../keyspace';
import { firstFailure, pct, stackOptions, type Scenario } from '../scenario';
import { startStack } from '../stack';
import { prng, zipfSampler } from '../zipf';

export const zipf: Scenario = {
  name: 'zipf',
  summary: 'Zipf-distributed cached reads (--keys, --skew) over --sessions MCP sessions',
  checks: 'no failed request; hit rate ≥ --min-hit-rate; throughput ≥ --min-rps (when set)',
  async run(ctx) {
    const o = ctx.options;
    const stack = await startStack(stackOptions(o));
    try {
      const keys = demoKeyspace(o.keys);
      const pick = zipfSampler(keys.length, o.skew, prng(o.seed));
      const before = await stack.upstreamReads();
      await ctx.load(async (i) => {
        const k = keys[pick()]!;
        return stack.call(i, k.tool, k.args);
      });
      const after = await stack.upstreamReads();
      const rec = ctx.rec;
      const origin = before !== null && after !== null ? after - before : rec.misses;
      const rps = (rec.requests * 1000) / Math.max(1, rec.elapsedMs());
      const hr = rec.hitRate();
      const failure = firstFailure([
        [rec.errors === 0, `${rec.errors} request(s) failed`],
        [(hr ?? 0) >= o.minHitRate, `hit rate ${pct(hr)} < --min-hit-rate ${pct(o.minHitRate)}`],
        [rps >= o.minRps, `throughput ${rps.toFixed(0)} req/s < --min-rps ${o.minRps}`],
      ]);
      return {
        target: stack.mcpUrl,
        originCalls: origin,
        reads: rec.requests,
        check: failure ? { passed: false, reason: failure } : { passed: true, reason: `0 errors, hit rate ${pct(hr)}, ${rps.toFixed(0)} req/s` },
        details: { keys: keys.length, skew: o.skew },
      };
    } finally {
      await stack.close();
    }
  },
};
