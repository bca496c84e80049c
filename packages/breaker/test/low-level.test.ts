import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { CircuitBreaker } from '../src/index';

const T0 = 1_700_000_000_000;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('tryAcquire / onSuccess / onFailure', () => {
  test('drives the full state machine', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 1_000, halfOpenMaxCalls: 2 });
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onFailure(new Error('a'));
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onFailure(new Error('b'));
    expect(breaker.state).toBe('OPEN');
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.stats().rejections).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.state).toBe('HALF_OPEN');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.onSuccess();
    expect(breaker.state).toBe('HALF_OPEN');
    breaker.onSuccess();
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.stats()).toMatchObject({ successes: 2, failures: 2, rejections: 2 });
  });

  test('tryAcquire emits reject with retryAfterMs', () => {
    const breaker = new CircuitBreaker({ name: 'x', resetTimeout: 500 });
    const rejects: unknown[] = [];
    breaker.on('reject', (e) => rejects.push(e));
    breaker.trip();
    vi.advanceTimersByTime(100);
    expect(breaker.tryAcquire()).toBe(false);
    expect(rejects).toEqual([{ name: 'x', at: T0 + 100, state: 'OPEN', retryAfterMs: 400 }]);
  });

  test('in CLOSED, tryAcquire does not read the clock', () => {
    const now = vi.fn(() => 0);
    const breaker = new CircuitBreaker({ now });
    now.mockClear();
    for (let i = 0; i < 100; i++) {
      breaker.tryAcquire();
      breaker.onSuccess();
    }
    expect(now).not.toHaveBeenCalled();
  });

  test('onFailure applies isFailure; a non-failure releases a probe slot', () => {
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      resetTimeout: 10,
      isFailure: (e) => !(e instanceof RangeError),
    });
    breaker.onFailure(new RangeError('ignored'));
    expect(breaker.state).toBe('CLOSED');
    breaker.onFailure(new Error('counted'));
    expect(breaker.state).toBe('OPEN');
    vi.advanceTimersByTime(10);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.onFailure(new RangeError('ignored'));
    expect(breaker.state).toBe('HALF_OPEN');
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onSuccess();
    expect(breaker.state).toBe('CLOSED');
  });

  test('onFailure() without an error counts as a failure', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    breaker.onFailure();
    expect(breaker.state).toBe('OPEN');
  });

  test('outcomes reported while OPEN, or in HALF_OPEN with no probe out, do not move the state', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 10, halfOpenMaxCalls: 1 });
    breaker.trip();
    breaker.onSuccess();
    breaker.onFailure(new Error('x'));
    expect(breaker.state).toBe('OPEN');
    vi.advanceTimersByTime(10);
    expect(breaker.tryAcquire()).toBe(true); // probe out
    breaker.onFailure(new Error('probe failed'));
    expect(breaker.state).toBe('OPEN');
    vi.advanceTimersByTime(10);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onSuccess();
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.stats()).toMatchObject({ successes: 2, failures: 2 });
  });

  test('the rolling window works through onFailure timestamps', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3, monitoringWindow: 100 });
    breaker.onFailure();
    vi.advanceTimersByTime(50);
    breaker.onFailure();
    vi.advanceTimersByTime(50);
    breaker.onFailure(); // the first is 100 ms old: aged out
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.stats().failuresInWindow).toBe(2);
    vi.advanceTimersByTime(49);
    breaker.onFailure();
    expect(breaker.state).toBe('OPEN');
  });
});
