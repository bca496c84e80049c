import express, { type Express } from 'express';
import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CacheService } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
import { routeCache, RouteCacheOptionsError, type RouteCacheOptions } from '../src/index';
import { backends, startStandalone, type StandaloneRedis } from '../../http/test/backends';

let redis: StandaloneRedis;
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json<T = unknown>(): T;
}

function call(port: number, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(backends(() => redis))('express route caching on $name', (backend) => {
  let server: Server | undefined;
  let port: number;
  let close: () => Promise<void>;
  let calls: Record<string, number>;

  async function build(opts: Omit<RouteCacheOptions, 'cache'> = {}): Promise<Express> {
    const made = await backend.make();
    close = made.close;
    calls = {};
    const count = (k: string) => (calls[k] = (calls[k] ?? 0) + 1);
    const rc = routeCache({ cache: made.cache, ...opts });
    const app = express();
    app.get('/users/:id', rc.route({ ttl: '1m', tags: ['users'] }), (req, res) => {
      res.json({ id: req.params.id, n: count('user') });
    });
    app.get('/slow', rc.route(), (_req, res) => {
      const n = count('slow');
      setTimeout(() => res.json({ n }), 100);
    });
    app.get('/meta', rc.route({ metadata: true }), (_req, res) => {
      res.json({ n: count('meta') });
    });
    app.get('/lang', rc.route({ vary: ['accept-language'] }), (req, res) => {
      res.json({ lang: req.headers['accept-language'] ?? null, n: count('lang') });
    });
    app.get('/status/:code', rc.route(), (req, res) => {
      count('status');
      res.status(Number(req.params.code)).json({ ok: false });
    });
    app.get('/cookie', rc.route(), (_req, res) => {
      count('cookie');
      res.cookie('sid', '1').json({ secret: true });
    });
    app.get('/nostore', rc.route(), (_req, res) => {
      count('nostore');
      res.set('cache-control', 'no-store').json({ x: 1 });
    });
    app.get('/stream', rc.route(), (_req, res) => {
      count('stream');
      res.type('text/plain');
      res.write('a');
      res.end('b');
    });
    app.get('/boom', rc.route(), () => {
      count('boom');
      throw new Error('boom');
    });
    app.post('/users/:id', rc.route({ invalidates: { tags: ['users'] } }), (_req, res) => {
      res.json({ ok: true });
    });
    app.post('/users/:id/rename', rc.route({ invalidates: { routes: ['/users/:id'] } }), (_req, res) => {
      res.json({ ok: true });
    });
    app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ error: 'boom' });
    });
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    port = (server!.address() as AddressInfo).port;
    return app;
  }

  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
    await close?.();
  });

  it('MISS then HIT with the same body and headers; query order does not matter', async () => {
    await build();
    const a = await call(port, '/users/1?b=2&a=1');
    expect(a.status).toBe(200);
    expect(a.headers['x-cache']).toBe('MISS');
    expect(a.json()).toEqual({ id: '1', n: 1 });
    await sleep(30);
    const b = await call(port, '/users/1?a=1&b=2');
    expect(b.headers['x-cache']).toBe('HIT');
    expect(b.json()).toEqual({ id: '1', n: 1 });
    expect(b.headers['content-type']).toMatch(/application\/json/);
    expect(b.headers.etag).toBe(a.headers.etag);
    expect(calls.user).toBe(1);
  });

  it('bypass: ?use_cache=false and the header', async () => {
    await build();
    await call(port, '/users/1');
    await sleep(30);
    expect((await call(port, '/users/1?use_cache=false')).headers['x-cache']).toBe('BYPASS');
    expect((await call(port, '/users/1', { headers: { 'x-cache-bypass': 'true' } })).headers['x-cache']).toBe('BYPASS');
    expect(calls.user).toBe(3);
    expect((await call(port, '/users/1')).headers['x-cache']).toBe('HIT');
  });

  it('N concurrent misses run the handler once', async () => {
    await build();
    const rs = await Promise.all(Array.from({ length: 20 }, () => call(port, '/slow')));
    expect(calls.slow).toBe(1);
    for (const r of rs) {
      expect(r.json()).toEqual({ n: 1 });
      expect(r.headers['x-cache']).toBe('MISS');
    }
  });

  it('_cache metadata and vary', async () => {
    await build();
    const a = await call(port, '/meta');
    expect(a.json()).toMatchObject({ n: 1, _cache: { hit: false, source: 'origin', key: 'route:GET /meta:p=/meta' } });
    await sleep(30);
    const b = await call(port, '/meta');
    expect(b.json()).toMatchObject({ n: 1, _cache: { hit: true } });
    expect(Number(b.headers['content-length'])).toBe(Buffer.byteLength(b.body));
    await call(port, '/lang', { headers: { 'accept-language': 'en' } });
    const fr = await call(port, '/lang', { headers: { 'accept-language': 'fr' } });
    expect(fr.headers['x-cache']).toBe('MISS');
    expect(fr.json()).toMatchObject({ lang: 'fr' });
  });

  it('non-2xx, set-cookie, no-store, streamed and failed responses are not stored', async () => {
    await build();
    for (const url of ['/status/404', '/cookie', '/nostore', '/stream', '/boom']) {
      const a = await call(port, url);
      await sleep(30);
      const b = await call(port, url);
      expect(b.headers['x-cache'], url).toBe('MISS');
      expect(b.status).toBe(a.status);
      expect(b.body).toBe(a.body);
    }
    expect(calls).toMatchObject({ status: 2, cookie: 2, nostore: 2, stream: 2, boom: 2 });
  });

  it('HEAD is answered from the GET entry', async () => {
    await build();
    await call(port, '/users/5');
    await sleep(30);
    const h = await call(port, '/users/5', { method: 'HEAD' });
    expect(h.status).toBe(200);
    expect(h.headers['x-cache']).toBe('HIT');
    expect(h.body).toBe('');
    expect(calls.user).toBe(1);
  });

  it('writes invalidate by tag and by route after a 2xx', async () => {
    await build();
    await call(port, '/users/1');
    await sleep(30);
    expect((await call(port, '/users/1')).headers['x-cache']).toBe('HIT');
    await call(port, '/users/1', { method: 'POST' });
    expect((await call(port, '/users/1')).headers['x-cache']).toBe('MISS');
    await sleep(30);
    await call(port, '/users/1/rename', { method: 'POST' });
    expect((await call(port, '/users/1')).headers['x-cache']).toBe('MISS');
  });
});

describe('express: all(), routers and tenants', () => {
  it('all() on a router caches by mount path + path; tenant scopes keys and route invalidation', async () => {
    const { CacheService } = await import('@stratacache/core');
    const cache = new CacheService({ prefix: `ex${process.pid}` });
    const rc = routeCache({ cache, tenant: (req) => (req.headers['x-tenant'] as string | undefined) ?? undefined, metadata: true });
    let n = 0;
    const app = express();
    const api = express.Router();
    api.use(rc.all());
    api.get('/items/:id', (req, res) => {
      res.json({ id: req.params.id, n: ++n });
    });
    app.use('/api', api);
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const p = (server.address() as AddressInfo).port;
    try {
      const a = await call(p, '/api/items/1', { headers: { 'x-tenant': 'a' } });
      expect(a.json()).toMatchObject({ _cache: { key: 'route@a:GET /api/items/1:p=/api/items/1' } });
      await call(p, '/api/items/1', { headers: { 'x-tenant': 'b' } });
      await sleep(30);
      expect((await call(p, '/api/items/1', { headers: { 'x-tenant': 'a' } })).headers['x-cache']).toBe('HIT');
      expect((await rc.invalidateRoute('/api/items/1', 'a')).ok).toBe(true);
      expect((await call(p, '/api/items/1', { headers: { 'x-tenant': 'a' } })).headers['x-cache']).toBe('MISS');
      expect((await call(p, '/api/items/1', { headers: { 'x-tenant': 'b' } })).headers['x-cache']).toBe('HIT');
      expect(n).toBe(3);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      await cache.close();
    }
  });
});

describe('express options', () => {
  it.each([
    [{}, /cache must be/],
    [{ cache: { getOrSet() {}, invalidate() {} }, ttl: 0 }, /ttl must be > 0/],
    [{ cache: { getOrSet() {}, invalidate() {} }, bypassQuery: '' }, /bypassQuery/],
    [{ cache: { getOrSet() {}, invalidate() {} }, storeHeaders: ['bad header'] }, /storeHeaders/],
  ])('rejects %j', (opts, msg) => {
    expect(() => routeCache(opts as RouteCacheOptions)).toThrow(RouteCacheOptionsError);
    expect(() => routeCache(opts as RouteCacheOptions)).toThrow(msg);
  });

  it('rejects a bad route config with a code', () => {
    const rc = routeCache({ cache: { getOrSet: async () => undefined as never, invalidate: async () => ({ ok: true, deleted: 0, barriers: 0 }) } });
    try {
      rc.route({ invalidates: { tags: 'users' } as never });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RouteCacheOptionsError);
      expect((err as RouteCacheOptionsError).code).toBe('E_ROUTE_CACHE_OPTIONS');
    }
  });
});

describe('stale-while-revalidate (TieredCache grace), like the Fastify plugin', () => {
  it.each(['memory', 'redis'])('L2 on %s: STALE at once, the route re-run in the background through the app (auth included), then HIT', async (kind) => {
    const l2 = new CacheService({ prefix: `esw${process.pid}${kind}`, ...(kind === 'redis' ? { redis: `redis://127.0.0.1:${redis.port}` } : {}) });
    const tiered = new TieredCache(l2, {});
    await tiered.ready(2_000);
    const rc = routeCache({ cache: tiered, metadata: true });
    const app = express();
    let n = 0;
    const seen: (string | undefined)[] = [];
    const auth: express.RequestHandler = (req, res, next) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization !== 'Bearer ok') return void res.status(401).json({ error: 'unauthorized' });
      next();
    };
    app.get('/s', auth, rc.route({ ttl: 400, grace: '10s' }), (_req, res) => void res.json({ n: ++n }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    const h = { authorization: 'Bearer ok' };
    try {
      expect((await call(port, '/s', { headers: h })).headers['x-cache']).toBe('MISS');
      await sleep(450);
      const stale = await call(port, '/s', { headers: h });
      expect(stale.headers['x-cache']).toBe('STALE');
      expect(stale.json()).toMatchObject({ n: 1, _cache: { hit: true, source: 'stale' } });
      // the background re-run stored the fresh response (polled in the cache, not by requests)
      const key = rc.engine.keyOf({ method: 'GET', route: '/s', url: '/s', headers: h, raw: undefined });
      const deadline = Date.now() + 10_000;
      while (((await tiered.get<{ b: Buffer }>(key))?.b.toString() ?? '') !== JSON.stringify({ n: 2 })) {
        if (Date.now() > deadline) throw new Error('the stale route was not revalidated');
        await sleep(20);
      }
      const fresh = await call(port, '/s', { headers: h });
      expect(fresh.headers['x-cache']).toBe('HIT');
      expect(fresh.json()).toMatchObject({ n: 2, _cache: { hit: true } });
      expect(n).toBe(2);
      expect(seen).toEqual(['Bearer ok', 'Bearer ok', 'Bearer ok', 'Bearer ok']); // the re-run went through auth too
      // a client cannot pose as the revalidation: a wrong token is an ordinary request (a hit)
      const forged = await call(port, '/s', { headers: { ...h, 'x-stratacache-revalidate': 'guess' } });
      expect(forged.headers['x-cache']).toBe('HIT');
      expect(n).toBe(2);
    } finally {
      await new Promise((r) => server.close(r));
      await tiered.close();
      await l2.close();
    }
  });
});
