import { CacheService } from '@stratacache/core';
import { startStandalone, waitFor, type StandaloneRedis } from '@stratacache/redis-harness';
import { Warmer } from '@stratacache/warming';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminServer, loadConfig, type AdminServer } from '../src/index';

const READ = 'read-token-for-warming-test-01';
const ADMIN = 'admin-token-for-warming-test-1';
const TOKENS = `read:${READ},admin:${ADMIN}`;
const admin = { authorization: `Bearer ${ADMIN}` };
const read = { authorization: `Bearer ${READ}` };

let redis: StandaloneRedis;
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

type Queue = { mode: string; queues: { origin: string; completed: number; failed: number }[]; failed: { key: string; error: string }[]; keys?: string[] };
const queueOf = async (s: AdminServer): Promise<Queue> => (await s.app.inject({ url: '/cache/warming/queue', headers: read })).json().queue as Queue;
const completed = (q: Queue): number => q.queues.reduce((n, r) => n + r.completed, 0);

describe('warming on the embedded store (in process)', () => {
  it('the CLI server (no loaders): a real, empty queue; every key refused with 422', async () => {
    const s = await createAdminServer(loadConfig({ ADMIN_TOKENS: TOKENS, LOG_LEVEL: 'warn' }));
    try {
      expect(s.warmingMode).toBe('embedded');
      const r = await s.app.inject({ method: 'POST', url: '/cache/warming', headers: admin, payload: { keys: ['jobs:get:1'] } });
      expect(r.statusCode).toBe(422);
      expect(r.json().result.rejected[0]).toMatchObject({ key: 'jobs:get:1', code: 'E_WARMING_UNKNOWN_KEY' });
      const q = await queueOf(s);
      expect(q.mode).toBe('embedded');
      expect(q.queues).toEqual([expect.objectContaining({ origin: 'default', waiting: 0, active: 0, completed: 0 })]);
    } finally {
      await s.close();
    }
  });

  it('with a loader and a declared entry: POST warms the key into the cache, the queue counts it, the dashboard shows it', async () => {
    const loads: string[] = [];
    const s = await createAdminServer(loadConfig({ ADMIN_TOKENS: TOKENS, LOG_LEVEL: 'warn', CACHE_PREFIX: 'wm' }), {
      warm: {
        loaders: [{ pattern: 'jobs:get:*', ttl: '1m', load: (key) => (loads.push(key), { id: key.split(':').pop() }) }],
        entries: [{ key: 'config:get:all', factory: () => ({ theme: 'dark' }), ttl: '5m' }],
      },
    });
    try {
      const r = await s.app.inject({ method: 'POST', url: '/cache/warming', headers: admin, payload: { keys: ['jobs:get:7', 'config:get:all', 'users:get:1'] } });
      expect(r.statusCode).toBe(202);
      expect(r.json().accepted).toBe(2);
      expect(r.json().result.queued.map((x: { key: string }) => x.key)).toEqual(['jobs:get:7', 'config:get:all']);
      expect(r.json().result.rejected).toEqual([expect.objectContaining({ key: 'users:get:1', code: 'E_WARMING_UNKNOWN_KEY' })]);
      await waitFor(async () => completed(await queueOf(s)) === 2 || undefined, { timeoutMs: 10_000, intervalMs: 20, message: 'warm jobs not completed' });
      expect(loads).toEqual(['wm:jobs:get:7']);
      // written to the cache: a read is a hit, its factory does not run
      expect(await s.cache.getOrSet('jobs:get:7', () => ({ id: 'origin' }))).toEqual({ id: '7' });
      expect(await s.cache.getOrSet('config:get:all', () => ({ theme: 'origin' }))).toEqual({ theme: 'dark' });
      const d = (await s.app.inject({ url: '/cache/dashboard/data', headers: read })).json();
      expect(d.warming.queue).toMatchObject({ mode: 'embedded', keys: ['wm:config:get:all'], keyCount: 1 });
      expect(completed(d.warming.queue)).toBe(2);
    } finally {
      await s.close();
    }
  });
});

describe('warming on Redis (BullMQ)', () => {
  it('the CLI server only enqueues; an app’s worker (same WARMING_PREFIX and Redis) runs the job; the queue shows it', async () => {
    const url = `redis://127.0.0.1:${redis.port}`;
    const s = await createAdminServer(loadConfig({ ADMIN_TOKENS: TOKENS, LOG_LEVEL: 'warn', REDIS_URL: url, CACHE_PREFIX: 'wq', WARMING_PREFIX: 'wq:warm', ANALYTICS_FLUSH_MS: '0' }));
    // the app that owns the keys: its own cache on the same Redis and prefix, a worker with a loader
    const appCache = new CacheService({ redis: url, prefix: 'wq' });
    const worker = new Warmer({ cache: appCache, redis: url, prefix: 'wq:warm' }).loader({ pattern: 'contacts:get:*', ttl: '1m', load: (key) => ({ contact: key.split(':').pop() }) });
    await worker.start();
    try {
      expect(s.warmingMode).toBe('bullmq-producer');
      const r = await s.app.inject({ method: 'POST', url: '/cache/warming', headers: admin, payload: { keys: ['contacts:get:3', 'unknown:get:1'] } });
      expect(r.statusCode).toBe(202);
      expect(r.json().accepted).toBe(2); // a producer cannot know which keys the workers load
      await waitFor(async () => {
        const q = await queueOf(s);
        return completed(q) === 1 && q.failed.length === 1 ? q : undefined;
      }, { timeoutMs: 15_000, intervalMs: 50, message: 'BullMQ warm job not run by the worker' });
      const q = await queueOf(s);
      expect(q.mode).toBe('bullmq-producer');
      expect(q.failed[0]).toMatchObject({ key: 'wq:unknown:get:1' });
      expect(q.failed[0]!.error).toMatch(/unknown:get:1/);
      // the admin server's own cache reads what the worker wrote (L2 on the shared Redis)
      expect(await s.cache.getOrSet('contacts:get:3', () => ({ contact: 'origin' }))).toEqual({ contact: '3' });
    } finally {
      await worker.close('2s');
      await appCache.close();
      await s.close();
    }
  }, 30_000);
});
