import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { CircuitBreaker, CircuitOpenError } from '../src/index';
import { boom, deferred, failTimes, flush, ok } from './helpers';

const T0 = 1_700_000_000_000;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('CLOSED → OPEN', () => {
  test('opens exactly at failureThreshold failures', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3 });
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.stats().failuresInWindow).toBe(2);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('OPEN');
    expect(breaker.isOpen()).toBe(true);
    expect(breaker.stats().openedAt).toBe(T0);
  });

  test('default threshold is 5', async () => {
    const breaker = new CircuitBreaker();
    await failTimes(breaker, 4);
    expect(breaker.state).toBe('CLOSED');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('OPEN');
  });

  test('failureThreshold 1 opens on the first failure', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('OPEN');
  });

  test('errors of fn reach the caller unchanged', async () => {
    const breaker = new CircuitBreaker();
    const error = new Error('redis down');
    await expect(breaker.execute(() => Promise.reject(error))).rejects.toBe(error);
  });

  test('successes do not reset the rolling window', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3 });
    await failTimes(breaker, 2);
    for (let i = 0; i < 10; i++) await breaker.execute(ok);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('OPEN');
  });

  test('a synchronous throw counts as a failure and is returned as a rejection', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    const error = new Error('sync');
    const result = breaker.execute(() => {
      throw error;
    });
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toBe(error);
    expect(breaker.state).toBe('OPEN');
  });

  test('synchronous values and foreign thenables are supported', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    await expect(breaker.execute(() => 7)).resolves.toBe(7);
    const thenable = { then: (res: (v: string) => void) => res('thenable') };
    await expect(breaker.execute(() => thenable)).resolves.toBe('thenable');
    expect(breaker.stats().successes).toBe(2);
    const rejecting = { then: (_res: unknown, rej: (e: unknown) => void) => rej(new Error('thenable failed')) };
    await expect(breaker.execute(() => rejecting)).rejects.toThrow('thenable failed');
    expect(breaker.state).toBe('OPEN');
  });
});

describe('OPEN', () => {
  test('fails fast with CircuitOpenError without calling fn', async () => {
    const breaker = new CircuitBreaker({ name: 'redis-a', failureThreshold: 2, resetTimeout: 10_000 });
    await failTimes(breaker, 2);
    const fn = vi.fn(ok);
    vi.advanceTimersByTime(2_500);
    const error = await breaker.execute(fn).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({
      code: 'E_CIRCUIT_OPEN',
      name: 'CircuitOpenError',
      breakerName: 'redis-a',
      state: 'OPEN',
      retryAfterMs: 7_500,
    });
    expect((error as Error).message).toBe('Circuit "redis-a" is OPEN; retry after 7500 ms');
    expect(breaker.stats().rejections).toBe(1);
  });

  test('retryAfterMs counts down and is never negative', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000 });
    await failTimes(breaker, 1);
    const after = async () => ((await breaker.execute(ok).catch((e: unknown) => e)) as CircuitOpenError).retryAfterMs;
    expect(await after()).toBe(1_000);
    vi.advanceTimersByTime(999);
    expect(await after()).toBe(1);
  });

  test('stays OPEN until resetTimeout, then lets one probe through (HALF_OPEN)', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 60_000 });
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(59_999);
    await expect(breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(breaker.state).toBe('OPEN');
    vi.advanceTimersByTime(1);
    expect(breaker.state).toBe('OPEN'); // lazy: no timer moved it
    const probe = deferred<string>();
    const fn = vi.fn(() => probe.promise);
    const result = breaker.execute(fn);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(breaker.state).toBe('HALF_OPEN');
    probe.resolve('probe ok');
    await expect(result).resolves.toBe('probe ok');
    expect(breaker.state).toBe('CLOSED');
  });

  test('keeps no timers alive', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('OPEN');
    expect(vi.getTimerCount()).toBe(0);
  });

  test('late outcomes of calls admitted before the circuit opened do not move it', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 1_000 });
    const slow = deferred<string>();
    const slowFail = deferred<string>();
    const a = breaker.execute(() => slow.promise);
    const b = breaker.execute(() => slowFail.promise);
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('OPEN');
    vi.advanceTimersByTime(1_000);
    const probe = deferred<string>();
    const p = breaker.execute(() => probe.promise);
    expect(breaker.state).toBe('HALF_OPEN');
    // A stale success must not close, a stale failure must not re-open.
    slow.resolve('late');
    await expect(a).resolves.toBe('late');
    expect(breaker.state).toBe('HALF_OPEN');
    slowFail.reject(new Error('late failure'));
    await expect(b).rejects.toThrow('late failure');
    expect(breaker.state).toBe('HALF_OPEN');
    const stats = breaker.stats();
    expect(stats.successes).toBe(1);
    expect(stats.failures).toBe(3); // still counted in the totals
    probe.resolve('probe');
    await p;
    expect(breaker.state).toBe('CLOSED');
  });

  test('a late failure of a call admitted before the breaker closed does not count in the new window', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 1_000 });
    const slow = deferred<string>();
    const a = breaker.execute(() => slow.promise);
    await failTimes(breaker, 2);
    vi.advanceTimersByTime(1_000);
    await breaker.execute(ok);
    expect(breaker.state).toBe('CLOSED');
    slow.reject(new Error('late'));
    await a.catch(() => undefined);
    expect(breaker.stats().failuresInWindow).toBe(0);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('CLOSED');
  });
});

describe('HALF_OPEN', () => {
  test('→ CLOSED only after all halfOpenMaxCalls probes succeed', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 100, halfOpenMaxCalls: 3 });
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(100);
    await breaker.execute(ok);
    expect(breaker.state).toBe('HALF_OPEN');
    await breaker.execute(ok);
    expect(breaker.state).toBe('HALF_OPEN');
    await breaker.execute(ok);
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.stats().failuresInWindow).toBe(0);
  });

  test('→ OPEN on a probe failure, with a fresh resetTimeout', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000, halfOpenMaxCalls: 2 });
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(5_000);
    await breaker.execute(ok);
    expect(breaker.state).toBe('HALF_OPEN');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('OPEN');
    expect(breaker.stats().openedAt).toBe(T0 + 5_000);
    vi.advanceTimersByTime(999);
    await expect(breaker.execute(ok)).rejects.toMatchObject({ retryAfterMs: 1 });
    vi.advanceTimersByTime(1);
    await breaker.execute(ok);
    expect(breaker.state).toBe('HALF_OPEN');
  });

  test.each([1, 2, 5])('concurrent calls: only halfOpenMaxCalls=%i probes run, the rest fail fast', async (max) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000, halfOpenMaxCalls: max });
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(1_000);
    const gate = deferred<string>();
    const fn = vi.fn(() => gate.promise);
    const calls = Array.from({ length: 20 }, () => breaker.execute(fn).then(
      (v) => ({ ok: true as const, v }),
      (e: unknown) => ({ ok: false as const, e }),
    ));
    expect(fn).toHaveBeenCalledTimes(max);
    gate.resolve('done');
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.ok)).toHaveLength(max);
    const rejected = results.filter((r) => !r.ok);
    expect(rejected).toHaveLength(20 - max);
    for (const r of rejected) {
      expect(r.e).toBeInstanceOf(CircuitOpenError);
      expect(r.e).toMatchObject({ state: 'HALF_OPEN', code: 'E_CIRCUIT_OPEN' });
    }
    expect(fn).toHaveBeenCalledTimes(max);
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.stats().rejections).toBe(20 - max);
  });

  test('HALF_OPEN rejection message and retryAfterMs', async () => {
    const breaker = new CircuitBreaker({ name: 'b', failureThreshold: 1, resetTimeout: 1_000 });
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(1_000);
    const gate = deferred<string>();
    const probe = breaker.execute(() => gate.promise);
    vi.advanceTimersByTime(300);
    const error = (await breaker.execute(ok).catch((e: unknown) => e)) as CircuitOpenError;
    expect(error.state).toBe('HALF_OPEN');
    expect(error.retryAfterMs).toBe(700);
    expect(error.message).toContain('HALF_OPEN');
    gate.resolve('x');
    await probe;
  });

  test('a probe that never reports back re-opens the circuit after the probe deadline', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000 });
    const opened: unknown[] = [];
    breaker.on('open', (e) => opened.push(e.reason));
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(1_000);
    const hung = deferred<string>();
    void breaker.execute(() => hung.promise);
    expect(breaker.state).toBe('HALF_OPEN');
    vi.advanceTimersByTime(999);
    await expect(breaker.execute(ok)).rejects.toMatchObject({ state: 'HALF_OPEN' });
    vi.advanceTimersByTime(1);
    await expect(breaker.execute(ok)).rejects.toMatchObject({ state: 'OPEN', retryAfterMs: 1_000 });
    expect(breaker.state).toBe('OPEN');
    expect(opened).toEqual(['threshold', 'probe-timeout']);
    // The hung probe finally succeeds: stale, ignored for the state machine.
    hung.resolve('late');
    await flush();
    expect(breaker.state).toBe('OPEN');
    vi.advanceTimersByTime(1_000);
    await breaker.execute(ok);
    expect(breaker.state).toBe('CLOSED');
  });

  test('the probe deadline is at least callTimeout', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 100, callTimeout: 5_000 });
    breaker.trip();
    vi.advanceTimersByTime(100);
    const gate = deferred<string>();
    const probe = breaker.execute(() => gate.promise);
    vi.advanceTimersByTime(4_000);
    await expect(breaker.execute(ok)).rejects.toMatchObject({ state: 'HALF_OPEN', retryAfterMs: 1_000 });
    gate.resolve('slow but fine');
    await expect(probe).resolves.toBe('slow but fine');
    expect(breaker.state).toBe('CLOSED');
  });
});

describe('rolling monitoringWindow', () => {
  test('failures older than the window do not count', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3, monitoringWindow: 10_000 });
    await failTimes(breaker, 2); // t = 0
    vi.advanceTimersByTime(6_000);
    expect(breaker.stats().failuresInWindow).toBe(2);
    vi.advanceTimersByTime(4_000); // t = 10_000: the first two are exactly window-old → aged out
    expect(breaker.stats().failuresInWindow).toBe(0);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('CLOSED');
    vi.advanceTimersByTime(9_999);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.stats().failuresInWindow).toBe(2);
    await failTimes(breaker, 1); // 3 failures within [10_000, 19_999]
    expect(breaker.state).toBe('OPEN');
  });

  test('a steady trickle of failures below the rate never opens', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 5, monitoringWindow: 1_000 });
    for (let i = 0; i < 50; i++) {
      await failTimes(breaker, 1);
      vi.advanceTimersByTime(250); // 4 per window
    }
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.stats().failures).toBe(50);
  });

  test('monitoringWindow Infinity: failures never age out', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, monitoringWindow: Number.POSITIVE_INFINITY });
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(365 * 24 * 3_600_000);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('OPEN');
  });

  test('a clock that jumps backwards does not keep the circuit open forever', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000 });
    await failTimes(breaker, 1);
    vi.setSystemTime(T0 - 3_600_000);
    await expect(breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    vi.setSystemTime(T0 - 3_600_000 + 1_000);
    await breaker.execute(ok);
    expect(breaker.state).toBe('CLOSED');
  });
});

describe('callTimeout', () => {
  test('a call exceeding callTimeout rejects with CallTimeoutError and counts as a failure', async () => {
    const breaker = new CircuitBreaker({ name: 't', failureThreshold: 2, callTimeout: 500 });
    const hung = deferred<string>();
    const result = breaker.execute(() => hung.promise).catch((e: unknown) => e);
    vi.advanceTimersByTime(499);
    await flush();
    expect(breaker.stats().failures).toBe(0);
    vi.advanceTimersByTime(1);
    const error = await result;
    expect(error).toMatchObject({
      name: 'CallTimeoutError',
      code: 'E_CALL_TIMEOUT',
      breakerName: 't',
      timeoutMs: 500,
      message: 'Call through circuit "t" timed out after 500 ms',
    });
    expect(breaker.stats()).toMatchObject({ failures: 1, timeouts: 1, failuresInWindow: 1 });
    // The late outcome is ignored.
    hung.resolve('too late');
    await flush();
    expect(breaker.stats()).toMatchObject({ failures: 1, successes: 0 });
  });

  test('timeouts open the circuit; isFailure cannot exempt them', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, callTimeout: 100, isFailure: () => false });
    const never = () => new Promise<never>(() => undefined);
    const a = breaker.execute(never).catch((e: unknown) => e);
    const b = breaker.execute(never).catch((e: unknown) => e);
    vi.advanceTimersByTime(100);
    await Promise.all([a, b]);
    expect(breaker.state).toBe('OPEN');
    expect(breaker.stats().timeouts).toBe(2);
  });

  test('calls settling in time clear their timer and pass values/errors through', async () => {
    const breaker = new CircuitBreaker({ callTimeout: 1_000 });
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    await expect(breaker.execute(boom)).rejects.toThrow('boom');
    await expect(breaker.execute(() => 5)).resolves.toBe(5); // sync: no timer at all
    expect(vi.getTimerCount()).toBeLessThanOrEqual(1); // one shared (unref'd) timer at most
    vi.advanceTimersByTime(5_000);
    await flush();
    expect(vi.getTimerCount()).toBe(0); // nothing pending: not re-armed
    expect(breaker.stats()).toMatchObject({ successes: 2, failures: 1, timeouts: 0 });
  });

  test('a timed-out late rejection is handled (no unhandled rejection)', async () => {
    const breaker = new CircuitBreaker({ callTimeout: 10 });
    const late = deferred<string>();
    const result = breaker.execute(() => late.promise).catch((e: unknown) => e);
    vi.advanceTimersByTime(10);
    await result;
    late.reject(new Error('late'));
    await flush();
    expect(breaker.stats().failures).toBe(1);
  });

  test('a call admitted before the circuit opened that times out later does not move the state', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 500, callTimeout: 1_000 });
    const hung = breaker.execute(() => new Promise<never>(() => undefined)).catch((e: unknown) => e);
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('OPEN');
    vi.advanceTimersByTime(500);
    const gate = deferred<string>();
    const probe = breaker.execute(() => gate.promise);
    expect(breaker.state).toBe('HALF_OPEN');
    vi.advanceTimersByTime(500); // the old call times out now
    expect(await hung).toMatchObject({ code: 'E_CALL_TIMEOUT' });
    expect(breaker.state).toBe('HALF_OPEN');
    expect(breaker.stats()).toMatchObject({ failures: 3, timeouts: 1 });
    gate.resolve('probe ok');
    await expect(probe).resolves.toBe('probe ok');
    expect(breaker.state).toBe('CLOSED');
  });

  test('a timeout of a probe re-opens the circuit', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1_000, callTimeout: 200 });
    breaker.trip();
    vi.advanceTimersByTime(1_000);
    const result = breaker.execute(() => new Promise<never>(() => undefined)).catch((e: unknown) => e);
    expect(breaker.state).toBe('HALF_OPEN');
    vi.advanceTimersByTime(200);
    expect(await result).toMatchObject({ code: 'E_CALL_TIMEOUT' });
    expect(breaker.state).toBe('OPEN');
  });
});

describe('isFailure filter', () => {
  class NotFound extends Error {}
  const isFailure = (e: unknown) => !(e instanceof NotFound);

  test('filtered errors are rethrown but not counted', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, isFailure });
    const error = new NotFound('404');
    for (let i = 0; i < 5; i++) await expect(breaker.execute(() => Promise.reject(error))).rejects.toBe(error);
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.stats()).toMatchObject({ failures: 0, successes: 0, failuresInWindow: 0 });
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('OPEN');
  });

  test('the filter sees the error; synchronous throws are filtered too', async () => {
    const filter = vi.fn(isFailure);
    const breaker = new CircuitBreaker({ failureThreshold: 1, isFailure: filter });
    const error = new NotFound('sync');
    await expect(
      breaker.execute(() => {
        throw error;
      }),
    ).rejects.toBe(error);
    expect(filter).toHaveBeenCalledWith(error);
    expect(breaker.state).toBe('CLOSED');
  });

  test('a filtered error on a probe releases the probe slot', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 100, isFailure });
    breaker.trip();
    vi.advanceTimersByTime(100);
    await expect(breaker.execute(() => Promise.reject(new NotFound()))).rejects.toBeInstanceOf(NotFound);
    expect(breaker.state).toBe('HALF_OPEN');
    await breaker.execute(ok); // the slot is free again
    expect(breaker.state).toBe('CLOSED');
  });

  test('a throwing filter counts the error as a failure', async () => {
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      isFailure: () => {
        throw new Error('bad filter');
      },
    });
    await expect(breaker.execute(boom)).rejects.toThrow('boom');
    expect(breaker.state).toBe('OPEN');
  });
});

describe('manual control', () => {
  test('trip() forces OPEN; tripping again restarts resetTimeout', async () => {
    const breaker = new CircuitBreaker({ resetTimeout: 1_000 });
    breaker.trip();
    expect(breaker.state).toBe('OPEN');
    vi.advanceTimersByTime(800);
    breaker.trip();
    vi.advanceTimersByTime(800);
    await expect(breaker.execute(ok)).rejects.toMatchObject({ retryAfterMs: 200 });
    vi.advanceTimersByTime(200);
    await breaker.execute(ok);
    expect(breaker.state).toBe('CLOSED');
  });

  test('reset() forces CLOSED from OPEN and HALF_OPEN and clears the window', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 1_000 });
    await failTimes(breaker, 1);
    breaker.reset();
    expect(breaker.stats().failuresInWindow).toBe(0);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('CLOSED');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('OPEN');
    breaker.reset();
    expect(breaker.state).toBe('CLOSED');
    await breaker.execute(ok);
    breaker.trip();
    vi.advanceTimersByTime(1_000);
    const gate = deferred<string>();
    const probe = breaker.execute(() => gate.promise);
    expect(breaker.state).toBe('HALF_OPEN');
    breaker.reset();
    expect(breaker.state).toBe('CLOSED');
    gate.reject(new Error('stale probe failure'));
    await probe.catch(() => undefined);
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.stats().failures).toBe(4); // counters survive reset()
  });
});
