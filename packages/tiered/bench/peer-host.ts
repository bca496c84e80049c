/**
 * The peer libraries of the bench (BentoCache, cache-manager 7 with @keyv/redis), in a process of
 * their own, driven over IPC by `bench/index.ts` (see `peers.ts`).
 *
 * Why a process of their own: @keyv/redis loads @redis/client, whose `class VerbatimString extends
 * String` turns V8's `String.prototype` into a dictionary-mode object for the whole process, for
 * good. From then on every `String.prototype` method call on a string in that process is slow —
 * measured on Node 20: `charCodeAt` 6×, `indexOf` / `startsWith` / `slice` 1.6–1.8× — which slowed
 * msgpackr's string writing (stratacache's envelope encode) 2.5× and every key operation of ours,
 * but not the peers' `JSON.stringify`. An application runs one cache library, so each side gets a
 * process like an application's. The same slowdown is still shown, as context: `ours-miss` below
 * is stratacache's miss in this process, next to the peers.
 *
 * Started with: node --import tsx peer-host.ts <redis port>. Messages (reply with the same id):
 *   { id, cmd: 'ops', name, ms, inflight, round } → ops/s          (asyncOps)
 *   { id, cmd: 'cpu', name, ms, inflight, round } → CpuRound       (asyncOps + this process's CPU)
 *   { id, cmd: 'seq', name, n, round }            → p50 µs          (sequential latencies)
 *   { id, cmd: 'stampede', name }                 → factory calls for 1000 concurrent calls on one key
 *   { id, cmd: 'exit' }
 */
import { CacheService, RedisStore } from '@stratacache/core';
import { createKeyv } from '@keyv/redis';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache } from 'cache-manager';
import { TieredCache } from '@stratacache/tiered';
import { HIT_VALUE, MISS_VALUE, asyncOps, cpuRound, percentile, seqLatencies } from './measure';

const port = Number(process.argv[2]);
const url = `redis://127.0.0.1:${port}`;
const KEYS = 1_024;
const keys = Array.from({ length: KEYS }, (_, i) => `item:get:${i}`);
const k = (i: number): string => keys[i & (KEYS - 1)] as string;
const value = HIT_VALUE;
const big = MISS_VALUE;
const factory = (): object => value;
const missF = (): object => big;

const redisConn = () => redisDriver({ connection: { host: '127.0.0.1', port } });
const bentoL1 = new BentoCache({ default: 'c', ttl: '10m', stores: { c: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })) } });
const bentoL2 = new BentoCache({ default: 'c', ttl: '10m', stores: { c: bentostore().useL2Layer(redisConn()) } });
const bentoFull = new BentoCache({ default: 'c', ttl: '10m', stores: { c: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })).useL2Layer(redisConn()) } });
const cm = createCache({ stores: [createKeyv(url)] });
// stratacache's miss in this process (context only: what the peers' process does to it)
const ourStore = new RedisStore(url);
const ourL2 = new CacheService({ store: ourStore, prefix: 'miss-peerproc' });
const ours = new TieredCache(ourL2, { l1: { maxEntries: 10_000 }, ttl: '10m' });

let round = 0;
/** The contenders by name; `round` makes every miss round's keys new. */
const contenders: Record<string, (i: number) => Promise<unknown>> = {
  'bento-l1-hit': (i) => bentoL1.getOrSet({ key: k(i), factory }),
  'bento-l2-hit': (i) => bentoL2.getOrSet({ key: k(i), factory }),
  'cm-l2-hit': (i) => cm.wrap(k(i), async () => value, 600_000),
  'bento-miss': (i) => bentoFull.getOrSet({ key: `b:${round}:${i}`, factory: missF, ttl: '10m' }),
  'cm-miss': (i) => cm.wrap(`c:${round}:${i}`, async () => big, 600_000),
  'ours-miss': (i) => ours.getOrSet(`p:${round}:${i}`, missF, { ttl: '10m' }),
};

async function setup(): Promise<void> {
  await ours.ready();
  for (const key of keys) {
    await bentoL1.set({ key, value });
    await bentoL2.set({ key, value, ttl: '10m' });
    await cm.set(key, value, 600_000);
  }
}

function slowFactory(counter: { n: number }): () => Promise<object> {
  return async () => {
    counter.n++;
    await new Promise((r) => setTimeout(r, 200));
    return value;
  };
}

type Msg = { id: number; cmd: string; name?: string; ms?: number; n?: number; inflight?: number; round?: number };

async function handle(m: Msg): Promise<unknown> {
  if (m.round !== undefined) round = m.round;
  const fn = m.name === undefined ? undefined : contenders[m.name];
  switch (m.cmd) {
    case 'ops':
      return asyncOps(need(fn, m), Number(m.ms), Number(m.inflight));
    case 'cpu':
      return cpuRound(need(fn, m), Number(m.ms), Number(m.inflight));
    case 'seq':
      return percentile(await seqLatencies(need(fn, m), Number(m.n)), 50);
    case 'stampede': {
      const c = { n: 0 };
      const f = slowFactory(c);
      if (m.name === 'bento') await Promise.all(Array.from({ length: 1000 }, () => bentoFull.getOrSet({ key: 'stampede:bento', factory: f, ttl: '1m' })));
      else await Promise.all(Array.from({ length: 1000 }, () => cm.wrap('stampede:cm', f, 60_000)));
      return c.n;
    }
    default:
      throw new Error(`unknown command ${m.cmd}`);
  }
}

function need(fn: ((i: number) => Promise<unknown>) | undefined, m: Msg): (i: number) => Promise<unknown> {
  if (fn === undefined) throw new Error(`unknown contender ${String(m.name)}`);
  return fn;
}

async function close(): Promise<void> {
  await ours.close();
  await ourL2.close();
  await ourStore.close();
  await Promise.all([bentoL1.disconnectAll(), bentoL2.disconnectAll(), bentoFull.disconnectAll(), cm.disconnect()]);
}

// one command at a time, in order (the orchestrator awaits each)
let chain: Promise<unknown> = Promise.resolve();
process.on('message', (m: Msg) => {
  chain = chain.then(async () => {
    if (m.cmd === 'exit') {
      await close().catch(() => undefined);
      process.exit(0);
    }
    try {
      process.send?.({ id: m.id, result: await handle(m) });
    } catch (err) {
      process.send?.({ id: m.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
});

setup().then(
  () => process.send?.({ ready: true }),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
