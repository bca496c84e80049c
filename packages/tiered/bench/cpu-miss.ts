import { CacheService, MemoryStore } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';

// CPU per miss of our own code: TieredCache over a MemoryStore (no network), fused miss on. Built
// packages (run: pnpm exec tsx bench/cpu-miss.ts after a build), as in bench/index.ts.
async function main(): Promise<void> {
  const l2 = new CacheService({ store: new MemoryStore(), prefix: 'cpu' });
  const t = new TieredCache(l2, { l1: { maxEntries: 10_000 }, ttl: '10m' });
  await t.ready();
  const big = { id: 1, items: Array.from({ length: 16 }, (_, i) => ({ i, name: `item-${i}`, note: 'x'.repeat(32) })) };
  const f = () => big;
  const N = 20_000;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await t.getOrSet(`m:${r}:${i}`, f, { ttl: '10m' });
    const ms = performance.now() - t0;
    if (r > 0) console.log('miss µs/op', ((ms * 1000) / N).toFixed(2));
  }
  await t.close();
  await l2.close();
}
void main();
