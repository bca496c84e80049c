import { startStandalone, waitFor, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Warmer } from '../src/index';
import { CacheService, RedisStore } from '@stratacache/core';
import { client, spawnWorker, type Child } from './helpers';

let redis: StandaloneRedis;
const children: Child[] = [];
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  await redis?.close();
});

function worker(env: Record<string, string>): Child {
  const c = spawnWorker({ PORT: String(redis.port), ...env });
  children.push(c);
  return c;
}

describe('BullMQ across processes', () => {
  it('two worker processes never warm the same key at once, and share the work', async () => {
    const r = client(redis.port);
    const env = { PREFIX: 'xp1', KEYS: '120', DELAY_MS: '15' };
    const [a, b] = [worker(env), worker(env)];
    await Promise.all([a.ready, b.ready]);
    // hammer: both processes' start-up sets plus repeated warms of every key from here
    const store = new RedisStore(client(redis.port), { ownsClient: true });
    const svc = new CacheService({ store, prefix: 'xp1' });
    const producer = new Warmer({ cache: svc, redis: redis.url, prefix: 'xp1:q', worker: false });
    const keys = Array.from({ length: 120 }, (_, i) => `item:get:${i}`);
    producer.declare(keys.map((key) => ({ key, factory: () => 'never here', atStart: false })));
    await producer.start();
    for (let round = 0; round < 3; round++) {
      await Promise.all(keys.map((k) => producer.warm(k)));
      await new Promise((res) => setTimeout(res, 100));
    }
    await waitFor(async () => {
      const st = (await producer.stats())[0]!;
      return st.waiting + st.active + st.delayed === 0;
    }, { timeoutMs: 20_000 });
    expect(Number(await r.get('t:collisions'))).toBe(0);
    for (const k of keys) expect(await svc.get(k)).toMatch(/^xp1:item:get:\d+@\d+$/);
    const byA = Number(await r.get(`t:by:${a.proc.pid}`));
    const byB = Number(await r.get(`t:by:${b.proc.pid}`));
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
    expect((await producer.failed()).length).toBe(0);
    await producer.close();
    await svc.close();
    await store.close();
    a.proc.kill('SIGTERM');
    b.proc.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    r.disconnect();
  });

  it('SIGKILL of a worker mid-job: the other worker takes the job over once the lock expires', async () => {
    const r = client(redis.port);
    const env = { PREFIX: 'xp2', KEYS: '0', SLOW_KEY: 'slow', LOCK_MS: '1000', STALLED_MS: '500' };
    const a = worker(env);
    await a.ready;
    await waitFor(async () => (await r.get('t:slow-started')) === String(a.proc.pid), { timeoutMs: 10_000 });
    // B declares the same key: deduplicated onto A's running job, B starts no second one
    const b = worker({ ...env, SLOW_MS: '0' });
    await b.ready;
    expect(Number(await r.get('t:calls:xp2:item:get:slow'))).toBe(1);
    const t0 = Date.now();
    a.proc.kill('SIGKILL');
    await a.exited;
    await r.del('t:run:xp2:item:get:slow'); // A's marker dies with A
    const store = new RedisStore(client(redis.port), { ownsClient: true });
    const svc = new CacheService({ store, prefix: 'xp2' });
    const v = await waitFor(() => svc.get<string>('item:get:slow'), { timeoutMs: 15_000, intervalMs: 50 });
    expect(v).toBe(`xp2:item:get:slow@${String(b.proc.pid)}`);
    const took = Date.now() - t0;
    expect(took).toBeLessThan(10_000);
    expect(Number(await r.get('t:calls:xp2:item:get:slow'))).toBe(2);
    b.proc.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    await svc.close();
    await store.close();
    r.disconnect();
    console.log(`SIGKILL → taken over and warmed by the other worker in ${took} ms (lockDuration 1 s, stalledInterval 0.5 s)`);
  });
});
