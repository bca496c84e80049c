/**
 * RedisStore read batching (issue 13): adaptive GET→MGET coalescing vs plain ioredis
 * auto-pipelining, and raw ioredis GET without auto-pipelining, sequential and 64 in flight.
 * Same server, same 1 KB values, interleaved rounds, medians. Run: `pnpm bench:batching`
 * (also part of `pnpm bench`).
 */
import { Redis } from 'ioredis';
import { startStandalone } from '@stratacache/redis-harness';
import { RedisStore } from '../src/index';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function seqUs(n: number, get: (k: string) => Promise<unknown>, keys: string[]): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await get(keys[i % keys.length] as string);
  return ((performance.now() - t0) * 1000) / n;
}

async function concOps(n: number, conc: number, get: (k: string) => Promise<unknown>, keys: string[]): Promise<number> {
  let i = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (i < n) await get(keys[i++ % keys.length] as string);
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

export async function runBatchingBench(url: string, out: (label: string, text: string) => void): Promise<void> {
  const adaptive = new RedisStore(url);
  const pipeline = new RedisStore(url, { readBatching: 'pipeline' });
  const rawNoPipe = new Redis(url, { enableAutoPipelining: false });
  const rawPipe = new Redis(url, { enableAutoPipelining: true });
  await Promise.all([adaptive.ping(), pipeline.ping(), rawNoPipe.ping(), rawPipe.ping()]);
  const keys = Array.from({ length: 1000 }, (_, i) => `bb:${i}`);
  const val = Buffer.alloc(1024, 7);
  await rawNoPipe.mset(...keys.flatMap((k) => [k, val]));
  const fns: [string, (k: string) => Promise<unknown>][] = [
    ['RedisStore adaptive', (k) => adaptive.get(k)],
    ['RedisStore pipeline', (k) => pipeline.get(k)],
    ['raw ioredis GET, no auto-pipelining', (k) => rawNoPipe.getBuffer(k)],
    ['raw ioredis GET, auto-pipelining', (k) => rawPipe.getBuffer(k)],
  ];
  for (const [, f] of fns) await seqUs(3000, f, keys);
  const seq = fns.map(() => [] as number[]);
  const conc = fns.map(() => [] as number[]);
  for (let r = 0; r < 7; r++) {
    for (let j = 0; j < fns.length; j++) {
      (seq[j] as number[]).push(await seqUs(4000, (fns[j] as [string, (k: string) => Promise<unknown>])[1], keys));
      (conc[j] as number[]).push(await concOps(40_000, 64, (fns[j] as [string, (k: string) => Promise<unknown>])[1], keys));
    }
  }
  for (const [j, [label]] of fns.entries()) {
    out(label, `sequential ${median(seq[j] as number[]).toFixed(1)} µs/get, 64 in flight ${(median(conc[j] as number[]) / 1000).toFixed(1)}k gets/s`);
  }
  await Promise.all([adaptive.close(), pipeline.close()]);
  rawNoPipe.disconnect();
  rawPipe.disconnect();
}

if (process.argv[1]?.endsWith('batching.ts')) {
  const server = await startStandalone({ args: ['--save', '', '--appendonly', 'no'] });
  try {
    await runBatchingBench(server.url, (l, t) => console.log(`${l.padEnd(40)} ${t}`));
  } finally {
    await server.close();
  }
}
