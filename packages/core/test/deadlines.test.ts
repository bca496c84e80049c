import { describe, expect, it } from 'vitest';
import { Deadlines } from '../src/deadlines';

describe('Deadlines (the operation deadline of the guarded store)', () => {
  it('a call times out at opTimeout — not before, and not up to 1.5× later', async () => {
    const d = new Deadlines(80);
    const never = new Promise<never>(() => undefined);
    const started: number[] = [];
    const ended: number[] = [];
    const calls = [0, 20, 50].map(async (delay) => {
      await new Promise((r) => setTimeout(r, delay));
      const t0 = performance.now();
      started.push(t0);
      await d.race(never, 'get').catch((e: unknown) => {
        ended.push(performance.now() - t0);
        expect(e).toMatchObject({ code: 'E_STORE_TIMEOUT' });
      });
    });
    await Promise.all(calls);
    for (const ms of ended) {
      expect(ms).toBeGreaterThanOrEqual(79);
      expect(ms).toBeLessThan(80 + 30); // timer resolution + event-loop delay on a shared machine
    }
    d.stop();
  });

  it('settled calls never time out; stop() rejects the pending ones', async () => {
    const d = new Deadlines(30);
    expect(await d.race(Promise.resolve(1), 'get')).toBe(1);
    await expect(d.race(Promise.reject(new Error('x')), 'get')).rejects.toThrow('x');
    const pending = d.race(new Promise<never>(() => undefined), 'get');
    d.stop();
    await expect(pending).rejects.toMatchObject({ code: 'E_STORE_CLOSED' });
  });
});
