// Failover drills: kill a Redis Cluster master and a Sentinel master under load and print the
// outage windows (kill -> first successful L2 write), and the Cluster origin drill (origin calls of a
// TieredCache read loop vs the keys on the dead master). `pnpm bench` runs this; alone:
//   pnpm exec tsx --conditions=@stratacache/source bench/drills.ts
import { CacheService, type CacheServiceOptions } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
import { startCluster, startSentinel, waitFor } from '@stratacache/redis-harness';
import { createRedisConnection } from '../src/index';
import { clusterMasterDrill, fmtSeconds, sentinelMasterDrill, type DrillResult } from '../test/support/drills';
import { clusterOriginDrill, originLine, type OriginDrillResult } from '../test/support/origin-drill';

// The documented defaults (opTimeout 200 ms; breaker 5 failures in 30 s, resetTimeout 5 s): the
// breaker follows the connection (opens on close, probes on ready / a PING), so no shortened
// resetTimeout is needed for the cache to recover with Redis.
const cacheOptions = {} as const;

function line(name: string, r: DrillResult): string {
  return (
    `[drill] ${name} outage window: ${fmtSeconds(r.cacheOutageMs)} (CacheService write) / ${fmtSeconds(r.clientOutageMs)} (ioredis write); ` +
    `${r.calls} calls, ${r.degraded} degraded, ${r.callerExceptions} exceptions`
  );
}

export async function runClusterDrill(): Promise<DrillResult> {
  const cluster = await startCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1_000 });
  const client = createRedisConnection({ cluster: { nodes: cluster.startupNodes } });
  const cache = new CacheService({ redis: client, prefix: 'drill', ...cacheOptions });
  try {
    await cluster.waitHealthy(60_000);
    await waitFor(async () => (await cluster.replicas()).length === 3, { timeoutMs: 30_000 });
    await client.ping();
    const r = await clusterMasterDrill({ cluster, client, cache, timeoutMs: 45_000 });
    console.log(line('cluster (3 masters + 3 replicas, cluster-node-timeout 1000 ms)', r));
    return r;
  } finally {
    await cache.close();
    client.disconnect();
    await cluster.close();
  }
}

/**
 * The origin drill: createRedisConnection → CacheService → TieredCache on their defaults (unless
 * `cacheOpts` says otherwise), 300 keys of 10 entities, one master SIGKILLed. `fullCoverage`: the
 * server's `cluster-require-full-coverage` (the documented requirement is `no`).
 */
export async function runClusterOriginDrill(name: string, fullCoverage: 'yes' | 'no', cacheOpts: Partial<CacheServiceOptions> = {}): Promise<OriginDrillResult> {
  const cluster = await startCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1_000, args: ['--cluster-require-full-coverage', fullCoverage] });
  const client = createRedisConnection({ cluster: { nodes: cluster.startupNodes } });
  const cache = new CacheService({ redis: client, prefix: 'origin', ...cacheOpts });
  const tiered = new TieredCache(cache);
  try {
    await cluster.waitHealthy(60_000);
    await waitFor(async () => (await cluster.replicas()).length === 3, { timeoutMs: 30_000 });
    await client.ping();
    await waitFor(() => client.nodes('master').length === 3, { timeoutMs: 20_000 });
    await tiered.ready(10_000);
    const r = await clusterOriginDrill({ cluster, client, cache, tiered, timeoutMs: 45_000 });
    console.log(originLine(`cluster origin drill, ${name} (cluster-node-timeout 1000 ms, cluster-require-full-coverage ${fullCoverage})`, r));
    return r;
  } finally {
    await tiered.close();
    await cache.close();
    client.disconnect();
    await cluster.close();
  }
}

export async function runSentinelDrill(): Promise<DrillResult> {
  const set = await startSentinel({ sentinels: 3, downAfterMs: 1_000, failoverTimeoutMs: 3_000 });
  const client = createRedisConnection({ sentinel: { sentinels: set.sentinelAddrs, name: set.name } });
  const cache = new CacheService({ redis: client, prefix: 'drill', ...cacheOptions });
  try {
    await client.ping();
    const r = await sentinelMasterDrill({ set, client, cache, timeoutMs: 45_000 });
    console.log(line('sentinel (3 sentinels, down-after 1000 ms)', r));
    return r;
  } finally {
    await cache.close();
    client.disconnect();
    await set.close();
  }
}

export async function runDrills(): Promise<void> {
  await runClusterDrill();
  await runClusterOriginDrill('defaults', 'no');
  await runClusterOriginDrill('one barrier copy (clusterBarrierCopies: 1, the layout before)', 'no', { clusterBarrierCopies: 1 });
  await runClusterOriginDrill('defaults', 'yes');
  await runSentinelDrill();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runDrills().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
