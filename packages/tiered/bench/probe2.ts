import { CacheService, RedisStore } from '@stratacache/core';
import { startStandalone } from '@stratacache/redis-harness';
import { TieredCache } from '../src/index';
async function ops(fn: (i: number) => Promise<unknown>, ms: number, inflight: number) {
  let n = 0; const end = performance.now() + ms; const t0 = performance.now();
  await Promise.all(Array.from({ length: inflight }, async (_, w) => { let i = w; while (performance.now() < end) { await fn(i); i += inflight; n++; } }));
  return Math.round(n / ((performance.now() - t0) / 1000));
}
const redis = await startStandalone();
const store = new RedisStore(`redis://127.0.0.1:${redis.port}`);
const l2 = new CacheService({ store, prefix: 'p' });
const t = new TieredCache(l2, { l1: false, bus: false });
const keys = Array.from({ length: 1024 }, (_, i) => `item:get:${i}`);
for (const k of [...keys]) await t.set(k, { id: 1, name: 'widget', tags: ['a', 'b'], price: 9.99 }, { ttl: '10m' });
const mode = process.argv[2];
for (let r = 0; r < 3; r++) {
  if (mode === 'l2') console.log('l2.getEntry ns', await ops((i) => l2.getEntry(keys[i & 1023]!), 1500, 64));
  else console.log('tiered ns', await ops((i) => t.getOrSet(keys[i & 1023]!, () => 1), 1500, 64));
}
await t.close(); await l2.close(); await store.close(); await redis.close(); process.exit(0);
