// Every scenario in a short mode against the real gateway (in process) and real Redis (harness):
// each asserts its own check and the figures it reports.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/run';
import { findScenario } from '../src/scenarios';
import type { Report } from '../src/report/report';
import { optionsFor } from './helpers';

async function run(name: string, args: string[]): Promise<Report> {
  const { report, files } = await runScenario(findScenario(name)!, optionsFor(name, args));
  const json = JSON.parse(readFileSync(files.json, 'utf8')) as Report;
  expect(json.scenario).toBe(name);
  expect(json.requests).toBe(report.requests);
  expect(report.requests).toBeGreaterThan(0);
  for (const k of ['p50', 'p95', 'p99', 'p999', 'max'] as const) expect(report.latencyMs[k]).toBeGreaterThan(0);
  expect(report.latencyMs.p50).toBeLessThanOrEqual(report.latencyMs.p99);
  expect(report.latencyMs.p99).toBeLessThanOrEqual(report.latencyMs.max);
  expect(report.series.length).toBeGreaterThan(0);
  return report;
}

describe('scenarios against the real gateway and Redis (short mode)', () => {
  it('zipf: closed loop, bounded by count; hits, origin calls avoided, no errors', async () => {
    const r = await run('zipf', ['-c', '8', '--sessions', '4', '-n', '600', '-d', '10s', '--interval', '250ms']);
    expect(r.check).toMatchObject({ passed: true });
    expect(r.requests).toBe(600);
    expect(r.errors).toBe(0);
    expect(r.hitRate).toBeGreaterThan(0.5);
    expect(r.originCalls).toBeGreaterThan(0);
    expect(r.originCalls).toBeLessThan(r.reads);
    expect(r.originCallsAvoidedPct).toBeCloseTo(100 * (1 - r.originCalls! / r.reads), 1);
    expect(r.target).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  });

  it('zipf: open loop at a fixed rate, bounded by time', async () => {
    const r = await run('zipf', ['--rate', '100', '--sessions', '2', '-d', '1500ms', '--interval', '250ms']);
    expect(r.check.passed).toBe(true);
    expect(r.mode).toBe('open loop, 100 req/s');
    expect(r.requests).toBeGreaterThanOrEqual(140);
    expect(r.requests).toBeLessThanOrEqual(151);
  });

  it('mixed: reads, writes and signed webhooks; no stale read after a write', async () => {
    const r = await run('mixed', ['-c', '8', '--sessions', '4', '-n', '500', '-d', '10s', '--write-ratio', '0.15', '--webhook-ratio', '0.1', '--interval', '250ms']);
    expect(r.check).toMatchObject({ passed: true });
    expect(r.details).toMatchObject({ staleReads: 0 });
    expect(r.details['writes']).toBeGreaterThan(20);
    expect(r.details['webhooks']).toBeGreaterThan(10);
  });

  it('stampede: 1000 concurrent requests on a just-expired key reach the origin once', async () => {
    const r = await run('stampede', ['--upstream-latency', '200ms', '--ttl', '600ms', '--interval', '250ms']);
    expect(r.check).toMatchObject({ passed: true });
    expect(r.requests).toBe(1000);
    expect(r.originCalls).toBe(1);
    expect(r.errors).toBe(0);
  });

  it('redis-down: Redis stopped and restarted mid-run, no request fails', async () => {
    const r = await run('redis-down', ['-c', '8', '--sessions', '4', '-d', '3s', '-n', '20000', '--down-at', '700ms', '--down-for', '1200ms', '--upstream-latency', '5ms', '--interval', '250ms']);
    expect(r.check).toMatchObject({ passed: true });
    expect(r.errors).toBe(0);
    expect(r.details['downAtMs']).toBeGreaterThanOrEqual(600);
    expect(r.details['upAtMs']).toBeGreaterThan(r.details['downAtMs'] as number);
  });

  it('failover: Sentinel master killed mid-run; outage window and errors reported', async () => {
    const r = await run('failover', ['--rate', '500', '-d', '4s', '--down-at', '1s', '--interval', '250ms']);
    expect(r.check).toMatchObject({ passed: true });
    expect(r.errors).toBe(0);
    expect(typeof r.details['outageMs']).toBe('number');
    expect(r.details['newMaster']).toMatch(/^127\.0\.0\.1:\d+$/);
  }, 90_000);

  it('soak: a fixed rate; memory and latency drift reported', async () => {
    const r = await run('soak', ['--rate', '80', '-d', '2s', '--interval', '250ms', '--max-drift', '50']);
    expect(r.check).toMatchObject({ passed: true });
    expect(r.details['p99Drift']).toBeGreaterThan(0);
    expect(typeof r.details['heapGrowthMb']).toBe('number');
    expect(r.series.every((p) => p.rssMb > 0 && p.heapMb > 0)).toBe(true);
  });
});
