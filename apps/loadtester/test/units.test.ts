import { describe, expect, it } from 'vitest';
import { runLoad } from '../src/driver';
import { isLoopbackHost, requireLoopback } from '../src/loopback';
import { parseCommand, parseDurationMs, UsageError } from '../src/options';
import { Recorder } from '../src/recorder';
import { drift } from '../src/scenarios/soak';
import { prng, zipfSampler } from '../src/zipf';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('open loop vs closed loop', () => {
  it('open loop charges a stall to every request that should have been sent during it', async () => {
    const rec = new Recorder(100);
    rec.start();
    // 200 req/s, one at a time; request 0 stalls 300 ms: requests due meanwhile wait for it
    const res = await runLoad({ mode: { kind: 'rate', rate: 200, maxInFlight: 1 }, maxRequests: 100, durationMs: 2_000 }, async (i) => {
      if (i === 0) await sleep(300);
      return { ok: true, source: 'cache' };
    }, rec);
    rec.stop();
    expect(res.sent).toBe(100);
    // ~60 of 100 requests were due during the stall (waits of 0–300 ms): the p70 shows it
    expect(rec.total.getValueAtPercentile(70) / 1000).toBeGreaterThan(50);
    rec.destroy();
  });

  it('closed loop records the stall once', async () => {
    const rec = new Recorder(100);
    await runLoad({ mode: { kind: 'concurrency', concurrency: 1 }, maxRequests: 50, durationMs: 2_000 }, async (i) => {
      if (i === 0) await sleep(300);
      return { ok: true };
    }, rec);
    rec.stop();
    expect(rec.requests).toBe(50);
    expect(rec.total.getValueAtPercentile(90) / 1000).toBeLessThan(50);
    rec.destroy();
  });

  it('is bounded in time, and counts throws as errors by type', async () => {
    const rec = new Recorder(100);
    const t0 = performance.now();
    const res = await runLoad({ mode: { kind: 'concurrency', concurrency: 4 }, maxRequests: 1_000_000, durationMs: 300 }, async (i) => {
      await sleep(5);
      if (i % 10 === 0) throw Object.assign(new Error('boom'), { code: 'EBOOM' });
      return { ok: true };
    }, rec);
    rec.stop();
    expect(res.stoppedBy).toBe('time');
    expect(performance.now() - t0).toBeLessThan(1_500);
    expect(rec.errorsByType['EBOOM']).toBeGreaterThan(0);
    rec.destroy();
  });
});

describe('zipf', () => {
  it('rank 1 is the most frequent, and skew 0 is uniform', () => {
    const n = 100;
    const counts = new Array<number>(n).fill(0);
    const pick = zipfSampler(n, 1.1, prng(7));
    for (let i = 0; i < 20_000; i++) counts[pick()]!++;
    expect(counts[0]).toBeGreaterThan(counts[9]! * 5);
    const flat = new Array<number>(10).fill(0);
    const uni = zipfSampler(10, 0, prng(7));
    for (let i = 0; i < 10_000; i++) flat[uni()]!++;
    for (const c of flat) expect(c).toBeGreaterThan(800);
  });
});

describe('options and targets', () => {
  it('parses durations and scenario defaults', () => {
    expect(parseDurationMs('2m', 'x')).toBe(120_000);
    expect(parseDurationMs('250ms', 'x')).toBe(250);
    const { scenario, options } = parseCommand(['--', 'soak', '--minutes', '0.5'], () => ({ rate: 100 }));
    expect(scenario).toBe('soak');
    expect(options.durationMs).toBe(30_000);
    expect(options.rate).toBe(100);
    expect(() => parseCommand(['zipf', '--requests', '0'])).toThrow(UsageError);
    expect(() => parseCommand(['zipf', '--bogus'])).toThrow(UsageError);
  });

  it('only loopback targets', () => {
    for (const h of ['127.0.0.1', '127.9.8.7', 'localhost', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['10.0.0.1', '192.168.1.1', 'example.com', '0.0.0.0']) expect(isLoopbackHost(h)).toBe(false);
    expect(() => requireLoopback('http://10.1.2.3:3000/mcp', '--url')).toThrow(/not a loopback address/);
  });

  it('drift compares the last third with the first', () => {
    const pt = (p99Ms: number, heapMb: number) => ({ tMs: 0, requests: 1, rps: 1, hitRate: 1, p50Ms: 1, p99Ms, maxMs: p99Ms, errors: 0, rssMb: 100, heapMb });
    expect(drift([pt(10, 50), pt(10, 50), pt(15, 55), pt(20, 60), pt(20, 60), pt(20, 60)])).toMatchObject({ p99Drift: 2, heapGrowthMb: 10 });
  });
});

describe('fault window', () => {
  it('comes from the drill details', async () => {
    const { faultWindow } = await import('../src/report/report');
    const base = { durationMs: 4000 } as Parameters<typeof faultWindow>[0];
    expect(faultWindow({ ...base, details: { downAtMs: 1000, upAtMs: 2500 } })).toEqual({ fromMs: 1000, toMs: 2500, label: 'Redis down' });
    expect(faultWindow({ ...base, details: { killedAtMs: 1000, outageMs: 300 } })).toMatchObject({ fromMs: 1000, toMs: 1300 });
    expect(faultWindow({ ...base, details: {} })).toBeNull();
  });
});
