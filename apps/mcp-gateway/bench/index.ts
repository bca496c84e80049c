/**
 * Gateway benchmark (bounded, < 60 s): MCP reads through the gateway against the demo upstream
 * with realistic latency, on the embedded store and on a harness Redis.
 *
 *   pnpm --filter @stratacache/mcp-gateway bench
 *
 * Prints: origin (cold) vs cached (warm) read latency and their ratio, cached-read throughput,
 * and the end-to-end "upstream write -> signed webhook -> fresh read" latency.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startStandalone, stopAll } from '@stratacache/redis-harness';
import { createDemoUpstream } from '../src/demo-upstream';
import type { WebhookTarget } from '../src/demo-upstream';
import { loadConfig } from '../src/config';
import { createGateway } from '../src/gateway';
import { runHotPath } from './hot-path';

const KEY = 'demo-key-alice';
const SECRET = 'bench-webhook-secret-0123456789';
const N_KEYS = 30;
const N_WARM_ROUNDS = 5;
const N_WEBHOOK = 10;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const fmt = (ms: number): string => `${ms.toFixed(2)} ms`;

async function run(label: string, redisUrl: string | undefined): Promise<void> {
  const targets: WebhookTarget[] = [];
  const upstream = createDemoUpstream({ latency: { minMs: 150, maxMs: 300 }, webhookTargets: targets });
  await upstream.listen();
  const config = loadConfig({
    UPSTREAM_URL: upstream.url,
    WEBHOOK_SECRET: SECRET,
    KEY_SECRET: 'bench-key-secret-0123456789',
    LOG_LEVEL: 'error',
    CACHE_PREFIX: `gwbench${Date.now().toString(36)}`,
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
  });
  const gateway = await createGateway(config);
  const url = await gateway.listen(0, '127.0.0.1');
  targets.push({ url: `${url}/webhooks/crm`, secret: SECRET });
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { 'x-api-key': KEY } } }));
  const read = async (id: string): Promise<{ ms: number; text: string }> => {
    const t0 = performance.now();
    const r = (await client.callTool({ name: 'get_job', arguments: { id } })) as { content: { text: string }[] };
    return { ms: performance.now() - t0, text: r.content[0]?.text ?? '' };
  };
  try {
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 1; i <= N_KEYS; i++) cold.push((await read(`job-${i}`)).ms);
    for (let round = 0; round < N_WARM_ROUNDS; round++) for (let i = 1; i <= N_KEYS; i++) warm.push((await read(`job-${i}`)).ms);
    const originCalls = upstream.stats().byRoute['GET /jobs/:id'] ?? 0;

    // throughput of cached reads, 20 in flight
    const total = 600;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < total) {
          const i = (next++ % N_KEYS) + 1;
          await read(`job-${i}`);
        }
      }),
    );
    const rps = total / ((performance.now() - t0) / 1000);

    // upstream write -> signed webhook -> fresh read
    upstream.setLatency(0);
    const wh: number[] = [];
    for (let i = 0; i < N_WEBHOOK; i++) {
      const id = `job-${i + 1}`;
      await read(id);
      const title = `bench ${label} ${i} ${Date.now()}`;
      const t1 = performance.now();
      await fetch(`${upstream.url}/jobs/${id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY },
        body: JSON.stringify({ title }),
      });
      const deadline = Date.now() + 5000;
      for (;;) {
        if ((await read(id)).text.includes(title)) break;
        if (Date.now() > deadline) throw new Error('webhook invalidation not visible within 5 s');
      }
      wh.push(performance.now() - t1);
    }

    const coldP50 = pct(cold, 50);
    const warmP50 = pct(warm, 50);
    console.log(`\n[${label}] cache layer: ${gateway.cache.layer} on ${gateway.cache.storeKind}`);
    console.log(`  origin read (cold)   p50 ${fmt(coldP50)}  p95 ${fmt(pct(cold, 95))}   (${N_KEYS} reads, demo latency 150-300 ms)`);
    console.log(`  cached read (warm)   p50 ${fmt(warmP50)}  p95 ${fmt(pct(warm, 95))}  p99 ${fmt(pct(warm, 99))}   (${warm.length} reads)`);
    console.log(`  speed-up             ${(coldP50 / warmP50).toFixed(1)}x (origin p50 / cached p50)`);
    console.log(`  upstream GET /jobs/:id calls: ${originCalls} for ${N_KEYS + warm.length} reads`);
    console.log(`  cached reads/s       ${rps.toFixed(0)} (20 concurrent MCP calls, one session)`);
    console.log(`  write -> webhook -> fresh read   p50 ${fmt(pct(wh, 50))}  max ${fmt(Math.max(...wh))}   (${N_WEBHOOK} samples)`);
  } finally {
    await client.close();
    await gateway.close();
    await upstream.close();
  }
}

async function main(): Promise<void> {
  await runHotPath();
  if (process.argv.includes('--hot')) return;
  await run('embedded', undefined);
  let redis: Awaited<ReturnType<typeof startStandalone>> | undefined;
  try {
    redis = await startStandalone();
  } catch (err) {
    console.log(`\n[redis] skipped: ${(err as Error).message}`);
  }
  if (redis) {
    try {
      await run('redis', redis.url);
    } finally {
      await redis.close();
      await stopAll();
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
