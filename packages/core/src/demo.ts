/**
 * `pnpm demo`: a getOrSet miss then hit on the embedded MemoryStore (no Redis needed), then stats.
 * Set REDIS_URL to run the same demo on Redis.
 */
import { CacheService } from './index';

const slowOrigin = async (id: number) => {
  await new Promise((r) => setTimeout(r, 120));
  return { id, name: `Job #${id}`, status: 'open', loadedAt: new Date() };
};

async function main(): Promise<void> {
  const url = process.env.REDIS_URL;
  const cache = new CacheService({ prefix: 'demo', defaultTtl: '1m', ...(url ? { redis: url } : {}), opTimeout: 500 });
  cache.on('*', (e) => {
    if (e.type === 'hit' || e.type === 'miss' || e.type === 'set' || e.type === 'origin') {
      console.log(`  event ${e.type.padEnd(6)} ${e.key ?? ''} ${e.latencyMs === undefined ? '' : `${e.latencyMs.toFixed(2)} ms`}`);
    }
  });
  console.log(`stratacache demo on ${cache.store.kind}${url ? '' : ' (embedded; set REDIS_URL to use Redis)'}`);
  const key = cache.keys.build('jobs', 'detail', 42);
  for (const label of ['first call (miss → origin)', 'second call (hit)']) {
    const t0 = performance.now();
    const job = await cache.getOrSet(key, () => slowOrigin(42));
    console.log(`${label}: ${(performance.now() - t0).toFixed(2)} ms →`, job.name, job.loadedAt.toISOString());
  }
  await cache.invalidateNamespace('jobs', 'detail');
  console.log('after invalidateNamespace(jobs, detail):', await cache.get(key));
  const s = cache.stats();
  console.log('stats:', JSON.stringify({ hits: s.hits, misses: s.misses, writes: s.writes, hitRate: s.hitRate, originCalls: s.originCalls, byNamespace: s.byNamespace }));
  console.log('health:', JSON.stringify(await cache.health()));
  await cache.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
