import { startCluster, type RedisCluster } from '@stratacache/redis-harness';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockManager, fenceKeyFor, fencedSet } from '../src/index';

let cluster: RedisCluster;
let client: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ masters: 3 });
  client = new Cluster(cluster.startupNodes, { clusterRetryStrategy: () => 200 });
  client.on('error', () => undefined);
});

afterAll(async () => {
  client?.disconnect();
  await cluster?.close();
});

describe('on Redis Cluster', () => {
  it('locks, fences and releases resources spread over every slot range (no CROSSSLOT)', async () => {
    const locks = new LockManager(client, { prefix: 'cl' });
    expect(locks.isRedlock).toBe(false);
    const resources = Array.from({ length: 12 }, (_, i) => `tenant:${i}:report`);
    const held = await Promise.all(resources.map((r) => locks.acquire(r, { ttl: 5_000 })));
    for (const lock of held) {
      expect(lock.fence).toBe(1);
      expect(await client.get(locks.lockKey(lock.resource))).toBe(lock.token);
      expect(await locks.tryAcquire(lock.resource)).toBeNull();
      expect(await lock.extend(6_000)).toBe(true);
      expect(await fencedSet(client, `data:${lock.resource}`, 'v', lock.fence)).toBe(true);
      expect(await client.get(fenceKeyFor(`data:${lock.resource}`))).toBe('1');
      expect(await lock.release()).toBe(true);
    }
    const again = await locks.using(resources[0] as string, async (_signal, lock) => lock.fence);
    expect(again).toBe(2);
  });
});
