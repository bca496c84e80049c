import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { CircuitBreaker } from '../src/index';
import { deferred, flush } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));

describe('callTimeout with many calls in flight (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('staggered calls time out at their own deadlines; settled ones never do', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 100, callTimeout: 100 });
    const outcome: Record<string, unknown> = {};
    const track = (name: string, p: Promise<unknown>) =>
      p.then(
        (v) => (outcome[name] = v),
        (e: { code?: string }) => (outcome[name] = e.code),
      );
    const never = () => new Promise<never>(() => undefined);
    void track('a', breaker.execute(never)); // t = 0
    vi.advanceTimersByTime(30);
    void track('b', breaker.execute(never)); // t = 30
    vi.advanceTimersByTime(30);
    const c = deferred<string>();
    void track('c', breaker.execute(() => c.promise)); // t = 60
    vi.advanceTimersByTime(10);
    c.resolve('c-ok'); // t = 70
    await flush();
    expect(outcome).toEqual({ c: 'c-ok' });
    vi.advanceTimersByTime(29); // t = 99
    await flush();
    expect(outcome.a).toBeUndefined();
    vi.advanceTimersByTime(1); // t = 100
    await flush();
    expect(outcome.a).toBe('E_CALL_TIMEOUT');
    expect(outcome.b).toBeUndefined();
    vi.advanceTimersByTime(30); // t = 130
    await flush();
    expect(outcome.b).toBe('E_CALL_TIMEOUT');
    expect(breaker.stats()).toMatchObject({ timeouts: 2, failures: 2, successes: 1 });
  });

  test('a call started from a failure listener during expiry gets its own full timeout', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 100, callTimeout: 100 });
    const never = () => new Promise<never>(() => undefined);
    const chained: Promise<unknown>[] = [];
    breaker.on('failure', () => {
      if (chained.length < 3) chained.push(breaker.execute(never).catch((e: unknown) => e));
    });
    const first = breaker.execute(never).catch((e: unknown) => e);
    const second = (async () => {
      vi.advanceTimersByTime(50);
      return breaker.execute(never).catch((e: unknown) => e);
    })();
    vi.advanceTimersByTime(50); // t = 100: first expires; listener adds call #1 (deadline 200)
    await first;
    expect(chained).toHaveLength(1);
    vi.advanceTimersByTime(50); // t = 150: second expires; listener adds call #2 (deadline 250)
    await second;
    expect(chained).toHaveLength(2);
    vi.advanceTimersByTime(49);
    await flush();
    expect(breaker.stats().timeouts).toBe(2);
    vi.advanceTimersByTime(1); // t = 200
    await chained[0];
    expect(breaker.stats().timeouts).toBe(3);
    vi.advanceTimersByTime(50); // t = 250
    await chained[1];
    expect(breaker.stats().timeouts).toBe(4);
  });

  test('1000 concurrent calls, half settling in time', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 100_000, callTimeout: 1_000 });
    const gates = Array.from({ length: 1_000 }, () => deferred<number>());
    const results = gates.map((g) => {
      vi.advanceTimersByTime(1);
      return breaker.execute(() => g.promise).then(
        () => 'ok',
        (e: { code?: string }) => e.code,
      );
    });
    gates.forEach((g, i) => {
      if (i % 2 === 0) g.resolve(i);
    });
    await flush();
    vi.advanceTimersByTime(1_000);
    const settled = await Promise.all(results);
    expect(settled.filter((r) => r === 'ok')).toHaveLength(500);
    expect(settled.filter((r) => r === 'E_CALL_TIMEOUT')).toHaveLength(500);
    expect(breaker.stats()).toMatchObject({ successes: 500, timeouts: 500 });
  });
});

describe('process liveness (real timers, child process)', () => {
  const tsx = join(here, '..', 'node_modules', '.bin', 'tsx');
  const run = (mode: string) =>
    new Promise<{ stdout: string; ms: number }>((resolve, reject) => {
      const started = Date.now();
      execFile(tsx, [join(here, 'fixtures', 'idle-exit.ts'), mode], { timeout: 50_000 }, (error, stdout) => {
        if (error) reject(error);
        else resolve({ stdout, ms: Date.now() - started });
      });
    });

  test('an idle breaker with callTimeout does not keep the process alive', async () => {
    const { stdout, ms } = await run('idle');
    expect(stdout.trim()).toBe('idle-done');
    expect(ms).toBeLessThan(45_000); // far below callTimeout (60 s) even on a loaded machine
  }, 60_000);

  test('a pending call keeps the process alive until its timeout is delivered', async () => {
    const { stdout } = await run('hung');
    expect(stdout.trim()).toBe('E_CALL_TIMEOUT');
  }, 60_000);
});
