// A real RedisStore whose server is paused (CLIENT PAUSE: a real pause of the real server) just before
// the call that a test wants slow. The Redis client is never mocked; only the moment is chosen.
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import type { RedisStore, Store } from '../src/index';

/** A redis-server of the harness for this test file, and an admin connection to pause it (set up in beforeAll). */
export function pausableServer(): { readonly server: StandaloneRedis; readonly admin: Redis } {
  const box = {} as { server: StandaloneRedis; admin: Redis };
  beforeAll(async () => {
    box.server = await startStandalone();
    box.admin = new Redis(box.server.url);
  }, 60_000);
  afterAll(async () => {
    box.admin?.disconnect();
    await box.server?.close();
  });
  return box;
}

/** Pauses every client of the server for `ms` (the server answers nothing meanwhile). */
export async function pauseServer(admin: Redis, ms: number): Promise<void> {
  await admin.call('CLIENT', 'PAUSE', String(ms), 'ALL');
}

/** `store` with a pause of the server before its next `get` (`getMs`) and before its next `mget` of tag barriers (`tagsMs`). */
export function slowed(store: RedisStore, admin: Redis, plan: { getMs: number; tagsMs: number }): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'get') {
        return async (key: string) => {
          const ms = plan.getMs;
          plan.getMs = 0;
          if (ms > 0) await pauseServer(admin, ms);
          return target.get(key);
        };
      }
      if (prop === 'mget') {
        return async (keys: readonly string[]) => {
          const ms = plan.tagsMs;
          if (ms > 0 && keys.some((k) => k.includes('__tag:'))) {
            plan.tagsMs = 0;
            await pauseServer(admin, ms);
          }
          return target.mget(keys);
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
