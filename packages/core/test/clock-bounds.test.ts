// StoreClock's bounds on the offset to the store's clock: a measurement taken while the store or
// this process is busy (long round trips) must not widen them — every barrier write waits about
// twice their half-width (`invalidate*`), and another instance's values within that window read as
// invalidated. A stepped clock (disjoint bounds) is followed at once. Injected clocks, no Redis.
import { describe, expect, it } from 'vitest';
import { StoreClock } from '../src/clock';

/** A local clock and a store clock `skew` ms ahead; each TIME call takes `rtt` ms of local time. */
function fakeClocks(): { local: () => number; source: () => Promise<number>; advance(ms: number): void; rtt: number; skew: number } {
  const s = {
    t: 1_000_000,
    rtt: 2,
    skew: 500,
    local: () => s.t,
    source: async () => {
      s.t += s.rtt / 2;
      const server = s.t + s.skew;
      s.t += s.rtt / 2;
      return server;
    },
    advance(ms: number) {
      s.t += ms;
    },
  };
  return s;
}

/** Half-width of the clock's current bounds: how far `barrierStamp()` sits above `now()`. */
const halfWidth = (c: StoreClock) => c.barrierStamp() - c.now();

describe('StoreClock bounds', () => {
  it('a slow measurement after a fast one keeps the tight bounds (intersection), and the offset inside both', async () => {
    const f = fakeClocks();
    const c = new StoreClock(f.local, f.source, 1_000);
    expect(await c.sync()).toBe(true);
    const tight = halfWidth(c);
    expect(tight).toBeLessThanOrEqual(2 + 0.01); // rtt/2 + the injected clock's 1 ms resolution
    expect(Math.abs(c.now() - (f.local() + 500))).toBeLessThanOrEqual(tight);

    f.advance(10_000); // one clockSyncInterval: + 0.5 ms drift allowance
    f.rtt = 40; // the store answers slowly now
    expect(await c.sync()).toBe(true);
    expect(halfWidth(c)).toBeLessThan(tight + 1); // not rtt/2 = 20 ms
    expect(Math.abs(c.now() - (f.local() + 500))).toBeLessThanOrEqual(halfWidth(c));
    // stamps still bracket the store's time: createdAt below it, barriers above it
    const server = f.local() + f.skew;
    expect(c.stamp()).toBeLessThanOrEqual(server);
    expect(c.barrierStamp()).toBeGreaterThanOrEqual(server);
  });

  it('a clock step (bounds that do not meet) is followed by the next measurement', async () => {
    const f = fakeClocks();
    const c = new StoreClock(f.local, f.source, 1_000);
    await c.sync();
    f.advance(10_000);
    f.skew += 1_000; // the store's clock stepped a second ahead
    f.rtt = 4;
    await c.sync();
    expect(Math.abs(c.now() - (f.local() + 1_500))).toBeLessThanOrEqual(3);
    expect(halfWidth(c)).toBeLessThanOrEqual(3 + 0.01);
  });

  it('a fast measurement after a slow one tightens the bounds', async () => {
    const f = fakeClocks();
    f.rtt = 60;
    const c = new StoreClock(f.local, f.source, 1_000);
    await c.sync();
    expect(halfWidth(c)).toBeGreaterThan(25);
    f.advance(1_000);
    f.rtt = 2;
    await c.sync();
    expect(halfWidth(c)).toBeLessThanOrEqual(2 + 0.1);
    expect(Math.abs(c.now() - (f.local() + 500))).toBeLessThanOrEqual(halfWidth(c));
  });

  it('tighten(): loose bounds are measured again before a barrier write; a hung store costs it at most 10 ms', async () => {
    const f = fakeClocks();
    f.rtt = 60;
    const c = new StoreClock(f.local, f.source, 1_000);
    await c.sync();
    expect(c.loose).toBe(true);
    f.rtt = 1;
    await c.tighten(200);
    expect(c.loose).toBe(false);
    expect(halfWidth(c)).toBeLessThanOrEqual(1.5 + 0.1);
    await c.tighten(200); // tight: nothing measured
    expect(halfWidth(c)).toBeLessThanOrEqual(1.5 + 0.1);

    // a store that stops answering: tighten gives up after 10 ms (the measurement itself times out later)
    let calls = 0;
    const hung = new StoreClock(f.local, async () => {
      calls++;
      if (calls === 1) {
        f.advance(60);
        return f.local() + f.skew;
      }
      return new Promise<number>(() => undefined);
    }, 50);
    await hung.sync();
    expect(hung.loose).toBe(true);
    const t0 = performance.now();
    await hung.tighten(200);
    expect(performance.now() - t0).toBeLessThan(10 + 40);
    hung.stop();
  });
});

