// Outage drills of issue 10, as ratios against the factory time measured in the same run:
// a hung Redis (SIGSTOP), a hung Redis with the breaker already open, a Redis refusing connections
// at start (first getOrSet and later misses, core and tiered), and the Redis connections of 1000
// tenants on 2 shards. `pnpm bench` runs it; alone:
//   pnpm exec tsx --conditions=@stratacache/source bench/outage.ts
import { CacheService } from '@stratacache/core';
import { freePort, startStandalone, waitFor, type StandaloneRedis } from '@stratacache/redis-harness';
import { TieredCache } from '@stratacache/tiered';
import { ShardRouter, tieredCaches, type TieredTenantCache } from '../src/index';

const FACTORY_MS = 20;
const OP_TIMEOUT = 200;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const factory = async () => {
  await sleep(FACTORY_MS);
  return 'v';
};

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const max = (xs: number[]) => Math.max(...xs);

function row(name: string, xs: number[], factoryMs: number, goal: string): void {
  const m = median(xs);
  console.log(
    `[drill] ${name}: median ${m.toFixed(1)} ms = ${(m / factoryMs).toFixed(2)}× factory (+${(m - factoryMs).toFixed(1)} ms), ` +
      `max ${max(xs).toFixed(1)} ms (+${(max(xs) - factoryMs).toFixed(1)} ms); n=${xs.length}; goal ${goal}`,
  );
}

async function tiered(server: StandaloneRedis, prefix: string): Promise<{ l2: CacheService; t: TieredCache; close(): Promise<void> }> {
  const l2 = new CacheService({ redis: server.url, prefix, opTimeout: OP_TIMEOUT });
  const t = new TieredCache(l2);
  await t.ready(5_000);
  return {
    l2,
    t,
    async close() {
      await t.close(500);
      await l2.close();
    },
  };
}

async function hungDrills(factoryMs: number): Promise<void> {
  const server = await startStandalone();
  const hung: number[] = [];
  const open: number[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const inst = await tiered(server, `hung${i}`);
      try {
        await inst.t.getOrSet('warm', factory);
        server.pause();
        // row 1: breaker CLOSED, nothing knows yet that Redis is stopped
        hung.push(await time(() => inst.t.getOrSet(`new-${i}`, factory)));
        server.resume();
        await waitFor(() => inst.l2.breaker.state === 'CLOSED' && inst.l2.store.isReady(), { timeoutMs: 5_000 });
        // row 2: stopped again and the breaker already open, before the store noticed the hang
        server.pause();
        inst.l2.breaker.trip();
        open.push(await time(() => inst.t.getOrSet(`open-${i}`, factory)));
        // ... and once the store noticed (isReady() false)
        await sleep(800);
        open.push(await time(() => inst.t.getOrSet(`open2-${i}`, factory)));
      } finally {
        if (server.isPaused()) server.resume();
        await inst.close();
      }
    }
  } finally {
    await server.close();
  }
  row('Redis hung (SIGSTOP), TieredCache new-key miss', hung, factoryMs, `<= 1× opTimeout (${OP_TIMEOUT} ms) + factory`);
  row('Redis hung, breaker already open, TieredCache new-key miss', open, factoryMs, 'factory + 2 ms');
}

async function refusedDrills(factoryMs: number): Promise<void> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const coreFirst: number[] = [];
  const coreLater: number[] = [];
  const tierFirst: number[] = [];
  const tierLater: number[] = [];
  for (let i = 0; i < 5; i++) {
    const core = new CacheService({ redis: url, prefix: `r${i}`, opTimeout: OP_TIMEOUT });
    coreFirst.push(await time(() => core.getOrSet('k', factory)));
    for (let k = 0; k < 5; k++) coreLater.push(await time(() => core.getOrSet(`k${k}`, factory)));
    await core.close();
    const l2 = new CacheService({ redis: url, prefix: `t${i}`, opTimeout: OP_TIMEOUT });
    const t = new TieredCache(l2);
    tierFirst.push(await time(() => t.getOrSet('k', factory)));
    for (let k = 0; k < 5; k++) tierLater.push(await time(() => t.getOrSet(`k${k}`, factory)));
    await t.close(200);
    await l2.close();
  }
  row('Redis refusing at start, CacheService first getOrSet', coreFirst, factoryMs, 'factory + 5 ms');
  row('Redis refusing at start, CacheService later misses', coreLater, factoryMs, 'factory + 5 ms');
  row('Redis refusing at start, TieredCache first getOrSet', tierFirst, factoryMs, 'factory + 5 ms');
  row('Redis refusing at start, TieredCache later misses', tierLater, factoryMs, 'factory + 5 ms');
}

async function connectionCount(server: StandaloneRedis): Promise<number> {
  const list = await server.cli('CLIENT', 'LIST');
  return list.split('\n').filter((l) => l.trim() !== '' && !/cmd=client\|list/.test(l)).length;
}

async function tenantDrill(): Promise<void> {
  const [a, b] = await Promise.all([startStandalone(), startStandalone()]);
  const router = new ShardRouter<TieredTenantCache>({
    shards: { a: { url: a.url }, b: { url: b.url } },
    tenants: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`t${i}`, i % 2 ? 'b' : 'a'])),
    createCache: tieredCaches(),
  });
  try {
    const caches = Array.from({ length: 1000 }, (_, i) => router.forTenant(`t${i}`));
    await Promise.all(caches.map((c) => c.ready(10_000)));
    for (let from = 0; from < 1000; from += 100) {
      await Promise.all(caches.slice(from, from + 100).map((c, j) => c.getOrSet('k', () => from + j)));
    }
    const n = (await connectionCount(a)) + (await connectionCount(b));
    const r = router.resources();
    console.log(
      `[drill] 1000 tenants on 2 shards (tieredCaches, defaults): ${n} Redis connections (goal <= ${2 * 2}); ` +
        `L1 reserved ${(r.l1Reserved / 1048576).toFixed(0)} MiB of ${(r.l1MaxBytes / 1048576).toFixed(0)} MiB; ${r.tenants}/${r.maxTenants} tenants`,
    );
  } finally {
    await router.close();
    await Promise.all([a.close(), b.close()]);
  }
}

export async function runOutageDrills(): Promise<void> {
  const f: number[] = [];
  for (let i = 0; i < 10; i++) f.push(await time(factory));
  const factoryMs = median(f);
  console.log(`[drill] factory time (sleep ${FACTORY_MS} ms, measured): ${factoryMs.toFixed(1)} ms; opTimeout ${OP_TIMEOUT} ms, other options default`);
  await hungDrills(factoryMs);
  await refusedDrills(factoryMs);
  await tenantDrill();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runOutageDrills().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
