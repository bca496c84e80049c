import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { CircuitBreaker, type StateChangeEvent } from '../src/index';
import { boom, failTimes, ok } from './helpers';

const T0 = 1_700_000_000_000;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

function record(breaker: CircuitBreaker): Array<[string, unknown]> {
  const log: Array<[string, unknown]> = [];
  for (const event of ['open', 'halfOpen', 'close', 'stateChange', 'reject', 'failure', 'success'] as const) {
    breaker.on(event, (payload) => log.push([event, payload]));
  }
  return log;
}

describe('events', () => {
  test('full cycle: payloads and order', async () => {
    const breaker = new CircuitBreaker({ name: 'cache-l2', failureThreshold: 2, resetTimeout: 1_000 });
    const log = record(breaker);
    const e1 = new Error('e1');
    const e2 = new Error('e2');
    await breaker.execute(ok);
    await breaker.execute(() => Promise.reject(e1)).catch(() => undefined);
    vi.advanceTimersByTime(10);
    await breaker.execute(() => Promise.reject(e2)).catch(() => undefined);
    vi.advanceTimersByTime(10);
    await breaker.execute(ok).catch(() => undefined);
    vi.advanceTimersByTime(1_000);
    await breaker.execute(ok);

    const open: StateChangeEvent = { name: 'cache-l2', from: 'CLOSED', to: 'OPEN', at: T0 + 10, reason: 'threshold' };
    const halfOpen: StateChangeEvent = { name: 'cache-l2', from: 'OPEN', to: 'HALF_OPEN', at: T0 + 1_020, reason: 'reset-timeout' };
    const close: StateChangeEvent = { name: 'cache-l2', from: 'HALF_OPEN', to: 'CLOSED', at: T0 + 1_020, reason: 'probes-succeeded' };
    expect(log).toEqual([
      ['success', { name: 'cache-l2', at: T0 }],
      ['failure', { name: 'cache-l2', error: e1, at: T0 }],
      ['failure', { name: 'cache-l2', error: e2, at: T0 + 10 }],
      ['open', open],
      ['stateChange', open],
      ['reject', { name: 'cache-l2', at: T0 + 20, state: 'OPEN', retryAfterMs: 990 }],
      ['halfOpen', halfOpen],
      ['stateChange', halfOpen],
      ['success', { name: 'cache-l2', at: T0 + 1_020 }],
      ['close', close],
      ['stateChange', close],
    ]);
  });

  test('probe failure emits open with reason probe-failure', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 100 });
    breaker.trip();
    vi.advanceTimersByTime(100);
    const changes: StateChangeEvent[] = [];
    breaker.on('stateChange', (e) => changes.push(e));
    await failTimes(breaker, 1);
    expect(changes.map((c) => [c.from, c.to, c.reason])).toEqual([
      ['OPEN', 'HALF_OPEN', 'reset-timeout'],
      ['HALF_OPEN', 'OPEN', 'probe-failure'],
    ]);
  });

  test('manual transitions carry reason manual; no event without a change', () => {
    const breaker = new CircuitBreaker();
    const changes: StateChangeEvent[] = [];
    breaker.on('stateChange', (e) => changes.push(e));
    breaker.reset(); // already CLOSED
    breaker.trip();
    breaker.trip(); // already OPEN
    breaker.reset();
    expect(changes.map((c) => [c.from, c.to, c.reason])).toEqual([
      ['CLOSED', 'OPEN', 'manual'],
      ['OPEN', 'CLOSED', 'manual'],
    ]);
  });

  test('a timeout failure event carries the CallTimeoutError', async () => {
    const breaker = new CircuitBreaker({ callTimeout: 50 });
    const failures: unknown[] = [];
    breaker.on('failure', (e) => failures.push(e.error));
    const p = breaker.execute(() => new Promise(() => undefined)).catch((e: unknown) => e);
    vi.advanceTimersByTime(50);
    const error = await p;
    expect(failures).toEqual([error]);
    expect(failures[0]).toMatchObject({ code: 'E_CALL_TIMEOUT' });
  });

  test('filtered errors emit neither failure nor success', async () => {
    const breaker = new CircuitBreaker({ isFailure: () => false });
    const log = record(breaker);
    await breaker.execute(boom).catch(() => undefined);
    expect(log).toEqual([]);
  });

  test('on() returns an unsubscribe function; off() removes; both are idempotent', async () => {
    const breaker = new CircuitBreaker();
    const a = vi.fn();
    const b = vi.fn();
    const unsubscribeA = breaker.on('success', a);
    breaker.on('success', b);
    await breaker.execute(ok);
    unsubscribeA();
    unsubscribeA();
    await breaker.execute(ok);
    breaker.off('success', b);
    breaker.off('success', b);
    breaker.off('failure', b);
    await breaker.execute(ok);
    expect(a).toHaveBeenCalledTimes(1);
    expect(b).toHaveBeenCalledTimes(2);
  });

  test('the same listener added twice is called twice and removed one at a time', async () => {
    const breaker = new CircuitBreaker();
    const l = vi.fn();
    const off1 = breaker.on('success', l);
    breaker.on('success', l);
    await breaker.execute(ok);
    expect(l).toHaveBeenCalledTimes(2);
    off1();
    await breaker.execute(ok);
    expect(l).toHaveBeenCalledTimes(3);
  });

  test('listeners added or removed during an emit take effect from the next emit', async () => {
    const breaker = new CircuitBreaker();
    const late = vi.fn();
    const second = vi.fn();
    const first = vi.fn(() => {
      breaker.on('success', late);
      breaker.off('success', second);
    });
    breaker.on('success', first);
    breaker.on('success', second);
    await breaker.execute(ok);
    expect(second).toHaveBeenCalledTimes(1);
    expect(late).not.toHaveBeenCalled();
    await breaker.execute(ok);
    expect(late).toHaveBeenCalledTimes(1);
    expect(second).toHaveBeenCalledTimes(1);
  });

  test('unknown event names and non-function listeners are TypeErrors', () => {
    const breaker = new CircuitBreaker();
    expect(() => breaker.on('opened' as never, () => undefined)).toThrow(/Unknown circuit breaker event "opened"/);
    expect(() => breaker.on('open', 'nope' as never)).toThrow(TypeError);
  });

  test('listeners see a consistent breaker and may call it re-entrantly', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    const seen: unknown[] = [];
    breaker.on('open', () => {
      seen.push(breaker.state, breaker.stats().openedAt);
      breaker.reset();
    });
    await failTimes(breaker, 1);
    expect(seen).toEqual(['OPEN', T0]);
    expect(breaker.state).toBe('CLOSED');
  });
});

describe('listener errors are isolated', () => {
  test('a throwing listener does not break calls, transitions or other listeners', async () => {
    const onListenerError = vi.fn();
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 10, onListenerError });
    const thrown = new Error('listener bug');
    const after = vi.fn();
    for (const event of ['open', 'halfOpen', 'close', 'stateChange', 'reject', 'failure', 'success'] as const) {
      breaker.on(event, () => {
        throw thrown;
      });
    }
    breaker.on('open', after);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    await expect(breaker.execute(boom)).rejects.toThrow('boom');
    expect(breaker.state).toBe('OPEN');
    expect(after).toHaveBeenCalledTimes(1);
    await expect(breaker.execute(ok)).rejects.toMatchObject({ code: 'E_CIRCUIT_OPEN' });
    vi.advanceTimersByTime(10);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('CLOSED');
    expect(onListenerError.mock.calls.map((c) => c[1])).toEqual([
      'success',
      'failure',
      'open',
      'stateChange',
      'reject',
      'halfOpen',
      'stateChange',
      'success',
      'close',
      'stateChange',
    ]);
    expect(onListenerError.mock.calls[0]?.[0]).toBe(thrown);
  });

  test('a throwing onListenerError is swallowed too', async () => {
    const breaker = new CircuitBreaker({
      onListenerError: () => {
        throw new Error('handler bug');
      },
    });
    breaker.on('success', () => {
      throw new Error('listener bug');
    });
    await expect(breaker.execute(ok)).resolves.toBe('ok');
  });

  test('default: one process warning per breaker and event name', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const breaker = new CircuitBreaker({ name: 'warned' });
    breaker.on('success', () => {
      throw new Error('listener bug');
    });
    breaker.on('failure', () => {
      throw 'not an error';
    });
    for (let i = 0; i < 3; i++) await breaker.execute(ok);
    await breaker.execute(boom).catch(() => undefined);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(String(warn.mock.calls[0]?.[0])).toContain('"success" listener of circuit breaker "warned" threw (Error: listener bug)');
    expect(warn.mock.calls[0]?.[1]).toMatchObject({ code: 'STRATACACHE_BREAKER_LISTENER_ERROR' });
    expect(String(warn.mock.calls[1]?.[0])).toContain('(string)');
  });
});
