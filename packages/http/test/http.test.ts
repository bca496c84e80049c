import { CacheService } from '@stratacache/core';
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { ShardRouter, tieredCaches } from '@stratacache/shard';
import { TieredCache } from '@stratacache/tiered';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RouteCache,
  RouteCacheError,
  RouteCacheOptionsError,
  buildRouteKey,
  invalidationTargets,
  isBypass,
  isStorable,
  normaliseQuery,
  parseRouteRef,
  resolveOptions,
  type RouteRequest,
} from '../src/index';
import { handle, json, sleep } from './engine';

let redis: StandaloneRedis;
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

const layer = { getOrSet: async () => undefined as never, invalidate: async () => ({ ok: true, deleted: 0, barriers: 0 }) };
const req = (url: string, extra: Partial<RouteRequest> = {}): RouteRequest => ({ method: 'GET', route: '/r', url, headers: {}, raw: undefined, ...extra });

describe('keys', () => {
  const o = resolveOptions({ cache: layer });
  it('method + route + normalised query; HEAD shares the GET key; bypass param ignored', () => {
    const a = buildRouteKey(req('/r?b=2&a=1'), o.defaults, 'route', undefined);
    expect(a).toBe('route:GET /r:p=/r:q=(a=1,b=2)');
    expect(buildRouteKey(req('/r?a=1&b=2&use_cache=true'), o.defaults, 'route', undefined)).toBe(a);
    expect(buildRouteKey(req('/r?a=1&b=2', { method: 'HEAD' }), o.defaults, 'route', undefined)).toBe(a);
    expect(buildRouteKey(req('/r?a=1&a=2'), o.defaults, 'route', undefined)).not.toBe(buildRouteKey(req('/r?a=2&a=1'), o.defaults, 'route', undefined));
    expect(normaliseQuery('x=1&x=2&y=', new Set())).toEqual({ x: ['1', '2'], y: '' });
  });
  it('escapes hostile parts and hashes long identifiers (core KeyBuilder)', () => {
    const k = buildRouteKey(req('/r?q=*:{x}'), o.defaults, 'route', 'acme:*');
    expect(k).toBe('route@acme%3A%2A:GET /r:p=/r:q=(q=%2A%3A%7Bx%7D)');
    expect(k).not.toMatch(/[*?[\]{}]/);
    const long = buildRouteKey(req(`/r?q=${'x'.repeat(500)}`), o.defaults, 'route', undefined);
    expect(long.length).toBeLessThan(200);
    expect(long).toMatch(/~h[A-Za-z0-9_-]{22}$/);
  });
  it('vary headers and custom key', () => {
    const cfg = new RouteCache({ cache: layer }).route({ vary: ['Accept-Language'], key: (r) => ({ id: r.url.length }) });
    expect(buildRouteKey(req('/r', { headers: { 'accept-language': 'fr' } }), cfg, 'route', undefined)).toBe('route:GET /r:h=(accept-language=fr):k=(id=2)');
    expect(buildRouteKey(req('/r'), cfg, 'route', undefined)).toBe('route:GET /r:h=(accept-language=~n):k=(id=2)');
  });
});

describe('cacheability and bypass', () => {
  const o = resolveOptions({ cache: layer });
  it('bypass by query and header (configurable, can be disabled)', () => {
    expect(isBypass(req('/r?use_cache=false'), o)).toBe(true);
    expect(isBypass(req('/r?use_cache=0'), o)).toBe(true);
    expect(isBypass(req('/r?use_cache=true'), o)).toBe(false);
    expect(isBypass(req('/r', { headers: { 'x-cache-bypass': '1' } }), o)).toBe(true);
    const off = resolveOptions({ cache: layer, bypassQuery: false, bypassHeader: 'x-nocache' });
    expect(isBypass(req('/r?use_cache=false'), off)).toBe(false);
    expect(isBypass(req('/r', { headers: { 'x-nocache': 'true' } }), off)).toBe(true);
  });
  it('2xx by default, statuses configurable; set-cookie, no-store and private never stored; size bound', () => {
    const d = o.defaults;
    expect(isStorable(json({}), d, 100)).toBe(true);
    expect(isStorable(json({}, 204), d, 100)).toBe(true);
    expect(isStorable(json({}, 301), d, 100)).toBe(false);
    expect(isStorable(json({}, 404), new RouteCache({ cache: layer }).route({ statuses: [200, 404] }), 100)).toBe(true);
    expect(isStorable(json({}, 200, { 'set-cookie': 'a=1' }), d, 100)).toBe(false);
    expect(isStorable(json({}, 200, { 'Cache-Control': 'private, max-age=60' }), d, 100)).toBe(false);
    expect(isStorable(json({}, 200, { 'cache-control': 'no-store' }), d, 100)).toBe(false);
    expect(isStorable(json({}, 200, { 'cache-control': 'public, max-age=60' }), d, 100)).toBe(true);
    expect(isStorable(json({ x: 'y'.repeat(200) }), d, 100)).toBe(false);
    expect(isStorable({ status: 200, headers: {}, body: undefined }, d, 100)).toBe(false);
  });
});

describe('invalidation declarations', () => {
  it('tags, namespaces, keys and routes (per tenant), static or per request', () => {
    const t = invalidationTargets(
      { tags: (r) => [`u:${r.url}`], namespaces: ['jobs', 'jobs:list', { entity: 'a', operation: 'b' }], keys: ['k1'], routes: ['/users/:id', 'HEAD /x'] },
      req('/w'),
      'route',
      'acme',
    );
    expect(t).toEqual([
      { tag: 'u:/w' },
      { namespace: { entity: 'jobs' } },
      { namespace: { entity: 'jobs', operation: 'list' } },
      { namespace: { entity: 'a', operation: 'b' } },
      { key: 'k1' },
      { namespace: { entity: 'route@acme', operation: 'GET /users/:id' } },
      { namespace: { entity: 'route@acme', operation: 'GET /x' } },
    ]);
    expect(() => parseRouteRef('users')).toThrow(RouteCacheOptionsError);
  });
});

describe('options', () => {
  it.each([
    [undefined, /must be an object/],
    [{ cache: {} }, /cache must be/],
    [{ cache: layer, ttl: '0s' }, /ttl must be > 0/],
    [{ cache: layer, methods: 'GET' }, /methods/],
    [{ cache: layer, tags: 'x' }, /tags/],
    [{ cache: layer, invalidates: {} }, /unknown option "invalidates"|invalidates/],
    [{ cache: layer, maxBodyBytes: -1 }, /maxBodyBytes/],
    [{ cache: layer, tenant: 'acme' }, /tenant must be a function/],
    [{ cache: layer, metadata: 'yes' }, /metadata must be a boolean/],
  ])('%j is rejected with a typed error', (opts, msg) => {
    let err: unknown;
    try {
      new RouteCache(opts as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RouteCacheOptionsError);
    expect(err).toBeInstanceOf(RouteCacheError);
    expect((err as RouteCacheOptionsError).code).toBe('E_ROUTE_CACHE_OPTIONS');
    expect((err as Error).message).toMatch(msg);
  });
  it('route config: unknown keys and bad invalidates', () => {
    const rc = new RouteCache({ cache: layer });
    expect(() => rc.route({ ttll: 1 } as never)).toThrow(/unknown option "ttll"/);
    expect(() => rc.route({ invalidates: { tag: ["x"] } } as never)).toThrow(/unknown field "tag"/);
    expect(() => rc.route(5 as never)).toThrow(/must be true, false or an object/);
  });
});

describe('engine over real layers', () => {
  it('TieredCache: l1 source, then STALE within grace', async () => {
    const l2 = new CacheService({ redis: `redis://127.0.0.1:${redis.port}`, prefix: `h${process.pid}a` });
    const tiered = new TieredCache(l2, {});
    await tiered.ready(2_000);
    const rc = new RouteCache({ cache: tiered, metadata: true });
    const cfg = rc.route({ ttl: 200, grace: '10s' });
    let n = 0;
    const h = () => json({ n: ++n });
    try {
      expect(await handle(rc, cfg, { url: '/s' }, h)).toMatchObject({ xCache: 'MISS', ran: true });
      await sleep(30);
      const hit = await handle(rc, cfg, { url: '/s' }, h);
      expect(hit.xCache).toBe('HIT');
      expect(JSON.parse(hit.body)._cache).toMatchObject({ hit: true, source: 'l1' });
      await sleep(250);
      const after = await handle(rc, cfg, { url: '/s' }, h);
      // stale-while-revalidate: the stale response is served, or this request refreshes it in line
      // stale-while-revalidate at the cache layer: the stale response is served at once
      expect(after).toMatchObject({ xCache: 'STALE', ran: false });
      expect(JSON.parse(after.body)._cache).toMatchObject({ hit: true, source: 'stale' });
    } finally {
      await tiered.close();
      await l2.close();
    }
  });

  it('TieredCache hit path: a fresh L1 entry is served through getL1, without getOrSet; without getL1 the same answers', async () => {
    const l2 = new CacheService({ redis: `redis://127.0.0.1:${redis.port}`, prefix: `h${process.pid}f` });
    const tiered = new TieredCache(l2, {});
    await tiered.ready(2_000);
    let calls = 0;
    const base = { getOrSet: ((k, f, o) => (calls++, tiered.getOrSet(k, f, o))) as TieredCache['getOrSet'], invalidate: (t: never) => tiered.invalidate(t), hasInL1: (k: string) => tiered.hasInL1(k) };
    try {
      for (const [withL1, expected] of [[true, 1], [false, 4]] as const) {
        calls = 0;
        const rc = new RouteCache({ cache: withL1 ? { ...base, getL1: (k: string) => tiered.getL1(k) } : base, metadata: true, namespace: `fast${String(withL1)}` });
        const cfg = rc.route({ ttl: '1m' });
        let n = 0;
        expect(await handle(rc, cfg, { url: '/f' }, () => json({ n: ++n }))).toMatchObject({ xCache: 'MISS', ran: true });
        await sleep(30); // L1 is filled once the leader's getOrSet settles
        for (let i = 0; i < 3; i++) {
          const hit = await handle(rc, cfg, { url: '/f' }, () => json({ n: ++n }));
          expect(hit).toMatchObject({ xCache: 'HIT', ran: false });
          expect(JSON.parse(hit.body)).toEqual({ n: 1, _cache: { hit: true, source: 'l1', key: rc.keyOf(req('/f', { route: '/f' }), cfg) } });
        }
        expect(calls, `getL1: ${String(withL1)}`).toBe(expected);
      }
    } finally {
      await tiered.close();
      await l2.close();
    }
  });

  it('ShardRouter: forTenant gives each tenant its own cache; a route invalidation hits one tenant', async () => {
    const router = new ShardRouter({
      shards: { a: { url: `redis://127.0.0.1:${redis.port}` } },
      defaultShard: 'a',
      prefix: `h${process.pid}b`,
      createCache: tieredCaches({}),
    });
    const rc = new RouteCache({
      cache: new CacheService({ prefix: 'unused' }),
      tenant: (r) => r.headers['x-tenant'] as string,
      forTenant: (t) => router.forTenant(t),
    });
    const cfg = rc.route({ ttl: '1m' });
    let n = 0;
    const h = () => json({ n: ++n });
    const get = (t: string) => handle(rc, cfg, { url: '/u', route: '/u', headers: { 'x-tenant': t } }, h);
    try {
      expect((await get('t1')).xCache).toBe('MISS');
      expect((await get('t2')).xCache).toBe('MISS');
      await sleep(30);
      expect((await get('t1')).xCache).toBe('HIT');
      expect((await rc.invalidateRoute('/u', 't1')).ok).toBe(true);
      expect((await get('t1')).xCache).toBe('MISS');
      expect((await get('t2')).xCache).toBe('HIT');
      expect(n).toBe(3);
    } finally {
      await router.close();
      await (rc.cache as CacheService).close();
    }
  });

  it('single-flight: N concurrent misses, one handler run; a non-storable leader lets followers run their own', async () => {
    const cache = new CacheService({ prefix: `h${process.pid}c` });
    const rc = new RouteCache({ cache });
    const cfg = rc.route(true);
    let n = 0;
    const slow = async () => {
      n++;
      await sleep(50);
      return json({ ok: true });
    };
    const rs = await Promise.all(Array.from({ length: 10 }, () => handle(rc, cfg, { url: '/x' }, slow)));
    expect(n).toBe(1);
    expect(rs.filter((r) => r.ran)).toHaveLength(1);
    expect(rs.every((r) => r.xCache === 'MISS' && r.status === 200)).toBe(true);
    n = 0;
    const failing = async () => {
      n++;
      await sleep(50);
      return json({ err: true }, 503);
    };
    const fs = await Promise.all(Array.from({ length: 5 }, () => handle(rc, cfg, { url: '/y' }, failing)));
    expect(fs.every((r) => r.status === 503 && r.ran)).toBe(true);
    expect(n).toBe(5);
    await cache.close();
  });
});
