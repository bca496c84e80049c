import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandalone } from '@stratacache/redis-harness';
import { signWebhook } from '../src/webhooks/signature';
import { ALICE, call, routeCount, startStack, WEBHOOK_SECRET, type Stack } from './helpers';

describe('tenants routed to shards (X-Instance -> ShardRouter)', () => {
  let r1: Awaited<ReturnType<typeof startStandalone>>;
  let r2: Awaited<ReturnType<typeof startStandalone>>;
  let s: Stack;
  beforeAll(async () => {
    [r1, r2] = await Promise.all([startStandalone(), startStandalone()]);
    s = await startStack({
      prefix: 'gwshard',
      env: { SHARDS: `eu=${r1.url},us=${r2.url}`, TENANT_SHARDS: 'acme=eu,globex=us', REDIS_URL: '' },
    });
  });
  afterAll(async () => {
    await s?.close();
    await r1?.close();
    await r2?.close();
  });

  it('each tenant is cached on its own shard; a tenant webhook touches only its entries, one without a tenant every shard; a dead shard only hurts its tenants', async () => {
    expect(s.config.defaultShard).toBe('eu');
    const acme = await s.connect({ 'x-api-key': ALICE, 'x-instance': 'acme' });
    const globex = await s.connect({ 'x-api-key': ALICE, 'x-instance': 'globex' });
    expect((await call(acme, 'get_job', { id: 'job-20' })).source).toBe('origin');
    expect((await call(globex, 'get_job', { id: 'job-20' })).source).toBe('origin');
    expect((await call(acme, 'get_job', { id: 'job-20' })).source).toBe('cache');
    const k1 = await r1.cli('--scan', '--pattern', 'gwshard:job:*');
    const k2 = await r2.cli('--scan', '--pattern', 'gwshard:job:*');
    expect(k1).toContain('_tenant=acme');
    expect(k1).not.toContain('_tenant=globex');
    expect(k2).toContain('_tenant=globex');
    expect(k2).not.toContain('_tenant=acme');

    // a tenant's webhook touches only that tenant's entries (on its shard)
    expect((await call(globex, 'get_job', { id: 'job-20' })).source).toBe('cache');
    const tb = JSON.stringify({ event: 'job.updated', resource_type: 'job', resource_id: 'job-20', data: { scoped: true } });
    const tr = await fetch(`${s.gateway.url}/webhooks/crm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': signWebhook(WEBHOOK_SECRET, tb), 'x-instance': 'globex' },
      body: tb,
    });
    expect(tr.status).toBe(200);
    expect((await call(globex, 'get_job', { id: 'job-20' })).source).toBe('origin');
    expect((await call(acme, 'get_job', { id: 'job-20' })).source).toBe('cache');

    // a webhook without a tenant invalidates on both shards
    const body = JSON.stringify({ event: 'job.updated', resource_type: 'job', resource_id: 'job-20', data: {} });
    const res = await fetch(`${s.gateway.url}/webhooks/crm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': signWebhook(WEBHOOK_SECRET, body) },
      body,
    });
    expect(res.status).toBe(200);
    expect((await call(acme, 'get_job', { id: 'job-20' })).source).toBe('origin');
    expect((await call(globex, 'get_job', { id: 'job-20' })).source).toBe('origin');

    // a write by one tenant invalidates the other tenants' copies too (same upstream data)
    expect((await call(globex, 'get_job', { id: 'job-20' })).source).toBe('cache');
    expect((await call(acme, 'update_job', { id: 'job-20', title: 'written by acme' })).isError).toBe(false);
    const g = await call(globex, 'get_job', { id: 'job-20' });
    expect(g.source).toBe('origin');
    expect((g.json as { title: string }).title).toBe('written by acme');

    // an invalid tenant header is a tool error, not a crash
    const bad = await s.connect({ 'x-api-key': ALICE, 'x-instance': 'no spaces allowed!' });
    const r = await call(bad, 'get_job', { id: 'job-20' });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('invalid tenant');

    // kill the eu shard: globex (us) keeps its cache hits, acme still gets answers
    await r1.kill();
    expect((await call(globex, 'get_job', { id: 'job-20' })).source).toBe('cache');
    const before = routeCount(s.upstream, 'GET /jobs/:id');
    for (const id of ['job-21', 'job-22']) {
      const a = await call(acme, 'get_job', { id });
      expect(a.isError).toBe(false);
      expect((a.json as { id: string }).id).toBe(id);
    }
    expect(routeCount(s.upstream, 'GET /jobs/:id') - before).toBe(2);
    expect((await call(globex, 'get_job', { id: 'job-23' })).source).toBe('origin');
    expect((await call(globex, 'get_job', { id: 'job-23' })).source).toBe('cache');
    const h = (await (await fetch(`${s.gateway.url}/healthz`)).json()) as { cache: { status: string } };
    expect(h.cache.status).toBe('degraded');
  });
});
