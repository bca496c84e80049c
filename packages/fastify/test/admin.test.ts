import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { MemoryStore, CacheService } from '@stratacache/core';
import { strataAdmin } from '../src/index';
import { ADMIN, READ, auth, setup, traffic, type Setup } from './admin-helpers';

let redis: StandaloneRedis;
let s: Setup;
const queued: string[][] = [];

beforeAll(async () => {
  redis = await startStandalone();
  s = await setup(redis.port, 'adm', {}, { warm: (keys) => void queued.push(keys), stats: () => ({ waiting: queued.flat().length, active: 0 }) });
  await traffic(s.cache);
  await s.analytics.flush();
});
afterAll(async () => {
  await s?.close();
  await redis?.close();
});

const READ_ROUTES = [
  '/cache/health',
  '/cache/stats',
  '/cache/auth/whoami',
  '/cache/analytics/top-queries',
  '/cache/analytics/performance',
  '/cache/analytics/recommendations',
  '/cache/alerts',
  '/cache/trends',
  '/cache/invalidations',
  '/cache/invalidations/stats',
  '/cache/warming/queue',
  '/cache/dashboard/data',
  '/metrics',
];
const ADMIN_ROUTES: [string, unknown][] = [
  ['/cache/clear', undefined],
  ['/cache/invalidate', { key: 'jobs:get:1' }],
  ['/cache/warming', { keys: ['jobs:get:1'] }],
  ['/cache/optimize', {}],
  ['/cache/alerts/hit_rate_below/acknowledge', undefined],
];

describe('auth', () => {
  it('401 as JSON without a token, with an unknown token, or a malformed header, on every route', async () => {
    for (const url of READ_ROUTES) {
      for (const headers of [{}, auth('nope-not-a-token-at-all'), { authorization: READ }, { authorization: `Basic ${READ}` }]) {
        const r = await s.app.inject({ method: 'GET', url, headers });
        expect(r.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(401);
        expect(r.headers['www-authenticate']).toContain('Bearer');
        expect(r.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
      }
    }
    for (const [url, payload] of ADMIN_ROUTES) {
      const r = await s.app.inject({ method: 'POST', url, ...(payload !== undefined ? { payload: payload as object } : {}) });
      expect(r.statusCode, url).toBe(401);
    }
  });

  it('read token: every read route answers 200, every admin route 403 with a message', async () => {
    for (const url of READ_ROUTES) {
      const r = await s.app.inject({ method: 'GET', url, headers: auth(READ) });
      expect(r.statusCode, `${url}: ${r.body}`).toBe(200);
    }
    for (const [url, payload] of ADMIN_ROUTES) {
      const r = await s.app.inject({ method: 'POST', url, headers: auth(READ), ...(payload !== undefined ? { payload: payload as object } : {}) });
      expect(r.statusCode, url).toBe(403);
      expect(r.json().message).toMatch(/admin role/);
    }
    expect((await s.app.inject({ url: '/cache/auth/whoami', headers: auth(READ) })).json()).toEqual({ role: 'read', name: 'read-1' });
    expect((await s.app.inject({ url: '/cache/auth/whoami', headers: auth(ADMIN) })).json()).toEqual({ role: 'admin', name: 'ops' });
  });

  it('the dashboard page and its script are public (they hold no data), with security headers', async () => {
    const page = await s.app.inject({ url: '/cache/dashboard' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).toContain('/cache/dashboard/app.js');
    const js = await s.app.inject({ url: '/cache/dashboard/app.js' });
    expect(js.statusCode).toBe(200);
    expect(js.body.length).toBeGreaterThan(20_000); // uPlot bundled in
    expect(js.body).not.toMatch(/https?:\/\/(cdn|unpkg|jsdelivr)/);
  });

  it('rejects bad token configuration', async () => {
    const cache = new CacheService({ store: new MemoryStore(), prefix: 'x' });
    for (const tokens of [[], [{ token: 'short', role: 'read' }], [{ token: 'x'.repeat(20), role: 'root' }]]) {
      const app = Fastify();
      await expect(app.register(strataAdmin, { cache, tokens: tokens as never }).ready()).rejects.toThrow(/token/);
      await app.close();
    }
    await cache.close();
  });
});

describe('routes', () => {
  it('health, stats, metrics', async () => {
    const h = await s.app.inject({ url: '/cache/health', headers: auth(READ) });
    expect(h.json()).toMatchObject({ ok: true, status: 'ok' });
    const st = (await s.app.inject({ url: '/cache/stats', headers: auth(READ) })).json();
    expect(st.cache.l1).toBeDefined();
    expect(st.local.requests).toBeGreaterThanOrEqual(40);
    const m = await s.app.inject({ url: '/metrics', headers: auth(READ) });
    expect(m.headers['content-type']).toContain('text/plain');
    expect(m.body).toMatch(/^stratacache_requests_total\{/m);
  });

  it('analytics: top queries, performance, recommendations, trends, invalidations', async () => {
    const top = (await s.app.inject({ url: '/cache/analytics/top-queries?limit=3', headers: auth(READ) })).json();
    expect(top.keys).toHaveLength(3);
    const perf = (await s.app.inject({ url: '/cache/analytics/performance?range=1h', headers: auth(READ) })).json();
    expect(perf.requests).toBeGreaterThanOrEqual(40);
    expect((await s.app.inject({ url: '/cache/analytics/recommendations', headers: auth(READ) })).json().recommendations).toBeInstanceOf(Array);
    const trend = (await s.app.inject({ url: '/cache/trends?range=1h', headers: auth(READ) })).json();
    expect(trend.points).toHaveLength(60);
    expect(trend.points.reduce((n: number, p: { requests: number }) => n + p.requests, 0)).toBeGreaterThanOrEqual(40);
    expect((await s.app.inject({ url: '/cache/trends?range=30d', headers: auth(READ) })).json().points).toHaveLength(720);
  });

  it('invalidate by key, pattern, tag and namespace (admin), recorded in the history', async () => {
    for (const body of [{ key: 'jobs:get:1' }, { pattern: 'contacts:get:*' }, { tag: 'jobs' }, { namespace: 'jobs', operation: 'get' }, { namespace: 'contacts' }]) {
      const r = await s.app.inject({ method: 'POST', url: '/cache/invalidate', headers: auth(ADMIN), payload: body });
      expect(r.statusCode, JSON.stringify(body)).toBe(200);
      expect(r.json().ok).toBe(true);
    }
    expect(await s.cache.get('jobs:get:2')).toBeUndefined();
    await s.analytics.flush();
    const inv = (await s.app.inject({ url: '/cache/invalidations?limit=10', headers: auth(READ) })).json();
    expect(inv.invalidations.length).toBeGreaterThanOrEqual(5);
    const stats = await s.app.inject({ url: '/cache/invalidations/stats', headers: auth(READ) });
    expect(stats.statusCode).toBe(200);
  });

  it('clear (admin) empties the cache', async () => {
    await s.cache.set('jobs:get:9', { id: 9 });
    const r = await s.app.inject({ method: 'POST', url: '/cache/clear', headers: auth(ADMIN) });
    expect(r.statusCode).toBe(200);
    expect(r.json().ok).toBe(true);
    expect(await s.cache.get('jobs:get:9')).toBeUndefined();
  });

  it('alerts: list, acknowledge (admin), 404 for an unknown id', async () => {
    await traffic(s.cache, 5);
    await s.alerts.evaluate();
    const list = (await s.app.inject({ url: '/cache/alerts', headers: auth(READ) })).json();
    const id: string = list.active.find((a: { ruleId: string }) => a.ruleId === 'hit_rate_below').id;
    const ack = await s.app.inject({ method: 'POST', url: `/cache/alerts/${id}/acknowledge`, headers: auth(ADMIN) });
    expect(ack.statusCode).toBe(200);
    expect(ack.json().acknowledged).toMatchObject({ id, acknowledgedBy: 'ops' });
    expect((await s.app.inject({ method: 'POST', url: '/cache/alerts/nope/acknowledge', headers: auth(ADMIN) })).statusCode).toBe(404);
  });

  it('warming (admin) and its queue; optimize applies the advice', async () => {
    const w = await s.app.inject({ method: 'POST', url: '/cache/warming', headers: auth(ADMIN), payload: { keys: ['a', 'b'] } });
    expect(w.statusCode).toBe(202);
    expect((await s.app.inject({ url: '/cache/warming/queue', headers: auth(READ) })).json().queue).toEqual({ waiting: 2, active: 0 });
    const o = await s.app.inject({ method: 'POST', url: '/cache/optimize', headers: auth(ADMIN), payload: {} });
    expect(o.statusCode).toBe(200);
    expect(o.json()).toMatchObject({ dryRun: false, changes: [] });
    expect((await s.app.inject({ method: 'POST', url: '/cache/optimize', headers: auth(ADMIN), payload: { dryRun: true } })).json().dryRun).toBe(true);
    // no body at all is fine too
    expect((await s.app.inject({ method: 'POST', url: '/cache/optimize', headers: auth(ADMIN) })).statusCode).toBe(200);
  });

  it('dashboard data holds overview, trend, alerts, invalidations, warming, timeline', async () => {
    const d = (await s.app.inject({ url: '/cache/dashboard/data', headers: auth(READ) })).json();
    expect(d.role).toBe('read');
    expect(d.overview.redis.keys).toBeGreaterThanOrEqual(0);
    expect(d.trend.points).toHaveLength(60);
    expect(d.alerts.active.length).toBeGreaterThan(0);
    expect(d.warming.queue.waiting).toBe(2);
    expect(d.timeline.length).toBeGreaterThan(0);
    expect(d.refreshMs).toBe(30_000);
  });

  it('OpenAPI document from the route schemas, served with a UI, to a read token', async () => {
    for (const url of ['/cache/docs/json', '/cache/docs/', '/cache/docs/static/index.html']) {
      const r = await s.app.inject({ url });
      expect(r.statusCode, url).toBe(401);
      expect(r.json().message).toMatch(/bearer token/);
    }
    const doc = (await s.app.inject({ url: '/cache/docs/json', headers: auth(READ) })).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/cache/health', '/cache/invalidate', '/cache/alerts/{id}/acknowledge', '/cache/trends', '/metrics']) expect(Object.keys(doc.paths)).toContain(p);
    expect(doc.paths['/cache/invalidate'].post.requestBody.content['application/json'].schema.oneOf).toHaveLength(4);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const ui = await s.app.inject({ url: '/cache/docs/', headers: auth(READ) });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
  });
});

describe('bad input: clear 400s', () => {
  const cases: [string, string, unknown][] = [
    ['POST', '/cache/invalidate', {}],
    ['POST', '/cache/invalidate', { key: 'a', tag: 'b' }],
    ['POST', '/cache/invalidate', { key: '' }],
    ['POST', '/cache/invalidate', { key: 5 }],
    ['POST', '/cache/invalidate', { what: 'x' }],
    ['POST', '/cache/invalidate', { tag: 'a', operation: 'get' }],
    ['POST', '/cache/invalidate', [1, 2]],
    ['POST', '/cache/warming', {}],
    ['POST', '/cache/warming', { keys: [] }],
    ['POST', '/cache/warming', { keys: 'a' }],
    ['POST', '/cache/warming', { keys: ['a'], now: true }],
    ['POST', '/cache/optimize', { dryRun: 'yes' }],
    ['POST', '/cache/optimize', { other: 1 }],
    ['GET', '/cache/analytics/top-queries?limit=0', undefined],
    ['GET', '/cache/analytics/top-queries?limit=abc', undefined],
    ['GET', '/cache/analytics/top-queries?limit=100000', undefined],
    ['GET', '/cache/trends?range=2h', undefined],
    ['GET', '/cache/analytics/performance?range=1y', undefined],
    ['GET', '/cache/stats?x=1', undefined],
    ['POST', '/cache/alerts/bad%20id!/acknowledge', undefined],
  ];
  it.each(cases)('%s %s %j → 400 with a message', async (method, url, payload) => {
    const r = await s.app.inject({ method: method as 'GET', url, headers: auth(ADMIN), ...(payload !== undefined ? { payload: payload as object } : {}) });
    expect(r.statusCode, r.body).toBe(400);
    expect(r.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(r.json().message.length).toBeGreaterThan(5);
  });

  it('malformed JSON → 400; unknown route → 404 JSON', async () => {
    const r = await s.app.inject({ method: 'POST', url: '/cache/invalidate', headers: { ...auth(ADMIN), 'content-type': 'application/json' }, payload: '{"key":' });
    expect(r.statusCode).toBe(400);
    expect((await s.app.inject({ url: '/cache/nope', headers: auth(READ) })).statusCode).toBe(404);
  });
});

describe('not configured: 501 with a clear message', () => {
  it('warming, analytics, alerts, advisor, optimize, metrics', async () => {
    const cache = new CacheService({ store: new MemoryStore(), prefix: 'bare' });
    const app = Fastify();
    await app.register(strataAdmin, { cache, tokens: [{ token: ADMIN, role: 'admin' }] });
    const calls: [string, string, unknown][] = [
      ['POST', '/cache/warming', { keys: ['a'] }],
      ['GET', '/cache/warming/queue', undefined],
      ['GET', '/cache/trends', undefined],
      ['GET', '/cache/alerts', undefined],
      ['GET', '/cache/analytics/recommendations', undefined],
      ['POST', '/cache/optimize', {}],
      ['GET', '/metrics', undefined],
    ];
    for (const [method, url, payload] of calls) {
      const r = await app.inject({ method: method as 'GET', url, headers: auth(ADMIN), ...(payload !== undefined ? { payload: payload as object } : {}) });
      expect(r.statusCode, url).toBe(501);
      expect(r.json().message, url).toMatch(/not configured|need/);
    }
    expect((await app.inject({ url: '/cache/warming/queue', headers: auth(ADMIN) })).json().message).toMatch(/warming is not configured.*warm\(keys\)/);
    // the embedded store works too
    expect((await app.inject({ url: '/cache/health', headers: auth(ADMIN) })).json().ok).toBe(true);
    expect((await app.inject({ url: '/cache/dashboard/data', headers: auth(ADMIN) })).statusCode).toBe(200);
    await app.close();
    await cache.close();
  });
});

describe('rate limit and logs', () => {
  it('admin routes are rate limited (429 JSON)', async () => {
    const cache = new CacheService({ store: new MemoryStore(), prefix: 'rl' });
    const app = Fastify();
    await app.register(strataAdmin, { cache, tokens: [{ token: READ, role: 'read' }], rateLimit: { max: 3, timeWindow: '1 minute' } });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await app.inject({ url: '/cache/health', headers: auth('wrong-token-guessing-1234') })).statusCode);
    expect(codes).toEqual([401, 401, 401, 429, 429]);
    await app.close();
    await cache.close();
  });

  it('no token ever reaches the logs (trace level, every route above)', () => {
    const logs = s.logs();
    expect(logs.length).toBeGreaterThan(1000);
    expect(logs).not.toContain(READ);
    expect(logs).not.toContain(ADMIN);
    expect(logs).not.toContain('nope-not-a-token-at-all');
    expect(logs).toContain('stratacache admin: invalidate');
  });
});
