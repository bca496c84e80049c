import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheAnalytics, type Aggregate } from '../src/index';
import { client } from './helpers';

const FIXTURE = fileURLToPath(new URL('./fixtures/instance.ts', import.meta.url));
const PKG = fileURLToPath(new URL('..', import.meta.url));

let redis: StandaloneRedis;
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

function run(id: string, n: number, k: number): Promise<{ local: Aggregate }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--conditions=@stratacache/source', '--import', 'tsx', FIXTURE, String(redis.port), id, String(n), String(k)],
      { cwd: PKG, timeout: 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${id}: ${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split('\n').pop()!))),
    );
  });
}

describe('two collectors in two OS processes', () => {
  it('their numbers add up exactly in the shared minute and hour buckets', async () => {
    const [a, b] = await Promise.all([run('a', 300, 3), run('b', 120, 5)]);
    const redisClient = client(redis.port);
    const reader = new CacheAnalytics({ store: redisClient, prefix: 'mp', flushInterval: 0 });
    for (const range of ['1h', '24h', '7d'] as const) {
      const agg = await reader.aggregate(range);
      for (const f of ['requests', 'hits', 'l1Hits', 'l2Hits', 'misses', 'originCalls', 'invalidations'] as const) {
        expect(agg[f], `${range} ${f}`).toBe(a.local[f] + b.local[f]);
      }
      expect(agg.latency.origin.count).toBe(a.local.latency.origin.count + b.local.latency.origin.count);
      expect(agg.latency.l2.count).toBe(a.local.latency.l2.count + b.local.latency.l2.count);
    }
    const agg = await reader.aggregate('1h');
    // known workload: jobs — 10 distinct keys per instance; users — 7 keys shared by both instances
    // (hits: 'counted' — every 64th hit per source is a sample counted per entity; the rest of the exact
    // total from stats() — at most 63 per source per sync — under entity 'all'; misses and origin calls per entity)
    // (one instance's namespace invalidations can land while the other still reads: reloads, never fewer than 20)
    const jobs = agg.byEntity['acme|jobs']!;
    expect(jobs.requests - jobs.hits).toBeGreaterThanOrEqual(20);
    expect(jobs.originCalls).toBe(jobs.requests - jobs.hits);
    expect(Object.values(agg.byEntity).reduce((n, e) => n + e.hits, 0)).toBe(840 - agg.misses);
    expect(agg.byEntity['acme|users']!.hits).toBeGreaterThanOrEqual(64);
    expect(agg.byEntity['acme|all']!.hits).toBeLessThanOrEqual(2 * 2 * 63);
    expect(agg.byEntity['acme|users']!.originCalls).toBeGreaterThanOrEqual(7);
    expect(agg.invalidations).toBe(8);
    expect(agg.requests).toBe(840);
    // per-minute trend carries the same totals
    const trend = await reader.trend('1h');
    expect(trend.points).toHaveLength(60);
    expect(trend.points.reduce((s, p) => s + p.requests, 0)).toBe(840);
    // the invalidation history has both instances' records (capped stream)
    const hist = await reader.invalidations(100);
    expect(hist.filter((r) => r.who === 'a')).toHaveLength(3);
    expect(hist.filter((r) => r.who === 'b')).toHaveLength(5);
    expect(hist[0]!.kind).toBe('namespace');
    expect(hist[0]!.entity).toBe('jobs');
    const st = await reader.invalidationStats();
    expect(st.byEntity[0]).toMatchObject({ entity: 'jobs', invalidations: 8 });
    const report = await reader.performanceReport('1h');
    expect(report.requests).toBe(840);
    expect(report.originCallsAvoided).toBe(agg.hits + agg.stale);
    // every minute bucket written lives a day (the flush may have landed in the minute before this one)
    const minuteKeys = await redisClient.keys('{mp:analytics}:m:*');
    expect(minuteKeys.length).toBeGreaterThan(0);
    for (const key of minuteKeys) expect(await redisClient.ttl(key)).toBeGreaterThan(23 * 3600);
    await reader.close();
    redisClient.disconnect();
  });
});
