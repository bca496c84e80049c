import { startStandalone, waitFor, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardRouter, TieredTenantCache, tieredCaches } from '../src/index';

// Two app instances (two routers) over the same two tenant Redis servers, each tenant cache tiered.
let stamfordRedis: StandaloneRedis;
let guilfordRedis: StandaloneRedis;
let a: ShardRouter<TieredTenantCache>;
let b: ShardRouter<TieredTenantCache>;

function makeRouter(): ShardRouter<TieredTenantCache> {
  return new ShardRouter({
    shards: { stamford: { url: stamfordRedis.url }, guilford: { url: guilfordRedis.url } },
    cache: { opTimeout: 3_000 },
    createCache: tieredCaches({ l1: { ttl: '30s' } }),
  });
}

beforeAll(async () => {
  [stamfordRedis, guilfordRedis] = await Promise.all([startStandalone(), startStandalone()]);
  a = makeRouter();
  b = makeRouter();
});

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  await Promise.all([stamfordRedis?.close(), guilfordRedis?.close()]);
});

describe('ShardRouter + TieredCache (tieredCaches)', () => {
  it('each tenant gets a tiered cache whose L2 is on its own shard; L1 then L2 then origin', async () => {
    const sa = a.forTenant('stamford');
    const sb = b.forTenant('stamford');
    expect(sa).toBeInstanceOf(TieredTenantCache);
    expect(sa.service.prefix).toBe('sc:stamford');
    await Promise.all([sa.ready(), sb.ready()]);
    let origin = 0;
    const load = () => ++origin;
    expect(await sa.getOrSet('report', load)).toBe(1);
    expect(await sa.getOrSet('report', load)).toBe(1); // L1 on instance a
    // a getOrSet miss writes L2 in the background: wait for it, so b's read is an L2 hit (not a
    // stampede follower of a's still-held lock, which counts as a miss)
    await waitFor(async () => (await stamfordRedis.cli('EXISTS', 'sc:stamford:report')) === '1', { timeoutMs: 5_000, message: "a's L2 write" });
    expect(await sb.getOrSet('report', load)).toBe(1); // L2 (stamford's Redis) on instance b
    expect(origin).toBe(1);
    expect(sa.stats().l1Hits).toBeGreaterThanOrEqual(1);
    expect(sb.stats().l2Hits).toBe(1);
    expect(await stamfordRedis.cli('EXISTS', 'sc:stamford:report')).toBe('1');
    expect(await guilfordRedis.cli('EXISTS', 'sc:stamford:report')).toBe('0');
  });

  it('router.on forwards every layer: the tiered cache’s own events (L1 hits) as layer "cache", its L2 service as "l2"', async () => {
    const seen: string[] = [];
    const off = a.on('*', (e, o) => seen.push(`${o.tenant}/${o.layer}/${e.type}/${e.source}`));
    const sa = a.forTenant('stamford');
    await sa.getOrSet('fwd', () => 'x');
    await sa.getOrSet('fwd', () => 'y'); // L1 hit
    await sa.set('fwd-set', 'v'); // awaits its L2 write (getOrSet's write goes on in the background)
    off();
    expect(seen).toContain('stamford/cache/hit/l1');
    expect(seen).toContain('stamford/cache/origin/origin');
    expect(seen.some((s) => s.startsWith('stamford/l2/'))).toBe(true);
    await sa.getOrSet('fwd', () => 'z');
    expect(seen.filter((s) => s === 'stamford/cache/hit/l1')).toHaveLength(1); // unsubscribed
    // a listener of one type gets only that type, from every layer
    const origins: string[] = [];
    const off2 = a.on('origin', (e, o) => origins.push(`${o.layer}/${e.type}`));
    await sa.getOrSet('fwd2', () => 'w');
    await sa.getOrSet('fwd2', () => 'w');
    off2();
    expect(origins).toEqual(['cache/origin']);
    // stats() carries the wrapper's own stats (L1 hits) next to the L2 service's
    const st = a.stats().find((x) => x.tenant === 'stamford')!;
    expect((st.cacheStats as { l1Hits: number }).l1Hits).toBeGreaterThanOrEqual(3);
  });

  it('an invalidation on one instance reaches the other instance’s L1 through the tenant’s shard bus', async () => {
    const ga = a.forTenant('guilford');
    const gb = b.forTenant('guilford');
    await Promise.all([ga.ready(), gb.ready()]);
    await ga.set('jobs:list:1', 'v1');
    expect(await gb.get('jobs:list:1')).toBe('v1'); // now in b's L1
    expect(gb.hasInL1('jobs:list:1')).toBe(true);
    await ga.invalidatePattern('jobs:list:*');
    await waitFor(() => !gb.hasInL1('jobs:list:1'), { timeoutMs: 10_000, message: 'L1 invalidated on instance b' });
    expect(await gb.get('jobs:list:1')).toBeUndefined();
    // the other tenant's caches were not touched
    expect(a.stats().find((s) => s.tenant === 'stamford')!.stats.errors).toBe(0);
  });
});
