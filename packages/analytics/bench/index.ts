/**
 * @stratacache/analytics benchmark — `pnpm bench` (tsx bench/index.ts). Bounded: about 20 s.
 *
 *  1. Tiered L1 hit throughput with vs without an attached collector, same run, alternating rounds,
 *     median round each: sync `getL1` and awaited `getOrSet`. Goal ≥ 0.8× with the default
 *     `hits: 'counted'`; `'events'` (a tiered event per L1 hit) is printed for information.
 *     Same through a ShardRouter with tiered tenants (`attach(router)`, default counted hits).
 *  2. Top-K memory after streaming 10 k vs 10 M distinct keys (plus hot keys) through the bounded
 *     table: retained heap after GC. Goal: flat (10 M / 10 k ≤ 1.5×) and the hot keys on top.
 *  3. One trend flush (50 entities × 2 tenants, 4 histograms) to Redis: ms per flush (INFO).
 * Uses its own redis-server (harness), never 6379.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CacheService, HIT_SAMPLE_EVERY, RedisStore } from '@stratacache/core';
import { startStandalone } from '@stratacache/redis-harness';
import { ShardRouter, tieredCaches } from '@stratacache/shard';
import { TieredCache } from '@stratacache/tiered';
import { Redis } from 'ioredis';
import { CacheAnalytics, TopK } from '../src/index';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const QUICK = process.env.BENCH_QUICK === '1';
const ROUND_MS = QUICK ? 150 : 250;
const ROUNDS = QUICK ? 5 : 7;
const KEYS = 1_024;

function report(name: string, value: string, goal: string, pass: boolean | undefined): void {
  const tag = pass === undefined ? 'INFO' : pass ? 'PASS' : 'MISS';
  console.log(`${tag.padEnd(4)}  ${name.padEnd(60)} ${value.padEnd(34)} goal: ${goal}`);
}
const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function syncRound(fn: (i: number) => unknown): number {
  let ops = 0;
  let sink = 0;
  const end = performance.now() + ROUND_MS;
  while (performance.now() < end) {
    for (let i = 0; i < 2_000; i++) if (fn(ops + i) !== undefined) sink++;
    ops += 2_000;
  }
  if (sink < 0) console.log(sink);
  return ops / (ROUND_MS / 1000);
}

async function asyncRound(fn: (i: number) => Promise<unknown>): Promise<number> {
  let ops = 0;
  const t0 = performance.now();
  const end = t0 + ROUND_MS;
  while (performance.now() < end) {
    for (let j = 0; j < 256; j++) await fn(ops++);
  }
  return ops / ((performance.now() - t0) / 1000);
}

/** Alternates the two contenders (order flipped each round) and returns each one's median round. */
async function compare(a: () => number | Promise<number>, b: () => number | Promise<number>): Promise<[number, number]> {
  const ra: number[] = [];
  const rb: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      ra.push(await a());
      rb.push(await b());
    } else {
      rb.push(await b());
      ra.push(await a());
    }
  }
  return [median(ra), median(rb)];
}

async function tieredCache(port: number, prefix: string): Promise<{ cache: TieredCache; close(): Promise<void> }> {
  const store = new RedisStore(new Redis({ host: '127.0.0.1', port }), { ownsClient: true });
  const service = new CacheService({ store, prefix });
  const cache = new TieredCache(service, { l1: { ttl: '10m', maxEntries: 10_000 } });
  await cache.ready();
  return {
    cache,
    async close() {
      await cache.close();
      await service.close();
      await store.close();
    },
  };
}

async function l1Hits(port: number, mode: 'counted' | 'events'): Promise<void> {
  console.log(`-- attach(tiered, { hits: '${mode}' })`);
  const plain = await tieredCache(port, 'bp');
  const observed = await tieredCache(port, 'bo');
  const analytics = new CacheAnalytics({ flushInterval: 0 });
  analytics.attach(observed.cache, { tenant: 'bench', hits: mode });
  const goal = mode === 'counted' ? '>= 0.8×' : 'info (per-hit events: tiered builds one per L1 hit)';
  const pass = (r: number) => (mode === 'counted' ? r >= 0.8 : undefined);
  const kp = Array.from({ length: KEYS }, (_, i) => `bp:user:get:${i}`);
  const ko = Array.from({ length: KEYS }, (_, i) => `bo:user:get:${i}`);
  for (let i = 0; i < KEYS; i++) {
    await plain.cache.set(kp[i]!, { i });
    await observed.cache.set(ko[i]!, { i });
  }
  const load = () => ({ never: true });
  const [s0, s1] = await compare(
    () => syncRound((i) => plain.cache.getL1(kp[i & (KEYS - 1)]!)),
    () => syncRound((i) => observed.cache.getL1(ko[i & (KEYS - 1)]!)),
  );
  report('L1 hit, sync getL1: with collector / without', `${fmt(s1)}/s vs ${fmt(s0)}/s = ${(s1 / s0).toFixed(2)}×`, goal, pass(s1 / s0));
  const [a0, a1] = await compare(
    () => asyncRound((i) => plain.cache.getOrSet(kp[i & (KEYS - 1)]!, load)),
    () => asyncRound((i) => observed.cache.getOrSet(ko[i & (KEYS - 1)]!, load)),
  );
  report('L1 hit, awaited getOrSet: with collector / without', `${fmt(a1)}/s vs ${fmt(a0)}/s = ${(a1 / a0).toFixed(2)}×`, goal, pass(a1 / a0));
  if (mode === 'events') {
    // how much of that is tiered building the event itself: the same cache with one no-op hit listener
    const noop = await tieredCache(port, 'bn');
    noop.cache.on('hit', () => undefined);
    const kn = Array.from({ length: KEYS }, (_, i) => `bn:user:get:${i}`);
    for (const k of kn) await noop.cache.set(k, { k });
    const [n0, n1] = await compare(
      () => syncRound((i) => plain.cache.getL1(kp[i & (KEYS - 1)]!)),
      () => syncRound((i) => noop.cache.getL1(kn[i & (KEYS - 1)]!)),
    );
    report('  of which tiered event building: a no-op hit listener / none', `${fmt(n1)}/s vs ${fmt(n0)}/s = ${(n1 / n0).toFixed(2)}×`, 'info', undefined);
    await noop.close();
  }
  const local = (await analytics.overview()).local;
  const hits = local.l1Hits;
  report('  events counted by the collector (L1 hits)', fmt(hits), 'all of them', hits === observed.cache.stats().l1Hits);
  if (mode === 'counted') {
    const user = local.byEntity['bench|user']?.hits ?? 0;
    report('  of which attributed to their entity by sampled hits', `${((100 * user) / hits).toFixed(2)} % (every ${HIT_SAMPLE_EVERY}th hit)`, '>= 99 %', user / hits >= 0.99);
  }
  await analytics.close();
  await plain.close();
  await observed.close();
}

/** The same through a ShardRouter (tiered tenant caches): `attach(router)` with the default `hits: 'counted'`. */
async function routerL1Hits(port: number): Promise<void> {
  const mk = () => new ShardRouter({ shards: { main: { url: `redis://127.0.0.1:${port}` } }, defaultShard: 'main', createCache: tieredCaches({ l1: { ttl: '10m', maxEntries: 10_000 } }) });
  const plain = mk();
  const observed = mk();
  const analytics = new CacheAnalytics({ flushInterval: 0 });
  analytics.attach(observed);
  const tp = plain.forTenant('rp');
  const to = observed.forTenant('ro');
  await Promise.all([tp.ready(), to.ready()]);
  const kp = Array.from({ length: KEYS }, (_, i) => `sc:rp:user:get:${i}`);
  const ko = Array.from({ length: KEYS }, (_, i) => `sc:ro:user:get:${i}`);
  for (let i = 0; i < KEYS; i++) {
    await tp.set(kp[i]!, { i });
    await to.set(ko[i]!, { i });
  }
  const [s0, s1] = await compare(
    () => syncRound((i) => tp.getL1(kp[i & (KEYS - 1)]!)),
    () => syncRound((i) => to.getL1(ko[i & (KEYS - 1)]!)),
  );
  report('router tenant L1 hit, sync getL1: with collector / without', `${fmt(s1)}/s vs ${fmt(s0)}/s = ${(s1 / s0).toFixed(2)}×`, '>= 0.8×', s1 / s0 >= 0.8);
  const counted = (await analytics.overview()).local.l1Hits;
  report('  L1 hits counted (from router.stats())', fmt(counted), 'all of them', counted === to.stats().l1Hits);
  const user = (await analytics.overview()).local.byEntity['ro|user']?.hits ?? 0;
  report('  of which attributed to their entity by sampled hits', `${((100 * user) / counted).toFixed(2)} %`, '>= 99 %', user / counted >= 0.99);
  await analytics.close();
  await plain.close();
  await observed.close();
}

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Retained heap of a top-K table after streaming `distinct` keys, measured full (topped up to capacity with fresh keys). */
function topKMemory(distinct: number): { bytes: number; ms: number; top: string[] } {
  let t: TopK | undefined = new TopK(1_000);
  const t0 = performance.now();
  for (let i = 0; i < distinct; i++) {
    t.hit(`sc:jobs:get:${i}`, 0.1, 100);
    if ((i & 7) === 0) t.hit('sc:hot:get:a', 0.1, 100);
    if ((i & 15) === 0) t.hit('sc:hot:get:b', 0.1, 100);
  }
  const ms = performance.now() - t0;
  for (let j = 0; t.size < t.capacity; j++) t.hit(`sc:fill:get:${distinct}:${j}`);
  const top = t.top(2).map((k) => k.key);
  if (t.size > t.capacity) throw new Error('top-K grew past its capacity');
  const withTable = heap();
  t.capacity.toFixed(); // the table is alive up to here
  t = undefined; // eslint-disable-line no-useless-assignment -- drop the only reference before measuring
  const bytes = withTable - heap();
  return { bytes, ms, top };
}

function topK(): void {
  const small = topKMemory(10_000);
  const big = topKMemory(QUICK ? 1_000_000 : 10_000_000);
  const label = QUICK ? '1 M' : '10 M';
  const ratio = big.bytes / Math.max(1, small.bytes);
  report(`top-K (1000 slots) retained heap: ${label} vs 10 k distinct keys`, `${(big.bytes / 1024).toFixed(0)} KB vs ${(small.bytes / 1024).toFixed(0)} KB = ${ratio.toFixed(2)}×`, '<= 1.5× (flat)', ratio <= 1.5);
  const hotOnTop = big.top[0] === 'sc:hot:get:a' && big.top[1] === 'sc:hot:get:b';
  report(`  hot keys on top after ${label} one-off keys`, big.top.join(', '), 'hot:a, hot:b', hotOnTop);
  report(`  top-K update cost (${label} keys)`, `${((big.ms * 1e6) / (QUICK ? 1e6 : 1e7) / 1.19).toFixed(0)} ns/update`, 'info', undefined);
}

async function flush(port: number): Promise<void> {
  const redis = new Redis({ host: '127.0.0.1', port });
  const analytics = new CacheAnalytics({ store: redis, prefix: 'bf', flushInterval: 0, maxEntities: 100 });
  const svcs = ['t1', 't2'].map((t) => {
    const s = new CacheService({ prefix: `bf${t}` });
    analytics.attach(s, { tenant: t });
    return s;
  });
  const times: number[] = [];
  for (let r = 0; r < 20; r++) {
    for (const s of svcs) for (let e = 0; e < 50; e++) await s.getOrSet(`e${e}:get:${r}`, async () => r);
    const t0 = performance.now();
    await analytics.flush();
    times.push(performance.now() - t0);
  }
  report('trend flush (100 rows + histograms, one pipeline)', `${median(times).toFixed(2)} ms median`, 'info (off the hot path)', undefined);
  await analytics.close();
  for (const s of svcs) await s.close();
  redis.disconnect();
}

const redis = await startStandalone();
try {
  const t0 = performance.now();
  await l1Hits(redis.port, 'counted');
  await l1Hits(redis.port, 'events');
  await routerL1Hits(redis.port);
  topK();
  await flush(redis.port);
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
} finally {
  await redis.close();
}
