import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { CircuitBreaker } from '../src/index';
import { failTimes, ok } from './helpers';
import { FailureWindow } from '../src/failure-window';

const T0 = 1_700_000_000_000;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('stats()', () => {
  test('initial snapshot', () => {
    const breaker = new CircuitBreaker({ name: 's' });
    expect(breaker.stats()).toEqual({
      name: 's',
      state: 'CLOSED',
      failuresInWindow: 0,
      successes: 0,
      failures: 0,
      rejections: 0,
      timeouts: 0,
      lastFailureAt: null,
      lastStateChangeAt: T0,
      openedAt: null,
    });
  });

  test('tracks counters through a cycle and returns independent snapshots', async () => {
    const breaker = new CircuitBreaker({ name: 's', failureThreshold: 2, resetTimeout: 1_000 });
    await breaker.execute(ok);
    vi.advanceTimersByTime(5);
    await failTimes(breaker, 1);
    const before = breaker.stats();
    vi.advanceTimersByTime(5);
    await failTimes(breaker, 1);
    await failTimes(breaker, 3); // rejected
    expect(before).toMatchObject({ failures: 1, failuresInWindow: 1, state: 'CLOSED' });
    expect(breaker.stats()).toEqual({
      name: 's',
      state: 'OPEN',
      failuresInWindow: 0,
      successes: 1,
      failures: 2,
      rejections: 3,
      timeouts: 0,
      lastFailureAt: T0 + 10,
      lastStateChangeAt: T0 + 10,
      openedAt: T0 + 10,
    });
    vi.advanceTimersByTime(1_000);
    await breaker.execute(ok);
    expect(breaker.stats()).toMatchObject({ state: 'CLOSED', openedAt: null, lastStateChangeAt: T0 + 1_010, successes: 2 });
  });

  test('options getter: resolved, frozen settings', () => {
    const breaker = new CircuitBreaker({ name: 'o', failureThreshold: 3 });
    expect(breaker.options).toEqual({
      name: 'o',
      failureThreshold: 3,
      monitoringWindow: 120_000,
      resetTimeout: 60_000,
      halfOpenMaxCalls: 1,
      callTimeout: undefined,
    });
    expect(Object.isFrozen(breaker.options)).toBe(true);
    expect(new CircuitBreaker({ callTimeout: 250 }).options.callTimeout).toBe(250);
    expect(new CircuitBreaker({ callTimeout: Number.POSITIVE_INFINITY }).options.callTimeout).toBeUndefined();
  });

  test('uses the injected clock', () => {
    let t = 100;
    const breaker = new CircuitBreaker({ now: () => t, failureThreshold: 1, resetTimeout: 50 });
    breaker.onFailure();
    expect(breaker.stats()).toMatchObject({ openedAt: 100, lastFailureAt: 100 });
    t = 149;
    expect(breaker.tryAcquire()).toBe(false);
    t = 150;
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.state).toBe('HALF_OPEN');
  });
});

describe('FailureWindow (ring buffer)', () => {
  test('reports the threshold only when `capacity` failures fit in the window', () => {
    const w = new FailureWindow(3);
    expect(w.record(0, 100)).toBe(false);
    expect(w.record(10, 100)).toBe(false);
    expect(w.record(100, 100)).toBe(false); // oldest (0) is exactly 100 old
    expect(w.count(100, 100)).toBe(2);
    expect(w.record(105, 100)).toBe(true); // 10, 100, 105
    expect(w.count(105, 100)).toBe(3);
    expect(w.count(1_000, 100)).toBe(0);
    w.clear();
    expect(w.count(105, 100)).toBe(0);
    expect(w.record(106, 100)).toBe(false);
  });

  test('capacity 1', () => {
    const w = new FailureWindow(1);
    expect(w.record(5, 10)).toBe(true);
    expect(w.record(6, 10)).toBe(true);
  });
});
