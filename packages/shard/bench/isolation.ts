// Tenant isolation: latency of tenant "guilford" while tenant "stamford"'s Redis is up, then dead.
// Printed as p50/p99 and as a ratio against the baseline measured in the same run.
import { startStandalone } from '@stratacache/redis-harness';
import { ShardRouter } from '../src/index';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

async function measure(run: () => Promise<unknown>, ms: number): Promise<{ lat: number[]; errors: number }> {
  const lat: number[] = [];
  let errors = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t0 = performance.now();
    try {
      await run();
    } catch {
      errors++;
    }
    lat.push(performance.now() - t0);
  }
  return { lat, errors };
}

export async function runIsolationBench(): Promise<void> {
  const [a, b] = await Promise.all([startStandalone(), startStandalone()]);
  const router = new ShardRouter({
    shards: { stamford: { url: a.url }, guilford: { url: b.url } },
    cache: { opTimeout: 500, breaker: { resetTimeout: 1_000 } },
  });
  try {
    const stamford = router.forTenant('stamford');
    const guilford = router.forTenant('guilford');
    const keys = Array.from({ length: 100 }, (_, i) => `item:${i}`);
    for (const k of keys) {
      await guilford.set(k, { k });
      await stamford.set(k, { k });
    }
    let i = 0;
    const guilfordCall = () => guilford.getOrSet(keys[i++ % keys.length]!, () => ({ origin: true }));
    let running = true;
    // background load on stamford the whole time (it keeps failing once its server is dead)
    const stamfordLoad = (async () => {
      let j = 0;
      while (running) {
        await stamford.getOrSet(keys[j++ % keys.length]!, () => ({ origin: true }));
        await sleep(1);
      }
    })();
    await measure(guilfordCall, 500); // warm-up
    const base = await measure(guilfordCall, 3_000);
    await a.kill();
    const down = await measure(guilfordCall, 3_000);
    running = false;
    await stamfordLoad;
    const p50 = (x: number[]) => pct(x, 50);
    const p99 = (x: number[]) => pct(x, 99);
    console.log(`[shard] guilford getOrSet, stamford up:   p50 ${p50(base.lat).toFixed(3)} ms  p99 ${p99(base.lat).toFixed(3)} ms  (${base.lat.length} calls, ${base.errors} errors)`);
    console.log(`[shard] guilford getOrSet, stamford dead: p50 ${p50(down.lat).toFixed(3)} ms  p99 ${p99(down.lat).toFixed(3)} ms  (${down.lat.length} calls, ${down.errors} errors)`);
    console.log(`[shard] ratio dead/up: p50 ${(p50(down.lat) / p50(base.lat)).toFixed(2)}x  p99 ${(p99(down.lat) / p99(base.lat)).toFixed(2)}x  (goal: ~1x, noise on a shared machine)`);
  } finally {
    await router.close();
    await Promise.all([a.close(), b.close()]);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) void runIsolationBench();
