// Route caching throughput (app.inject, no sockets): a cached route (HIT) against the same route
// uncached, whose handler waits 2 ms like a fast upstream, and the plugin's overhead on an uncached
// route against no plugin at all. Baselines are measured in the same run.
//   pnpm bench            (embedded store; ~5 s)
import { CacheService } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
import Fastify, { type FastifyInstance } from 'fastify';
import { stratacacheRoutes } from '../src/index';

const OPS = Number(process.env.BENCH_OPS ?? 3_000);
const CONCURRENCY = 16;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rate(label: string, app: FastifyInstance, url: string): Promise<number> {
  const per = Math.ceil(OPS / CONCURRENCY);
  for (let i = 0; i < per; i++) await app.inject(url); // warm-up (JIT), not measured
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = 0; i < per; i++) await app.inject(url);
    }),
  );
  const perSec = ((per * CONCURRENCY) / (performance.now() - start)) * 1000;
  console.log(`${label.padEnd(48)} ${Math.round(perSec).toString().padStart(8)} req/s`);
  return perSec;
}

async function build(withPlugin: boolean, cache?: TieredCache | CacheService): Promise<FastifyInstance> {
  const app = Fastify();
  if (withPlugin) await app.register(stratacacheRoutes, cache ? { cache } : {});
  const body = { items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item ${i}` })) };
  app.get('/slow', { config: { cache: withPlugin } }, async () => {
    await sleep(2);
    return body;
  });
  app.get('/plain', async () => body);
  await app.ready();
  return app;
}

async function main(): Promise<void> {
  const bare = await build(false);
  const svc = new CacheService({ prefix: 'bench' });
  const withCore = await build(true, svc);
  const l2 = new CacheService({ prefix: 'bench2' });
  const tiered = new TieredCache(l2, {});
  const withTiered = await build(true, tiered);
  await withCore.inject('/slow');
  await withTiered.inject('/slow');
  await sleep(20);

  const origin = await rate('uncached route, 2 ms handler (baseline)', bare, '/slow');
  const hitCore = await rate('HIT, CacheService (embedded store)', withCore, '/slow');
  const hitTiered = await rate('HIT, TieredCache (L1)', withTiered, '/slow');
  const plainBare = await rate('route without cache config, no plugin', bare, '/plain');
  const plainWith = await rate('route without cache config, plugin registered', withCore, '/plain');
  console.log('');
  console.log(`HIT vs origin: CacheService x${(hitCore / origin).toFixed(1)}, TieredCache x${(hitTiered / origin).toFixed(1)}`);
  console.log(`plugin overhead on uncached routes: x${(plainWith / plainBare).toFixed(2)} of the throughput without it`);
  await Promise.all([bare.close(), withCore.close(), withTiered.close()]);
  await tiered.close();
  await Promise.all([svc.close(), l2.close()]);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
