// stampede: one key, just expired, asked by --stampede (1000) requests at once over every session.
// The demo upstream's call counter says how many reached the origin: more than one fails.
// In process, get_job's TTL is set to --ttl (grace 0, so nothing stale can be served); against
// --url the scenario waits --ttl after the warm-up read, so pass the tool's TTL there.
import { firstFailure, stackOptions, type Scenario } from '../scenario';
import { startStack } from '../stack';

const KEY = { tool: 'get_job', args: { id: 'job-1' } };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const stampede: Scenario = {
  name: 'stampede',
  summary: '--stampede (1000) concurrent reads of one just-expired key; counts origin calls',
  checks: 'at most one origin call; no failed request',
  defaults: { upstreamLatencyMs: 300, sessions: 50 },
  async run(ctx) {
    const o = ctx.options;
    const stack = await startStack(
      stackOptions(o, {
        manifest: (m) => {
          const tool = m.tools.find((t) => t.name === KEY.tool);
          if (tool) {
            tool.ttlMs = o.ttlMs;
            tool.graceMs = 0;
          }
        },
      }),
    );
    try {
      // warm the key (and check the credential with the upstream), then let it expire
      const warm = await stack.call(0, KEY.tool, KEY.args);
      if (!warm.ok) throw new Error(`warm-up read failed: ${warm.errorType}`);
      await sleep(o.ttlMs + 100);
      const before = await stack.upstreamReads();
      await ctx.load(async (i) => {
        const r = await stack.call(i, KEY.tool, KEY.args);
        return r.ok ? { ok: true, source: r.source } : r;
      }, { mode: { kind: 'concurrency', concurrency: o.stampede }, maxRequests: o.stampede });
      const after = await stack.upstreamReads();
      const rec = ctx.rec;
      const origin = before !== null && after !== null ? after - before : rec.misses;
      const failure = firstFailure([
        [rec.errors === 0, `${rec.errors} request(s) failed`],
        [origin <= 1, `${origin} origin calls for ${rec.requests} concurrent requests on one expired key (at most 1 allowed)`],
      ]);
      return {
        target: stack.mcpUrl,
        originCalls: origin,
        reads: rec.requests,
        check: failure ? { passed: false, reason: failure } : { passed: true, reason: `${origin} origin call(s) for ${rec.requests} concurrent requests, 0 errors` },
        details: { concurrent: o.stampede, ttlMs: o.ttlMs, originCalls: origin, upstreamCounter: before !== null, servedFromOrigin: rec.misses },
      };
    } finally {
      await stack.close();
    }
  },
};
