import type { Store } from '@stratacache/core';
import { CacheService, RedisStore } from '@stratacache/core';
import type { CacheServiceOptions } from '@stratacache/core';
import { Redis } from 'ioredis';
import { TieredCache } from '../src/index';
import type { TieredCacheOptions } from '../src/index';

/** Store operations a chaos wrapper can make fail. */
export type ChaosOp = 'get' | 'mget' | 'set' | 'mset' | 'del' | 'deleteMatching' | 'publish';

/**
 * A real RedisStore behind a Proxy that rejects the listed operations on demand (no mock: every
 * other call, pub/sub and `duplicate()` for the bus, goes to the real server).
 */
export function chaos(store: Store): { store: Store; fail: Set<ChaosOp> } {
  const fail = new Set<ChaosOp>();
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (fail.has(prop as ChaosOp)) return Promise.reject(new Error(`chaos: ${String(prop)} failed`));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, fail };
}

export interface ChaosInstance {
  tiered: TieredCache;
  l2: CacheService;
  client: Redis;
  fail: Set<ChaosOp>;
  close(): Promise<void>;
}

/** One app instance whose L2 store can be made to fail per operation. */
export async function chaosInstance(port: number, prefix: string, opts?: TieredCacheOptions, l2opts?: CacheServiceOptions): Promise<ChaosInstance> {
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, enableAutoPipelining: true, retryStrategy: () => 50 });
  client.on('error', () => undefined);
  const real = new RedisStore(client);
  const { store, fail } = chaos(real);
  const l2 = new CacheService({ store, prefix, opTimeout: 1_000, breaker: { failureThreshold: 1000 }, ...l2opts });
  const tiered = new TieredCache(l2, opts);
  await tiered.ready(2_000);
  return {
    tiered,
    l2,
    client,
    fail,
    async close() {
      await tiered.close();
      await l2.close();
      await real.close();
      client.disconnect();
    },
  };
}
