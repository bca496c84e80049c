// mixed: Zipf reads, writes (update_job, which invalidates the job's tags) at --write-ratio, and
// signed `job.updated` webhooks straight to the gateway at --webhook-ratio. Every read of a job
// that no write touched while it ran must show the job's last written title (read-your-writes
// across sessions: an invalidation that did not land shows up as a stale read).
import { randomUUID } from 'node:crypto';
import { signWebhook } from '@stratacache/mcp-gateway';
import type { Outcome } from '../recorder';
import { errorType } from '../recorder';
import { DEMO_JOBS, demoKeyspace } from '../keyspace';
import { firstFailure, pct, stackOptions, type Scenario } from '../scenario';
import { startStack, WEBHOOK_SECRET } from '../stack';
import { prng, zipfSampler } from '../zipf';

export const mixed: Scenario = {
  name: 'mixed',
  summary: 'Zipf reads + update_job writes (--write-ratio) + signed webhooks (--webhook-ratio)',
  checks: 'no failed request; no stale read of a job after its write answered',
  async run(ctx) {
    const o = ctx.options;
    const stack = await startStack(stackOptions(o));
    try {
      const keys = demoKeyspace(o.keys);
      const random = prng(o.seed);
      const pick = zipfSampler(keys.length, o.skew, random);
      const pickJob = zipfSampler(DEMO_JOBS, o.skew, random);
      // per job: the last title whose write answered, and a counter of writes started
      const written = new Map<string, string>();
      const writesStarted = new Map<string, number>();
      const writesInFlight = new Map<string, number>();
      const webhookUrl = stack.mcpUrl.replace(/\/mcp\/?$/, '/webhooks/crm');
      const secret = o.url ? process.env['WEBHOOK_SECRET'] : WEBHOOK_SECRET;
      let writes = 0;
      let webhooks = 0;
      let reads = 0;
      let staleReads = 0;
      const before = await stack.upstreamReads();

      const write = async (i: number, id: string): Promise<Outcome> => {
        writes++;
        writesStarted.set(id, (writesStarted.get(id) ?? 0) + 1);
        writesInFlight.set(id, (writesInFlight.get(id) ?? 0) + 1);
        const title = `lt-${o.seed}-${i}`;
        const r = await stack.call(i, 'update_job', { id, title });
        writesInFlight.set(id, writesInFlight.get(id)! - 1);
        if (r.ok) written.set(id, title);
        return r.ok ? { ok: true } : r;
      };
      const webhook = async (id: string): Promise<Outcome> => {
        webhooks++;
        const body = JSON.stringify({ id: randomUUID(), event: 'job.updated', resource_type: 'job', resource_id: id, occurred_at: new Date().toISOString(), data: {} });
        try {
          const res = await fetch(webhookUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-signature': signWebhook(secret!, body) },
            body,
            signal: AbortSignal.timeout(o.timeoutMs),
          });
          await res.arrayBuffer();
          return res.ok ? { ok: true } : { ok: false, errorType: `webhook HTTP ${res.status}` };
        } catch (err) {
          return { ok: false, errorType: errorType(err) };
        }
      };
      const read = async (i: number): Promise<Outcome> => {
        reads++;
        const k = keys[pick()]!;
        const id = k.tool === 'get_job' ? String(k.args['id']) : undefined;
        // checked only when no write of this job was in flight when the read started or began meanwhile
        const expected = id && !writesInFlight.get(id) ? written.get(id) : undefined;
        const startedWrites = id ? writesStarted.get(id) : undefined;
        const r = await stack.call(i, k.tool, k.args);
        if (r.ok && id && expected !== undefined && writesStarted.get(id) === startedWrites && !r.text?.includes(expected)) staleReads++;
        return r.ok ? { ok: true, source: r.source } : r;
      };

      await ctx.load(async (i) => {
        const r = random();
        if (r < o.writeRatio) return write(i, `job-${pickJob() + 1}`);
        if (r < o.writeRatio + o.webhookRatio && secret) return webhook(`job-${pickJob() + 1}`);
        return read(i);
      });
      const after = await stack.upstreamReads();
      const rec = ctx.rec;
      const failure = firstFailure([
        [rec.errors === 0, `${rec.errors} request(s) failed`],
        [staleReads === 0, `${staleReads} stale read(s) after a write answered`],
      ]);
      return {
        target: stack.mcpUrl,
        originCalls: before !== null && after !== null ? after - before : rec.misses,
        reads,
        check: failure ? { passed: false, reason: failure } : { passed: true, reason: `0 errors, 0 stale reads over ${writes} writes and ${webhooks} webhooks, hit rate ${pct(rec.hitRate())}` },
        details: { reads, writes, webhooks, staleReads, webhookSecretKnown: secret !== undefined },
      };
    } finally {
      await stack.close();
    }
  },
};
