import { describe, expect, test } from 'vitest';
import { CircuitBreaker, type CircuitState } from '../src/index';

/**
 * Randomized check of the low-level API against a deliberately naive reference model (plain
 * arrays, no ring buffer, no epochs), with a deterministic PRNG so failures are reproducible.
 */
class Reference {
  state: CircuitState = 'CLOSED';
  failures: number[] = [];
  openedAt = 0;
  issued = 0;
  outstanding = 0;
  succeeded = 0;
  lastGrant = 0;
  constructor(private readonly o: { threshold: number; window: number; reset: number; probes: number }) {}
  private go(to: CircuitState, now: number): void {
    this.state = to;
    this.failures = [];
    this.issued = this.outstanding = this.succeeded = 0;
    if (to === 'OPEN') this.openedAt = now;
  }
  acquire(now: number): boolean {
    if (this.state === 'CLOSED') return true;
    if (this.state === 'OPEN') {
      if (now - this.openedAt >= this.o.reset) {
        this.go('HALF_OPEN', now);
        this.issued = this.outstanding = 1;
        this.lastGrant = now;
        return true;
      }
      return false;
    }
    if (this.issued < this.o.probes) {
      this.issued++;
      this.outstanding++;
      this.lastGrant = now;
      return true;
    }
    if (this.outstanding > 0 && now - this.lastGrant >= this.o.reset) this.go('OPEN', now);
    return false;
  }
  success(now: number): void {
    if (this.state === 'HALF_OPEN' && this.outstanding > 0) {
      this.outstanding--;
      if (++this.succeeded >= this.o.probes) this.go('CLOSED', now);
    }
  }
  failure(now: number): void {
    if (this.state === 'CLOSED') {
      this.failures.push(now);
      if (this.failures.filter((t) => now - t < this.o.window).length >= this.o.threshold) this.go('OPEN', now);
    } else if (this.state === 'HALF_OPEN' && this.outstanding > 0) this.go('OPEN', now);
  }
  inWindow(now: number): number {
    return this.state === 'CLOSED' ? this.failures.filter((t) => now - t < this.o.window).length : 0;
  }
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('model check', () => {
  test.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: 3000 random operations match the reference', (seed) => {
    const rnd = prng(seed);
    const o = {
      threshold: 1 + Math.floor(rnd() * 5),
      window: 50 + Math.floor(rnd() * 200),
      reset: 20 + Math.floor(rnd() * 100),
      probes: 1 + Math.floor(rnd() * 3),
    };
    let now = 0;
    const breaker = new CircuitBreaker({
      now: () => now,
      failureThreshold: o.threshold,
      monitoringWindow: o.window,
      resetTimeout: o.reset,
      halfOpenMaxCalls: o.probes,
    });
    const ref = new Reference(o);
    let held = 0; // permits granted and not yet reported
    for (let i = 0; i < 3000; i++) {
      now += Math.floor(rnd() * 30);
      const r = rnd();
      if (r < 0.45) {
        const a = breaker.tryAcquire();
        expect(a, `op ${i}`).toBe(ref.acquire(now));
        if (a) held++;
      } else if (held > 0 && r < 0.8) {
        held--;
        breaker.onSuccess();
        ref.success(now);
      } else if (held > 0) {
        held--;
        breaker.onFailure(new Error('x'));
        ref.failure(now);
      }
      if (rnd() < 0.1) held = 0; // callers that give up without reporting (the probe deadline covers them)
      expect(breaker.state, `op ${i}`).toBe(ref.state);
      expect(breaker.stats().failuresInWindow, `op ${i}`).toBe(ref.inWindow(now));
    }
  });
});
