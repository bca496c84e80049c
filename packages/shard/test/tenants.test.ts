// Issue 10: per-tenant resources are bounded. Real redis-server processes; connections counted
// with CLIENT LIST on the servers themselves.
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardConfigError, ShardRouter, TenantLimitError, tieredCaches, type TieredTenantCache } from '../src/index';

let r1: StandaloneRedis;
let r2: StandaloneRedis;

beforeAll(async () => {
  [r1, r2] = await Promise.all([startStandalone(), startStandalone()]);
});

afterAll(async () => {
  await Promise.all([r1?.close(), r2?.close()]);
});

/** Client connections of a server, not counting the redis-cli that asks. */
async function connections(server: StandaloneRedis): Promise<number> {
  const list = await server.cli('CLIENT', 'LIST');
  return list.split('\n').filter((l) => l.trim() !== '' && !/cmd=client\|list/.test(l)).length;
}

describe('ShardRouter per-tenant bounds', () => {
  it('1000 tenants on 2 shards share 2 connections per shard and stay under the L1 budget', async () => {
    const L1_BUDGET = 8 * 1024 * 1024;
    const router = new ShardRouter<TieredTenantCache>({
      shards: { a: { url: r1.url }, b: { url: r2.url } },
      tenants: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`t${i}`, i % 2 ? 'b' : 'a'])),
      createCache: tieredCaches({ l1: { ttl: '30s' } }),
      l1MaxBytes: L1_BUDGET,
      tenantL1MaxBytes: 64 * 1024,
    });
    try {
      const caches = Array.from({ length: 1000 }, (_, i) => router.forTenant(`t${i}`));
      await Promise.all(caches.map((c) => c.ready(10_000)));
      expect(caches.every((c) => c.busConnected)).toBe(true);
      const payload = 'x'.repeat(2_000);
      // 100 tenants at a time, 20 keys each (~40 KB of values per tenant)
      for (let from = 0; from < 1000; from += 100) {
        await Promise.all(
          caches.slice(from, from + 100).map(async (c, j) => {
            for (let k = 0; k < 20; k++) await c.getOrSet(`k0:${k}`, () => `${from + j}:${payload}`);
          }),
        );
      }
      expect(router.stats().reduce((n, s) => n + s.stats.errors, 0)).toBe(0);
      // every tenant's value landed in its own key space on its shard
      expect(await r1.cli('EXISTS', 'sc:t0:k0:0')).toBe('1');
      expect(await r2.cli('EXISTS', 'sc:t0:k0:0')).toBe('0');
      const [c1, c2] = await Promise.all([connections(r1), connections(r2)]);
      console.log(`[tenants] 1000 tenants on 2 shards: ${c1} + ${c2} Redis connections`);
      expect(c1).toBeLessThanOrEqual(2);
      expect(c2).toBeLessThanOrEqual(2);
      const l1 = caches.map((c) => c.stats().l1);
      const maxBytes = l1.reduce((s, x) => s + (x.enabled ? x.maxBytes : 0), 0);
      const bytes = l1.reduce((s, x) => s + x.bytes, 0);
      console.log(`[tenants] L1: ${(bytes / 1048576).toFixed(1)} MiB used, ${(maxBytes / 1048576).toFixed(1)} MiB allowed, budget ${L1_BUDGET / 1048576} MiB; ${l1.filter((x) => x.enabled).length} tenants with an L1`);
      expect(maxBytes).toBeLessThanOrEqual(L1_BUDGET);
      expect(bytes).toBeLessThanOrEqual(L1_BUDGET);
      expect(bytes).toBeGreaterThan(0);
      expect(router.resources()).toMatchObject({ tenants: 1000, maxTenants: 1000, l1MaxBytes: L1_BUDGET, openShards: 2 });
      expect(router.resources().l1Reserved).toBeLessThanOrEqual(L1_BUDGET);
      // bus still works across tenants sharing the subscriber connection
      const other = new ShardRouter<TieredTenantCache>({ shards: { a: { url: r1.url } }, tenants: { t0: 'a' }, createCache: tieredCaches() });
      try {
        const t0b = other.forTenant('t0');
        await t0b.ready();
        expect(caches[0]!.hasInL1('k0:19')).toBe(true);
        await t0b.delete('k0:19');
        await expect.poll(() => caches[0]!.hasInL1('k0:19'), { timeout: 5_000 }).toBe(false);
      } finally {
        await other.close();
      }
    } finally {
      await router.close();
    }
  }, 120_000);

  it('unknown tenants through the default shard do not add connections; maxTenants refuses new ones with a typed error', async () => {
    const router = new ShardRouter<TieredTenantCache>({
      shards: { main: { url: r1.url } },
      defaultShard: 'main',
      createCache: tieredCaches(),
      maxTenants: 200,
    });
    try {
      const caches = Array.from({ length: 200 }, (_, i) => router.forTenant(`guest${i}`));
      await Promise.all(caches.map((c) => c.getOrSet('k', () => 1)));
      expect(await connections(r1)).toBeLessThanOrEqual(2);
      const err = (() => {
        try {
          router.forTenant('one-too-many');
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(TenantLimitError);
      expect(err).toMatchObject({ code: 'E_TENANT_LIMIT', tenant: 'one-too-many', limit: 200 });
      // existing tenants keep working
      expect(router.forTenant('guest7')).toBe(caches[7]);
      expect(await caches[7]!.getOrSet('k', () => 2)).toBe(1);
    } finally {
      await router.close();
    }
  });

  it('idle tenants are closed and forgotten; their slot and L1 share go to new tenants', async () => {
    const router = new ShardRouter<TieredTenantCache>({
      shards: { main: { url: r1.url } },
      defaultShard: 'main',
      createCache: tieredCaches(),
      maxTenants: 2,
      tenantIdleTimeout: 150,
      l1MaxBytes: 1024 * 1024,
      tenantL1MaxBytes: 512 * 1024,
    });
    try {
      const x = router.forTenant('x');
      const y = router.forTenant('y');
      expect(router.resources().l1Reserved).toBe(1024 * 1024);
      expect(() => router.forTenant('z')).toThrow(TenantLimitError);
      await new Promise((r) => setTimeout(r, 200));
      router.forTenant('y'); // y is used again, x stays idle
      const z = router.forTenant('z'); // the cap is reached: idle x is evicted to make room
      expect(router.resources()).toMatchObject({ tenants: 2, evicted: 1, l1Reserved: 1024 * 1024 });
      expect(router.tenantsOf('main').sort()).toEqual(['y', 'z']);
      await expect(x.getOrSet('k', () => 1)).rejects.toThrow(); // closed
      expect(await z.getOrSet('k', () => 'z')).toBe('z');
      expect(router.forTenant('y')).toBe(y);
      await new Promise((r) => setTimeout(r, 200));
      expect(router.evictIdle()).toBe(2);
      expect(router.resources()).toMatchObject({ tenants: 0, l1Reserved: 0, evicted: 3 });
      expect(router.forTenant('x')).not.toBe(x); // a fresh cache
    } finally {
      await router.close();
    }
  });

  it('validates the bounds', () => {
    const mk = (o: object) => () => new ShardRouter({ shards: { m: { memory: true } }, ...o });
    expect(mk({ maxTenants: 0 })).toThrow(ShardConfigError);
    expect(mk({ maxTenants: 1.5 })).toThrow(/maxTenants: must be an integer >= 1/);
    expect(mk({ l1MaxBytes: -1 })).toThrow(/l1MaxBytes/);
    expect(mk({ tenantIdleTimeout: 'soon' })).toThrow(/tenantIdleTimeout/);
  });
});
