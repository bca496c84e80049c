import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandalone, waitFor } from '@stratacache/redis-harness';
import { parseManifest } from '../src/manifest/load';
import { call, routeCount, startStack, type Stack } from './helpers';

/** A tiny manifest with a short TTL and a long grace, to exercise stale serving. */
const SHORT_TTL = `
version: 1
name: crm
upstream: { timeout: 2s, retries: 2 }
defaults: { ttl: 300ms, grace: 1m }
tools:
  - name: get_job
    description: one job
    input: { type: object, required: [id], properties: { id: { type: string } } }
    request: { method: GET, path: "/jobs/{id}" }
    cache: { entity: job, operation: get, key: [id], tags: ["job:{id}"] }
  - name: get_job_no_grace
    description: one job, no grace
    input: { type: object, required: [id], properties: { id: { type: string } } }
    request: { method: GET, path: "/jobs/{id}" }
    cache: { entity: job, operation: get_ng, key: [id], grace: 0 }
  - name: update_job
    description: update
    input: { type: object, required: [id], properties: { id: { type: string }, title: { type: string } } }
    request: { method: PATCH, path: "/jobs/{id}", body: [title] }
    invalidates: [{ tag: "job:{id}" }]
`;

describe('resilience', () => {
  describe('Redis killed', () => {
    let redis: Awaited<ReturnType<typeof startStandalone>>;
    let s: Stack;
    beforeAll(async () => {
      redis = await startStandalone();
      s = await startStack({ redisUrl: redis.url });
    });
    afterAll(async () => {
      await s?.close();
      await redis?.close();
    });

    it('reads are still answered (origin or L1) after redis-server is SIGKILLed, and recover after restart', async () => {
      const c = await s.connect();
      await call(c, 'get_job', { id: 'job-1' });
      expect((await call(c, 'get_job', { id: 'job-1' })).source).toBe('cache');
      await redis.kill();
      const before = routeCount(s.upstream, 'GET /jobs/:id');
      for (let i = 0; i < 5; i++) {
        const r = await call(c, 'get_job', { id: 'job-1' });
        expect(r.isError).toBe(false);
        expect((r.json as { id: string }).id).toBe('job-1');
        // the in-process L1 (tiered) may still answer for a moment; otherwise the origin does
        expect(['origin', 'cache', 'stale']).toContain(r.source);
      }
      for (const id of ['job-13', 'job-14', 'job-15']) {
        const r = await call(c, 'get_job', { id });
        expect(r.isError).toBe(false);
        expect(r.source).toBe('origin');
        expect((r.json as { id: string }).id).toBe(id);
      }
      expect(routeCount(s.upstream, 'GET /jobs/:id') - before).toBeGreaterThanOrEqual(3);
      // writes still go through (invalidation is reported, not thrown)
      const w = await call(c, 'update_job', { id: 'job-1', title: 'while redis is down' });
      expect(w.isError).toBe(false);
      const h = (await (await fetch(`${s.gateway.url}/healthz`)).json()) as { cache: { ok: boolean } };
      expect(h.cache.ok).toBe(false);

      await redis.restart();
      await waitFor(async () => ((await (await fetch(`${s.gateway.url}/healthz`)).json()) as { cache: { ok: boolean } }).cache.ok, {
        timeoutMs: 20_000,
        intervalMs: 250,
        message: 'cache did not report healthy after redis restart',
      });
      // a key never read before: the origin once, then the cache (each poll takes a fresh key, so a
      // key cached on an earlier poll cannot keep the condition false)
      let next = 20;
      await waitFor(async () => {
        const id = `job-${next++}`;
        return (await call(c, 'get_job', { id })).source === 'origin' && (await call(c, 'get_job', { id })).source === 'cache';
      }, {
        timeoutMs: 10_000,
        intervalMs: 250,
        message: 'cache did not recover after redis restart',
      });
    }, 60_000);
  });

  describe.each(['memory', 'redis', 'memory-core'] as const)('upstream failures on %s', (backend) => {
    let redis: Awaited<ReturnType<typeof startStandalone>> | undefined;
    let s: Stack;
    beforeAll(async () => {
      if (backend === 'redis') redis = await startStandalone();
      s = await startStack({
        redisUrl: redis?.url,
        env: { CACHE_LAYER: backend === 'memory-core' ? 'core' : 'tiered', SOFT_TIMEOUT_MS: '500' },
        gateway: { manifest: parseManifest(SHORT_TTL, 'short-ttl.yaml') },
      });
    });
    afterAll(async () => {
      await s?.close();
      await redis?.close();
    });

    it('5xx: an expired value within grace is served stale; without grace the error is a tool error', async () => {
      const c = await s.connect();
      const first = await call(c, 'get_job', { id: 'job-9' });
      await call(c, 'get_job_no_grace', { id: 'job-9' });
      // wait for the logical expiry (ttl 300 ms)
      await waitFor(async () => (await call(c, 'get_job', { id: 'job-9' })).source === 'origin', { timeoutMs: 5000, intervalMs: 100 });
      await new Promise((r) => setTimeout(r, 400));
      s.upstream.chaos('error');
      try {
        const before = routeCount(s.upstream, 'GET /jobs/:id');
        const stale = await call(c, 'get_job', { id: 'job-9' });
        expect(stale.isError).toBe(false);
        expect(stale.source).toBe('stale');
        expect(stale.json).toEqual(first.json);
        // the read was retried (idempotent): 1 + 2 retries
        expect(routeCount(s.upstream, 'GET /jobs/:id') - before).toBe(3);
        const noGrace = await call(c, 'get_job_no_grace', { id: 'job-9' });
        expect(noGrace.isError).toBe(true);
        expect(noGrace.text).toContain('503');
      } finally {
        s.upstream.chaos('ok');
      }
    });

    it('writes are never retried, even on 5xx', async () => {
      const c = await s.connect();
      s.upstream.chaos('error');
      try {
        const before = routeCount(s.upstream, 'PATCH /jobs/:id');
        const w = await call(c, 'update_job', { id: 'job-10', title: 'x' });
        expect(w.isError).toBe(true);
        expect(w.text).toContain('503');
        expect(routeCount(s.upstream, 'PATCH /jobs/:id') - before).toBe(1);
      } finally {
        s.upstream.chaos('ok');
      }
    });

    it('hang: with a stale value the read answers after SOFT_TIMEOUT_MS while the refresh goes on; without one it waits one timeout, not timeout × attempts', async () => {
      const c = await s.connect();
      const first = await call(c, 'get_job', { id: 'job-11' });
      s.upstream.chaos('hang');
      try {
        // no value within grace: one deadline for all attempts (2 s), not 3 × 2 s
        const t1 = performance.now();
        const none = await call(c, 'get_job_no_grace', { id: 'job-14' });
        const noneMs = performance.now() - t1;
        expect(none.isError).toBe(true);
        expect(none.text).toContain('timed out after 2000 ms');
        expect(noneMs).toBeGreaterThanOrEqual(1900);
        expect(noneMs).toBeLessThan(3500);
        console.log(`[${backend}] hanging upstream, no stale value: error after ${noneMs.toFixed(0)} ms`);

        // job-11 expired long ago (TTL 300 ms) but is within grace
        const before = routeCount(s.upstream, 'GET /jobs/:id');
        const t0 = performance.now();
        const r = await call(c, 'get_job', { id: 'job-11' });
        const ms = performance.now() - t0;
        expect(r.source).toBe('stale');
        expect(r.json).toEqual(first.json);
        // SOFT_TIMEOUT_MS=500 here (default 1 s)
        expect(ms).toBeGreaterThanOrEqual(450);
        expect(ms).toBeLessThan(1500);
        console.log(`[${backend}] hanging upstream, stale answer after ${ms.toFixed(0)} ms`);
        expect(routeCount(s.upstream, 'GET /jobs/:id') - before).toBe(1);
        s.upstream.chaos('ok');
        // the refresh goes on without any caller: its hung attempt ends (504) and it retries
        await waitFor(() => routeCount(s.upstream, 'GET /jobs/:id') - before >= 2, { timeoutMs: 3000, intervalMs: 20, message: 'no background refresh' });
      } finally {
        s.upstream.chaos('ok');
      }
    });

    it('a tag invalidation is deletion, not expiry: an invalidated entry is never served stale', async () => {
      const c = await s.connect();
      await call(c, 'get_job', { id: 'job-12' });
      await call(c, 'update_job', { id: 'job-12', title: 'new title' });
      s.upstream.chaos('error');
      try {
        const r = await call(c, 'get_job', { id: 'job-12' });
        expect(r.isError).toBe(true);
      } finally {
        s.upstream.chaos('ok');
      }
    });
  });
});
