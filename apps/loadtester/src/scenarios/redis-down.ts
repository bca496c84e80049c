// redis-down: steady reads while Redis is stopped at --down-at and started again --down-for later
// (through the test harness's handle, or --down-cmd / --up-cmd for a Redis this tool did not
// start). A fail-safe cache answers every request from the origin meanwhile: one failure fails.
import { demoKeyspace } from '../keyspace';
import { runCommand, sleep } from '../fault';
import { firstFailure, pct, stackOptions, type Scenario } from '../scenario';
import { startStack } from '../stack';
import { prng, zipfSampler } from '../zipf';

export const redisDown: Scenario = {
  name: 'redis-down',
  summary: 'stops Redis at --down-at for --down-for mid-run (harness, or --down-cmd/--up-cmd)',
  checks: 'no failed request (reads fall back to the origin while Redis is down)',
  async run(ctx) {
    const o = ctx.options;
    const external = o.downCmd !== undefined || o.upCmd !== undefined;
    if (external && !(o.downCmd && o.upCmd)) throw new Error('redis-down: give both --down-cmd and --up-cmd');
    if (!external && o.redis !== 'harness') throw new Error('redis-down: without --down-cmd/--up-cmd it needs --redis harness (the default) to stop and restart Redis');
    const stack = await startStack(stackOptions(o));
    const downAt = o.downAtMs ?? Math.round(o.durationMs / 3);
    const downFor = o.downForMs ?? Math.round(o.durationMs / 3);
    const t0 = performance.now();
    const marks: { downAtMs?: number; upAtMs?: number; backAtMs?: number } = {};
    try {
      const keys = demoKeyspace(o.keys);
      const pick = zipfSampler(keys.length, o.skew, prng(o.seed));
      const before = await stack.upstreamReads();
      const drill = (async () => {
        await sleep(downAt);
        marks.downAtMs = Math.round(performance.now() - t0);
        if (external) await runCommand(o.downCmd!);
        else await stack.redis!.stop();
        ctx.log(`redis-down: Redis stopped at ${marks.downAtMs} ms`);
        await sleep(downFor);
        if (external) await runCommand(o.upCmd!);
        else await stack.redis!.restart();
        marks.upAtMs = Math.round(performance.now() - t0);
        ctx.log(`redis-down: Redis started again at ${marks.upAtMs} ms`);
      })();
      const [, result] = await Promise.all([
        drill,
        ctx.load(async (i) => {
          const k = keys[pick()]!;
          const r = await stack.call(i, k.tool, k.args);
          return r.ok ? { ok: true, source: r.source } : r;
        }),
      ]);
      const after = await stack.upstreamReads();
      const rec = ctx.rec;
      const failure = firstFailure([
        [marks.upAtMs !== undefined && marks.upAtMs <= rec.elapsedMs() + 1000, `the run ended before Redis came back (raise --duration or lower --down-at/--down-for)`],
        [rec.errors === 0, `${rec.errors} request(s) failed while Redis was stopped and restarted`],
      ]);
      return {
        target: stack.mcpUrl,
        originCalls: before !== null && after !== null ? after - before : rec.misses,
        reads: rec.requests,
        check: failure ? { passed: false, reason: failure } : { passed: true, reason: `0 of ${result.sent} requests failed across a ${downFor} ms Redis outage (hit rate ${pct(rec.hitRate())})` },
        details: { ...marks, downForMs: downFor, via: external ? 'command' : 'harness' },
      };
    } finally {
      await stack.close();
    }
  },
};
