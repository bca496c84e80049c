/**
 * @stratacache/tiered benchmark — `pnpm bench` (tsx bench/index.ts). Bounded: about 30 s.
 *
 * Every figure is a ratio against a baseline measured in the same run on the same machine:
 *  1. L1 hit: get / getOrSet vs `Promise.resolve(lru.get(k))` (issue 13's line), sync getL1 vs a bare
 *     lru-cache get (context); awaited getOrSet vs BentoCache's L1 hit.
 *  2. Bus propagation: delete on A → L1 copy dropped on B, 1000 samples (after 100 warm-up), p50 / p99.
 *  3. L2 hit (no L1) at 64 in flight vs BentoCache (redis driver) and cache-manager 7 (@keyv/redis).
 *  4. Stampede: factory calls for 1000 concurrent getOrSet on one missing key (tiered over 4 OS
 *     processes; peers in one process).
 * Uses its own redis-server (harness), never 6379.
 *
 * Measures the built packages (`dist/`, what an application runs; `turbo run bench` builds them
 * first), not the TypeScript sources: tsx transpiles with esbuild's `keepNames`, which wraps every
 * named closure in a `__name(...)` call (an `Object.defineProperty` per closure made), a cost the
 * published code does not have and that hit the per-call closures of the hot paths.
 *
 * The peer libraries (BentoCache, cache-manager 7 + @keyv/redis) run in a process of their own
 * (`peer-host.ts`, driven over IPC; rounds still alternate with ours): @keyv/redis loads
 * @redis/client, whose `class … extends String` slows every `String.prototype` method call in its
 * process for good (see `peer-host.ts`) — an application runs one cache library, not both.
 */
import { CacheService, RedisStore, createCodec } from '@stratacache/core';
import { startStandalone } from '@stratacache/redis-harness';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { TieredCache } from '@stratacache/tiered';
import { spawnWorker } from '../test/fixtures/spawn';
import type { CpuRound } from './measure';
import { HIT_VALUE, MISS_VALUE, asyncOps, cpuRound, percentile, seqLatencies, syncOps } from './measure';
import type { Peers } from './peers';
import { startPeers } from './peers';

const QUICK = process.env.BENCH_QUICK === '1';
const SYNC_MS = QUICK ? 300 : 1_000;
const ASYNC_MS = QUICK ? 500 : 1_500;
const L2_MS = QUICK ? 800 : 2_500;
const BUS_SAMPLES = 1_000;
const KEYS = 1_024;

const lines: { name: string; value: string; goal: string; pass: boolean | undefined }[] = [];
function report(name: string, value: string, goal: string, pass: boolean | undefined): void {
  lines.push({ name, value, goal, pass });
  const tag = pass === undefined ? 'INFO' : pass ? 'PASS' : 'MISS';
  console.log(`${tag.padEnd(4)}  ${name.padEnd(58)} ${value.padEnd(34)} goal: ${goal}`);
}
const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));

/**
 * A contender's own process's CPU per operation (user + system), and the Redis server's when given
 * its CPU counter (`INFO cpu`), summed over all its rounds at 64 in flight.
 */
class CpuTally {
  us = 0;
  redisUs = 0;
  ops = 0;

  constructor(private readonly redisCpuUs?: () => Promise<number>) {}

  /** One round: `round` measures in this process (`cpuRound`) or the peer process (`peers.cpu`). */
  async run(round: () => Promise<CpuRound>): Promise<number> {
    const r0 = this.redisCpuUs === undefined ? 0 : await this.redisCpuUs();
    const r = await round();
    this.ops += r.ops;
    this.us += r.cpuUs;
    if (this.redisCpuUs !== undefined) this.redisUs += (await this.redisCpuUs()) - r0;
    return r.rate;
  }

  perOp(of: 'us' | 'redisUs' = 'us'): number {
    return this.ops === 0 ? Number.NaN : this[of] / this.ops;
  }
}

/**
 * Runs the contenders in alternating rounds (noise on a shared machine hits all of them; the order
 * rotates every round) and keeps each one's median round (the same statistic for every contender;
 * robust to one lucky or unlucky round).
 */
async function interleaved(fns: (() => Promise<number> | number)[], rounds = 3): Promise<number[]> {
  const all: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    // rotate the starting contender every round: no one always runs right after the others' garbage
    for (let j = 0; j < fns.length; j++) {
      const i = (j + r) % fns.length;
      (all[i] as number[]).push(await (fns[i] as () => Promise<number> | number)());
    }
  }
  return all.map((xs) => {
    const s = [...xs].sort((x, y) => x - y);
    return s[Math.floor(s.length / 2)] as number;
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  const redis = await startStandalone();
  const url = `redis://127.0.0.1:${redis.port}`;
  const closers: (() => Promise<unknown>)[] = [];
  console.log(`@stratacache/tiered benchmark — node ${process.version}, redis on port ${redis.port}${QUICK ? ' (quick)' : ''}\n`);
  try {
    // the peer libraries, in their own process (see peer-host.ts)
    const peers = await startPeers(redis.port);
    closers.push(() => peers.stop());
    const keys = Array.from({ length: KEYS }, (_, i) => `item:get:${i}`);
    const value = HIT_VALUE;

    // ------------------------------------------------------------------ 1. L1 hit
    const store = new RedisStore(url);
    const l2 = new CacheService({ store, prefix: 'bench' });
    const tiered = new TieredCache(l2, { l1: { maxEntries: 10_000 }, ttl: '10m' });
    closers.push(async () => {
      await tiered.close();
      await l2.close();
      await store.close();
    });
    await tiered.ready();
    const full = keys.map((k) => l2.key(k));
    for (const k of full) await tiered.set(k, value, { ttl: '10m' });
    const lru = new LRUCache<string, object>({ max: 10_000 });
    for (const k of keys) lru.set(k, value);

    // Keys in the recommended form (full, as `keys.build()` / `l2.key()` return them); the relative
    // form (`item:get:1`) names the same entry and costs one memo lookup more (reported as info).
    //
    // Issue 13's L1 goal: the L1 hit through the async API (`get`, `getOrSet`: a resolved promise) at
    // >= 0.7x of `Promise.resolve(lru.get(k))` with a prebuilt key, the same shape of operation
    // (each call makes its promise; nothing awaited, so the await does not hide either side's cost).
    const never = (): never => {
      throw new Error('factory called on an L1 hit');
    };
    syncOps((i) => lru.get(keys[i & (KEYS - 1)] as string), 200); // warm-up
    syncOps((i) => Promise.resolve(lru.get(keys[i & (KEYS - 1)] as string)), 200);
    syncOps((i) => tiered.get(full[i & (KEYS - 1)] as string), 200);
    syncOps((i) => tiered.getOrSet(full[i & (KEYS - 1)] as string, never), 200);
    syncOps((i) => tiered.getL1(full[i & (KEYS - 1)] as string), 200);
    syncOps((i) => tiered.getL1(keys[i & (KEYS - 1)] as string), 200);
    const [promLruOps = 0, getOps = 0, gosOps = 0] = await interleaved([
      () => syncOps((i) => Promise.resolve(lru.get(keys[i & (KEYS - 1)] as string)), SYNC_MS / 3),
      () => syncOps((i) => tiered.get(full[i & (KEYS - 1)] as string), SYNC_MS / 3),
      () => syncOps((i) => tiered.getOrSet(full[i & (KEYS - 1)] as string, never), SYNC_MS / 3),
    ]);
    const l1Goal = Math.min(getOps, gosOps) / promLruOps;
    report('L1 hit, get / getOrSet vs Promise.resolve(lru.get(k))', `${fmt(getOps)} / ${fmt(gosOps)}/s vs ${fmt(promLruOps)}/s = ${(getOps / promLruOps).toFixed(2)}x / ${(gosOps / promLruOps).toFixed(2)}x`, '>= 0.7x', l1Goal >= 0.7);
    // Stricter context: the synchronous read against a bare `lru.get` (no promise on either side).
    const [lruOps = 0, l1Ops = 0, l1RelOps = 0] = await interleaved([
      () => syncOps((i) => lru.get(keys[i & (KEYS - 1)] as string), SYNC_MS / 3),
      () => syncOps((i) => tiered.getL1(full[i & (KEYS - 1)] as string), SYNC_MS / 3),
      () => syncOps((i) => tiered.getL1(keys[i & (KEYS - 1)] as string), SYNC_MS / 3),
    ]);
    report('  (context) sync getL1 (full key) vs bare lru-cache get', `${fmt(l1Ops)}/s vs ${fmt(lruOps)}/s = ${(l1Ops / lruOps).toFixed(2)}x`, 'info', undefined);
    report(
      '  ceiling (L1): getL1 − lru.get, per hit',
      `${(1e9 / l1Ops - 1e9 / lruOps).toFixed(1)} ns (1 ms clock, fresh + trusted, hit count)`,
      'info',
      undefined,
    );
    report('  (context) getL1 with a relative key (memo lookup)', `${fmt(l1RelOps)}/s = ${(l1RelOps / lruOps).toFixed(2)}x of lru-cache`, 'info', undefined);

    const factory = () => value;
    await peers.ops('bento-l1-hit', 200, 1); // warm-up
    const [awaitLru = 0, awaitTiered = 0, bentoL1Ops = 0] = await interleaved([
      () => asyncOps(async (i) => lru.get(keys[i & (KEYS - 1)] as string), ASYNC_MS / 3, 1),
      () => asyncOps((i) => tiered.getOrSet(full[i & (KEYS - 1)] as string, factory), ASYNC_MS / 3, 1),
      () => peers.ops('bento-l1-hit', ASYNC_MS / 3, 1),
    ]);
    report('L1 hit, await getOrSet vs await (async fn → lru.get)', `${fmt(awaitTiered)}/s vs ${fmt(awaitLru)}/s = ${(awaitTiered / awaitLru).toFixed(2)}x`, '>= 0.5x', awaitTiered / awaitLru >= 0.5);

    report('L1 hit, await getOrSet vs BentoCache L1 getOrSet', `${fmt(awaitTiered)}/s vs ${fmt(bentoL1Ops)}/s = ${(awaitTiered / bentoL1Ops).toFixed(2)}x`, '>= 1.5x', awaitTiered / bentoL1Ops >= 1.5);

    // ------------------------------------------------------------------ 2. bus propagation
    const storeA = new RedisStore(url);
    const storeB = new RedisStore(url);
    const l2A = new CacheService({ store: storeA, prefix: 'benchbus' });
    const l2B = new CacheService({ store: storeB, prefix: 'benchbus' });
    const A = new TieredCache(l2A);
    const B = new TieredCache(l2B);
    closers.push(async () => {
      await A.close();
      await B.close();
      await l2A.close();
      await l2B.close();
      await storeA.close();
      await storeB.close();
    });
    await A.ready();
    await B.ready();
    let sentAt = 0;
    let resolveDrop: ((ms: number) => void) | undefined;
    A.on('delete', () => {
      sentAt = performance.now();
    });
    B.on('bus', (e) => {
      if (e.kind === 'd' && resolveDrop) resolveDrop(performance.now() - sentAt);
    });
    const samples: number[] = [];
    for (let i = -100; i < BUS_SAMPLES; i++) {
      const k = `bus:get:${i}`;
      await B.set(k, i);
      const dropped = new Promise<number>((r) => (resolveDrop = r));
      await A.delete(k);
      const ms = await Promise.race([dropped, new Promise<number>((r) => setTimeout(() => r(Number.POSITIVE_INFINITY), 1_000))]);
      if (B.hasInL1(k)) throw new Error('L1 copy on B not dropped');
      if (i >= 0) samples.push(ms); // the first 100 are warm-up
    }
    const p50 = percentile(samples, 50);
    const p99 = percentile(samples, 99);
    report(`bus: publish on A → L1 dropped on B (${BUS_SAMPLES} samples)`, `p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms`, 'p99 < 5 ms', p99 < 5);
    // ------------------------------------------------------------------ 3. L2 hit, 64 in flight
    const store2 = new RedisStore(url);
    const l2b = new CacheService({ store: store2, prefix: 'bench' });
    const noL1 = new TieredCache(l2b, { l1: false, bus: false });
    closers.push(async () => {
      await noL1.close();
      await l2b.close();
      await store2.close();
    });
    const g1 = (i: number) => noL1.getOrSet(keys[i & (KEYS - 1)] as string, factory);
    await asyncOps(g1, 300, 64); // warm-up
    await peers.ops('bento-l2-hit', 300, 64);
    await peers.ops('cm-l2-hit', 300, 64);
    const raw = (i: number) => store2.get(`bench:${keys[i & (KEYS - 1)] as string}`);
    const entryOnly = (i: number) => l2b.getEntry(keys[i & (KEYS - 1)] as string);
    const [ours = 0, bentoOps = 0, cmOps = 0, rawOps = 0, entryOps = 0] = await interleaved([
      () => asyncOps(g1, L2_MS / 5, 64),
      () => peers.ops('bento-l2-hit', L2_MS / 5, 64),
      () => peers.ops('cm-l2-hit', L2_MS / 5, 64),
      () => asyncOps(raw, L2_MS / 5, 64),
      () => asyncOps(entryOnly, L2_MS / 5, 64),
    ], 5);
    const stats = noL1.stats();
    if (stats.factoryCalls !== 0 || stats.l2Hits === 0) throw new Error(`L2 bench did not hit L2 (${JSON.stringify(stats)})`);
    report('L2 hit @64 in flight vs BentoCache (redis driver)', `${fmt(ours)}/s vs ${fmt(bentoOps)}/s = ${(ours / bentoOps).toFixed(2)}x`, '>= 1.5x', ours / bentoOps >= 1.5);
    report('L2 hit @64 in flight vs cache-manager 7 (@keyv/redis)', `${fmt(ours)}/s vs ${fmt(cmOps)}/s = ${(ours / cmOps).toFixed(2)}x`, '>= 1.5x', ours / cmOps >= 1.5);
    report('  (context) raw RedisStore.get (1 GET, no envelope) @64', `${fmt(rawOps)}/s; tiered = ${(ours / rawOps).toFixed(2)}x of it`, 'info', undefined);
    report('  (context) core CacheService.getEntry alone @64', `${fmt(entryOps)}/s; tiered = ${(ours / entryOps).toFixed(2)}x of it`, 'info', undefined);
    // Every L2 hit needs one Redis round trip through ioredis: raw RedisStore.get is the ceiling of any
    // L2-hit path here, so this ratio bounds what "tiered vs cache-manager" can reach on this client.
    report('  (context) ceiling: raw RedisStore.get vs cache-manager 7', `${(rawOps / cmOps).toFixed(2)}x`, 'info', undefined);

    // ------------------------------------------------------------------ 4. stampede
    const counter = new Redis({ host: '127.0.0.1', port: redis.port });
    closers.push(async () => counter.disconnect());
    const workers = await Promise.all(Array.from({ length: 4 }, () => spawnWorker(redis.port, 'bench-stampede')));
    let results: { values: string[] }[];
    try {
      results = await Promise.all(workers.map((w) => w.call<{ values: string[] }>('stampede', { key: 'stampede:get:1', count: 250, counterKey: 'bench-stampede:calls', factoryMs: 200 })));
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
    const tieredCalls = Number(await counter.get('bench-stampede:calls'));
    const distinct = new Set(results.flatMap((r) => r.values)).size;
    report('stampede: 1000 getOrSet over 4 processes → factory calls', `${tieredCalls} (distinct values seen: ${distinct})`, '== 1', tieredCalls === 1 && distinct === 1);

    const slowFactory = (counterRef: { n: number }) => async () => {
      counterRef.n++;
      await new Promise((r) => setTimeout(r, 200));
      return value;
    };
    const bentoStampede = await peers.stampede('bento');
    const cmStampede = await peers.stampede('cm');
    const tc = { n: 0 };
    const tf = slowFactory(tc);
    await Promise.all(Array.from({ length: 1000 }, () => tiered.getOrSet('stampede:inproc', tf)));
    report('stampede: 1000 in one process, tiered → factory calls', `${tc.n}`, '== 1', tc.n === 1);
    report('stampede: 1000 in one process, BentoCache → factory calls', `${bentoStampede}`, 'peer (info)', undefined);
    report('stampede: 1000 in one process, cache-manager 7 → factory calls', `${cmStampede}`, 'peer (info)', undefined);

    // ------------------------------------------------------------------ 5. issue 13: read and miss path at the Redis limit
    await issue13(url, peers, store2, noL1, keys, value, closers);

  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await redis.close();
  }
  const miss = lines.filter((l) => l.pass === false).length;
  console.log(`\n${lines.filter((l) => l.pass === true).length} PASS, ${miss} MISS in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * Issue 13's goal lines, in one run against raw ioredis and the peers: L2 hit sequential p50 and at
 * 64 in flight, getOrSet miss (L1 + L2, cross-process lock on) sequential and at 64 in flight, 1 KB
 * JSON values. Contenders run interleaved (medians of rounds).
 */
async function issue13(
  url: string,
  peers: Peers,
  store2: RedisStore,
  noL1: TieredCache,
  keys: string[],
  value: object,
  closers: (() => Promise<unknown>)[],
): Promise<void> {
  const rawNoPipe = new Redis(url, { enableAutoPipelining: false });
  const rawPipe = new Redis(url, { enableAutoPipelining: true });
  closers.push(async () => {
    rawNoPipe.disconnect();
    rawPipe.disconnect();
  });
  const factory = () => value;
  const k = (i: number) => keys[i & (KEYS - 1)] as string;
  const SEQ_N = QUICK ? 2_000 : 5_000;
  const codec = createCodec();
  // L2 hit, sequential: p50 of tiered (no L1) vs raw ioredis GET without auto-pipelining
  const hitSeq = await interleaved([
    async () => percentile(await seqLatencies((i) => noL1.getOrSet(k(i), factory), SEQ_N), 50),
    async () => percentile(await seqLatencies((i) => rawNoPipe.getBuffer(`bench:${k(i)}`), SEQ_N), 50),
    async () => percentile(await seqLatencies((i) => rawPipe.getBuffer(`bench:${k(i)}`), SEQ_N), 50),
    async () => percentile(await seqLatencies((i) => store2.get(`bench:${k(i)}`), SEQ_N), 50),
    // the same GET and the entry decoded to objects (what any cache that returns the value must add)
    async () => percentile(await seqLatencies((i) => rawNoPipe.getBuffer(`bench:${k(i)}`).then((b) => (b === null ? b : codec.decode(b))), SEQ_N), 50),
  ], 3);
  const [oursP50 = 0, rawP50 = 0, rawPipeP50 = 0, storeP50 = 0, decodedP50 = 0] = hitSeq;
  report('L2 hit sequential p50 vs raw ioredis GET (no auto-pipelining)', `${oursP50.toFixed(1)} µs vs ${rawP50.toFixed(1)} µs = ${(oursP50 / rawP50).toFixed(2)}x`, '<= 1.1x', oursP50 / rawP50 <= 1.1);
  report('  (context) raw ioredis GET with auto-pipelining, RedisStore.get', `${rawPipeP50.toFixed(1)} µs, ${storeP50.toFixed(1)} µs`, 'info', undefined);
  if (oursP50 / rawP50 > 1.1) {
    report('  ceiling: tiered p50 − RedisStore.get p50 (envelope decode, checks)', `${(oursP50 - storeP50).toFixed(1)} µs over one GET`, 'info', undefined);
    report('  ceiling: raw GET + entry decode (1 KB value to objects)', `${decodedP50.toFixed(1)} µs = ${(decodedP50 / rawP50).toFixed(2)}x of the raw GET; tiered ${(oursP50 / decodedP50).toFixed(2)}x of it`, 'info', undefined);
  }
  // L2 hit, 64 in flight: tiered vs raw ioredis GET (each way) vs BentoCache
  const hitCpu = { ours: new CpuTally(), raw: new CpuTally() };
  const [ours64 = 0, raw64 = 0, rawPipe64 = 0, bento64 = 0] = await interleaved([
    () => hitCpu.ours.run(() => cpuRound((i) => noL1.getOrSet(k(i), factory), L2_MS / 4, 64)),
    () => asyncOps((i) => rawNoPipe.getBuffer(`bench:${k(i)}`), L2_MS / 4, 64),
    () => hitCpu.raw.run(() => cpuRound((i) => rawPipe.getBuffer(`bench:${k(i)}`), L2_MS / 4, 64)),
    () => peers.ops('bento-l2-hit', L2_MS / 4, 64),
  ], 3);
  const bestRaw = Math.max(raw64, rawPipe64);
  report('L2 hit @64 vs raw ioredis GET (best of with/without auto-pipelining)', `${fmt(ours64)}/s vs ${fmt(bestRaw)}/s = ${(ours64 / bestRaw).toFixed(2)}x`, '>= 1.0x', ours64 / bestRaw >= 1.0);
  report('  (context) raw ioredis GET @64 without / with auto-pipelining', `${fmt(raw64)}/s / ${fmt(rawPipe64)}/s`, 'info', undefined);
  if (ours64 / bestRaw < 1.0) {
    // the Redis round trips are coalesced (one MGET per batch): what is left is this process's CPU per hit
    report(
      '  ceiling (hit @64): this process\'s CPU per hit',
      `tiered ${hitCpu.ours.perOp().toFixed(2)} µs (MGET share + decode + checks) vs raw auto-pipelined GET ${hitCpu.raw.perOp().toFixed(2)} µs`,
      'info',
      undefined,
    );
  }
  report('L2 hit @64 vs BentoCache (this section)', `${fmt(ours64)}/s vs ${fmt(bento64)}/s = ${(ours64 / bento64).toFixed(2)}x`, '>= 1.5x', ours64 / bento64 >= 1.5);

  // getOrSet miss: every call a new key; L1 + L2 as the README configures them; our cross-process lock on.
  const big = MISS_VALUE;
  const storeM = new RedisStore(url);
  const l2m = new CacheService({ store: storeM, prefix: 'miss' });
  const tieredM = new TieredCache(l2m, { l1: { maxEntries: 10_000 }, ttl: '10m' });
  await tieredM.ready();
  // context: the same miss with the separate lock calls (fusedMiss: false), the path before issue 13's fused miss
  const l2o = new CacheService({ store: storeM, prefix: 'miss-old' });
  const tieredO = new TieredCache(l2o, { l1: { maxEntries: 10_000 }, ttl: '10m', fusedMiss: false });
  await tieredO.ready();
  closers.push(async () => {
    await tieredM.close();
    await tieredO.close();
    await l2o.close();
    await l2m.close();
    await storeM.close();
  });
  let round = 0;
  const missF = () => big;
  const oursMiss = (i: number) => tieredM.getOrSet(`m:${round}:${i}`, missF, { ttl: '10m' });
  const oldMiss = (i: number) => tieredO.getOrSet(`o:${round}:${i}`, missF, { ttl: '10m' });
  const seqOps = async (fn: (i: number) => Promise<unknown>): Promise<number> => {
    round++;
    const lat = await seqLatencies(fn, SEQ_MISS_N);
    return percentile(lat, 50);
  };
  // Round trips per miss, from the server's own counters (INFO commandstats deltas): the client sends
  // only EVALSHA (read-or-lock, then write + release + publish); the scripts' inner commands count too.
  const admin = new Redis(url);
  const stats = async (): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const m of (await admin.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1] as string] = Number(m[2]);
    return out;
  };
  for (const [label, fn] of [['fused', oursMiss], ['fusedMiss: false', oldMiss]] as const) {
    round++;
    const N = 500;
    const s0 = await stats();
    for (let i = 0; i < N; i++) await fn(i);
    await new Promise((r) => setTimeout(r, 100)); // the last background write
    const s1 = await stats();
    const per = (c: string) => (((s1[c] ?? 0) - (s0[c] ?? 0)) / N).toFixed(2);
    report(`  (context) commands per miss, ${label} (commandstats)`, `evalsha ${per('evalsha')} get ${per('get')} set ${per('set')} publish ${per('publish')} del ${per('del')}`, 'info', undefined);
  }
  admin.disconnect();
  const SEQ_MISS_N = QUICK ? 1_000 : 2_500;
  const peerSeq = (name: string) => () => peers.seq(name, SEQ_MISS_N, ++round);
  const [oursMissP50 = 0, bentoMissP50 = 0, cmMissP50 = 0, oldMissP50 = 0] = await interleaved([() => seqOps(oursMiss), peerSeq('bento-miss'), peerSeq('cm-miss'), () => seqOps(oldMiss)], 3);
  report('getOrSet miss sequential p50 vs BentoCache (lock on)', `${oursMissP50.toFixed(0)} µs vs ${bentoMissP50.toFixed(0)} µs = ${(bentoMissP50 / oursMissP50).toFixed(2)}x speed`, '>= 1.0x', bentoMissP50 / oursMissP50 >= 1.0);
  report('  (context) cache-manager 7 miss sequential p50', `${cmMissP50.toFixed(0)} µs`, 'info', undefined);
  report('  (context) tiered fusedMiss: false (separate lock calls) p50', `${oldMissP50.toFixed(0)} µs`, 'info', undefined);
  // this process's CPU per miss of each contender (user + system, all rounds): at 64 in flight the client's CPU is the ceiling
  // and the server's (INFO cpu): the lock's scripts cost Redis time the peers do not spend
  const cpuAdmin = new Redis(url);
  closers.push(async () => cpuAdmin.disconnect());
  const redisCpuUs = async (): Promise<number> => {
    const info = await cpuAdmin.info('cpu');
    const f = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return (f('used_cpu_user') + f('used_cpu_sys')) * 1e6;
  };
  const missCpu = { ours: new CpuTally(redisCpuUs), bento: new CpuTally(redisCpuUs), cm: new CpuTally(redisCpuUs), old: new CpuTally(redisCpuUs), peerProc: new CpuTally(redisCpuUs) };
  const concMiss = (tally: CpuTally, fn: (i: number) => Promise<unknown>) => () => {
    round++;
    return tally.run(() => cpuRound(fn, L2_MS / 3, 64));
  };
  const peerMiss = (tally: CpuTally, name: string) => () => tally.run(() => peers.cpu(name, L2_MS / 3, 64, ++round));
  const [ours64m = 0, bento64m = 0, cm64m = 0, old64m = 0, peerProc64m = 0] = await interleaved(
    [concMiss(missCpu.ours, oursMiss), peerMiss(missCpu.bento, 'bento-miss'), peerMiss(missCpu.cm, 'cm-miss'), concMiss(missCpu.old, oldMiss), peerMiss(missCpu.peerProc, 'ours-miss')],
    3,
  );
  const bestPeer = Math.max(bento64m, cm64m);
  report('getOrSet miss @64 vs best peer (lock on)', `${fmt(ours64m)}/s vs ${fmt(bestPeer)}/s = ${(ours64m / bestPeer).toFixed(2)}x`, '>= 1.0x', ours64m / bestPeer >= 1.0);
  report('  (context) BentoCache / cache-manager 7 miss @64', `${fmt(bento64m)}/s / ${fmt(cm64m)}/s`, 'info', undefined);
  report('  (context) tiered fusedMiss: false (separate lock calls) @64', `${fmt(old64m)}/s`, 'info', undefined);
  // the same miss of ours, run in the peers' process (where @redis/client has slowed String.prototype methods, see peer-host.ts)
  report(
    '  (context) ours @64 in the peers\' process (@redis/client loaded)',
    `${fmt(peerProc64m)}/s = ${(peerProc64m / bestPeer).toFixed(2)}x best peer; ${missCpu.peerProc.perOp().toFixed(1)} µs CPU per miss`,
    'info',
    undefined,
  );
  if (bentoMissP50 / oursMissP50 < 1.0 || ours64m / bestPeer < 1.0) {
    report(
      '  ceiling (miss): round trips per miss',
      '1 awaited (EVALSHA read-or-lock + barriers) + 1 in background (EVALSHA write + release + publish)',
      'info',
      undefined,
    );
  }
  if (ours64m / bestPeer < 1.0) {
    // Not round trips: this process's CPU. Ours does more per miss than the peers' defaults: the cross-process
    // lock (scripts), the L1 fill, the envelope encode (msgpackr), the bus message; cache-manager here is L2 only.
    report(
      '  ceiling (miss @64): this process\'s CPU per miss',
      `ours ${missCpu.ours.perOp().toFixed(1)} µs, cache-manager ${missCpu.cm.perOp().toFixed(1)} µs, BentoCache ${missCpu.bento.perOp().toFixed(1)} µs`,
      'info',
      undefined,
    );
    report(
      '  ceiling (miss @64): Redis CPU per miss',
      `ours ${missCpu.ours.perOp('redisUs').toFixed(1)} µs (lock + write scripts), cache-manager ${missCpu.cm.perOp('redisUs').toFixed(1)} µs, BentoCache ${missCpu.bento.perOp('redisUs').toFixed(1)} µs`,
      'info',
      undefined,
    );
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
