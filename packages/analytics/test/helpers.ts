import { execFileSync } from 'node:child_process';
import { CacheService, RedisStore } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
import { Redis } from 'ioredis';

/** A client that reconnects quietly. */
export function client(port: number): Redis {
  const c = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 100 });
  c.on('error', () => undefined);
  return c;
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function tiered(port: number, prefix: string): Promise<{ cache: TieredCache; service: CacheService; store: RedisStore; close(): Promise<void> }> {
  const store = new RedisStore(client(port), { ownsClient: true });
  const service = new CacheService({ store, prefix, opTimeout: 2_000 });
  const cache = new TieredCache(service, { l1: { ttl: '30s' } });
  await cache.ready();
  return {
    cache,
    service,
    store,
    async close() {
      await cache.close();
      await service.close();
      await store.close();
    },
  };
}

/** `promtool` on PATH, or undefined. */
export function promtool(): string | undefined {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return 'promtool';
  } catch {
    return undefined;
  }
}
