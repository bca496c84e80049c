// Failover drills: kill a Redis Cluster master and a Sentinel master under load and print the
// outage windows (kill -> first successful L2 write). `pnpm bench` runs this; alone:
//   pnpm exec tsx --conditions=@stratacache/source bench/drills.ts
import { CacheService } from '@stratacache/core';
import { startCluster, startSentinel, waitFor } from '@stratacache/redis-harness';
import { createRedisConnection } from '../src/index';
import { clusterMasterDrill, fmtSeconds, sentinelMasterDrill, type DrillResult } from '../test/support/drills';

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
