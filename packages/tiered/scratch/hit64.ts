import { CacheService, RedisStore } from '@stratacache/core';
import { startStandalone } from '@stratacache/redis-harness';
import { TieredCache } from '@stratacache/tiered';

async function main(): Promise<void> {
  const redis = await startStandalone();
  const url = `redis://127.0.0.1:${redis.port}`;
  const store = new RedisStore(url);
  const l2 = new CacheService({ store, prefix: 'bench' });
  const t = new TieredCache(l2, { l1: false, bus: false });
  await t.ready();
  const value = { id: 1, name: 'widget', tags: ['a', 'b'], price: 9.99 };
  const keys = Array.from({ length: 1024 }, (_, i) => `item:get:${i}`);
  for (const k of keys) await t.set(k, value, { ttl: '10m' });
  const f = () => value;
  const which = process.env.WHICH ?? 'tiered';
  const fn = which === 'tiered' ? (i: number) => t.getOrSet(keys[i & 1023]!, f) : which === 'entry' ? (i: number) => l2.getEntry(keys[i & 1023]!) : (i: number) => store.get(`bench:${keys[i & 1023]!}`);
  for (let r = 0; r < Number(process.env.ROUNDS ?? 5); r++) {
    const c0 = process.cpuUsage();
    let ops = 0;
    const t0 = performance.now();
    const end = t0 + 1000;
    await Promise.all(Array.from({ length: 64 }, async (_, w) => {
      let i = w;
      while (performance.now() < end) {
        for (let j = 0; j < 64; j++) { await fn(i); i += 64; ops++; }
      }
    }));
    const ms = performance.now() - t0;
    const c1 = process.cpuUsage(c0);
    console.log(`${which} hit @64: ${(ops / ms).toFixed(1)}k/s; node µs/op ${((c1.user + c1.system) / ops).toFixed(2)}`);
  }
  await t.close(); await l2.close(); await store.close(); await redis.close();
}
void main();
