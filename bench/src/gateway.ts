// Gateway cached tool call over HTTP (MCP Streamable HTTP, the SDK client): sequential p50/p99 and
// req/s at 64 in flight, against the in-process gateway + demo CRM over the bench's Redis.
import { Recorder, runLoad, startStack, DEMO_API_KEYS } from '@stratacache/loadtester/engine';
import type { Row } from './table';

export async function gatewayBench(redisUrl: string, seqCount: number, loadMs: number): Promise<Row[]> {
  const stack = await startStack({ redis: redisUrl, sessions: 16, upstreamLatencyMs: 50, apiKey: DEMO_API_KEYS.alice, requestTimeoutMs: 10_000 });
  try {
    const args = { id: 'job-1' };
    const warm = await stack.call(0, 'get_job', args);
    if (!warm.ok) throw new Error(`gateway warm-up failed: ${warm.errorType}`);
    const seq = new Recorder(1_000);
    await runLoad({ mode: { kind: 'concurrency', concurrency: 1 }, maxRequests: seqCount, durationMs: 30_000 }, (i) => stack.call(i, 'get_job', args), seq);
    seq.stop();
    const par = new Recorder(1_000);
    await runLoad({ mode: { kind: 'concurrency', concurrency: 64 }, maxRequests: 1_000_000, durationMs: loadMs }, (i) => stack.call(i, 'get_job', args), par);
    par.stop();
    const rps = (par.requests * 1000) / par.elapsedMs();
    const lat = seq.latency();
    if (seq.errors + par.errors > 0) throw new Error(`gateway bench: ${seq.errors + par.errors} failed calls`);
    if ((seq.hitRate() ?? 0) < 0.99) throw new Error('gateway bench: calls were not cache hits');
    seq.destroy();
    par.destroy();
    return [
      { bench: 'gateway cached tool call over HTTP, sequential p50', unit: 'ms', values: { stratacache: lat.p50 }, goal: 'info', pass: undefined },
      { bench: 'gateway cached tool call over HTTP, sequential p99', unit: 'ms', values: { stratacache: lat.p99 }, goal: 'info', pass: undefined },
      { bench: 'gateway cached tool call over HTTP, 64 in flight', unit: 'req/s', values: { stratacache: rps }, goal: '≥ 167 req/s (10K/min)', pass: rps >= 167 },
    ];
  } finally {
    await stack.close();
  }
}
