/**
 * `pnpm bench` — bounded (< 90 s) benchmark of @stratacache/core. Every figure is a ratio against a
 * baseline measured in the same run on the same machine (a throw-away redis-server from the harness).
 */
import { Redis } from 'ioredis';
import { startStandalone } from '@stratacache/redis-harness';
import { CacheService, MemoryStore, createCodec } from '../src/index';
import { makeFixture, runCodecBench } from './codec';
import { runBatchingBench } from './batching';

interface Line {
  name: string;
  value: string;
  goal: string;
  verdict: 'PASS' | 'MISS' | 'INFO';
}
const lines: Line[] = [];
const started = Date.now();
const BUDGET_MS = 85_000;
const overBudget = () => Date.now() - started > BUDGET_MS;

function report(name: string, value: string, goal = '—', verdict: Line['verdict'] = 'INFO'): void {
  lines.push({ name, value, goal, verdict });
  console.log(`${verdict.padEnd(4)}  ${name}: ${value}${goal === '—' ? '' : `  (goal ${goal})`}`);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
const fmtUs = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;

/** Client CPU (user + system, µs) spent per op during the last `seq` / `throughput` run. */
let lastCpuUs = 0;

/** Mean per-op latency (ms) of `n` sequential awaited calls. */
async function seq(n: number, fn: (i: number) => unknown): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  const ms = (performance.now() - t0) / n;
  const c = process.cpuUsage(c0);
  lastCpuUs = (c.user + c.system) / n;
  return ms;
}

/** Ops/s with `inFlight` concurrent loops for `total` calls. */
async function throughput(total: number, inFlight: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) await fn(next++);
    }),
  );
  const c = process.cpuUsage(c0);
  lastCpuUs = (c.user + c.system) / total;
  return total / ((performance.now() - t0) / 1000);
}

/** Alternates A and B for `rounds` rounds (noise on a shared machine hits both); medians of the results and of client CPU/op. */
const cpuOf = { a: 0, b: 0 };
async function ab(rounds: number, a: () => Promise<number>, b: () => Promise<number>): Promise<[number, number]> {
  const as: number[] = [];
  const bs: number[] = [];
  const ca: number[] = [];
  const cb: number[] = [];
  for (let r = 0; r < rounds; r++) {
    as.push(await a());
    ca.push(lastCpuUs);
    bs.push(await b());
    cb.push(lastCpuUs);
  }
  cpuOf.a = median(ca);
  cpuOf.b = median(cb);
  return [median(as), median(bs)];
}
/** Like `ab` for any number of contenders, interleaved in every round (order rotated); medians of results and of client CPU/op. */
async function interleave(rounds: number, fns: (() => Promise<number>)[]): Promise<{ v: number[]; cpu: number[] }> {
  const vs: number[][] = fns.map(() => []);
  const cs: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < fns.length; j++) {
      const i = (j + r) % fns.length; // rotate the order every round
      (vs[i] as number[]).push(await (fns[i] as () => Promise<number>)());
      (cs[i] as number[]).push(lastCpuUs);
    }
  }
  return { v: vs.map(median), cpu: cs.map(median) };
}
const cpuLine = () => `client CPU ${cpuOf.b.toFixed(1)} vs ${cpuOf.a.toFixed(1)} µs/op = ${(cpuOf.b / cpuOf.a).toFixed(2)}×`;

async function main(): Promise<void> {
  console.log(`# @stratacache/core benchmark (node ${process.version}, ${new Date().toISOString()})\n`);
  const server = await startStandalone({ args: ['--enable-debug-command', 'yes', '--save', '', '--appendonly', 'no'] });
  const raw = new Redis(server.url, { enableAutoPipelining: true });
  const value = { id: 42, title: 'Replace water heater', status: 'open', tags: ['plumbing', 'urgent'], createdAt: new Date(), amount: 1234.5 };
  try {
    // 1. MemoryStore-backed get vs a raw Map get ------------------------------------------------
    {
      const cache = new CacheService({ prefix: 'bm' });
      const key = cache.keys.build('jobs', 'detail', 42);
      await cache.set(key, value);
      const map = new Map<string, unknown>([[key, value]]);
      const N = 100_000;
      let sink: unknown;
      const [mapSync, cacheGet] = await ab(
        5,
        async () => {
          const t0 = performance.now();
          for (let i = 0; i < N; i++) sink = map.get(key);
          return (performance.now() - t0) / N;
        },
        () => seq(N / 5, () => cache.get(key)),
      );
      const mapAsync = median(await Promise.all([0, 1, 2].map(() => seq(N / 5, async () => map.get(key)))));
      void sink;
      report('MemoryStore cache.get vs raw Map.get (sync)', `${fmtUs(cacheGet)} vs ${fmtUs(mapSync)} = ${(cacheGet / mapSync).toFixed(0)}×`);
      report(
        'MemoryStore cache.get vs awaited Map.get',
        `${fmtUs(cacheGet)} vs ${fmtUs(mapAsync)} = ${(cacheGet / mapAsync).toFixed(1)}× (decode + envelope + barrier check + stats)`,
      );
      await cache.close();
    }

    // 2./3. RedisStore-backed get vs raw ioredis GET of the same bytes --------------------------------
    {
      const cache = new CacheService({ redis: server.url, prefix: 'bl', opTimeout: 2000 });
      const exact = new CacheService({ redis: server.url, prefix: 'bl', opTimeout: 2000, barrierCacheMs: 0 });
      const key = cache.keys.build('jobs', 'detail', 42);
      const plainKey = 'plain:42';
      await cache.set(key, value);
      await cache.set(plainKey, value);
      await raw.set('raw:bytes', (await raw.getBuffer(key)) as Buffer);
      // warm-up
      await seq(2000, () => cache.get(key));
      await seq(2000, () => raw.getBuffer('raw:bytes'));
      // raw GET, raw GET + codec.decode of the same bytes (what any caller of raw GET must add to get the
      // value back: the floor for a decoding cache), and cache.get — interleaved in the same rounds.
      const seqCodec = createCodec();
      const sq = await interleave(9, [
        () => seq(1500, () => raw.getBuffer('raw:bytes')),
        () => seq(1500, () => raw.getBuffer('raw:bytes').then((b) => seqCodec.decode(b as Buffer))),
        () => seq(1500, () => cache.get(key)),
      ]);
      const [rawSeq = 1, decodeSeq = 1, cacheSeq = 1] = sq.v;
      const [rawSeqCpu = 1, decodeSeqCpu = 1, cacheSeqCpu = 1] = sq.cpu;
      const r = cacheSeq / rawSeq;
      report(
        'Redis sequential latency: cache.get (namespaced key) vs raw GET',
        `${fmtUs(cacheSeq)} vs ${fmtUs(rawSeq)} = ${r.toFixed(2)}× (client CPU ${cacheSeqCpu.toFixed(1)} vs ${rawSeqCpu.toFixed(1)} µs/op)`,
        '≤ 1.15×',
        r <= 1.15 ? 'PASS' : 'MISS',
      );
      report(
        'Redis sequential latency: raw GET + codec.decode (the floor for any decoding cache) vs raw GET',
        `${fmtUs(decodeSeq)} vs ${fmtUs(rawSeq)} = ${(decodeSeq / rawSeq).toFixed(2)}× (client CPU ${decodeSeqCpu.toFixed(1)} µs/op); cache.get = ${(cacheSeq / decodeSeq).toFixed(2)}× of the floor`,
      );
      const [rawSeq2, plainSeq] = await ab(
        5,
        () => seq(1500, () => raw.getBuffer('raw:bytes')),
        () => seq(1500, () => cache.get(plainKey)),
      );
      report('Redis sequential latency: cache.get (key without namespace) vs raw GET', `${fmtUs(plainSeq)} vs ${fmtUs(rawSeq2)} = ${(plainSeq / rawSeq2).toFixed(2)}× (${cpuLine()})`);

      const codec = createCodec();
      const tp = await interleave(5, [
        () => throughput(20_000, 64, () => raw.getBuffer('raw:bytes')),
        () => throughput(20_000, 64, () => raw.getBuffer('raw:bytes').then((b) => codec.decode(b as Buffer))),
        () => throughput(20_000, 64, () => cache.get(key)),
        () => throughput(20_000, 64, () => exact.get(key)),
      ]);
      const [rawTp = 1, decodeTp = 1, cacheTp = 1, exactTp = 1] = tp.v;
      const [rawTpCpu = 1, decodeTpCpu = 1, cacheTpCpu = 1] = tp.cpu;
      const t = cacheTp / rawTp;
      const ops = (n: number) => Math.round(n).toLocaleString('en-US');
      report(
        'Redis 64-in-flight throughput: cache.get vs raw GET (both auto-pipelined)',
        `${ops(cacheTp)} vs ${ops(rawTp)} ops/s = ${t.toFixed(2)}× (client CPU ${cacheTpCpu.toFixed(1)} vs ${rawTpCpu.toFixed(1)} µs/op)`,
        '≥ 0.80×',
        t >= 0.8 ? 'PASS' : 'MISS',
      );
      report(
        'Redis 64-in-flight throughput: raw GET + codec.decode (the floor for any decoding cache) vs raw GET',
        `${ops(decodeTp)} vs ${ops(rawTp)} ops/s = ${(decodeTp / rawTp).toFixed(2)}× (client CPU ${decodeTpCpu.toFixed(1)} µs/op); cache.get = ${(cacheTp / decodeTp).toFixed(2)}× of the floor`,
      );
      report(
        'Redis 64-in-flight throughput: cache.get with barrierCacheMs: 0 (barriers fetched by every read, one MGET) vs raw GET',
        `${ops(exactTp)} vs ${ops(rawTp)} ops/s = ${(exactTp / rawTp).toFixed(2)}× (client CPU ${(tp.cpu[3] ?? 0).toFixed(1)} µs/op)`,
      );
      await exact.close();
      await cache.close();
    }

    // 4. Compression on vs off (through the cache, on Redis) --------------------------------------
    {
      const big = makeFixture(20 * 1024);
      const on = new CacheService({ redis: server.url, prefix: 'bcon', opTimeout: 2000 });
      const off = new CacheService({ redis: server.url, prefix: 'bcoff', opTimeout: 2000, compressThreshold: Infinity });
      await on.set('big', big);
      await off.set('big', big);
      const [onBytes, offBytes] = [await raw.strlen('bcon:big'), await raw.strlen('bcoff:big')];
      const [offGet, onGet] = await ab(5, () => seq(200, () => off.get('big')), () => seq(200, () => on.get('big')));
      const [offSet, onSet] = await ab(5, () => seq(100, () => off.set('big', big)), () => seq(100, () => on.set('big', big)));
      report('Compression (20 KB value): stored bytes on vs off', `${onBytes.toLocaleString('en-US')} vs ${offBytes.toLocaleString('en-US')} B = ${(onBytes / offBytes).toFixed(2)}×`);
      report('Compression (20 KB value): get latency on vs off', `${fmtUs(onGet)} vs ${fmtUs(offGet)} = ${(onGet / offGet).toFixed(2)}×`);
      report('Compression (20 KB value): set latency on vs off', `${fmtUs(onSet)} vs ${fmtUs(offSet)} = ${(onSet / offSet).toFixed(2)}×`);
      await on.close();
      await off.close();
    }

    // 5. Namespace invalidation cost vs key count (should be flat) ---------------------------------
    {
      const sizes = [10_000, 100_000, 1_000_000];
      const timeInvalidation = async (cache: CacheService) => {
        // warm-up: connection established, JIT warm (not timed)
        await cache.health();
        for (let i = 0; i < 5; i++) await cache.invalidateNamespace('jobs', 'list');
        const xs: number[] = [];
        for (let i = 0; i < 21; i++) {
          const t0 = performance.now();
          await cache.invalidateNamespace('jobs', 'list');
          xs.push(performance.now() - t0);
        }
        return median(xs);
      };
      // Redis: keys loaded server-side with DEBUG POPULATE (fast), one prefix per size.
      const redisTimes: number[] = [];
      for (const n of sizes) {
        if (overBudget()) break;
        const prefix = `bn${n}`;
        await raw.call('DEBUG', 'POPULATE', String(n), `${prefix}:jobs:list:p`, '64');
        const cache = new CacheService({ redis: server.url, prefix, opTimeout: 2000 });
        const probe = cache.keys.build('jobs', 'list', { page: 'probe' });
        await cache.set(probe, [1, 2, 3]);
        const ms = await timeInvalidation(cache);
        const gone = (await cache.get(probe)) === undefined;
        redisTimes.push(ms);
        report(`invalidateNamespace on Redis with ${n.toLocaleString('en-US')} keys`, `${ms.toFixed(3)} ms (entry invalidated: ${gone})`);
        await cache.close();
      }
      if (redisTimes.length >= 2) {
        const flat = Math.max(...redisTimes) / Math.min(...redisTimes);
        const worst = Math.max(...redisTimes);
        report(
          'invalidateNamespace on Redis: slowest / fastest across sizes',
          `${flat.toFixed(2)}× (slowest ${worst.toFixed(3)} ms)`,
          'flat: ≤ 3×, or every size < 1 ms',
          flat <= 3 || worst < 1 ? 'PASS' : 'MISS',
        );
      }
      // For contrast: pattern invalidation (SCAN + UNLINK) is O(n).
      for (const n of [10_000, 100_000]) {
        if (overBudget()) break;
        const cache = new CacheService({ redis: server.url, prefix: `bn${n}`, opTimeout: 2000 });
        const t0 = performance.now();
        const r = await cache.invalidatePattern('jobs:list:*');
        report(`invalidatePattern (SCAN+UNLINK) on Redis with ${n.toLocaleString('en-US')} keys`, `${(performance.now() - t0).toFixed(1)} ms, ${r.deleted.toLocaleString('en-US')} deleted (O(n), for contrast)`);
        await cache.close();
      }
      // MemoryStore: 10k / 100k / 1M real entries.
      const memTimes: number[] = [];
      for (const n of sizes) {
        if (overBudget()) break;
        const store = new MemoryStore({ sweepIntervalMs: 0 });
        const cache = new CacheService({ store, prefix: 'bm' });
        const probe = cache.keys.build('jobs', 'list', { page: 'probe' });
        await cache.set(probe, value);
        const bytes = (await store.get(probe)) as Buffer;
        for (let i = 0; i < n; i += 50_000) {
          await store.mset(Array.from({ length: Math.min(50_000, n - i) }, (_, j) => ({ key: `bm:jobs:list:p${i + j}`, value: bytes, ttlMs: 600_000 })));
        }
        const ms = await timeInvalidation(cache);
        memTimes.push(ms);
        report(`invalidateNamespace on MemoryStore with ${store.size.toLocaleString('en-US')} keys`, `${ms.toFixed(3)} ms (entry invalidated: ${(await cache.get(probe)) === undefined})`);
        await cache.close();
        await store.close();
      }
      if (memTimes.length >= 2) {
        const flat = Math.max(...memTimes) / Math.min(...memTimes);
        const worst = Math.max(...memTimes);
        report(
          'invalidateNamespace on MemoryStore: slowest / fastest across sizes',
          `${flat.toFixed(2)}× (slowest ${worst.toFixed(3)} ms)`,
          'flat: ≤ 3×, or every size < 1 ms',
          flat <= 3 || worst < 1 ? 'PASS' : 'MISS',
        );
      }
    }

    // RedisStore read batching (issue 13): adaptive GET→MGET vs plain auto-pipelining ----------------
    await runBatchingBench(server.url, (label, text) => report(`read batching: ${label}`, text));
  } finally {
    await raw.quit();
    await server.close();
  }

  // 6. The codec sibling's benchmark ---------------------------------------------------------------
  if (!overBudget()) await runCodecBench();

  console.log(`\n## summary (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  for (const l of lines) console.log(`${l.verdict.padEnd(4)}  ${l.name}: ${l.value}${l.goal === '—' ? '' : `  (goal ${l.goal})`}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
