import { CircuitBreaker } from '@stratacache/breaker';
import { CacheService, MemoryStore, RedisStore } from '@stratacache/core';
import { startStandalone, waitFor, type StandaloneRedis } from '@stratacache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardConfigError, ShardRouter, type ShardRouterOptions } from '../src/index';

function configError(fn: () => unknown): ShardConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ShardConfigError);
    expect((e as ShardConfigError).code).toBe('E_SHARD_CONFIG');
    return e as ShardConfigError;
  }
  throw new Error('expected a ShardConfigError');
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe('ShardRouter configuration errors', () => {
  const mem = { memory: true as const };
  it.each<[string, () => unknown, string, string]>([
    ['no shards', () => new ShardRouter({ shards: {} }), 'empty-shards', 'shards'],
    ['missing options', () => new ShardRouter(undefined as never), 'invalid-option', ''],
    ['malformed URL', () => new ShardRouter({ shards: { a: { url: 'redis://u:pw@' } } }), 'malformed-url', 'shards.a.url'],
    ['unknown scheme', () => new ShardRouter({ shards: { a: { url: 'memcached://h:11211' } } }), 'unknown-scheme', 'shards.a.url'],
    ['url and cluster', () => new ShardRouter({ shards: { a: { url: 'redis://h', cluster: { nodes: ['h:1'] } } } }), 'conflicting-options', 'shards.a'],
    ['tenant -> unknown shard', () => new ShardRouter({ shards: { a: mem }, tenants: { acme: 'b' } }), 'unknown-shard', 'tenants.acme'],
    ['unknown defaultShard', () => new ShardRouter({ shards: { a: mem }, defaultShard: 'zz' }), 'unknown-shard', 'defaultShard'],
    ['bad shard id', () => new ShardRouter({ shards: { 'a b': mem } }), 'invalid-option', 'shards.a b'],
    ['cache.prefix', () => new ShardRouter({ shards: { a: mem }, cache: { prefix: 'x' } as never }), 'conflicting-options', 'cache.prefix'],
    ['cache.redis', () => new ShardRouter({ shards: { a: { ...mem, cache: { redis: 'redis://h' } as never } } }), 'conflicting-options', 'shards.a.cache.redis'],
    ['shared breaker instance', () => new ShardRouter({ shards: { a: mem }, cache: { breaker: new CircuitBreaker() as never } }), 'invalid-option', 'cache.breaker'],
    ['bad keyspace', () => new ShardRouter({ shards: { a: mem }, keyspace: 'global' as never }), 'invalid-option', 'keyspace'],
    ['bad breaker option (eager)', () => new ShardRouter({ shards: { a: mem }, cache: { breaker: { failureThreshold: 0 } } }), 'invalid-option', 'shards.a.cache.breaker'],
    ['bad CacheService option (eager)', () => new ShardRouter({ shards: { a: { ...mem, cache: { opTimeout: -5 } } } }), 'invalid-option', 'shards.a.cache'],
  ])('%s', (_name, fn, reason, path) => {
    const e = configError(fn);
    expect(e.reason).toBe(reason);
    expect(e.path).toBe(path);
  });

  it('never echoes a password', () => {
    const e = configError(() => new ShardRouter({ shards: { a: { url: 'http://admin:hunter2@h' } } }));
    expect(e.message).not.toContain('hunter2');
    expect(e.message).toContain('admin:***@h');
  });

  it('unknown tenant without a default shard is a typed error at lookup', () => {
    const router = new ShardRouter({ shards: { stamford: mem }, tenants: { acme: 'stamford' } });
    expect(router.shardOf('acme')).toBe('stamford');
    expect(router.shardOf('stamford')).toBe('stamford');
    const e = configError(() => router.forTenant('guilford'));
    expect(e.reason).toBe('unknown-tenant');
    expect(e.message).toMatch(/defaultShard/);
    expect(configError(() => router.forTenant('bad tenant')).reason).toBe('invalid-option');
    void router.close();
  });
});

describe('ShardRouter on embedded memory shards', () => {
  it('routes, isolates tenant key spaces on a shared shard, and is lazy', async () => {
    const router = new ShardRouter({
      shards: { stamford: { memory: true }, shared: { memory: true } },
      tenants: { acme: 'shared' },
      defaultShard: 'shared',
      prefix: 'app',
    });
    try {
      expect((await router.health()).shards.stamford!.status).toBe('idle');
      const acme = router.forTenant('acme');
      const beta = router.forTenant('beta'); // default shard
      expect(acme).toBeInstanceOf(CacheService);
      expect(router.forTenant('acme')).toBe(acme); // one cache per tenant
      expect(acme.store).toBe(beta.store); // same shard connection ...
      expect(acme.breaker).toBe(beta.breaker); // ... and the same breaker
      expect(acme.prefix).toBe('app:acme');
      expect(acme.store).toBeInstanceOf(MemoryStore);

      await acme.set('user:1', 'acme-user');
      await beta.set('user:1', 'beta-user');
      expect(await acme.get('user:1')).toBe('acme-user');
      expect(await beta.get('user:1')).toBe('beta-user');
      await acme.clear();
      expect(await acme.get('user:1')).toBeUndefined();
      expect(await beta.get('user:1')).toBe('beta-user');

      const stamford = router.forTenant('stamford');
      expect(stamford.store).not.toBe(acme.store);
      expect(stamford.breaker).not.toBe(acme.breaker);

      const h = await router.health();
      expect(h.status).toBe('ok');
      expect(h.shards.shared!.tenants.sort()).toEqual(['acme', 'beta']);
      expect(h.shards.stamford!.status).toBe('ok');
      expect(router.stats().map((s) => s.tenant).sort()).toEqual(['acme', 'beta', 'stamford']);
    } finally {
      await router.close();
    }
    expect(() => router.forTenant('acme')).toThrow(/closed/);
  });

  it('health({ connect: true }) opens and probes every shard', async () => {
    const router = new ShardRouter({ shards: { a: { memory: true }, b: { memory: true } } });
    expect(Object.values((await router.health()).shards).map((h) => h.status)).toEqual(['idle', 'idle']);
    const h = await router.health({ connect: true });
    expect(h.status).toBe('ok');
    expect(Object.values(h.shards).map((x) => [x.status, x.kind, x.circuit])).toEqual([
      ['ok', 'memory', 'CLOSED'],
      ['ok', 'memory', 'CLOSED'],
    ]);
    await router.close();
  });

  it("keyspace 'shard' shares one CacheService per shard", async () => {
    const router = new ShardRouter({ shards: { shared: { memory: true } }, defaultShard: 'shared', keyspace: 'shard' });
    expect(router.forTenant('a')).toBe(router.forTenant('b'));
    expect(router.forTenant('a').prefix).toBe('sc');
    await router.close();
  });

  it('createCache hook wraps each tenant cache (the tiered-cache seam) and events carry shard and tenant', async () => {
    const seen: string[] = [];
    type Wrapped = { service: CacheService; close(): Promise<void> };
    const options: ShardRouterOptions<Wrapped> = {
      shards: { main: { memory: true } },
      defaultShard: 'main',
      createCache: (ctx) => {
        const inner = new CacheService(ctx.options);
        return { service: inner, close: () => inner.close() };
      },
    };
    const router = new ShardRouter(options);
    router.on('set', (e, o) => seen.push(`${o.shard}/${o.tenant}/${e.key}`));
    await router.forTenant('t1').service.set('k', 1);
    expect(seen).toEqual(['main/t1/sc:t1:k']);
    // a late listener sees existing caches; after unsubscribing nothing more arrives
    const late: string[] = [];
    const off = router.on('*', (e, o) => late.push(`${o.tenant}:${e.type}`));
    await router.forTenant('t1').service.get('k');
    expect(late).toEqual(['t1:hit']);
    off();
    await router.forTenant('t1').service.get('k');
    expect(late).toHaveLength(1);
    expect(router.stats()).toHaveLength(1); // stats of the wrapped L2 service
    await router.close();
  });

  it('uses a caller-owned client without closing it', async () => {
    const server = await startStandalone();
    const client = new Redis(server.url);
    try {
      const router = new ShardRouter({ shards: { byo: { client } }, defaultShard: 'byo' });
      await router.forTenant('x').set('k', 'v');
      expect(router.forTenant('x').store).toBeInstanceOf(RedisStore);
      await router.close();
      expect(await client.get('sc:x:k')).not.toBeNull();
    } finally {
      client.disconnect();
      await server.close();
    }
  });
});

describe('ShardRouter: a failing shard only affects its own tenants', () => {
  let stamfordRedis: StandaloneRedis;
  let guilfordRedis: StandaloneRedis;
  let router: ShardRouter;

  beforeAll(async () => {
    [stamfordRedis, guilfordRedis] = await Promise.all([startStandalone(), startStandalone()]);
    router = new ShardRouter({
      shards: {
        stamford: { url: stamfordRedis.url },
        guilford: { url: guilfordRedis.url },
      },
      cache: { opTimeout: 2_000, breaker: { resetTimeout: 1_000 } },
    });
  });

  afterAll(async () => {
    await router?.close();
    await Promise.all([stamfordRedis?.close(), guilfordRedis?.close()]);
  });

  it('kill stamford under load: guilford sees zero errors; stamford callers get origin values, never exceptions', async () => {
    const stamford = router.forTenant('stamford');
    const guilford = router.forTenant('guilford');
    const keys = Array.from({ length: 50 }, (_, i) => `item:${i}`);
    for (const k of keys) {
      await stamford.set(k, { k, t: 'stamford' });
      await guilford.set(k, { k, t: 'guilford' });
    }

    type Phase = 'before' | 'during';
    let phase: Phase = 'before';
    let running = true;
    const lat: Record<Phase, number[]> = { before: [], during: [] };
    const guilfordIssues: unknown[] = [];
    let stamfordExceptions = 0;
    let stamfordCalls = 0;

    const guilfordLoad = (async () => {
      let i = 0;
      while (running) {
        const key = keys[i++ % keys.length]!;
        const t0 = performance.now();
        try {
          const v = await guilford.getOrSet(key, () => {
            guilfordIssues.push(`origin call for ${key}`);
            return { k: key, t: 'origin' };
          });
          if ((v as { t: string }).t !== 'guilford') guilfordIssues.push(v);
        } catch (e) {
          guilfordIssues.push(e);
        }
        lat[phase].push(performance.now() - t0);
        await sleep(2);
      }
    })();
    const stamfordLoad = (async () => {
      let i = 0;
      while (running) {
        const key = keys[i++ % keys.length]!;
        try {
          const v = await stamford.getOrSet(key, () => ({ k: key, t: 'origin' }));
          expect(v).toMatchObject({ k: key });
          stamfordCalls++;
        } catch {
          stamfordExceptions++;
        }
        await sleep(2);
      }
    })();

    await sleep(800);
    await stamfordRedis.kill();
    phase = 'during';
    // keep the load on while stamford is down: its breaker opens, its reads go to the origin
    await waitFor(() => stamford.breaker.state === 'OPEN', { timeoutMs: 20_000, message: 'stamford breaker opens' });
    await sleep(1_500);
    running = false;
    await Promise.all([guilfordLoad, stamfordLoad]);

    const gs = router.stats().find((s) => s.tenant === 'guilford')!.stats;
    const ss = router.stats().find((s) => s.tenant === 'stamford')!.stats;
    const before = lat.before.sort((a, b) => a - b);
    const during = lat.during.sort((a, b) => a - b);
    console.log(
      `[shard] guilford latency while stamford is up: p50 ${pct(before, 50).toFixed(2)} ms p99 ${pct(before, 99).toFixed(2)} ms (${before.length} calls); ` +
        `while stamford is down: p50 ${pct(during, 50).toFixed(2)} ms p99 ${pct(during, 99).toFixed(2)} ms (${during.length} calls)`,
    );
    console.log(`[shard] stamford during outage: ${stamfordCalls} calls, ${ss.errors} store errors absorbed, ${ss.originCalls} origin calls, ${stamfordExceptions} exceptions`);

    expect(guilfordIssues).toEqual([]);
    expect(gs.errors).toBe(0);
    expect(guilford.breaker.state).toBe('CLOSED');
    expect(during.length).toBeGreaterThan(0);
    expect(stamfordExceptions).toBe(0);
    expect(ss.errors).toBeGreaterThan(0);

    const h = await router.health();
    expect(h.status).toBe('degraded');
    expect(h.shards.stamford!.status).toBe('down');
    expect(h.shards.guilford!.status).toBe('ok');
    expect(h.shards.stamford!.target).toBe(stamfordRedis.url);
  }, 60_000);

  it('stamford comes back: its breaker closes and writes land again', async () => {
    await stamfordRedis.restart();
    const stamford = router.forTenant('stamford');
    await waitFor(async () => (await stamford.set('back', 1)).ok, { timeoutMs: 20_000, message: 'stamford writes resume' });
    expect(await stamford.get('back')).toBe(1);
    expect((await router.health()).status).toBe('ok');
  }, 30_000);
});
