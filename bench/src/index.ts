/**
 * Root `pnpm bench` comparison: stratacache side by side with raw lru-cache, raw ioredis (plain and
 * auto-pipelined), BentoCache, cache-manager 7 and cacheable, in one run on one machine, against
 * its own redis-server (test harness; never 6379). Writes bench/results/<date>.json and .md.
 * `--quick` (or BENCH_QUICK=1): a smoke run (~1 min). A full run stays under 10 minutes on 2 cores.
 */
import { fork } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { startStandalone } from '@stratacache/redis-harness';
import { bento, cacheManager, cacheable, stratacache, type Contender } from './contenders';
import { interleaved, opsPerSec, seqLatency } from './measure';
import { markdown, type Column, type Row } from './table';
import { gatewayBench } from './gateway';

const QUICK = process.argv.includes('--quick') || process.env['BENCH_QUICK'] === '1';
const T = QUICK ? { ops: 250, seq: 300, rounds: 1, ns: [10_000], bus: 200, gwSeq: 100, gwMs: 1_500 } : { ops: 1_000, seq: 2_000, rounds: 3, ns: [10_000, 100_000, 1_000_000], bus: 1_000, gwSeq: 500, gwMs: 5_000 };
const KEYS = 1_024;
const here = path.dirname(fileURLToPath(import.meta.url));
const rows: Row[] = [];
const value = { id: 1, name: 'widget', tags: ['a', 'b'], price: 9.99 };
const log = (s: string): void => console.log(s);

function row(r: Row): void {
  rows.push(r);
  const vals = Object.entries(r.values).map(([k, v]) => `${k} ${Number(v).toFixed(r.unit === 'calls' ? 0 : 1)}`).join(', ');
  log(`  ${r.pass === false ? 'MISS' : r.pass ? 'met ' : 'info'}  ${r.bench} [${r.unit}]: ${vals}  (goal ${r.goal})`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const redis = await startStandalone();
  const url = redis.url;
  const closers: (() => Promise<unknown>)[] = [];
  const keys = Array.from({ length: KEYS }, (_, i) => `item:get:${i}`);
  const k = (i: number): string => keys[i & (KEYS - 1)]!;
  log(`stratacache comparison bench — node ${process.version}, ${os.cpus().length} cores, redis :${redis.port}${QUICK ? ' (quick)' : ''}`);
  try {
    // ---------------------------------------------------------------- L1 hit
    log('L1 hit');
    const lru = new LRUCache<string, object>({ max: 100_000 });
    for (const key of keys) lru.set(key, value);
    const l1: Contender[] = [await stratacache(url, 'l1', 'bl1'), bento(redis.port, 'l1'), cacheManager(url, 'l1'), cacheable(url, 'l1')];
    closers.push(...l1.map((c) => () => c.close()));
    for (const c of l1) for (const key of keys) await c.set(key, value);
    const never = (): Promise<never> => Promise.reject(new Error('factory called on an L1 hit'));
    const l1Ops = await interleaved(
      [() => opsPerSec((i) => Promise.resolve(lru.get(k(i))), T.ops, 1), ...l1.map((c) => () => opsPerSec((i) => c.getOrSet(k(i), never), T.ops, 1))],
      T.rounds,
    );
    const [lruOps = 0, sOps = 0, bOps = 0, cmOps = 0, caOps = 0] = l1Ops;
    row({ bench: 'L1 hit, awaited getOrSet (vs lru-cache)', unit: 'ops/s', values: { stratacache: sOps, 'lru-cache (raw)': lruOps }, goal: '≥ 0.5× lru-cache', pass: sOps / lruOps >= 0.5 });
    row({ bench: 'L1 hit, awaited getOrSet (vs peers)', unit: 'ops/s', values: { stratacache: sOps, BentoCache: bOps, 'cache-manager 7': cmOps, cacheable: caOps }, goal: '≥ 1.5× each peer', pass: sOps >= 1.5 * Math.max(bOps, cmOps, caOps) });

    // ---------------------------------------------------------------- L2 hit
    log('L2 hit');
    const plain = new Redis({ host: '127.0.0.1', port: redis.port });
    const piped = new Redis({ host: '127.0.0.1', port: redis.port, enableAutoPipelining: true });
    closers.push(async () => plain.disconnect(), async () => piped.disconnect());
    for (const key of keys) await plain.set(`raw:${key}`, JSON.stringify(value));
    const l2: Contender[] = [await stratacache(url, 'l2', 'bl2'), bento(redis.port, 'l2'), cacheManager(url, 'l2'), cacheable(url, 'l2')];
    closers.push(...l2.map((c) => () => c.close()));
    for (const c of l2) for (const key of keys) await c.set(key, value);
    const l2fns: [Column, (i: number) => Promise<unknown>][] = [
      ['stratacache', (i) => l2[0]!.getOrSet(k(i), never)],
      ['ioredis (raw)', (i) => plain.get(`raw:${k(i)}`)],
      ['ioredis (auto-pipelined)', (i) => piped.get(`raw:${k(i)}`)],
      ['BentoCache', (i) => l2[1]!.getOrSet(k(i), never)],
      ['cache-manager 7', (i) => l2[2]!.getOrSet(k(i), never)],
      ['cacheable', (i) => l2[3]!.getOrSet(k(i), never)],
    ];
    const p50: Row['values'] = {};
    const p99: Row['values'] = {};
    for (const [name, fn] of l2fns) {
      const r = await seqLatency(fn, T.seq);
      p50[name] = r.p50;
      p99[name] = r.p99;
    }
    row({ bench: 'L2 hit, sequential p50', unit: 'µs', values: p50, goal: '≤ 2× raw ioredis', pass: p50.stratacache! <= 2 * p50['ioredis (raw)']! });
    row({ bench: 'L2 hit, sequential p99', unit: 'µs', values: p99, goal: 'info', pass: undefined });
    const l2ops = await interleaved(l2fns.map(([, fn]) => () => opsPerSec(fn, T.ops, 64)), T.rounds);
    const at64: Row['values'] = Object.fromEntries(l2fns.map(([name], i) => [name, l2ops[i]!]));
    row({ bench: 'L2 hit, 64 in flight', unit: 'ops/s', values: at64, goal: '≥ 1.5× BentoCache and cache-manager', pass: at64.stratacache! >= 1.5 * Math.max(at64.BentoCache!, at64['cache-manager 7']!) });

    // ---------------------------------------------------------------- getOrSet miss
    log('getOrSet miss');
    const both: Contender[] = [await stratacache(url, 'both', 'bms'), bento(redis.port, 'both'), cacheManager(url, 'both'), cacheable(url, 'both')];
    closers.push(...both.map((c) => () => c.close()));
    const factory = (): Promise<unknown> => Promise.resolve(value);
    let run = 0;
    const missFns: [Column, (i: number) => Promise<unknown>][] = [
      ...both.map((c): [Column, (i: number) => Promise<unknown>] => [c.name as Column, (i) => c.getOrSet(`miss:${run}:${i}`, factory)]),
      ['ioredis (raw)', async (i) => (await plain.get(`rawmiss:${run}:${i}`)) ?? plain.set(`rawmiss:${run}:${i}`, JSON.stringify(value), 'PX', 600_000)],
      ['ioredis (auto-pipelined)', async (i) => (await piped.get(`rawmissp:${run}:${i}`)) ?? piped.set(`rawmissp:${run}:${i}`, JSON.stringify(value), 'PX', 600_000)],
    ];
    const m50: Row['values'] = {};
    const m99: Row['values'] = {};
    for (const [name, fn] of missFns) {
      run++;
      const r = await seqLatency(fn, T.seq);
      m50[name] = r.p50;
      m99[name] = r.p99;
    }
    row({ bench: 'getOrSet miss, sequential p50', unit: 'µs', values: m50, goal: '≤ best peer', pass: m50.stratacache! <= Math.min(m50.BentoCache!, m50['cache-manager 7']!, m50.cacheable!) });
    row({ bench: 'getOrSet miss, sequential p99', unit: 'µs', values: m99, goal: 'info', pass: undefined });
    const missOps = await interleaved(missFns.map(([, fn]) => () => ((run += 1), opsPerSec(fn, T.ops, 64))), T.rounds);
    const m64: Row['values'] = Object.fromEntries(missFns.map(([name], i) => [name, missOps[i]!]));
    row({ bench: 'getOrSet miss, 64 in flight', unit: 'ops/s', values: m64, goal: '≥ best peer', pass: m64.stratacache! >= Math.max(m64.BentoCache!, m64['cache-manager 7']!, m64.cacheable!) });

    // ---------------------------------------------------------------- stampede
    log('stampede');
    const one: Row['values'] = {};
    for (const c of both) {
      let n = 0;
      const slow = async (): Promise<unknown> => {
        n++;
        await new Promise((r) => setTimeout(r, 100));
        return value;
      };
      await Promise.all(Array.from({ length: 1000 }, () => c.getOrSet(`stampede:one:${c.name}`, slow)));
      one[c.name as Column] = n;
    }
    row({ bench: 'stampede: 1000 concurrent getOrSet, 1 process → factory calls', unit: 'calls', values: one, goal: 'stratacache = 1', pass: one.stratacache === 1 });
    const four: Row['values'] = {};
    for (const lib of ['stratacache', 'BentoCache', 'cache-manager 7', 'cacheable'] as const) four[lib] = await stampedeOver4(redis.port, lib);
    row({ bench: 'stampede: 4 processes × 250 getOrSet → factory calls', unit: 'calls', values: four, goal: 'stratacache = 1', pass: four.stratacache === 1 });

    // ---------------------------------------------------------------- namespace invalidation
    log('namespace invalidation');
    for (const n of T.ns) {
      const vals: Row['values'] = {};
      const s = both[0] as Awaited<ReturnType<typeof stratacache>>;
      const nsKey = (i: number): string => s.l2.keys.build('nsb', `n${n}`, { i });
      // a write that hit the 200 ms operation timeout on a busy machine is retried: every key lands
      await fill(n, async (i) => {
        for (let tries = 0; tries < 5; tries++) if ((await s.l2.set(nsKey(i), value, { ttl: '10m' })).ok) return;
        throw new Error(`namespace fill: key ${i} not written after 5 tries`);
      });
      if ((await s.l2.get(nsKey(n - 1))) === undefined) throw new Error('namespace fill did not land');
      await s.l2.invalidateNamespace('nsb', 'warm-up'); // first call loads scripts: not what is measured
      // median of 5 calls: each bumps the namespace version with the N entries still in Redis
      const times: number[] = [];
      let t = 0;
      for (let r = 0; r < 5; r++) {
        t = performance.now();
        await s.l2.invalidateNamespace('nsb', `n${n}`);
        times.push(performance.now() - t);
        if (r === 0 && (await s.l2.get(nsKey(0))) !== undefined) throw new Error('namespace invalidation left an entry readable');
      }
      vals.stratacache = [...times].sort((x, y) => x - y)[2]!;
      if (n <= 100_000) {
        const bc = (both[1] as ReturnType<typeof bento>).cache.namespace(`n${n}`);
        await fill(n, (i) => bc.set({ key: `k${i}`, value }));
        await (both[1] as ReturnType<typeof bento>).cache.namespace('warm-up').clear();
        t = performance.now();
        await bc.clear();
        vals.BentoCache = performance.now() - t;
        for (const [col, mk] of [['cache-manager 7', cacheManager], ['cacheable', cacheable]] as const) {
          const c = mk(`${url}/0`, 'l2');
          await fill(n, (i) => c.set(`k${i}`, value));
          t = performance.now();
          await c.clear();
          vals[col] = performance.now() - t;
          await c.close();
        }
      }
      row({ bench: `namespace invalidation, ${n.toLocaleString('en')} keys`, unit: 'ms', values: vals, goal: '≤ 5 ms (O(1))', pass: vals.stratacache <= 5, note: `stratacache: median of 5 calls, first ${times[0]!.toFixed(2)} ms${n > 100_000 ? '; peers not run at 1M (filling costs minutes)' : ''}` });
      await plain.flushdb(); // the harness's own server: frees memory between sizes
    }

    // ---------------------------------------------------------------- bus propagation
    log('bus propagation');
    row(await busPropagation(url, T.bus));

    // ---------------------------------------------------------------- gateway
    log('gateway');
    for (const r of await gatewayBench(url, T.gwSeq, T.gwMs)) row(r);
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await redis.close();
  }
  const seconds = (Date.now() - started) / 1000;
  const date = new Date().toISOString().slice(0, 10);
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const machine = `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, redis-server 7 (harness)`;
  const md = markdown(rows, { date, machine, quick: QUICK, seconds });
  const dir = path.resolve(here, '..', 'results');
  await mkdir(dir, { recursive: true });
  const base = path.join(dir, QUICK ? `${date}-quick` : date);
  await writeFile(`${base}.json`, `${JSON.stringify({ date, machine, quick: QUICK, seconds, rows }, null, 2)}\n`);
  await writeFile(`${base}.md`, `${md}\n`);
  log(`\n${md}\n\nwritten: ${base}.json, ${base}.md`);
}

/** n writes, 128 in flight. */
async function fill(n: number, set: (i: number) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: 128 }, async () => {
    while (i < n) await set(i++);
  }));
}

async function stampedeOver4(port: number, lib: string): Promise<number> {
  const counterKey = `stampede4:${lib}:calls`;
  const workers = Array.from({ length: 4 }, () => fork(path.join(here, 'stampede-worker.ts'), [], { execArgv: ['--import', 'tsx', '--conditions=@stratacache/source'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const next = (w: (typeof workers)[number]): Promise<{ error?: string }> => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('stampede worker timed out')), 60_000);
    w.once('message', (m) => { clearTimeout(t); resolve(m as { error?: string }); });
  });
  try {
    const ready = workers.map(next);
    for (const w of workers) w.send({ lib, port, key: `stampede4:${lib}`, count: 250, counterKey, factoryMs: 200, prefix: 'bst' });
    await Promise.all(ready);
    const done = workers.map(next);
    for (const w of workers) w.send('go');
    for (const r of await Promise.all(done)) if (r.error) throw new Error(`${lib} worker: ${r.error}`);
  } finally {
    for (const w of workers) if (w.exitCode === null) w.kill();
  }
  const counter = new Redis({ host: '127.0.0.1', port });
  const n = Number(await counter.get(counterKey));
  counter.disconnect();
  return n;
}

async function busPropagation(url: string, samples: number): Promise<Row> {
  const a = await stratacache(url, 'both', 'bbus');
  const b = await stratacache(url, 'both', 'bbus');
  try {
    let sentAt = 0;
    let onDrop: ((ms: number) => void) | undefined;
    b.tiered.on('bus', (e) => {
      if (e.kind === 'd' && onDrop) onDrop(performance.now() - sentAt);
    });
    const xs: number[] = [];
    for (let i = -50; i < samples; i++) {
      const key = b.l2.key(`bus:get:${i}`);
      await b.tiered.set(key, i);
      const dropped = new Promise<number>((r) => (onDrop = r));
      sentAt = performance.now();
      await a.tiered.delete(key);
      const ms = await Promise.race([dropped, new Promise<number>((r) => setTimeout(() => r(1_000), 1_000))]);
      if (i >= 0) xs.push(ms * 1000);
    }
    xs.sort((x, y) => x - y);
    const p = (q: number): number => xs[Math.min(xs.length - 1, Math.ceil((q / 100) * xs.length) - 1)]!;
    return { bench: `bus propagation p50 / p99 (delete on A → L1 dropped on B), p99 shown`, unit: 'µs', values: { stratacache: p(99) }, goal: 'p99 < 5 ms', pass: p(99) < 5_000, note: `p50 ${(p(50) / 1000).toFixed(3)} ms` };
  } finally {
    await a.close();
    await b.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
