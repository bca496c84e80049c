import { Redis } from 'ioredis';
import { startStandalone } from '@stratacache/redis-harness';
import { CacheService, createCodec } from '../src/index';
const server = await startStandalone();
const raw = new Redis(server.url, { enableAutoPipelining: true });
const cache = new CacheService({ redis: server.url, prefix: 'bl', opTimeout: 2000 });
const value = { id: 42, title: 'Replace water heater', status: 'open', tags: ['plumbing', 'urgent'], createdAt: new Date(), amount: 1234.5 };
const key = cache.keys.build('jobs', 'detail', 42);
await cache.set(key, value);
await cache.set('plain', value);
const bytes = (await raw.getBuffer(key))!;
const codec = createCodec();
const N = 50000;
async function cpu(name: string, fn: () => unknown, inflight = 64) {
  const res: number[] = [];
  for (let r = 0; r < 3; r++) {
    let n = 0;
    const c0 = process.cpuUsage();
    await Promise.all(Array.from({ length: inflight }, async () => { while (n < N) { n++; await fn(); } }));
    const c = process.cpuUsage(c0);
    res.push((c.user + c.system) / N);
  }
  res.sort((a, b) => a - b);
  console.log(name.padEnd(20), res[1]!.toFixed(2), 'µs CPU/op');
}
await cpu('decode', () => codec.decode(bytes), 1);
await cpu('raw get', () => raw.getBuffer(key));
await cpu('raw mget3', () => raw.mgetBuffer(key, 'a', 'b'));
await cpu('store.get', () => cache.store.get(key));
await cpu('store.mget3', () => cache.store.mget([key, 'a', 'b']));
await cpu('cache.get plain', () => cache.get('plain'));
await cpu('cache.get ns', () => cache.get(key));
await raw.quit(); await cache.close(); await server.close();
