import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { CircuitBreaker, type StateChangeEvent } from '../src/index';
import { failTimes, ok } from './helpers';

const T0 = 1_700_000_000_000;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

function record(b: CircuitBreaker): StateChangeEvent[] {
  const out: StateChangeEvent[] = [];
  b.on('stateChange', (e) => out.push(e));
  return out;
}

describe("trip('connection-lost')", () => {
  test('opens a CLOSED circuit with its own reason', () => {
    const b = new CircuitBreaker({ resetTimeout: 5_000 });
    const ev = record(b);
    b.trip('connection-lost');
    expect(b.state).toBe('OPEN');
    expect(ev).toEqual([{ name: 'breaker', from: 'CLOSED', to: 'OPEN', at: T0, reason: 'connection-lost' }]);
    expect(b.tryAcquire()).toBe(false);
  });

  test('does not push back the probe of an already OPEN circuit (manual trip does)', () => {
    const b = new CircuitBreaker({ resetTimeout: 5_000 });
    b.trip('connection-lost');
    vi.advanceTimersByTime(4_000);
    b.trip('connection-lost');
    expect(b.stats().openedAt).toBe(T0);
    vi.advanceTimersByTime(1_000);
    expect(b.tryAcquire()).toBe(true); // resetTimeout from the first trip
    b.onFailure(new Error('x'));
    b.trip();
    expect(b.stats().openedAt).toBe(T0 + 5_000);
  });

  test('re-opens a HALF_OPEN circuit', () => {
    const b = new CircuitBreaker({ resetTimeout: 100 });
    b.trip();
    vi.advanceTimersByTime(100);
    expect(b.tryAcquire()).toBe(true);
    expect(b.state).toBe('HALF_OPEN');
    b.trip('connection-lost');
    expect(b.state).toBe('OPEN');
    b.onSuccess(); // late report of the probe cannot close it
    expect(b.state).toBe('OPEN');
  });

  test('rejects an unknown reason', () => {
    const b = new CircuitBreaker();
    expect(() => b.trip('threshold' as never)).toThrow(TypeError);
    expect(b.state).toBe('CLOSED');
  });
});

describe('probeNow()', () => {
  test('OPEN → HALF_OPEN at once; the next call is the probe and closes the circuit', async () => {
    const b = new CircuitBreaker({ resetTimeout: 60_000 });
    await failTimes(b, 5);
    expect(b.state).toBe('OPEN');
    const ev = record(b);
    vi.advanceTimersByTime(10);
    expect(b.probeNow()).toBe(true);
    expect(b.state).toBe('HALF_OPEN');
    expect(ev[0]).toMatchObject({ from: 'OPEN', to: 'HALF_OPEN', reason: 'probe-now', at: T0 + 10 });
    await expect(b.execute(ok)).resolves.toBe('ok');
    expect(b.state).toBe('CLOSED');
    expect(ev.map((e) => e.reason)).toEqual(['probe-now', 'probes-succeeded']);
  });

  test('a failing probe re-opens for a fresh resetTimeout', async () => {
    const b = new CircuitBreaker({ resetTimeout: 1_000 });
    b.trip();
    b.probeNow();
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false); // halfOpenMaxCalls 1: one probe at a time
    b.onFailure(new Error('still down'));
    expect(b.state).toBe('OPEN');
    expect(b.stats().openedAt).toBe(T0);
    vi.advanceTimersByTime(999);
    expect(b.tryAcquire()).toBe(false);
    vi.advanceTimersByTime(1);
    expect(b.tryAcquire()).toBe(true);
  });

  test('is a no-op in CLOSED and HALF_OPEN', () => {
    const b = new CircuitBreaker({ resetTimeout: 100 });
    expect(b.probeNow()).toBe(false);
    expect(b.state).toBe('CLOSED');
    b.trip();
    b.probeNow();
    expect(b.tryAcquire()).toBe(true);
    expect(b.probeNow()).toBe(false);
    expect(b.state).toBe('HALF_OPEN');
  });

  test('honours halfOpenMaxCalls', () => {
    const b = new CircuitBreaker({ halfOpenMaxCalls: 2 });
    b.trip('connection-lost');
    b.probeNow();
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false);
    b.onSuccess();
    expect(b.state).toBe('HALF_OPEN');
    b.onSuccess();
    expect(b.state).toBe('CLOSED');
  });
});
