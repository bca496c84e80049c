import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import Fastify from 'fastify';
import { CacheService, MemoryStore } from '@stratacache/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminWarming, strataAdmin, type WarmerLike } from '../src/index';
import { ADMIN, READ, auth, setup, traffic, type Setup } from './admin-helpers';

/** A warmer that knows `known:*` keys (the shape of @stratacache/warming's Warmer; the apps' tests use the real one). */
function fakeWarmer(): WarmerLike & { queued: string[] } {
  const queued: string[] = [];
  return {
    queued,
    warm: async (key) => {
      if (!key.startsWith('known:')) throw Object.assign(new Error(`no warm entry or loader for ${key}`), { code: 'E_WARMING_UNKNOWN_KEY' });
      queued.push(key);
      return `job-${queued.length}`;
    },
    stats: async () => [{ origin: 'default', waiting: queued.length, active: 0, completed: 0, failed: 0, delayed: 0, throughputPerMinute: 0 }],
    failed: async () => [{ id: 'f1', key: 'known:x', origin: 'default', reason: 'manual', error: 'origin down', attempts: 3, failedAt: 1 }],
  };
}

let redis: StandaloneRedis;
let s: Setup;
const w = fakeWarmer();
beforeAll(async () => {
  redis = await startStandalone();
  s = await setup(redis.port, 'admw', {}, adminWarming(w, { mode: 'test', keys: () => ['known:a', 'known:b'] }));
  await traffic(s.cache);
  await s.analytics.flush();
});
afterAll(async () => {
  await s?.close();
  await redis?.close();
});

describe('warming routes through adminWarming(warmer)', () => {
  it('202 with the queued keys and the refused ones; 422 when none could be queued', async () => {
    const r = await s.app.inject({ method: 'POST', url: '/cache/warming', headers: auth(ADMIN), payload: { keys: ['known:a', 'other'] } });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({
      accepted: 1,
      result: { queued: [{ key: 'known:a', id: 'job-1' }], rejected: [{ key: 'other', code: 'E_WARMING_UNKNOWN_KEY', message: 'no warm entry or loader for other' }] },
    });
    const bad = await s.app.inject({ method: 'POST', url: '/cache/warming', headers: auth(ADMIN), payload: { keys: ['x', 'y'] } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ statusCode: 422, error: 'Unprocessable Entity', message: 'no key could be queued: no warm entry or loader for x' });
    expect(bad.json().result.rejected).toHaveLength(2);
    expect((await s.app.inject({ method: 'POST', url: '/cache/warming', headers: auth(READ), payload: { keys: ['known:a'] } })).statusCode).toBe(403);
    expect(w.queued).toEqual(['known:a']);
  });

  it('the queue state: mode, per-origin rows, failed jobs, warmable keys — in /warming/queue and the dashboard data', async () => {
    const q = (await s.app.inject({ url: '/cache/warming/queue', headers: auth(READ) })).json().queue;
    expect(q).toMatchObject({ mode: 'test', queues: [{ origin: 'default', waiting: 1 }], failed: [{ key: 'known:x', error: 'origin down' }], keys: ['known:a', 'known:b'], keyCount: 2 });
    const d = (await s.app.inject({ url: '/cache/dashboard/data', headers: auth(READ) })).json();
    expect(d.warming.queue).toEqual(q);
  });

  it('dashboard data: per-entity rows from the last hour’s aggregate (all instances), busiest first', async () => {
    const d = (await s.app.inject({ url: '/cache/dashboard/data', headers: auth(READ) })).json();
    const agg = await s.analytics.aggregate('1h');
    expect(d.entities.length).toBe(Object.keys(agg.byEntity).length);
    expect(d.entities.length).toBeGreaterThanOrEqual(2);
    for (const e of d.entities) expect(e).toEqual(agg.byEntity[`${e.tenant}|${e.entity}`]);
    expect(d.entities.map((e: { entity: string }) => e.entity)).toEqual(expect.arrayContaining(['contacts', 'jobs']));
    for (let i = 1; i < d.entities.length; i++) expect(d.entities[i - 1].requests).toBeGreaterThanOrEqual(d.entities[i].requests);
  });
});

describe('a warmer that does not answer (BullMQ while Redis is unreachable)', () => {
  it('each call is bounded: POST → 422 naming the timeout; the dashboard data says the queue is unavailable', async () => {
    const cache = new CacheService({ store: new MemoryStore(), prefix: 'hang' });
    const never = new Promise<never>(() => undefined);
    const app = Fastify();
    await app.register(strataAdmin, { cache, tokens: [{ token: ADMIN, role: 'admin' }], warming: adminWarming({ warm: () => never, stats: () => never }, { timeoutMs: 50 }) });
    const r = await app.inject({ method: 'POST', url: '/cache/warming', headers: auth(ADMIN), payload: { keys: ['a'] } });
    expect(r.statusCode).toBe(422);
    expect(r.json().result.rejected).toEqual([{ key: 'a', code: 'E_WARMING_TIMEOUT', message: 'the warming queue did not answer within 50 ms' }]);
    const d = (await app.inject({ url: '/cache/dashboard/data', headers: auth(ADMIN) })).json();
    expect(d.warming.queue.error).toMatch(/did not answer/);
    await app.close();
    await cache.close();
  });
});

describe('OpenAPI access', () => {
  it("openapi: 'public' serves the document and UI without a token; false serves nothing; a bad value is refused", async () => {
    const cache = new CacheService({ store: new MemoryStore(), prefix: 'oa' });
    const pub = Fastify();
    await pub.register(strataAdmin, { cache, tokens: [{ token: READ, role: 'read' }], openapi: 'public' });
    expect((await pub.inject({ url: '/cache/docs/json' })).json().openapi).toMatch(/^3\./);
    expect((await pub.inject({ url: '/cache/docs/' })).statusCode).toBe(200);
    expect((await pub.inject({ url: '/cache/health' })).statusCode).toBe(401);
    await pub.close();
    const off = Fastify();
    await off.register(strataAdmin, { cache, tokens: [{ token: READ, role: 'read' }], openapi: false });
    expect((await off.inject({ url: '/cache/docs/json', headers: auth(READ) })).statusCode).toBe(404);
    await off.close();
    const bad = Fastify();
    await expect(bad.register(strataAdmin, { cache, tokens: [{ token: READ, role: 'read' }], openapi: 'yes' as unknown as boolean }).ready()).rejects.toThrow(/openapi must be/);
    await bad.close().catch(() => undefined);
    await cache.close();
  });
});
