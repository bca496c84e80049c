// Cluster origin drill (issue 20), shared by test/cluster-drill.test.ts and bench/drills.ts: a read loop
// over ~300 keys of several entities on a TieredCache (createRedisConnection → CacheService →
// TieredCache, all defaults), one master SIGKILLed; origin calls are counted per key and compared with
// the keys living on the dead master; the outage window of the cache and of the raw ioredis client are
// measured in the same run.
import type { CacheService } from '@stratacache/core';
import type { RedisCluster } from '@stratacache/redis-harness';
import type { TieredCache } from '@stratacache/tiered';
import type { Cluster } from 'ioredis';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface OriginDrillResult {
  keys: number;
  entities: number;
  /** Keys whose slot the killed master owned. */
  keysOnDeadMaster: number;
  /** Keys of the other masters whose entity's first barrier (`{prefix}:__ns:{entity}`, the only one before barrier copies) was on the dead master. */
  keysWithFirstBarrierOnDeadMaster: number;
  /** Origin calls from the kill to the end of the drill, and on how many keys; the keys of other masters among them. */
  originCalls: number;
  originKeys: number;
  originKeysElsewhere: number;
  /** Most origin calls of one key. */
  maxPerKey: number;
  reads: number;
  callerErrors: number;
  wrongValues: number;
  /** Kill → first successful write through the raw ioredis client / through the CacheService, to the dead master's slots. */
  clientOutageMs: number;
  cacheOutageMs: number;
  /** Kill → the last origin call (the cache served everything from L1/L2 afterwards). */
  lastOriginMs: number;
  killedPort: number;
  /** Worst event-loop delay from the kill to the end (ms): a reply that waits for a busy loop longer than `opTimeout` is a timeout. */
  maxLoopDelayMs: number;
  /** Store errors (timeouts) on keys of live masters in the 2 s of read loop before the kill (the machine's noise). */
  baselineErrorsLive: number;
  /** Origin calls in the 2 s of read loop before the kill (expected 0: everything warm). */
  baselineOriginCalls: number;
  /** The store errors reported (not thrown) after the kill for the keys of live masters that went to the origin (diagnostics). */
  errorsElsewhere: Record<string, string[]>;
}

/** Slot owner (`host:port`) of each key, asked from the Cluster (CLUSTER KEYSLOT + the client's slot table). */
async function owners(client: Cluster, keys: readonly string[]): Promise<string[]> {
  const slots = await Promise.all(keys.map(async (k) => Number(await client.cluster('KEYSLOT', k))));
  return slots.map((s) => client.slots[s]?.[0] ?? '?');
}

/**
 * Runs the drill. `tiered` must sit on `cache` (its L2), which must sit on `client`. The Cluster must run
 * with `cluster-require-full-coverage no` for the other masters to keep answering during the failover.
 */
export async function clusterOriginDrill(opts: {
  cluster: RedisCluster;
  client: Cluster;
  cache: CacheService;
  tiered: TieredCache;
  entities?: number;
  keys?: number;
  readers?: number;
  timeoutMs?: number;
}): Promise<OriginDrillResult> {
  const { cluster, client, cache, tiered } = opts;
  const nEntities = opts.entities ?? 10;
  const nKeys = opts.keys ?? 300;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const keys = Array.from({ length: nKeys }, (_, i) => cache.keys.build(`e${i % nEntities}`, 'get', i));
  const value = (k: string) => `v:${k}`;
  const keyOwner = await owners(client, keys);
  const firstBarrierOwner = await owners(
    client,
    keys.map((k) => `${cache.prefix}:__ns:{${k.split(':')[1] ?? ''}}`),
  );
  // the victim: the master of the first key; it must have a replica to promote
  const victimAddr = keyOwner[0] as string;
  const killedPort = Number(victimAddr.split(':')[1]);
  const onVictim = new Set(keys.filter((_, i) => keyOwner[i] === victimAddr));
  const firstBarrierExposed = keys.filter((k, i) => !onVictim.has(k) && firstBarrierOwner[i] === victimAddr).length;
  const probe = keys[0] as string; // a key in the victim's slots
  const rawProbe = `{${probe}}:raw`; // hash tag = the probe key: the same slot

  let phase: 'warm' | 'baseline' | 'outage' = 'warm';
  const during = new Map<string, number>();
  let lastOrigin = 0;
  let t0 = 0;
  const factoryFor = (k: string) => () => {
    if (phase === 'baseline') baselineOriginCalls++;
    if (phase === 'outage') {
      during.set(k, (during.get(k) ?? 0) + 1);
      lastOrigin = Date.now() - t0;
    }
    return value(k);
  };
  // warm-up, staggered over the L1 TTL (5 s): L1 copies then expire at different times, so during the
  // outage about half of them go to L2 (all of them if the bus was on the dead master)
  const batches = 10;
  for (let b = 0; b < batches; b++) {
    await Promise.all(keys.filter((_, i) => i % batches === b).map((k) => tiered.getOrSet(k, factoryFor(k))));
    await sleep(500);
  }
  // every entry reached L2 (the tiered write is in the background; retried on a loaded machine)
  for (let i = 0; i < 20; i++) {
    const vals = await cache.mget(keys);
    const missing = keys.filter((k, j) => vals[j] !== value(k));
    if (missing.length === 0) break;
    await Promise.all(missing.map((k) => cache.set(k, value(k))));
    await sleep(200);
  }

  const errorsByKey = new Map<string, string[]>();
  let baselineErrorsLive = 0;
  let baselineOriginCalls = 0;
  const offError = cache.on('error', (e) => {
    if (e.key === undefined || onVictim.has(e.key)) return;
    if (phase === 'baseline') baselineErrorsLive++;
    if (phase !== 'outage') return;
    const list = errorsByKey.get(e.key) ?? [];
    if (list.length < 4) list.push(`${e.kind ?? ''}: ${String((e.error as Error | undefined)?.message ?? e.error).slice(0, 80)} @${Date.now() - t0}ms`);
    errorsByKey.set(e.key, list);
  });
  let stop = false;
  let reads = 0;
  let errors = 0;
  let wrong = 0;
  const reader = async (r: number) => {
    for (let i = r; !stop; i = (i + 7) % keys.length) {
      const k = keys[i] as string;
      try {
        if ((await tiered.getOrSet(k, factoryFor(k))) !== value(k)) wrong++;
      } catch {
        errors++;
      }
      // a busy app, not a spin loop: a loop saturating the event loop delays replies past opTimeout
      if (++reads % 4 === 0) await sleep(1);
    }
  };
  const loops = Array.from({ length: opts.readers ?? 8 }, (_, r) => reader(r));
  await sleep(300);
  phase = 'baseline';
  await sleep(2_000);

  phase = 'outage';
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  t0 = Date.now();
  await cluster.nodeByPort(killedPort)!.kill();
  const firstOk = async (probeWrite: () => Promise<boolean>) => {
    while (Date.now() - t0 < timeoutMs) {
      if (await probeWrite().catch(() => false)) return Date.now() - t0;
      await sleep(25);
    }
    throw new Error(`no successful write within ${timeoutMs} ms of the kill`);
  };
  const [clientOutageMs, cacheOutageMs] = await Promise.all([
    firstOk(async () => (await client.set(rawProbe, '1')) === 'OK'),
    firstOk(async () => (await cache.set(probe, value(probe))).ok),
  ]);
  // keep reading past the recovery: late origin calls (an L1 copy expiring after the promotion) count too
  await sleep(Math.max(3_000, 6_000 - (Date.now() - t0)));
  stop = true;
  await Promise.all(loops);
  offError();
  loopDelay.disable();

  const originKeys = [...during.keys()];
  return {
    keys: keys.length,
    entities: nEntities,
    keysOnDeadMaster: onVictim.size,
    keysWithFirstBarrierOnDeadMaster: firstBarrierExposed,
    originCalls: [...during.values()].reduce((a, b) => a + b, 0),
    originKeys: originKeys.length,
    originKeysElsewhere: originKeys.filter((k) => !onVictim.has(k)).length,
    maxPerKey: Math.max(0, ...during.values()),
    reads,
    callerErrors: errors,
    wrongValues: wrong,
    clientOutageMs,
    cacheOutageMs,
    lastOriginMs: lastOrigin,
    killedPort,
    maxLoopDelayMs: Math.round(loopDelay.max / 1e6),
    baselineErrorsLive,
    baselineOriginCalls,
    errorsElsewhere: Object.fromEntries(originKeys.filter((k) => !onVictim.has(k)).map((k) => [k, errorsByKey.get(k) ?? []])),
  };
}

export function originLine(name: string, r: OriginDrillResult): string {
  return (
    `[drill] ${name}: ${r.originCalls} origin calls on ${r.originKeys} keys (max ${r.maxPerKey} per key; ${r.originKeysElsewhere} keys of live masters) ` +
    `vs ${r.keysOnDeadMaster} of ${r.keys} keys on the dead master (${r.keysWithFirstBarrierOnDeadMaster} more had their entity's first barrier there); ` +
    `outage window ${(r.cacheOutageMs / 1000).toFixed(1)} s (CacheService write) / ${(r.clientOutageMs / 1000).toFixed(1)} s (ioredis write); ` +
    `last origin call ${(r.lastOriginMs / 1000).toFixed(1)} s after the kill; ${r.reads} reads, ${r.callerErrors} caller errors, ${r.wrongValues} wrong values; ` +
    `worst event-loop delay ${r.maxLoopDelayMs} ms; before the kill (2 s): ${r.baselineOriginCalls} origin calls, ${r.baselineErrorsLive} store errors`
  );
}
