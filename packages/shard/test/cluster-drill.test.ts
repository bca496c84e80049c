import { CacheService } from '@stratacache/core';
import { startCluster, waitFor, type RedisCluster } from '@stratacache/redis-harness';
import { TieredCache } from '@stratacache/tiered';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection } from '../src/index';
import { clusterOriginDrill, originLine } from './support/origin-drill';

// Issue 20: a Cluster master SIGKILLed under a read loop costs origin calls for the keys of that master
// only — not for the keys of other masters whose entity's barrier lived there (barrier copies, core).
// createRedisConnection → CacheService → TieredCache, all on their defaults; the Cluster runs with
// `cluster-require-full-coverage no` (documented requirement: with `yes` every master answers
// CLUSTERDOWN until the promotion).
let cluster: RedisCluster;

beforeAll(async () => {
  cluster = await startCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1_000, args: ['--cluster-require-full-coverage', 'no'] });
  await cluster.waitHealthy(60_000);
  await waitFor(async () => (await cluster.replicas()).length === 3, { timeoutMs: 30_000, message: 'replicas attached' });
}, 120_000);

afterAll(async () => {
  await cluster?.close();
});

describe('Cluster master SIGKILL under a TieredCache read loop (defaults)', () => {
  it('origin calls <= keys on the dead master (none for other masters), 0 caller errors, 0 wrong values; recovers with ioredis', async () => {
    const client = createRedisConnection({ cluster: { nodes: cluster.startupNodes } });
    const cache = new CacheService({ redis: client, prefix: 'od' });
    const tiered = new TieredCache(cache);
    try {
      await client.ping();
      await waitFor(() => client.nodes('master').length === 3, { timeoutMs: 20_000, message: 'cluster client sees 3 masters' });
      await tiered.ready(10_000);
      // which circuits opened: only the dead master's (not the connection's: no lock or bus failure may open it)
      const opened = new Set<string>();
      const transitions: string[] = [];
      cache.on('breaker', (e) => {
        if (e.state === 'OPEN') opened.add(e.target ?? 'connection');
        transitions.push(`${e.target ?? 'connection'} ${e.state}`);
      });
      cache.breaker.on('stateChange', (e) => transitions.push(`connection ${e.to} (${e.reason ?? ''})`));
      cache.store.onConnectionChange?.((c) => transitions.push(`store ${c.state} ${c.reason} commands=${String(c.commands)} status=${client.status}`));
      const r = await clusterOriginDrill({ cluster, client, cache, tiered, timeoutMs: 45_000 });
      console.log(originLine('cluster origin drill (3 masters + 3 replicas, cluster-node-timeout 1000 ms, full coverage no)', r));
      if (r.originKeysElsewhere > 0) console.log(transitions, 'origin calls of live masters\' keys, with their store errors:', r.errorsElsewhere);
      expect(r.callerErrors).toBe(0);
      expect(r.wrongValues).toBe(0);
      expect(r.keysOnDeadMaster).toBeGreaterThan(50);
      // the dead master's keys only, at most once each (tiered's outage window); no slack needed
      expect(r.originKeysElsewhere).toBe(0);
      expect(r.maxPerKey).toBeLessThanOrEqual(1);
      expect(r.originCalls).toBeLessThanOrEqual(r.keysOnDeadMaster);
      // the cache takes writes again with the connection (slack for a shared machine)
      expect(r.cacheOutageMs).toBeLessThan(r.clientOutageMs + 2_000);
      expect([...opened]).toEqual([`127.0.0.1:${r.killedPort}`]);
      expect(cache.breaker.state).toBe('CLOSED');
    } finally {
      await tiered.close();
      await cache.close();
      client.disconnect();
    }
  }, 120_000);
});
