import { freePort, startStandalone, waitFor } from '@stratacache/redis-harness';
import type { StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheService } from '../src/index';
import type { CacheEvent } from '../src/index';

let server: StandaloneRedis;

beforeAll(async () => {
  server = await startStandalone();
});
afterAll(async () => {
  if (server?.isPaused()) server.resume();
  await server?.close();
});

let n = 0;
const prefix = () => `fs${process.pid}x${++n}`;

describe('fail-safe (C5)', () => {
  it('Redis killed mid-run: readers never fail, the breaker opens, then closes and hits resume after restart', async () => {
    const cache = new CacheService({
      redis: server.url,
      prefix: prefix(),
      opTimeout: 150,
      breaker: { failureThreshold: 3, resetTimeout: 300, monitoringWindow: 10_000 },
    });
    const states: string[] = [];
    cache.on('breaker', (e: CacheEvent) => states.push(String(e.state)));
    try {
      for (let i = 0; i < 20; i++) await cache.set(`item:${i}`, { i });
      let readerErrors = 0;
      let reads = 0;
      let factoryCalls = 0;
      let stop = false;
      const reader = async (id: number) => {
        while (!stop) {
          const i = (reads + id) % 20;
          try {
            await cache.get(`item:${i}`);
            const v = await cache.getOrSet(`item:${i}`, () => {
              factoryCalls++;
              return { i };
            });
            if (v.i !== i) readerErrors++;
            reads++;
          } catch {
            readerErrors++;
          }
          await new Promise((r) => setTimeout(r, 2));
        }
      };
      const loops = [1, 2, 3, 4].map(reader);
      await waitFor(() => reads > 50, { timeoutMs: 10_000 });
      await server.kill();
      await waitFor(() => cache.breaker.state === 'OPEN' || states.includes('OPEN'), { timeoutMs: 15_000, message: 'breaker opens' });
      const readsWhileDown = reads;
      await waitFor(() => reads > readsWhileDown + 50, { timeoutMs: 15_000, message: 'readers keep going while Redis is down' });
      expect((await cache.health()).status).toBe('down');
      await server.restart();
      await waitFor(async () => cache.breaker.state === 'CLOSED', { timeoutMs: 20_000, message: 'breaker closes after restart' });
      const hitsBefore = cache.stats().hits;
      await waitFor(() => cache.stats().hits > hitsBefore + 20, { timeoutMs: 15_000, message: 'hits resume' });
      stop = true;
      await Promise.all(loops);
      expect(readerErrors).toBe(0);
      expect(states).toContain('OPEN');
      expect(states.at(-1)).toBe('CLOSED');
      expect(factoryCalls).toBeGreaterThan(0); // the origin served while Redis was down
      expect(cache.stats().errors).toBeGreaterThan(0);
      expect((await cache.health()).status).toBe('ok');
    } finally {
      await cache.close();
    }
  });

  it('Redis paused with SIGSTOP: get is a miss within opTimeout (+ slack), set is skipped and reported', async () => {
    await waitFor(() => server.ping().then(() => true, () => false), { timeoutMs: 10_000 });
    const opTimeout = 200;
    const cache = new CacheService({ redis: server.url, prefix: prefix(), opTimeout, breaker: { failureThreshold: 100 } });
    try {
      await cache.set('p:1', 'v');
      expect(await cache.get('p:1')).toBe('v');
      server.pause();
      const t0 = performance.now();
      expect(await cache.get('p:1')).toBeUndefined();
      const elapsed = performance.now() - t0;
      expect(elapsed).toBeLessThan(opTimeout + 2_000); // bounded: never hangs
      expect(await cache.set('p:2', 'v')).toEqual({ ok: false, reason: 'timeout' });
      expect(await cache.getOrSet('p:1', () => 'from origin')).toBe('from origin');
      expect(cache.stats().timeouts).toBeGreaterThanOrEqual(3);
      const h = await cache.health();
      expect(h.status).toBe('down');
    } finally {
      server.resume();
      await cache.close();
    }
    await waitFor(() => server.ping().then(() => true, () => false), { timeoutMs: 10_000 });
  });

  it('connection refused at startup: reads answer (miss / origin) within the timeout, writes are skipped', async () => {
    const port = await freePort();
    const cache = new CacheService({ redis: `redis://127.0.0.1:${port}`, prefix: prefix(), opTimeout: 150 });
    try {
      const t0 = performance.now();
      expect(await cache.get('x')).toBeUndefined();
      expect(performance.now() - t0).toBeLessThan(150 + 2_000);
      expect(await cache.getOrSet('x', () => 'origin')).toBe('origin');
      const r = await cache.set('y', 1);
      expect(r.ok).toBe(false);
      for (let i = 0; i < 10; i++) expect(await cache.get(`k${i}`)).toBeUndefined();
      expect(cache.breaker.state).toBe('OPEN');
      const h = await cache.health();
      expect(h).toMatchObject({ status: 'down', connected: false, circuit: 'OPEN' });
      const inv = await cache.invalidateTag('t');
      expect(inv).toMatchObject({ ok: false, reason: 'unavailable' });
    } finally {
      await cache.close();
    }
  });
});
