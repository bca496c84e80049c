// Issue 10 / 20: fail fast while Redis is down or hung, and let the breaker follow the connection.
// Real redis-server processes: a refused port, SIGSTOP, SIGKILL + restart. Bounds have generous
// slack (2 shared cores); `pnpm bench` in packages/shard prints the exact ratios.
import { Cluster, Redis } from 'ioredis';
import { freePort, startStandalone, waitFor, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '@stratacache/breaker';
import { CacheService, RedisStore, type ConnectionChange } from '../src/index';
import { sleep } from './helpers';

const FACTORY_MS = 20;
const SLACK_MS = 40;

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

const slowFactory = async () => {
  await sleep(FACTORY_MS);
  return 'origin';
};

describe('Redis refusing connections at start', () => {
  it('the first getOrSet costs the factory time, not a connect retry; later misses too', async () => {
    const port = await freePort();
    const cache = new CacheService({ redis: `redis://127.0.0.1:${port}`, prefix: 'refused', opTimeout: 200 });
    try {
      // issued in the same tick as the construction: the first connect is still in progress
      const first = await timed(() => cache.getOrSet('k1', slowFactory));
      expect(first.value).toBe('origin');
      expect(first.ms).toBeLessThan(FACTORY_MS + SLACK_MS);
      expect(cache.breaker.state).toBe('OPEN');
      for (let i = 0; i < 10; i++) {
        const later = await timed(() => cache.getOrSet(`k${i + 2}`, slowFactory));
        expect(later.ms).toBeLessThan(FACTORY_MS + SLACK_MS);
      }
      const store = cache.store as RedisStore;
      expect(store.isReady()).toBe(false);
      await expect(store.get('x')).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE' });
    } finally {
      await cache.close();
    }
  });
});

describe('Cluster and Sentinel clients that reach nothing at start', () => {
  it.each([
    ['Cluster', (port: number) => new Cluster([{ host: '127.0.0.1', port }], { clusterRetryStrategy: () => 100 })],
    // a Sentinel client that reaches no sentinel only emits `error` and stays `connecting`
    ['Sentinel', (port: number) => new Redis({ sentinels: [{ host: '127.0.0.1', port }], name: 'mymaster', sentinelRetryStrategy: () => 100 })],
  ] as const)('%s: the first getOrSet and later misses cost the factory time', async (_name, make) => {
    const client = make(await freePort());
    client.on('error', () => undefined);
    const cache = new CacheService({ redis: client, prefix: 'nothing', opTimeout: 200 });
    try {
      const first = await timed(() => cache.getOrSet('k1', slowFactory));
      expect(first.ms).toBeLessThan(FACTORY_MS + SLACK_MS);
      expect(cache.breaker.state).toBe('OPEN');
      const later = await timed(() => cache.getOrSet('k2', slowFactory));
      expect(later.ms).toBeLessThan(FACTORY_MS + SLACK_MS);
      expect(cache.store.isReady()).toBe(false);
    } finally {
      await cache.close();
      client.disconnect();
    }
  });
});

describe('a running Redis that stops, dies, comes back', () => {
  let server: StandaloneRedis;
  beforeAll(async () => {
    server = await startStandalone();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('SIGSTOP: isReady() turns false, the breaker opens, reads fail at once; SIGCONT: recovers at once', async () => {
    const cache = new CacheService({ redis: server.url, prefix: 'hung', opTimeout: 200 });
    const store = cache.store as RedisStore;
    const changes: ConnectionChange[] = [];
    store.onConnectionChange((c) => changes.push(c));
    try {
      await waitFor(() => store.isReady(), { timeoutMs: 5_000 });
      await cache.set('a', 1);
      await server.pause();
      const t0 = performance.now();
      // the first read waits for opTimeout (nothing can know yet); the watchdog then sees no reply
      expect(await cache.get('a')).toBeUndefined();
      await waitFor(() => !store.isReady(), { timeoutMs: 3_000, intervalMs: 10 });
      const detectedMs = performance.now() - t0;
      expect(detectedMs).toBeLessThan(1_500); // hungAfterMs 500, detected within 1.5 × + slack
      expect(changes.at(-1)).toEqual({ state: 'down', reason: 'timeout', commands: false });
      expect(cache.breaker.state).toBe('OPEN');
      const miss = await timed(() => cache.getOrSet('new', slowFactory));
      expect(miss.ms).toBeLessThan(FACTORY_MS + SLACK_MS);
      await expect(store.get('a')).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE' });

      await server.resume();
      const t1 = performance.now();
      await waitFor(() => cache.breaker.state === 'CLOSED', { timeoutMs: 5_000, intervalMs: 10 });
      // the watchdog PINGs every 250 ms; the breaker's probe follows the `ready` at once
      expect(performance.now() - t1).toBeLessThan(1_000);
      expect(changes.at(-1)).toEqual({ state: 'ready', reason: 'reply', commands: true });
      expect(await cache.get('a')).toBe(1);
    } finally {
      if (server.isPaused()) await server.resume();
      await cache.close();
    }
  });

  it('many CacheServices on one store and breaker (a shard\'s tenants) share one link: one open, one probe', async () => {
    const store = new RedisStore(server.url);
    const breaker = new CircuitBreaker({ name: 'shared', resetTimeout: 60_000 });
    const services = Array.from({ length: 50 }, (_, i) => new CacheService({ store, breaker, prefix: `t${i}`, opTimeout: 200 }));
    const transitions: string[] = [];
    breaker.on('stateChange', (e) => transitions.push(`${e.to}:${e.reason}`));
    try {
      await waitFor(() => store.isReady(), { timeoutMs: 5_000 });
      await server.kill();
      await waitFor(() => breaker.state === 'OPEN', { timeoutMs: 2_000, intervalMs: 5 });
      await server.restart();
      // resetTimeout is 60 s: only the connection's `ready` can close it this soon
      await waitFor(() => breaker.state === 'CLOSED', { timeoutMs: 5_000, intervalMs: 10 });
      expect(transitions).toEqual(['OPEN:connection-lost', 'HALF_OPEN:probe-now', 'CLOSED:probes-succeeded']);
      expect(await services[7]!.set('k', 1)).toMatchObject({ ok: true });
    } finally {
      await Promise.all(services.map((s) => s.close()));
      await store.close();
    }
  });

  it('the pub/sub connection alone drops: the store reports down (messages may be missed) but commands go on and the breaker stays closed', async () => {
    const cache = new CacheService({ redis: server.url, prefix: 'subdrop', opTimeout: 1_000 });
    const store = cache.store as RedisStore;
    const changes: ConnectionChange[] = [];
    try {
      await waitFor(() => store.isReady(), { timeoutMs: 5_000 });
      await store.subscribe('subdrop:chan', () => undefined);
      const breakerAtChange: string[] = [];
      store.onConnectionChange((c) => {
        changes.push(c);
        queueMicrotask(() => breakerAtChange.push(cache.breaker.state)); // after the link's own listener
      });
      await server.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await waitFor(() => changes.some((c) => c.state === 'down'), { timeoutMs: 5_000, intervalMs: 5 });
      expect(changes[0]).toMatchObject({ state: 'down', commands: true });
      expect(breakerAtChange[0]).toBe('CLOSED');
      expect((await cache.set('a', 1)).ok).toBe(true);
      expect(await cache.get('a')).toBe(1);
      await waitFor(() => store.isReady(), { timeoutMs: 5_000, intervalMs: 10 }); // re-subscribed
      expect(changes.at(-1)).toMatchObject({ state: 'ready', commands: true });
      expect(cache.breaker.state).toBe('CLOSED');
    } finally {
      await cache.close();
    }
  });

  it('SIGKILL mid-read: in-flight reads end, new reads fail at once, the cache recovers with the connection', async () => {
    const cache = new CacheService({ redis: server.url, prefix: 'kill', opTimeout: 200 }); // default breaker: resetTimeout 5 s
    const raw = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    raw.on('error', () => undefined);
    const store = cache.store as RedisStore;
    try {
      await waitFor(() => store.isReady(), { timeoutMs: 5_000 });
      await cache.set('a', 1);
      let running = true;
      let errors = 0;
      const readers = Array.from({ length: 4 }, async () => {
        while (running) {
          try {
            await cache.getOrSet('a', () => 1);
          } catch {
            errors++;
          }
          await sleep(2);
        }
      });
      await sleep(100);
      await server.kill();
      await waitFor(() => cache.breaker.state === 'OPEN', { timeoutMs: 2_000, intervalMs: 5 });
      const opened = cache.breaker.stats();
      expect(opened.state).toBe('OPEN');
      const miss = await timed(() => cache.getOrSet('fresh', slowFactory));
      expect(miss.ms).toBeLessThan(FACTORY_MS + SLACK_MS);
      await expect(store.get('a')).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE' });

      await server.restart();
      const t0 = Date.now();
      const rawBack = waitFor(async () => (await raw.set('raw:probe', '1')) === 'OK', { timeoutMs: 10_000, intervalMs: 10 }).then(() => Date.now() - t0);
      const cacheBack = waitFor(async () => (await cache.set('probe', 1)).ok, { timeoutMs: 10_000, intervalMs: 10 }).then(() => Date.now() - t0);
      const [rawMs, cacheMs] = await Promise.all([rawBack, cacheBack]);
      console.log(`[outage] restart -> raw ioredis write ${rawMs} ms, cache write ${cacheMs} ms (resetTimeout 5000 ms)`);
      expect(cacheMs).toBeLessThan(rawMs + 1_000);
      running = false;
      await Promise.all(readers);
      expect(errors).toBe(0);
    } finally {
      raw.disconnect();
      await cache.close();
    }
  });
});
