// stampede: one key, just expired, asked by --stampede (1000) requests at once over every session.
// The demo upstream's call counter says how many reached the origin: more than one fails.
// In process, the warm-up read is cached with get_job's TTL set to --ttl (grace 0, so nothing
// stale can be served); the TTL is then raised to 10 minutes (the runner reads the manifest it was
// given on every call), so the refill made by the burst cannot expire again while the burst runs.
// Against --url the scenario waits --ttl after the warm-up read, so pass the tool's TTL there.
import type { CompiledTool } from '@stratacache/mcp-gateway';
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
    let tool: CompiledTool | undefined;
    const stack = await startStack(
      stackOptions(o, {
        manifest: (m) => {
          tool = m.tools.find((t) => t.name === KEY.tool);
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
      if (tool) tool.ttlMs = 10 * 60_000;
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
        details: { concurrent: o.stampede, ttlMs: o.ttlMs, burstMs: Math.round(rec.elapsedMs()), originCalls: origin, upstreamCounter: before !== null, servedFromOrigin: rec.misses },
      };
    } finally {
      await stack.close();
    }
  },
};
