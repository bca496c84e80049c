// Lock throughput against a raw SET NX PX + DEL baseline measured in the same run.
//   pnpm bench            (starts its own redis-server processes; ~10-20 s)
import { randomBytes } from 'node:crypto';
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { Redis } from 'ioredis';
import { LockManager } from '../src/index';

const OPS = Number(process.env.BENCH_OPS ?? 3_000);
const CONCURRENCY = 16;

async function timeIt(label: string, ops: number, run: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await run();
  const ms = performance.now() - start;
  const perSec = (ops / ms) * 1000;
  console.log(`${label.padEnd(44)} ${Math.round(perSec).toString().padStart(8)} ops/s`);
  return perSec;
}

/** `workers` loops, each doing `ops / workers` iterations of `step(worker, i)`. */
async function workers(ops: number, step: (w: number, i: number) => Promise<void>): Promise<void> {
  const per = Math.ceil(ops / CONCURRENCY);
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      for (let i = 0; i < per; i++) await step(w, i);
    }),
  );
}

async function main(): Promise<void> {
  const servers: StandaloneRedis[] = await Promise.all([startStandalone(), startStandalone(), startStandalone()]);
  const clients = servers.map((s) => new Redis({ host: '127.0.0.1', port: s.port }));
  const redis = clients[0] as Redis;
  try {
    const single = new LockManager(redis, { prefix: 'bench' });
    const nofence = new LockManager(redis, { prefix: 'bench', fencing: false });
    const redlock = new LockManager(clients, { prefix: 'bench' });
    // Warm up: load the scripts, open connections.
    for (const m of [single, nofence, redlock]) await (await m.acquire('warm')).release();
    for (let i = 0; i < 500; i++) await redis.set('bench:warm', '1', 'PX', 10_000, 'NX').then(() => redis.del('bench:warm'));

    console.log(`acquire + release, ${OPS} ops, sequential (one round trip at a time)`);
    const raw = await timeIt('baseline: SET NX PX + DEL', OPS, async () => {
      for (let i = 0; i < OPS; i++) {
        await redis.set('bench:raw', randomBytes(16).toString('hex'), 'PX', 10_000, 'NX');
        await redis.del('bench:raw');
      }
    });
    const lock = await timeIt('LockManager (fenced, Lua, owner-checked)', OPS, async () => {
      for (let i = 0; i < OPS; i++) await (await single.acquire('seq')).release();
    });
    const lockNoFence = await timeIt('LockManager fencing: false', OPS, async () => {
      for (let i = 0; i < OPS; i++) await (await nofence.acquire('seq-nf')).release();
    });
    const rl = await timeIt('Redlock over 3 masters', OPS, async () => {
      for (let i = 0; i < OPS; i++) await (await redlock.acquire('seq-rl')).release();
    });

    console.log(`\nacquire + release, ${OPS} ops, ${CONCURRENCY} concurrent workers on distinct resources`);
    const rawC = await timeIt('baseline: SET NX PX + DEL', OPS, () =>
      workers(OPS, async (w) => {
        await redis.set(`bench:raw:${w}`, randomBytes(16).toString('hex'), 'PX', 10_000, 'NX');
        await redis.del(`bench:raw:${w}`);
      }),
    );
    const lockC = await timeIt('LockManager', OPS, () =>
      workers(OPS, async (w) => {
        await (await single.acquire(`par:${w}`)).release();
      }),
    );
    const rlC = await timeIt('Redlock over 3 masters', OPS, () =>
      workers(OPS, async (w) => {
        await (await redlock.acquire(`par-rl:${w}`)).release();
      }),
    );

    const r = (x: number, base: number): string => `${(x / base).toFixed(2)}x`;
    console.log('\nratios vs baseline (same run):');
    console.log(`  sequential: lock ${r(lock, raw)}, lock without fence ${r(lockNoFence, raw)}, redlock(3) ${r(rl, raw)}`);
    console.log(`  concurrent: lock ${r(lockC, rawC)}, redlock(3) ${r(rlC, rawC)}`);
  } finally {
    for (const c of clients) c.disconnect();
    await Promise.all(servers.map((s) => s.close()));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
