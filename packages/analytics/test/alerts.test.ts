import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CacheService, RedisStore } from '@stratacache/core';
import { startStandalone, waitFor, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsConfigError, CacheAnalytics, parseAlertRules } from '../src/index';
import { client } from './helpers';

let redis: StandaloneRedis;
let server: Server;
let url: string;
const received: { status: number; body: any }[] = [];
let failNext = 0;

beforeAll(async () => {
  redis = await startStandalone({ args: ['--maxmemory', '50mb'] });
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const status = failNext > 0 ? (failNext--, 500) : 200;
      received.push({ status, body: JSON.parse(data) });
      res.statusCode = status;
      res.end(status === 200 ? 'ok' : 'boom');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await redis?.close();
});

describe('alerts', () => {
  it('a low hit rate fires once, reaches the webhook (retried after a 500), is deduplicated, acknowledged and resolves', async () => {
    const store = new RedisStore(client(redis.port), { ownsClient: true });
    const svc = new CacheService({ store, prefix: 'al', opTimeout: 2_000 });
    const analytics = new CacheAnalytics({ store, prefix: 'al', flushInterval: 0, instanceId: 'test-1' });
    analytics.attach(svc);
    const alerts = analytics.startAlerts({
      interval: 0,
      rules: [
        { type: 'hit_rate_below', threshold: 0.9, minRequests: 10, window: '1m', cooldown: '1h', severity: 'critical' },
        { type: 'memory_above', percent: 0.5 },
        { type: 'origin_error_rate_above', threshold: 0.5, minRequests: 5 },
      ],
      webhook: { url, retries: 3, backoffMs: 50 },
    });
    failNext = 1;
    for (let i = 0; i < 20; i++) await svc.getOrSet(`al:jobs:get:${i}`, () => i); // 20 misses
    const fired = await alerts.evaluate();
    expect(fired.map((a) => a.ruleId).sort()).toEqual(['hit_rate_below', 'memory_above']);
    await alerts.idle();
    const hit = fired.find((a) => a.ruleId === 'hit_rate_below')!;
    expect(hit.value).toBe(0);
    expect(hit.deliveries.map((d) => d.status)).toEqual([500, 200]);
    expect(hit.delivered).toBe(true);
    const bodies = received.filter((r) => r.body.alert.ruleId === 'hit_rate_below');
    expect(bodies.map((r) => r.status)).toEqual([500, 200]);
    expect(bodies[1]!.body.text).toMatch(/^\[CRITICAL\] hit_rate_below: hit rate 0\.0 % below 90\.0 %/);
    expect(bodies[1]!.body.attachments[0].color).toBe('#E01E5A');
    const mem = fired.find((a) => a.ruleId === 'memory_above')!;
    expect(mem.value).toBeGreaterThan(0.5); // used_memory of a fresh Redis is ~1 MB of 50 MB
    // still low: deduplicated, not re-sent
    const n = received.length;
    expect(await alerts.evaluate()).toEqual([]);
    await alerts.idle();
    expect(received.length).toBe(n);
    expect(alerts.activeAlerts().find((a) => a.ruleId === 'hit_rate_below')!.repeats).toBe(1);
    expect(alerts.acknowledge(hit.id, 'ops@example')).toBe(true);
    expect(alerts.alertHistory().find((a) => a.id === hit.id)).toMatchObject({ acknowledgedBy: 'ops@example' });
    expect(alerts.acknowledge('nope')).toBe(false);
    // hits bring the window's hit rate up: the alert resolves (a RESOLVED notification is sent); cooldown blocks a re-fire
    for (let r = 0; r < 20; r++) for (let i = 0; i < 20; i++) await svc.getOrSet(`al:jobs:get:${i}`, () => i);
    await alerts.evaluate(Date.now() + 61_000);
    await alerts.idle();
    expect(hit.status).toBe('resolved');
    expect(received.at(-1)!.body.text).toMatch(/^RESOLVED hit_rate_below/);
    await analytics.close();
    await svc.close();
  });

  it('a webhook that keeps failing: attempts and the failure are recorded, nothing throws', async () => {
    const analytics = new CacheAnalytics({ flushInterval: 0 });
    const svc = new CacheService({ prefix: 'al2' });
    analytics.attach(svc);
    const alerts = analytics.startAlerts({ interval: 0, rules: [{ type: 'hit_rate_below', threshold: 0.5, minRequests: 1 }], webhook: { url, retries: 2, backoffMs: 10 } });
    failNext = 10;
    await svc.getOrSet('al2:x:y:1', () => 1);
    const [a] = await alerts.evaluate();
    await alerts.idle();
    expect(a!.deliveries).toHaveLength(3);
    expect(a!.delivered).toBe(false);
    expect(alerts.deliveryFailures).toBe(1);
    failNext = 0;
    await analytics.close();
    await svc.close();
  });

  it('breaker_open fires when the Redis behind a cache dies (circuit state from breaker events) and resolves when it is back', async () => {
    const own = await startStandalone();
    const store = new RedisStore(client(own.port), { ownsClient: true });
    const svc = new CacheService({ store, prefix: 'br', opTimeout: 300 });
    const analytics = new CacheAnalytics({ flushInterval: 0 });
    analytics.attach(svc, { tenant: 'stamford' });
    const alerts = analytics.startAlerts({ interval: 0, rules: [{ type: 'breaker_open', cooldown: 0 }] });
    await svc.getOrSet('br:x:y:1', () => 1);
    expect(await alerts.evaluate()).toEqual([]);
    await own.kill();
    await waitFor(async () => (await svc.getOrSet('br:x:y:2', () => 2), svc.breaker.state === 'OPEN'), { timeoutMs: 15_000 });
    const [a] = await alerts.evaluate();
    expect(a).toMatchObject({ ruleId: 'breaker_open', message: 'circuit open: stamford' });
    expect(await analytics.metrics()).toContain('stratacache_circuit_state{cache="stamford"} 2');
    await own.restart();
    await waitFor(async () => (await svc.getOrSet('br:x:y:3', () => 3), svc.breaker.state === 'CLOSED'), { timeoutMs: 20_000 });
    await alerts.evaluate();
    expect(a!.status).toBe('resolved');
    await analytics.close();
    await svc.close();
    await own.close();
  });

  it('a rule config that does not parse is a clear error at start-up', () => {
    expect(() => parseAlertRules([{ type: 'hit_rate_below' }])).toThrow(/rules\[0\]\.threshold: is required for hit_rate_below/);
    expect(() => parseAlertRules([{ type: 'cpu_high' }])).toThrow(AnalyticsConfigError);
    expect(() => parseAlertRules([{ type: 'p99_above', ms: 100, treshold: 1 }])).toThrow(/rules\[0\]\.treshold: unknown field/);
    expect(() => parseAlertRules({})).toThrow(/must be an array/);
    const analytics = new CacheAnalytics({ flushInterval: 0 });
    expect(() => analytics.startAlerts({ rules: [{ type: 'memory_above', percent: 120 }] })).toThrow(/alerts\.rules\[0\]\.percent: must be <= 100/);
    expect(() => analytics.startAlerts({ rules: [], webhook: { url: 'ftp://x' } })).toThrow(/alerts\.webhook\.url/);
    void analytics.close();
  });
});
