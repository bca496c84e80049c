// Failover drills shared by the tests and `bench/drills.ts`: kill a Cluster master / the Sentinel
// master under load and measure the outage window (kill -> first successful L2 write).
import type { CacheService } from '@stratacache/core';
import type { RedisCluster, RedisSentinelSet } from '@stratacache/redis-harness';
import type { Cluster, Redis } from 'ioredis';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface DrillResult {
  /** Kill -> first successful write through the raw ioredis client. */
  clientOutageMs: number;
  /** Kill -> first `cache.set()` that reached Redis (`{ ok: true }`), breaker included. */
  cacheOutageMs: number;
  /** Exceptions thrown at callers of the CacheService during the drill (must be 0). */
  callerExceptions: number;
  /** Cache calls made during the drill, and how many were served degraded (factory / skipped write). */
  calls: number;
  degraded: number;
  /** Port of the killed master and of the node that is master afterwards. */
  killedPort: number;
  newMasterPort: number;
}

/** Runs caller load against `cache` until `stop()`; counts exceptions (there must be none). */
function startLoad(cache: CacheService, keys: string[], workers = 4) {
  let running = true;
  const stats = { calls: 0, exceptions: 0, degraded: 0, lastError: undefined as unknown };
  const loops = Array.from({ length: workers }, async (_, w) => {
    let i = w;
    while (running) {
      const key = keys[i++ % keys.length]!;
      try {
        let origin = false;
        await cache.getOrSet(key, () => {
          origin = true;
          return { key, at: Date.now() };
        }, { ttl: 60_000 });
        const r = await cache.set(`${key}:w`, i, { ttl: 60_000 });
        stats.calls += 2;
        if (origin) stats.degraded++;
        if (!r.ok) stats.degraded++;
      } catch (e) {
        stats.exceptions++;
        stats.lastError = e;
      }
      await sleep(5);
    }
  });
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function firstOk(probe: () => Promise<boolean>, t0: number, timeoutMs: number): Promise<number> {
  while (Date.now() - t0 < timeoutMs) {
    try {
      if (await probe()) return Date.now() - t0;
    } catch {
      // still down
    }
    await sleep(25);
  }
  throw new Error(`no successful write within ${timeoutMs} ms of the kill`);
}

/** Master port of the slot `key` lives in, and the port of one of its replicas. */
export async function slotOwner(client: Cluster, key: string): Promise<{ master: number; replica: number | undefined }> {
  const slot = Number(await client.cluster('KEYSLOT', key));
  const ranges = (await client.cluster('SLOTS')) as unknown as Array<[number, number, [string, number, string], ...Array<[string, number, string]>]>;
  for (const [start, end, master, ...replicas] of ranges) {
    if (slot >= start && slot <= end) return { master: Number(master[1]), replica: replicas[0] ? Number(replicas[0][1]) : undefined };
  }
  throw new Error(`slot ${slot} is not served`);
}

/**
 * Cluster drill: kill the master serving `cache`'s probe key while callers hammer the cache;
 * wait until the replica is promoted and writes succeed again.
 */
export async function clusterMasterDrill(opts: {
  cluster: RedisCluster;
  client: Cluster;
  cache: CacheService;
  timeoutMs?: number;
}): Promise<DrillResult> {
  const { cluster, client, cache } = opts;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  // Hash tag: the CacheService probe and the raw probe live in the same slot (same master).
  const probeKey = 'drill:{probe}:cache';
  const fullProbe = cache.key(probeKey);
  const rawProbe = cache.key('drill:{probe}:raw');
  // Wait until the slot's master has a replica to promote (replication attaches asynchronously).
  let owner = await slotOwner(client, fullProbe);
  for (const deadline = Date.now() + 20_000; owner.replica === undefined; ) {
    if (Date.now() > deadline) throw new Error('the probe key slot has no replica');
    await sleep(100);
    owner = await slotOwner(client, fullProbe);
  }
  const { master } = owner;
  return killAndMeasure({
    cache,
    timeoutMs,
    killedPort: master,
    kill: () => cluster.nodeByPort(master)!.kill(),
    rawWrite: async () => (await client.set(rawProbe, String(Date.now()))) === 'OK',
    probeKey,
    newMasterPort: async () => (await slotOwner(client, fullProbe)).master,
  });
}

/**
 * Sentinel drill: kill the master while callers hammer the cache; Sentinel promotes the replica
 * and ioredis (failoverDetector) follows it; measure until writes succeed against the new master.
 */
export async function sentinelMasterDrill(opts: {
  set: RedisSentinelSet;
  client: Redis;
  cache: CacheService;
  timeoutMs?: number;
}): Promise<DrillResult> {
  const { set, client, cache } = opts;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const before = await set.currentMaster();
  return killAndMeasure({
    cache,
    timeoutMs,
    killedPort: before.port,
    kill: () => set.nodeByPort(before.port)!.kill(),
    rawWrite: async () => (await client.set(cache.key('drill:probe:raw'), String(Date.now()))) === 'OK',
    probeKey: 'drill:probe',
    newMasterPort: async () => (await set.currentMaster()).port,
  });
}

/**
 * The common part of both drills: callers hammer the cache, the master is killed, and the outage
 * window is measured from the kill to the first successful write, raw and through the CacheService.
 */
async function killAndMeasure(o: {
  cache: CacheService;
  timeoutMs: number;
  killedPort: number;
  kill: () => Promise<void>;
  rawWrite: () => Promise<boolean>;
  probeKey: string;
  newMasterPort: () => Promise<number>;
}): Promise<DrillResult> {
  const keys = Array.from({ length: 64 }, (_, i) => `drill:k${i}`);
  const load = startLoad(o.cache, keys);
  await sleep(300);
  const t0 = Date.now();
  await o.kill();
  const [clientOutageMs, cacheOutageMs] = await Promise.all([
    firstOk(o.rawWrite, t0, o.timeoutMs),
    firstOk(async () => (await o.cache.set(o.probeKey, Date.now(), { ttl: 60_000 })).ok, t0, o.timeoutMs),
  ]);
  await sleep(300);
  await load.stop();
  return {
    clientOutageMs,
    cacheOutageMs,
    callerExceptions: load.stats.exceptions,
    calls: load.stats.calls,
    degraded: load.stats.degraded,
    killedPort: o.killedPort,
    newMasterPort: await o.newMasterPort(),
  };
}

export function fmtSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
