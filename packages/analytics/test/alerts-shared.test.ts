import { CacheService, MemoryStore } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsConfigError, CacheAnalytics, parseAlertRules } from '../src/index';
import { client, delay } from './helpers';

let redis: StandaloneRedis;
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

describe("alert rules with scope: 'shared' (minute buckets of every instance)", () => {
  it('two collectors: rules fire on the sum of both instances, while the same rules on local counters do not', async () => {
    const prefix = `as${Date.now() % 100_000}`;
    const ra = client(redis.port);
    const rb = client(redis.port);
    const a = new CacheAnalytics({ store: ra, prefix, flushInterval: 0, instanceId: 'inst-a' });
    const b = new CacheAnalytics({ store: rb, prefix, flushInterval: 0, instanceId: 'inst-b' });
    const sa = new CacheService({ store: new MemoryStore(), prefix: 'app' });
    const sb = new CacheService({ store: new MemoryStore(), prefix: 'app' });
    const tb = new TieredCache(sb, { bus: false, distributedLock: false });
    a.attach(sa);
    b.attach(tb);
    const rules = (scope: 'local' | 'shared') => [
      { id: `hit-${scope}`, type: 'hit_rate_below' as const, threshold: 0.5, minRequests: 100, scope },
      { id: `p99-${scope}`, type: 'p99_above' as const, ms: 15, source: 'origin' as const, minRequests: 20, scope },
      { id: `err-${scope}`, type: 'origin_error_rate_above' as const, threshold: 0.2, minRequests: 20, scope },
      { id: `inv-${scope}`, type: 'invalidation_rate_above' as const, perMinute: 10, scope },
    ];
    const alerts = a.startAlerts({ interval: 0, rules: [...rules('local'), ...rules('shared')] });
    expect(alerts.rules.map((r) => r.scope)).toEqual(['local', 'local', 'local', 'local', 'shared', 'shared', 'shared', 'shared']);

    // instance A: all hits, no origin calls, no invalidations — healthy on its own
    await sa.set('jobs:get:1', 1);
    for (let i = 0; i < 120; i++) await sa.get('jobs:get:1');
    // instance B: misses with slow origin calls (a third fail), and many invalidations
    for (let i = 0; i < 300; i++) {
      await tb
        .getOrSet(`jobs:get:b${i}`, async () => {
          if (i < 30) await delay(20);
          if (i % 3 === 0) throw new Error('upstream down');
          return i;
        })
        .catch(() => undefined);
    }
    // 100 in a 5 min window (rounded out to 6 minute buckets at most): > 16 / min
    for (let i = 0; i < 100; i++) await tb.invalidate({ key: `jobs:get:b${i}` });
    await b.flush();

    const fired = await alerts.evaluate();
    expect(fired.map((f) => f.ruleId).sort()).toEqual(['err-shared', 'hit-shared', 'inv-shared', 'p99-shared']);
    const hit = fired.find((f) => f.ruleId === 'hit-shared')!;
    expect(hit.value).toBeCloseTo(120 / 420, 2); // A's 120 hits over A's 120 + B's 300 reads
    expect(hit.message).toContain('all instances');
    expect(fired.find((f) => f.ruleId === 'p99-shared')!.value).toBeGreaterThan(15);
    // deduplicated on the next evaluation; with A's hits dominating the shared window, the hit-rate alert resolves
    for (let i = 0; i < 2_000; i++) await sa.get('jobs:get:1');
    await alerts.evaluate();
    const active = alerts.activeAlerts().map((x) => x.ruleId).sort();
    expect(active).toEqual(['err-shared', 'inv-shared', 'p99-shared']);
    expect(alerts.alertHistory().find((x) => x.ruleId === 'hit-shared')!.status).toBe('resolved');
    alerts.stop();
    await a.close();
    await b.close();
    await tb.close();
    await sa.close();
    await sb.close();
    await ra.quit();
    await rb.quit();
  });

  it("scope is validated: 'local' | 'shared', only on windowed rules", () => {
    expect(() => parseAlertRules([{ type: 'hit_rate_below', threshold: 0.5, scope: 'global' }])).toThrow(AnalyticsConfigError);
    expect(() => parseAlertRules([{ type: 'breaker_open', scope: 'shared' }])).toThrow(/scope/);
    expect(parseAlertRules([{ type: 'p99_above', ms: 10 }])[0]!.scope).toBe('local');
  });
});
