/**
 * @stratacache/warming benchmark — `pnpm bench` (tsx bench/index.ts). Bounded: about 35 s
 * (`BENCH_QUICK=1`: 2 000 keys, about 8 s).
 *
 * Warming 10 000 declared keys with concurrency 32 against a 50 ms origin, from `start()` to
 * `ready()`; the ideal is 10 000 × 50 ms / 32 = 15.6 s. Printed as a ratio time / ideal, for the
 * BullMQ runner (one process producing and working, its own redis-server from the harness, never
 * 6379; goal ≤ 1.5×: each job costs a few Redis scripts — add, move to active, move to finished,
 * the cache write) and for the embedded runner (goal ≤ 1.15×), in the same run.
 */
import { CacheService, MemoryStore, RedisStore } from '@stratacache/core';
import { startStandalone } from '@stratacache/redis-harness';
import { Redis } from 'ioredis';
import { Warmer, type WarmerOptions } from '../src/index';

const QUICK = process.env.BENCH_QUICK === '1';
const KEYS = QUICK ? 2_000 : 10_000;
const CONCURRENCY = 32;
const ORIGIN_MS = 50;
const IDEAL_MS = (KEYS * ORIGIN_MS) / CONCURRENCY;
const GOAL: Record<string, number> = { bullmq: 1.5, embedded: 1.15 };

function report(name: string, value: string, goal: string, pass: boolean | undefined): void {
  const tag = pass === undefined ? 'INFO' : pass ? 'PASS' : 'MISS';
  console.log(`${tag.padEnd(4)}  ${name.padEnd(58)} ${value.padEnd(36)} goal: ${goal}`);
}

async function run(label: string, cache: CacheService, extra: Partial<WarmerOptions>): Promise<void> {
  const warmer = new Warmer({ cache, concurrency: CONCURRENCY, prefix: `bench:${label}`, readyTimeout: IDEAL_MS * 3, ...extra });
  let calls = 0;
  warmer.declare(
    Array.from({ length: KEYS }, (_, i) => ({
      key: `item:get:${i}`,
      factory: () => new Promise<{ i: number }>((r) => setTimeout(() => (calls++, r({ i })), ORIGIN_MS)),
      ttl: '10m',
    })),
  );
  const t0 = performance.now();
  const rep = await warmer.ready();
  const ms = performance.now() - t0;
  const ratio = ms / IDEAL_MS;
  report(`${label}: ${KEYS} keys, concurrency ${CONCURRENCY}, ${ORIGIN_MS} ms origin`, `${(ms / 1000).toFixed(2)} s = ${ratio.toFixed(3)}× ideal (${(IDEAL_MS / 1000).toFixed(2)} s)`, `≤ ${GOAL[label]}×`, rep.complete && rep.warmed === KEYS && ratio <= GOAL[label]!);
  report(`${label}: origin calls / warmed / failed`, `${calls} / ${rep.warmed} / ${rep.failed}`, `${KEYS} / ${KEYS} / 0`, calls === KEYS && rep.failed === 0);
  await warmer.close(5_000);
}

const redis = await startStandalone();
try {
  const client = new Redis({ host: '127.0.0.1', port: redis.port });
  const store = new RedisStore(client, { ownsClient: true });
  const svc = new CacheService({ store, prefix: 'bw', opTimeout: 2_000 });
  await run('bullmq', svc, { redis: redis.url });
  await svc.close();
  await store.close();
  const mem = new CacheService({ store: new MemoryStore(), prefix: 'bm' });
  await run('embedded', mem, {});
  await mem.close();
} finally {
  await redis.close();
}
