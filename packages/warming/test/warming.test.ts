import { MemoryStore, WarmUp, warmUp } from '@stratacache/core';
import { startStandalone, waitFor, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Warmer, type WarmerOptions, type WarmProgress } from '../src/index';
import { delay, tiered, type Tier } from './helpers';

let redis: StandaloneRedis;
const memory = new MemoryStore();
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

let seq = 0;
const modes = ['bullmq', 'memory'] as const;

describe.each(modes)('%s', (mode) => {
  /** A writer cache + a Warmer on it (BullMQ on the harness Redis, or embedded). */
  async function setup(opts: Partial<WarmerOptions> = {}): Promise<{ tier: Tier; warmer: Warmer; prefix: string; close(): Promise<void> }> {
    const prefix = `w${++seq}${mode[0]}`;
    const tier = await tiered(prefix, mode === 'bullmq' ? { port: redis.port } : { memory });
    const warmer = new Warmer({
      cache: tier.cache,
      ...(mode === 'bullmq' ? { redis: redis.url } : {}),
      prefix: `${prefix}:q`,
      ...opts,
    });
    return {
      tier,
      warmer,
      prefix,
      async close() {
        await warmer.close(1_000);
        await tier.close();
      },
    };
  }

  it('declared warm-up: ready() reports every key warm, progress counts up, a second reader sees only hits', async () => {
    const s = await setup({ concurrency: 16 });
    const origin: string[] = [];
    const keys = Array.from({ length: 60 }, (_, i) => `job:get:${i}`);
    s.warmer.declare(keys.map((key) => ({ key, factory: async () => (origin.push(key), delay(5).then(() => ({ key }))), ttl: '5m' })));
    const progress: WarmProgress[] = [];
    s.warmer.on((e) => e.type === 'progress' && progress.push(e.progress));
    const report = await s.warmer.ready('20s');
    expect(report).toEqual({ complete: true, total: 60, warmed: 60, failed: 0, pending: 0 });
    expect(progress.at(-1)).toMatchObject({ total: 60, done: 60 });
    expect(progress.map((p) => p.done + p.failed)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(origin.length).toBe(60);
    // another instance on the same store: every read is an L2 hit, no factory call, no miss
    const reader = await tiered(s.prefix, mode === 'bullmq' ? { port: redis.port } : { memory });
    let misses = 0;
    reader.cache.on('miss', () => misses++);
    let calls = 0;
    for (const key of keys) expect(await reader.cache.getOrSet(key, () => (calls++, 'origin'))).toEqual({ key });
    expect(calls).toBe(0);
    expect(misses).toBe(0);
    await reader.close();
    await s.close();
  });

  it('re-warms a key within 1 s after its key, tag or namespace is invalidated', async () => {
    const s = await setup({ debounce: 50 });
    let n = 0;
    s.warmer.declare([
      { key: 'user:get:1', factory: () => ({ v: ++n }), ttl: '5m', tags: ['users'] },
      { key: 'user:get:2', factory: () => ({ v: ++n }), ttl: '5m' },
      { key: 'team:list:all', factory: () => ({ v: ++n }), ttl: '5m', tags: ['teams'] },
    ]);
    expect((await s.warmer.ready('10s')).warmed).toBe(3);
    const rewarmed = async (key: string, invalidate: () => Promise<unknown>): Promise<number> => {
      const before = (await s.tier.service.get<{ v: number }>(key))!.v;
      const t0 = Date.now();
      await invalidate();
      await waitFor(async () => ((await s.tier.service.get<{ v: number }>(key))?.v ?? 0) > before, { timeoutMs: 1_000, intervalMs: 10, message: `${key} re-warmed` });
      return Date.now() - t0;
    };
    const times = [
      await rewarmed('user:get:1', () => s.tier.cache.invalidate({ key: 'user:get:1' })),
      await rewarmed('team:list:all', () => s.tier.cache.invalidateTag('teams')),
      await rewarmed('user:get:2', () => s.tier.cache.invalidateNamespace('user')),
    ];
    for (const t of times) expect(t).toBeLessThan(1_000);
    // the reader never sees the miss window end in an origin call of its own
    expect(await s.tier.cache.getOrSet('user:get:2', () => 'origin')).not.toBe('origin');
    await s.close();
  });

  it('a failing job is retried with exponential backoff and lands in the failed set with its error after N attempts', async () => {
    const s = await setup({ attempts: 4, backoff: { delay: 60, jitter: 0.5 } });
    const at: number[] = [];
    s.warmer.declare({ key: 'report:get:x', factory: () => (at.push(Date.now()), Promise.reject(new Error('origin down'))), atStart: false });
    await s.warmer.start();
    await s.warmer.warm('report:get:x');
    const failed = await waitFor(async () => (await s.warmer.failed()).find((f) => f.key.endsWith('report:get:x')), { timeoutMs: 10_000 });
    expect(failed).toMatchObject({ error: 'origin down', attempts: 4, reason: 'manual', origin: 'default' });
    expect(at.length).toBe(4);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    // delay × 2^(n-1) ± 50 %: 30–90, 60–180, 120–360 ms (plus scheduling slack)
    expect(gaps[0]).toBeGreaterThanOrEqual(25);
    expect(gaps[1]).toBeGreaterThanOrEqual(55);
    expect(gaps[2]).toBeGreaterThanOrEqual(115);
    expect(gaps[2]).toBeLessThan(1_500);
    const st = (await s.warmer.stats()).find((q) => q.origin === 'default')!;
    expect(st.failed).toBe(1);
    await s.close();
  });

  it('a start-up key that fails twice then succeeds counts once, as warmed, in ready() and progress', async () => {
    const s = await setup({ attempts: 3, backoff: { delay: 20 } });
    let tries = 0;
    s.warmer.declare({ key: 'flaky:get:1', factory: () => (++tries < 3 ? Promise.reject(new Error(`try ${tries}`)) : 'ok'), ttl: '1m' });
    const progress: WarmProgress[] = [];
    const failures: string[] = [];
    s.warmer.on((e) => {
      if (e.type === 'progress') progress.push(e.progress);
      if (e.type === 'failed') failures.push(`${e.attempt}:${String(e.final)}`);
    });
    expect(await s.warmer.ready('10s')).toEqual({ complete: true, total: 1, warmed: 1, failed: 0, pending: 0 });
    await delay(100);
    expect(progress).toEqual([{ total: 1, done: 1, failed: 0, key: `${s.prefix}:flaky:get:1`, ok: true }]);
    expect(failures).toEqual(['1:false', '2:false']);
    expect(await s.tier.service.get('flaky:get:1')).toBe('ok');
    await s.close();
  });

  it('the rate limit holds: at most max origin calls per window, per origin', async () => {
    const max = 8;
    const s = await setup({ concurrency: 16, origins: { crm: { concurrency: 16, rateLimit: { max, duration: 1_000 } } } });
    const at: number[] = [];
    const keys = Array.from({ length: 24 }, (_, i) => `contact:get:${i}`);
    s.warmer.declare(keys.map((key) => ({ key, origin: 'crm', factory: () => (at.push(Date.now()), 1), ttl: '5m' })));
    const report = await s.warmer.ready('20s');
    expect(report.warmed).toBe(24);
    at.sort((a, b) => a - b);
    // the k-th call can start no sooner than floor(k / max) windows after the first
    for (let k = 0; k < at.length; k++) expect(at[k]! - at[0]!).toBeGreaterThanOrEqual(Math.floor(k / max) * 1_000 - 60);
    // calls per second, counted from the first call: the limiter counts job starts, the origin sees the
    // call a few ms later, so a start at the end of one window may land in the next second (+1 at most)
    const perSecond = new Map<number, number>();
    for (const t of at) perSecond.set(Math.floor((t - at[0]!) / 1_000), (perSecond.get(Math.floor((t - at[0]!) / 1_000)) ?? 0) + 1);
    for (const c of perSecond.values()) expect(c).toBeLessThanOrEqual(max + 1);
    expect([...perSecond.values()].reduce((a, b) => a + b)).toBe(24);
    await s.close();
  });

  it('@WarmUp methods run through the scheduler once it is started (warmUp() hands them over)', async () => {
    const s = await setup({ attempts: 2, backoff: { delay: 10 } });
    let tries = 0;
    class Svc {
      @WarmUp
      async load(): Promise<void> {
        if (++tries === 1) throw new Error('first try fails');
        await s.tier.cache.set('svc:load:all', 'warm');
      }
    }
    await s.warmer.start();
    const report = await warmUp(new Svc());
    expect(report).toEqual({ ran: ['load'], failed: [] });
    expect(tries).toBe(2); // retried by the scheduler's backoff
    expect(await s.tier.service.get('svc:load:all')).toBe('warm');
    await s.close();
    tries = 0;
    const after = await warmUp(new Svc()); // uninstalled on close: core runs it, without retry
    expect(after.failed.length).toBe(1);
  });

  it('scheduled refresh rewrites declared keys before they expire (every < ttl), one tick per interval for every process', async () => {
    const s = await setup();
    let n = 0;
    s.warmer.declare({ key: 'price:get:eur', factory: () => ++n, ttl: 1_500, every: 300 });
    expect(() => s.warmer.declare({ key: 'price:get:usd', factory: () => 1, ttl: 300, every: 300 })).toThrow(/shorter than ttl/);
    await s.warmer.ready('5s');
    await delay(1_700);
    // past the first value's ttl: still a hit, and refreshed several times
    expect(await s.tier.service.get<number>('price:get:eur')).toBeGreaterThanOrEqual(4);
    expect(n).toBeLessThanOrEqual(8);
    await s.close();
  });

  it('a cron schedule (6 fields: every second) refreshes the key on each tick', async () => {
    const s = await setup();
    let n = 0;
    s.warmer.declare({ key: 'rate:get:fx', factory: () => ++n, ttl: '10s', cron: '* * * * * *', atStart: false });
    await s.warmer.start();
    await waitFor(() => n >= 2, { timeoutMs: 4_000 });
    expect(await waitFor(() => s.tier.service.get<number>('rate:get:fx'))).toBeGreaterThanOrEqual(1);
    await s.close();
  });

  it('close() lets a running job finish within the timeout, and resolves in bounded time when it does not', async () => {
    const s = await setup();
    let finished = false;
    s.warmer.declare({ key: 'slow:get:1', factory: () => delay(150).then(() => (finished = true)), ttl: '1m' });
    await s.warmer.start();
    await delay(60);
    await s.warmer.close(2_000);
    expect(finished).toBe(true);
    expect(await s.tier.service.get('slow:get:1')).toBe(true);
    const s2 = await setup();
    s2.warmer.declare({ key: 'slow:get:2', factory: () => delay(5_000), ttl: '1m' });
    await s2.warmer.start();
    await delay(60);
    const t0 = Date.now();
    await s2.warmer.close(200);
    expect(Date.now() - t0).toBeLessThan(2_000);
    if (mode === 'bullmq') {
      // handed back to `wait` with its lock released: another worker takes it at once (not after the 30 s lock)
      const w3 = new Warmer({ cache: s2.tier.cache, redis: redis.url, prefix: `${s2.prefix}:q` });
      w3.declare({ key: 'slow:get:2', factory: () => 'taken over', ttl: '1m', atStart: false });
      await w3.start();
      expect(await waitFor(() => s2.tier.service.get('slow:get:2'), { timeoutMs: 3_000 })).toBe('taken over');
      await w3.close(1_000);
    }
    await s2.tier.close();
    await expect(s2.warmer.warm('slow:get:2')).rejects.toMatchObject({ code: 'E_WARMING_CLOSED' });
  });

  it('smart warming picks the most-missed keys of the top-K that a loader can load, within the per-minute budget', async () => {
    const top = [
      { key: 'PFX:product:get:1', requests: 50, misses: 20 },
      { key: 'PFX:product:get:2', requests: 90, misses: 2 },
      { key: 'PFX:product:get:3', requests: 10, misses: 9 },
      { key: 'PFX:other:get:9', requests: 99, misses: 50 },
      { key: 'PFX:product:get:4', requests: 1, misses: 1 },
    ];
    let loaded: string[] = [];
    const s = await setup({ smart: { source: { topKeys: () => top.map((t) => ({ ...t, key: t.key.replace('PFX', s.prefix) })) }, every: 500, budgetPerMinute: 240 } });
    s.warmer.loader({ pattern: 'product:get:*', load: (key) => (loaded.push(key), key), ttl: '1m' });
    await s.warmer.start();
    await waitFor(() => loaded.length >= 2, { timeoutMs: 5_000 });
    await delay(100);
    // budget 240/min × 0.5 s = 2 per tick: the two most-missed loadable keys with ≥ 2 requests
    expect(loaded.slice(0, 2).map((k) => k.slice(s.prefix.length + 1)).sort()).toEqual(['product:get:1', 'product:get:3']);
    loaded = [];
    await s.close();
  });
});

describe('options', () => {
  const cache = { set: async () => ({ ok: true as const }) };
  it('are validated with a message naming the option', () => {
    expect(() => new Warmer({ cache, concurrency: 0 })).toThrow(/concurrency must be an integer in 1..1024/);
    expect(() => new Warmer({ cache, attempts: 101 })).toThrow(/attempts/);
    expect(() => new Warmer({ cache, backoff: { jitter: 2 } })).toThrow(/jitter/);
    expect(() => new Warmer({ cache, rateLimit: { max: 0, duration: 1_000 } })).toThrow(/rateLimit.max/);
    expect(() => new Warmer({ cache, origins: { 'bad name': {} } })).toThrow(/origin name/);
    expect(() => new Warmer({ cache, smart: { source: { topKeys: () => [] }, every: '2m' } })).toThrow(/at most 1 minute/);
    expect(() => new Warmer({ cache: {} as never })).toThrow(/cache must have set/);
    const w = new Warmer({ cache });
    expect(() => w.declare({ key: 'a', factory: () => 1, origin: 'nope' })).toThrow(/unknown origin/);
    expect(() => w.declare({ key: 'a', factory: () => 1, every: 1_000, cron: '* * * * *' })).toThrow(/not both/);
  });
});

describe('Redis that does not answer', () => {
  it('ready() still resolves at its deadline with the keys pending, and close() returns', async () => {
    const down = await startStandalone();
    await down.pause(); // accepts TCP, never answers
    const w = new Warmer({ cache: { set: async () => ({ ok: true as const }) }, redis: down.url, prefix: 'down:q' });
    w.on(() => undefined);
    w.declare({ key: 'a:get:1', factory: () => 1 });
    const t0 = Date.now();
    expect(await w.ready(500)).toEqual({ complete: false, total: 1, warmed: 0, failed: 0, pending: 1 });
    expect(Date.now() - t0).toBeLessThan(1_500);
    const t1 = Date.now();
    await w.close(300);
    expect(Date.now() - t1).toBeLessThan(3_000);
    await down.resume();
    await down.close();
  }, 15_000);
});
