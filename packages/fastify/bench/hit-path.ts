// HIT path vs a plain route in the same app: CPU time per request (process.cpuUsage, robust on a
// shared machine), interleaved rounds, medians.
//   BENCH_LAYER=tiered|core BENCH_OPS=2000 BENCH_ROUNDS=15 node --conditions=@stratacache/source --import tsx bench/hit-profile.ts
import { CacheService } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
import Fastify from 'fastify';
import { stratacacheRoutes } from '../src/index';

const OPS = Number(process.env.BENCH_OPS ?? 2_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const svc = new CacheService({ prefix: 'prof' });
const cache = process.env.BENCH_LAYER === 'core' ? svc : new TieredCache(svc, {});
const app = Fastify();
await app.register(stratacacheRoutes, { cache });
const body = { items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item ${i}` })) };
app.get('/c', { config: { cache: true } }, async () => body);
app.get('/p', async () => body);
await app.ready();
await app.inject('/c');
const cpu = async (url: string): Promise<number> => {
  const c0 = process.cpuUsage();
  for (let i = 0; i < OPS; i++) await app.inject(url);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / OPS;
};
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p: number[] = [];
const h: number[] = [];
await cpu('/p');
await cpu('/c');
for (let r = 0; r < ROUNDS; r++) {
  p.push(await cpu('/p'));
  h.push(await cpu('/c'));
}
const layer = cache === svc ? 'CacheService (embedded)' : 'TieredCache (L1)';
console.log(`${layer.padEnd(24)} plain route ${med(p).toFixed(1)} µs CPU/req   HIT ${med(h).toFixed(1)} µs CPU/req   HIT / plain x${(med(h) / med(p)).toFixed(2)}`);
await app.close();
if (cache !== svc) await (cache as TieredCache).close();
await svc.close();
