/** Route-cache test backends shared by the adapters' suites (fastify, express) — one copy, here. */
import { CacheService } from '@stratacache/core';
import type { RouteCacheLayer } from '@stratacache/http';
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { TieredCache } from '@stratacache/tiered';

export interface Backend {
  name: string;
  /** A fresh cache (own prefix) and how to close it. */
  make(): Promise<{ cache: RouteCacheLayer; close(): Promise<void> }>;
}

let n = 0;
const prefix = (): string => `rt${process.pid}x${++n}`;

/** Embedded CacheService, CacheService on real Redis, TieredCache over real Redis. */
export function backends(redis: () => StandaloneRedis): Backend[] {
  return [
    {
      name: 'memory',
      make: async () => {
        const c = new CacheService({ prefix: prefix() });
        return { cache: c, close: () => c.close() };
      },
    },
    {
      name: 'redis',
      make: async () => {
        const c = new CacheService({ redis: `redis://127.0.0.1:${redis().port}`, prefix: prefix(), opTimeout: 1_000 });
        return { cache: c, close: () => c.close() };
      },
    },
    {
      name: 'tiered+redis',
      make: async () => {
        const l2 = new CacheService({ redis: `redis://127.0.0.1:${redis().port}`, prefix: prefix(), opTimeout: 1_000 });
        const t = new TieredCache(l2, {});
        await t.ready(2_000);
        return {
          cache: t,
          close: async () => {
            await t.close();
            await l2.close();
          },
        };
      },
    },
  ];
}

export { startStandalone, type StandaloneRedis };
