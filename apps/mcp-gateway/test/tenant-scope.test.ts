import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandalone } from '@stratacache/redis-harness';
import { signWebhook } from '../src/webhooks/signature';
import { ADMIN_TOKEN, ALICE, call, startStack, WEBHOOK_SECRET, type Stack } from './helpers';

const webhook = (s: Stack, event: object, tenant?: string) => {
  const body = JSON.stringify({ ...event, data: { ...(event as { data?: object }).data, nonce: Math.random() } });
  return fetch(`${s.gateway.url}/webhooks/crm`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': signWebhook(WEBHOOK_SECRET, body), ...(tenant ? { 'x-instance': tenant } : {}) },
    body,
  });
};

describe.each(['memory', 'redis', 'memory-core'] as const)('tenant-scoped invalidation on %s', (backend) => {
  let redis: Awaited<ReturnType<typeof startStandalone>> | undefined;
  let s: Stack;
  beforeAll(async () => {
    if (backend === 'redis') redis = await startStandalone();
    s = await startStack({ redisUrl: redis?.url, env: { CACHE_LAYER: backend === 'memory-core' ? 'core' : 'tiered' } });
  });
  afterAll(async () => {
    await s?.close();
    await redis?.close();
  });

  it("a tenant's webhook invalidates only that tenant's entries; a webhook without a tenant invalidates all", async () => {
    const acme = await s.connect({ 'x-api-key': ALICE, 'x-instance': 'acme' });
    const globex = await s.connect({ 'x-api-key': ALICE, 'x-instance': 'globex' });
    const none = await s.connect({ 'x-api-key': ALICE });
    const all = [acme, globex, none];
    const sources = async (tool: string, args: Record<string, unknown>) => Promise.all(all.map(async (c) => (await call(c, tool, args)).source));
    await sources('get_job', { id: 'job-30' });
    await sources('list_job_attachments', { id: 'job-30' });
    expect(await sources('get_job', { id: 'job-30' })).toEqual(['cache', 'cache', 'cache']);

    // tag target, tenant acme
    const r = await webhook(s, { event: 'job.updated', resource_type: 'job', resource_id: 'job-30' }, 'acme');
    expect(r.status).toBe(200);
    const body = (await r.json()) as { ok: boolean; tenant: string; failed: number; invalidated: number };
    expect(body).toMatchObject({ ok: true, tenant: 'acme', failed: 0 });
    expect(body.invalidated).toBeGreaterThan(0);
    expect(await sources('get_job', { id: 'job-30' })).toEqual(['origin', 'cache', 'cache']);

    // without a tenant: everyone
    expect((await webhook(s, { event: 'job.updated', resource_type: 'job', resource_id: 'job-30' })).status).toBe(200);
    expect(await sources('get_job', { id: 'job-30' })).toEqual(['origin', 'origin', 'origin']);

    // namespace target, tenant globex (admin tool): only globex's attachment lists
    expect(await sources('list_job_attachments', { id: 'job-30' })).toEqual(['cache', 'cache', 'cache']);
    const admin = await s.connect({ 'x-api-key': ALICE, authorization: `Bearer ${ADMIN_TOKEN}` });
    const inv = await call(admin, 'cache_invalidate', { entity: 'attachment', tenant: 'globex' });
    expect(inv.isError).toBe(false);
    expect(inv.json).toMatchObject({ ok: true, tenant: 'globex', failed: 0 });
    expect(await sources('list_job_attachments', { id: 'job-30' })).toEqual(['cache', 'origin', 'cache']);
    // tag target through the admin tool, tenant acme
    await call(admin, 'cache_invalidate', { tag: 'job:job-30', tenant: 'acme' });
    expect(await sources('get_job', { id: 'job-30' })).toEqual(['origin', 'cache', 'cache']);
    // namespace without a tenant: everyone
    await call(admin, 'cache_invalidate', { entity: 'attachment' });
    expect(await sources('list_job_attachments', { id: 'job-30' })).toEqual(['origin', 'origin', 'origin']);

    // an invalid tenant header on a webhook is a 400 naming it, nothing applied
    const bad = await webhook(s, { event: 'job.updated', resource_type: 'job', resource_id: 'job-30' }, 'no spaces!');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('invalid tenant');
    expect(await sources('get_job', { id: 'job-30' })).toEqual(['cache', 'cache', 'cache']);
  });
});

describe('failed invalidations are reported, never muted (Redis killed)', () => {
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

  it('write, webhook and admin tool say which invalidations failed; counters and logs too', async () => {
    const c = await s.connect({ 'x-api-key': ALICE, authorization: `Bearer ${ADMIN_TOKEN}` });
    await call(c, 'get_job', { id: 'job-31' });
    await redis.kill();
    const w = (await c.callTool({ name: 'update_job', arguments: { id: 'job-31', title: 'redis is down' } })) as {
      isError?: boolean;
      content: { text: string }[];
      _meta: Record<string, unknown>;
    };
    expect(w.isError).not.toBe(true);
    const inv = w._meta['stratacache/invalidation'] as { ok: boolean; failed: number; reasons: string[] };
    expect(inv.ok).toBe(false);
    expect(inv.failed).toBeGreaterThan(0);
    expect(inv.reasons.length).toBeGreaterThan(0);
    expect(w.content.map((x) => x.text).join('\n')).toMatch(/warning: \d+ of \d+ cache invalidations failed/);

    // a webhook the store could not apply: 503 (the sender retries), and the delivery is not
    // remembered, so the retry of the very same delivery is not refused as a replay
    const body = JSON.stringify({ event: 'job.updated', resource_type: 'job', resource_id: 'job-31' });
    const sig = signWebhook(WEBHOOK_SECRET, body);
    const send = () => fetch(`${s.gateway.url}/webhooks/crm`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': sig }, body });
    const r = await send();
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('5');
    const rb = (await r.json()) as { ok: boolean; failed: number; reasons: string[] };
    expect(rb).toMatchObject({ ok: false, matched: true });
    expect(rb.failed).toBeGreaterThan(0);
    expect(rb.reasons.length).toBeGreaterThan(0);
    expect((await send()).status).toBe(503);

    const admin = await call(c, 'cache_invalidate', { tag: 'job:job-31' });
    expect(admin.isError).toBe(true);
    expect(admin.json).toMatchObject({ ok: false, failed: 1 });

    const stats = (await call(c, 'cache_stats')).json as { gateway: { invalidationFailures: number } };
    expect(stats.gateway.invalidationFailures).toBeGreaterThanOrEqual(3);
    expect(s.logs.join('')).toContain('cache invalidation failed');
  }, 30_000);
});
