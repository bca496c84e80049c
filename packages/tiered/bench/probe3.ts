import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
async function ops(fn: (i: number) => Promise<unknown>, ms: number) {
  let n = 0; const end = performance.now() + ms; const t0 = performance.now();
  while (performance.now() < end) { for (let j = 0; j < 64; j++) { await fn(n); n++; } }
  return Math.round(n / ((performance.now() - t0) / 1000));
}
const keys = Array.from({ length: 1024 }, (_, i) => `item:get:${i}`);
const value = { id: 1 };
const b = new BentoCache({ default: 'c', ttl: '10m', stores: { c: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })) } });
for (const k of keys) await b.set({ key: k, value });
const f = () => value;
console.log('getOrSet ttl str', await ops((i) => b.getOrSet({ key: keys[i & 1023]!, factory: f, ttl: '10m' }), 1000));
console.log('getOrSet no ttl', await ops((i) => b.getOrSet({ key: keys[i & 1023]!, factory: f }), 1000));
console.log('get', await ops((i) => b.get({ key: keys[i & 1023]! }), 1000));
await b.disconnectAll();
