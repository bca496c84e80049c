import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stratacacheRoutes, RouteCacheOptionsError, type StratacacheRoutesOptions } from '../src/index';
import { CacheService } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
import { backends, startStandalone, type StandaloneRedis } from '../../http/test/backends';

let redis: StandaloneRedis;
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(backends(() => redis))('fastify route caching on $name', (backend) => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  let calls: Record<string, number>;

  async function build(opts: Omit<StratacacheRoutesOptions, 'cache'> = {}): Promise<FastifyInstance> {
    const made = await backend.make();
    close = made.close;
    calls = {};
    const count = (k: string) => (calls[k] = (calls[k] ?? 0) + 1);
    app = Fastify();
    await app.register(stratacacheRoutes, { cache: made.cache, ...opts });
    app.get('/users/:id', { config: { cache: { ttl: '1m', tags: ['users'] } } }, async (req) => {
      const n = count('user');
      return { id: (req.params as { id: string }).id, n };
    });
    app.get('/slow', { config: { cache: { ttl: '1m' } } }, async () => {
      const n = count('slow');
      await sleep(100);
      return { n };
    });
    app.get('/lang', { config: { cache: { vary: ['accept-language'] } } }, async (req) => ({ lang: req.headers['accept-language'] ?? null, n: count('lang') }));
    app.get('/meta', { config: { cache: { metadata: true } } }, async () => ({ n: count('meta') }));
    app.get('/status/:code', { config: { cache: true } }, async (req, reply) => {
      count('status');
      return reply.code(Number((req.params as { code: string }).code)).send({ ok: false });
    });
    app.get('/cookie', { config: { cache: true } }, async (_req, reply) => {
      count('cookie');
      return reply.header('set-cookie', 'sid=1').send({ secret: true });
    });
    app.get('/nostore', { config: { cache: true } }, async (_req, reply) => {
      count('nostore');
      return reply.header('cache-control', 'no-store').send({ x: 1 });
    });
    app.get('/text', { config: { cache: true } }, async (_req, reply) => reply.type('text/plain').send(`text ${count('text')}`));
    app.get('/plain', async () => ({ n: count('plain') }));
    app.get('/boom', { config: { cache: true } }, async () => {
      count('boom');
      throw new Error('boom');
    });
    app.post('/users/:id', { config: { cache: { invalidates: { tags: ['users'] } } } }, async () => ({ ok: true }));
    app.post('/users/:id/rename', { config: { cache: { invalidates: { routes: ['/users/:id'] } } } }, async () => ({ ok: true }));
    await app.ready();
    return app;
  }

  afterEach(async () => {
    await app?.close();
    await close?.();
  });

  it('MISS then HIT, same body, status and content type; query order does not matter', async () => {
    await build();
    const a = await app.inject('/users/1?b=2&a=1');
    expect(a.statusCode).toBe(200);
    expect(a.headers['x-cache']).toBe('MISS');
    expect(a.json()).toEqual({ id: '1', n: 1 });
    await sleep(30); // the write is fire-and-forget
    const b = await app.inject('/users/1?a=1&b=2');
    expect(b.headers['x-cache']).toBe('HIT');
    expect(b.json()).toEqual({ id: '1', n: 1 });
    expect(b.headers['content-type']).toMatch(/application\/json/);
    expect(calls.user).toBe(1);
    const c = await app.inject('/users/2');
    expect(c.headers['x-cache']).toBe('MISS');
    expect(calls.user).toBe(2);
  });

  it('bypass with ?use_cache=false and with the header: BYPASS, handler runs, nothing read', async () => {
    await build();
    await app.inject('/users/1');
    await sleep(30);
    const a = await app.inject('/users/1?use_cache=false');
    expect(a.headers['x-cache']).toBe('BYPASS');
    expect(a.json()).toEqual({ id: '1', n: 2 });
    const b = await app.inject({ url: '/users/1', headers: { 'x-cache-bypass': '1' } });
    expect(b.headers['x-cache']).toBe('BYPASS');
    expect(calls.user).toBe(3);
    expect((await app.inject('/users/1')).headers['x-cache']).toBe('HIT');
  });

  it('N concurrent misses run the handler once', async () => {
    await build();
    const rs = await Promise.all(Array.from({ length: 20 }, () => app.inject('/slow')));
    expect(calls.slow).toBe(1);
    for (const r of rs) {
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ n: 1 });
      expect(r.headers['x-cache']).toBe('MISS');
    }
    await sleep(30);
    expect((await app.inject('/slow')).headers['x-cache']).toBe('HIT');
    expect(calls.slow).toBe(1);
  });

  it('vary headers are part of the key', async () => {
    await build();
    const en = await app.inject({ url: '/lang', headers: { 'accept-language': 'en' } });
    const fr = await app.inject({ url: '/lang', headers: { 'accept-language': 'fr' } });
    expect(en.json()).toMatchObject({ lang: 'en' });
    expect(fr.json()).toMatchObject({ lang: 'fr' });
    expect(fr.headers['x-cache']).toBe('MISS');
    await sleep(30);
    const en2 = await app.inject({ url: '/lang', headers: { 'accept-language': 'en' } });
    expect(en2.headers['x-cache']).toBe('HIT');
    expect(en2.json()).toMatchObject({ lang: 'en', n: 1 });
  });

  it('_cache metadata (opt-in) on JSON object bodies, never stored', async () => {
    await build();
    const a = await app.inject('/meta');
    const ma = a.json<{ _cache: { hit: boolean; source: string; key: string } }>()._cache;
    expect(ma).toMatchObject({ hit: false, source: 'origin' });
    expect(ma.key).toBe('route:GET /meta:p=/meta');
    await sleep(30);
    const b = await app.inject('/meta');
    expect(b.json()).toEqual({ n: 1, _cache: { hit: true, source: backend.name === 'tiered+redis' ? 'l1' : 'l2', key: ma.key } });
    expect(Number(b.headers['content-length'])).toBe(b.rawPayload.length);
    // no metadata where not enabled
    await app.inject('/users/9');
    await sleep(30);
    expect((await app.inject('/users/9')).json()).not.toHaveProperty('_cache');
  });

  it('non-2xx, set-cookie and Cache-Control: no-store responses are not stored; errors are not cached', async () => {
    await build();
    for (const url of ['/status/404', '/status/500', '/cookie', '/nostore', '/boom']) {
      const a = await app.inject(url);
      await sleep(30);
      const b = await app.inject(url);
      expect(b.headers['x-cache'], url).toBe('MISS');
      expect(b.statusCode).toBe(a.statusCode);
    }
    expect(calls).toMatchObject({ status: 4, cookie: 2, nostore: 2, boom: 2 });
    // a 2xx that is not 200 is stored
    await app.inject('/status/203');
    await sleep(30);
    const c = await app.inject('/status/203');
    expect(c.headers['x-cache']).toBe('HIT');
    expect(c.statusCode).toBe(203);
  });

  it('non-JSON bodies are stored as bytes; routes without config are not cached', async () => {
    await build();
    await app.inject('/text');
    await sleep(30);
    const t = await app.inject('/text');
    expect(t.headers['x-cache']).toBe('HIT');
    expect(t.body).toBe('text 1');
    expect(t.headers['content-type']).toMatch(/text\/plain/);
    await app.inject('/plain');
    const p = await app.inject('/plain');
    expect(p.headers['x-cache']).toBeUndefined();
    expect(p.json()).toEqual({ n: 2 });
  });

  it('HEAD is answered from the GET entry', async () => {
    await build();
    await app.inject('/users/5');
    await sleep(30);
    const h = await app.inject({ method: 'HEAD', url: '/users/5' });
    expect(h.statusCode).toBe(200);
    expect(h.headers['x-cache']).toBe('HIT');
    expect(h.body).toBe('');
    expect(calls.user).toBe(1);
  });

  it('writes invalidate by tag and by route after a 2xx', async () => {
    await build();
    await app.inject('/users/1');
    await app.inject('/users/2');
    await sleep(30);
    expect((await app.inject('/users/1')).headers['x-cache']).toBe('HIT');
    const w = await app.inject({ method: 'POST', url: '/users/1' });
    expect(w.statusCode).toBe(200);
    expect(w.headers['x-cache']).toBeUndefined();
    expect((await app.inject('/users/1')).headers['x-cache']).toBe('MISS');
    expect((await app.inject('/users/2')).headers['x-cache']).toBe('MISS');
    await sleep(30);
    expect((await app.inject('/users/2')).headers['x-cache']).toBe('HIT');
    await app.inject({ method: 'POST', url: '/users/2/rename' });
    expect((await app.inject('/users/2')).headers['x-cache']).toBe('MISS');
  });

  it('tenant is part of the key and scopes route invalidation', async () => {
    await build({ tenant: (req) => (req.headers['x-tenant'] as string | undefined) ?? undefined });
    const t = (tenant: string) => ({ url: '/users/1', headers: { 'x-tenant': tenant } });
    expect((await app.inject(t('a'))).headers['x-cache']).toBe('MISS');
    expect((await app.inject(t('b'))).headers['x-cache']).toBe('MISS');
    await sleep(30);
    expect((await app.inject(t('a'))).headers['x-cache']).toBe('HIT');
    await app.inject({ method: 'POST', url: '/users/1/rename', headers: { 'x-tenant': 'a' } });
    expect((await app.inject(t('a'))).headers['x-cache']).toBe('MISS');
    expect((await app.inject(t('b'))).headers['x-cache']).toBe('HIT');
    const r = await app.routeCache.invalidateRoute('/users/:id', 'b');
    expect(r.ok).toBe(true);
    expect((await app.inject(t('b'))).headers['x-cache']).toBe('MISS');
  });
});

describe('fastify plugin lifecycle and options', () => {
  it('creates (embedded) and closes its own CacheService; decorates fastify.cache and routeCache', async () => {
    const app = Fastify();
    await app.register(stratacacheRoutes, { all: true });
    let n = 0;
    app.get('/x', async () => ({ n: ++n }));
    app.get('/y', { config: { cache: false } }, async () => ({ n: ++n }));
    await app.ready();
    expect(typeof app.cache.getOrSet).toBe('function');
    expect(app.routeCache.options.namespace).toBe('route');
    await app.inject('/x');
    await sleep(20);
    expect((await app.inject('/x')).headers['x-cache']).toBe('HIT');
    expect((await app.inject('/y')).headers['x-cache']).toBeUndefined();
    const closed = (app.cache as unknown as { close(): Promise<void> }).close;
    let closedCalls = 0;
    (app.cache as unknown as { close(): Promise<void> }).close = async function (this: unknown) {
      closedCalls++;
      return closed.call(this);
    };
    await app.close();
    expect(closedCalls).toBe(1);
  });

  it('does not close a cache it was given (unless closeCache)', async () => {
    let closes = 0;
    const cache = { getOrSet: async () => undefined as never, invalidate: async () => ({ ok: true, deleted: 0, barriers: 0 }), close: async () => void closes++ };
    const a = Fastify();
    await a.register(stratacacheRoutes, { cache });
    await a.close();
    expect(closes).toBe(0);
    const b = Fastify();
    await b.register(stratacacheRoutes, { cache, closeCache: true });
    await b.close();
    expect(closes).toBe(1);
  });

  it.each([
    [{ cache: {} }, /cache must be/],
    [{ ttl: -1 }, /ttl/],
    [{ ttl: 'soon' }, /ttl/],
    [{ vary: 'accept' }, /vary must be an array/],
    [{ bogus: 1 }, /unknown option "bogus"/],
    [{ hook: 'onSend' }, /hook must be/],
    [{ namespace: 'a:b' }, /namespace/],
    [{ statuses: [99] }, /statuses/],
    [{ redis: 'redis://x', cache: { getOrSet() {}, invalidate() {} } }, /either `cache` or `redis`/],
  ])('rejects bad plugin options %j with RouteCacheOptionsError', async (opts, msg) => {
    const app = Fastify();
    await expect(app.register(stratacacheRoutes, opts as StratacacheRoutesOptions).ready()).rejects.toSatisfy((e: unknown) => {
      expect(e).toBeInstanceOf(RouteCacheOptionsError);
      expect((e as RouteCacheOptionsError).code).toBe('E_ROUTE_CACHE_OPTIONS');
      expect((e as Error).message).toMatch(msg);
      return true;
    });
    await app.close().catch(() => undefined);
  });

  it.each(['memory', 'redis'])('TieredCache grace (L2 on %s): STALE at once, then the route is re-run in the background and HIT', async (kind) => {
    const l2 = new CacheService({ prefix: `sw${process.pid}${kind}`, ...(kind === 'redis' ? { redis: `redis://127.0.0.1:${redis.port}` } : {}) });
    const tiered = new TieredCache(l2, {});
    await tiered.ready(2_000);
    const app = Fastify();
    await app.register(stratacacheRoutes, { cache: tiered, metadata: true });
    let n = 0;
    app.get('/s', { config: { cache: { ttl: 400, grace: '10s' } } }, async () => ({ n: ++n }));
    await app.ready();
    expect((await app.inject('/s')).headers['x-cache']).toBe('MISS');
    await sleep(450);
    const stale = await app.inject('/s');
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.json()).toMatchObject({ n: 1, _cache: { hit: true, source: 'stale' } });
    await sleep(60);
    const fresh = await app.inject('/s');
    expect(fresh.headers['x-cache']).toBe('HIT');
    expect(fresh.json()).toMatchObject({ n: 2, _cache: { hit: true } });
    expect(n).toBe(2);
    await app.close();
    await tiered.close();
    await l2.close();
  });

  it("a route's own preHandler (auth) runs before a hit is served", async () => {
    const app = Fastify();
    await app.register(stratacacheRoutes, {});
    let n = 0;
    app.get(
      '/private',
      {
        config: { cache: true },
        preHandler: async (req, reply) => {
          if (req.headers.authorization !== 'Bearer ok') return reply.code(401).send({ error: 'unauthorized' });
        },
      },
      async () => ({ n: ++n }),
    );
    await app.ready();
    const ok = { authorization: 'Bearer ok' };
    expect((await app.inject({ url: '/private', headers: ok })).headers['x-cache']).toBe('MISS');
    await sleep(20);
    expect((await app.inject({ url: '/private', headers: ok })).headers['x-cache']).toBe('HIT');
    const denied = await app.inject('/private');
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['x-cache']).toBeUndefined();
    const head = await app.inject({ method: 'HEAD', url: '/private', headers: ok });
    expect(head.headers['x-cache']).toBe('HIT');
    expect(n).toBe(1);
    await app.close();
  });

  it('rejects a bad per-route config at registration', async () => {
    const app = Fastify();
    await app.register(stratacacheRoutes, {});
    expect(() => app.get('/x', { config: { cache: { ttl: 'never' } } }, async () => ({}))).toThrow(/route GET \/x: config.cache: ttl: invalid duration/);
    await app.close().catch(() => undefined);
  });
});
