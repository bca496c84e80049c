import { CacheService, RedisStore } from '@stratacache/core';
import type { CacheServiceOptions } from '@stratacache/core';
import { Cluster, Redis } from 'ioredis';
import { TieredCache } from '../src/index';
import type { TieredCacheOptions } from '../src/index';

export interface Instance {
  tiered: TieredCache;
  l2: CacheService;
  client: Redis;
  close(): Promise<void>;
}

/** One "app instance": its own ioredis connection, CacheService and TieredCache. */
export async function makeInstance(port: number, prefix: string, opts?: TieredCacheOptions, l2opts?: CacheServiceOptions): Promise<Instance> {
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, enableAutoPipelining: true, retryStrategy: () => 50 });
  client.on('error', () => undefined);
  const store = new RedisStore(client);
  const l2 = new CacheService({ store, prefix, opTimeout: 1_000, ...l2opts });
  const tiered = new TieredCache(l2, opts);
  await tiered.ready(2_000);
  return {
    tiered,
    l2,
    client,
    async close() {
      await tiered.close();
      await l2.close();
      await store.close();
      client.disconnect();
    },
  };
}

/** One "app instance" on a Redis Cluster: its own ioredis Cluster client, CacheService and TieredCache. */
export async function makeClusterInstance(startupNodes: { host: string; port: number }[], prefix: string): Promise<{ tiered: TieredCache; l2: CacheService; close(): Promise<void> }> {
  const client = new Cluster(startupNodes, { redisOptions: { maxRetriesPerRequest: 1 }, enableAutoPipelining: true });
  client.on('error', () => undefined);
  const store = new RedisStore(client);
  const l2 = new CacheService({ store, prefix, opTimeout: 1_000 });
  const tiered = new TieredCache(l2);
  await tiered.ready();
  return {
    tiered,
    l2,
    async close() {
      await tiered.close();
      await l2.close();
      await store.close();
      client.disconnect();
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let n = 0;
export function uniquePrefix(name: string): string {
  return `t${process.pid}${++n}${name}`;
}
