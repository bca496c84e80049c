import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandalone, waitFor } from '@stratacache/redis-harness';
import { signWebhook } from '../src/webhooks/signature';
import { ADMIN_TOKEN, ALICE, BOB, call, routeCount, startStack, WEBHOOK_SECRET, type Stack } from './helpers';

type Backend = 'redis' | 'memory' | 'memory-core';

// tiered (L1 + L2) on Redis and on the embedded store, and the core-only fallback layer (CACHE_LAYER=core)
describe.each<Backend>(['redis', 'memory', 'memory-core'])('gateway end to end on %s', (backend) => {
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

  const postWebhook = (body: string, signature: string | undefined, source = 'crm') =>
    fetch(`${s.gateway.url}/webhooks/${source}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(signature ? { 'x-signature': signature } : {}) },
      body,
    });

  it('reports the store it runs on', async () => {
    expect(s.gateway.cache.storeKind).toBe(backend === 'redis' ? 'redis' : 'memory');
    expect(s.gateway.cache.layer).toBe(backend === 'memory-core' ? 'core+shard' : 'tiered+shard');
    const h = (await (await fetch(`${s.gateway.url}/healthz`)).json()) as { ok: boolean; cache: { store: string } };
    expect(h.ok).toBe(true);
  });

  it('lists the manifest tools (and no admin tools for a normal caller)', async () => {
    const c = await s.connect();
    const { tools } = await c.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toContain('get_job');
    expect(names).toContain('update_job');
    expect(names).toHaveLength(s.gateway.manifest.tools.length);
    expect(names).not.toContain('cache_stats');
    const getJob = tools.find((t) => t.name === 'get_job')!;
    expect(getJob.inputSchema.required).toEqual(['id']);
    expect(getJob.annotations?.readOnlyHint).toBe(true);
  });

  it('serves the second read from the cache: the upstream is called once', async () => {
    const c = await s.connect();
    const before = routeCount(s.upstream, 'GET /jobs/:id');
    const a = await call(c, 'get_job', { id: 'job-2' });
    const b = await call(c, 'get_job', { id: 'job-2' });
    expect(a.isError).toBe(false);
    expect(a.source).toBe('origin');
    expect(b.source).toBe('cache');
    expect(b.json).toEqual(a.json);
    expect(routeCount(s.upstream, 'GET /jobs/:id') - before).toBe(1);
    // the upstream's own counter over HTTP agrees
    const st = (await (await fetch(`${s.upstream.url}/__stats`)).json()) as { byRoute: Record<string, number> };
    expect(st.byRoute['GET /jobs/:id']).toBe(routeCount(s.upstream, 'GET /jobs/:id'));
  });

  it('a write goes upstream exactly once and the next read is fresh (detail, list and related activities)', async () => {
    const c = await s.connect();
    await call(c, 'get_job', { id: 'job-3' });
    const acts0 = await call(c, 'list_job_activities', { id: 'job-3' });
    const list0 = await call(c, 'list_jobs', { status: 'completed', limit: 100 });
    expect((await call(c, 'get_job', { id: 'job-3' })).source).toBe('cache');
    const patches = routeCount(s.upstream, 'PATCH /jobs/:id');
    const newStatus = (s.upstream.data.jobs.find((j) => j.id === 'job-3')!.status === 'completed' ? 'lead' : 'completed') as string;
    const w = await call(c, 'update_job', { id: 'job-3', status: newStatus, title: 'Renamed by test' });
    expect(w.isError).toBe(false);
    expect(routeCount(s.upstream, 'PATCH /jobs/:id') - patches).toBe(1);
    const r = await call(c, 'get_job', { id: 'job-3' });
    expect(r.source).toBe('origin');
    expect((r.json as { title: string; status: string }).title).toBe('Renamed by test');
    expect((r.json as { status: string }).status).toBe(newStatus);
    const acts1 = await call(c, 'list_job_activities', { id: 'job-3' });
    expect(acts1.source).toBe('origin');
    expect((acts1.json as { total: number }).total).toBe((acts0.json as { total: number }).total + 1);
    const list1 = await call(c, 'list_jobs', { status: 'completed', limit: 100 });
    expect(list1.source).toBe('origin');
    expect(list1.json).not.toEqual(list0.json);
  });

  it('a failed write (upstream 4xx) is a tool error with the upstream message, sent once, nothing invalidated', async () => {
    const c = await s.connect();
    await call(c, 'get_job', { id: 'job-4' });
    const posts = routeCount(s.upstream, 'POST /jobs');
    const w = await call(c, 'create_job', { title: 'x', contact_id: 'contact-does-not-exist' });
    expect(w.isError).toBe(true);
    expect(w.text).toContain('422');
    expect(w.text).toContain('contact contact-does-not-exist does not exist');
    expect(routeCount(s.upstream, 'POST /jobs') - posts).toBe(1);
    expect((await call(c, 'get_job', { id: 'job-4' })).source).toBe('cache');
    const nf = await call(c, 'get_job', { id: 'job-nope' });
    expect(nf.isError).toBe(true);
    expect(nf.text).toContain('job job-nope not found');
  });

  it('a signed webhook invalidates: an upstream change is visible to the next read', async () => {
    const c = await s.connect();
    const first = await call(c, 'get_job', { id: 'job-5' });
    expect((await call(c, 'get_job', { id: 'job-5' })).source).toBe('cache');
    const sent = s.upstream.stats().webhooksSent;
    // change the job directly on the upstream (not through the gateway): the upstream emits job.updated
    const t0 = performance.now();
    const res = await fetch(`${s.upstream.url}/jobs/job-5`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'x-api-key': ALICE },
      body: JSON.stringify({ title: `Changed upstream ${backend}` }),
    });
    expect(res.status).toBe(200);
    const fresh = await waitFor(
      async () => {
        const r = await call(c, 'get_job', { id: 'job-5' });
        return (r.json as { title: string }).title === `Changed upstream ${backend}` ? r : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 10, message: 'webhook invalidation not visible' },
    );
    const ms = performance.now() - t0;
    console.log(`[${backend}] upstream write -> webhook -> fresh read visible after ${ms.toFixed(1)} ms`);
    expect(fresh!.source).toBe('origin');
    expect(first.json).not.toEqual(fresh!.json);
    await waitFor(() => s.upstream.stats().webhooksSent > sent, { timeoutMs: 5000, intervalMs: 10 });
    expect(ms).toBeLessThan(10_000); // generous bound; the figure is printed above
  });

  it('webhooks: bad signature 401, old timestamp 401, replay 401, bad body 400, unknown source 404', async () => {
    const body = JSON.stringify({ event: 'job.updated', resource_type: 'job', resource_id: 'job-6', data: {} });
    expect((await postWebhook(body, undefined)).status).toBe(401);
    expect((await postWebhook(body, signWebhook('wrong-secret-wrong-secret', body))).status).toBe(401);
    const tampered = signWebhook(WEBHOOK_SECRET, body).replace(/v1=(.)/, (_m, ch: string) => `v1=${ch === 'a' ? 'b' : 'a'}`);
    expect((await postWebhook(body, tampered)).status).toBe(401);
    const old = signWebhook(WEBHOOK_SECRET, body, Math.floor(Date.now() / 1000) - 301);
    const oldRes = await postWebhook(body, old);
    expect(oldRes.status).toBe(401);
    expect(((await oldRes.json()) as { reason: string }).reason).toBe('expired');
    const good = signWebhook(WEBHOOK_SECRET, body);
    const ok = await postWebhook(body, good);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { targets: unknown[] }).targets).toContainEqual({ tag: 'job:job-6' });
    const replay = await postWebhook(body, good);
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { reason: string }).reason).toBe('replayed');
    const bad = JSON.stringify({ event: 'job.updated', resource_type: 'job' });
    const badRes = await postWebhook(bad, signWebhook(WEBHOOK_SECRET, bad));
    expect(badRes.status).toBe(400);
    expect(((await badRes.json()) as { message: string }).message).toContain('resource_id');
    const notJson = 'not json';
    expect((await postWebhook(notJson, signWebhook(WEBHOOK_SECRET, notJson))).status).toBe(400);
    expect((await postWebhook(body, signWebhook(WEBHOOK_SECRET, body), 'other')).status).toBe(404);
  });

  it('bad tool arguments answer an MCP error naming the bad field', async () => {
    const c = await s.connect();
    const before = s.upstream.stats().total;
    const missing = await call(c, 'get_job', {});
    expect(missing.isError).toBe(true);
    expect(missing.text).toMatch(/Input validation error/);
    expect(missing.text).toMatch(/\bid\b/);
    const wrongType = await call(c, 'list_jobs', { limit: 'ten' });
    expect(wrongType.isError).toBe(true);
    expect(wrongType.text).toContain('limit');
    const badEnum = await call(c, 'update_job', { id: 'job-1', status: 'exploded' });
    expect(badEnum.isError).toBe(true);
    expect(badEnum.text).toContain('status');
    expect(s.upstream.stats().total).toBe(before); // nothing reached the upstream
    await expect(c.callTool({ name: 'no_such_tool', arguments: {} })).resolves.toMatchObject({ isError: true });
  });

  it('admin tools: listed and usable only with the admin token', async () => {
    const admin = await s.connect({ 'x-api-key': ALICE, authorization: `Bearer ${ADMIN_TOKEN}` });
    const names = (await admin.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['cache_stats', 'cache_invalidate']));
    const stats = await call(admin, 'cache_stats');
    expect(stats.isError).toBe(false);
    expect((stats.json as { gateway: { reads: number }; cache: { layer: string } }).gateway.reads).toBeGreaterThan(0);
    await call(admin, 'get_job', { id: 'job-7' });
    expect((await call(admin, 'get_job', { id: 'job-7' })).source).toBe('cache');
    const inv = await call(admin, 'cache_invalidate', { tag: 'job:job-7' });
    expect(inv.isError).toBe(false);
    expect((await call(admin, 'get_job', { id: 'job-7' })).source).toBe('origin');
    const ns = await call(admin, 'cache_invalidate', { entity: 'job' });
    expect(ns.isError).toBe(false);
    expect((await call(admin, 'get_job', { id: 'job-7' })).source).toBe('origin');
    const badInv = await call(admin, 'cache_invalidate', {});
    expect(badInv.isError).toBe(true);

    const user = await s.connect({ 'x-api-key': ALICE, authorization: 'Bearer not-the-admin-token' });
    expect((await user.listTools()).tools.map((t) => t.name)).not.toContain('cache_stats');
    const denied = await call(user, 'cache_invalidate', { tag: 'job:job-7' });
    expect(denied.isError).toBe(true);
  });

  it('caller-scoped reads are keyed by an HMAC of the credential: different callers, different entries', async () => {
    const alice = await s.connect({ 'x-api-key': ALICE });
    const bob = await s.connect({ 'x-api-key': BOB });
    const a1 = await call(alice, 'get_me');
    const b1 = await call(bob, 'get_me');
    expect((a1.json as { id: string }).id).toBe('user-2');
    expect((b1.json as { id: string }).id).toBe('user-3');
    expect((await call(alice, 'get_me')).json).toEqual(a1.json);
    expect((await call(bob, 'get_me')).source).toBe('cache');
    const anon = await s.connect({});
    // no caller key: the gateway has no fallback key in this stack, so the upstream answers 401
    const r = await call(anon, 'get_me');
    expect(r.isError).toBe(true);
    expect(r.text).toContain('401');
  });

  it('shared cached entries are only served to credentials the upstream accepted', async () => {
    const alice = await s.connect({ 'x-api-key': ALICE });
    await call(alice, 'get_job', { id: 'job-16' });
    expect((await call(alice, 'get_job', { id: 'job-16' })).source).toBe('cache');
    for (const headers of [{}, { 'x-api-key': 'stolen-or-revoked-key' }] as Record<string, string>[]) {
      const other = await s.connect(headers);
      const r = await call(other, 'get_job', { id: 'job-16' });
      expect(r.isError).toBe(true);
      expect(r.text).toContain('401');
    }
    // a key never seen before: its first read goes upstream (which accepts it), then it shares the entry
    const ada = await s.connect({ 'x-api-key': 'demo-key-admin' });
    expect((await call(ada, 'get_job', { id: 'job-16' })).source).toBe('origin');
    expect((await call(ada, 'get_job', { id: 'job-16' })).source).toBe('cache');
  });

  it('concurrent reads of one key by a refused and an accepted credential: each gets its own answer', async () => {
    const good = await s.connect({ 'x-api-key': ALICE });
    const bad = await s.connect({ 'x-api-key': 'not-a-key' });
    s.upstream.setLatency(150);
    try {
      const pBad = call(bad, 'get_job', { id: 'job-17' });
      await new Promise((r) => setTimeout(r, 20));
      const pGood = call(good, 'get_job', { id: 'job-17' });
      const [rb, rg] = await Promise.all([pBad, pGood]);
      expect(rb.isError).toBe(true);
      expect(rb.text).toContain('401');
      expect(rg.isError).toBe(false);
      expect((rg.json as { id: string }).id).toBe('job-17');
    } finally {
      s.upstream.setLatency(0);
    }
  });

  it('the API key never appears in logs nor in cache keys', async () => {
    const c = await s.connect({ 'x-api-key': ALICE, 'x-instance': 'tenant-a' });
    await call(c, 'get_me');
    await call(c, 'get_job', { id: 'job-8' });
    await call(c, 'log_activity', { id: 'job-8', text: 'hello' });
    await call(c, 'get_job', { id: 'does-not-exist' });
    const all = s.logs.join('');
    expect(s.logs.length).toBeGreaterThan(0);
    expect(all).not.toContain(ALICE);
    expect(all).not.toContain(BOB);
    expect(all).not.toContain(ADMIN_TOKEN);
    if (redis) {
      const keys = await redis.cli('--scan', '--pattern', '*');
      expect(keys.split('\n').length).toBeGreaterThan(3);
      expect(keys).not.toContain(ALICE);
      expect(keys).not.toContain(BOB);
      expect(keys).toMatch(/_scope=[0-9a-f]{16}/);
    }
  });

  it('tenants (X-Instance) do not share entries', async () => {
    const a = await s.connect({ 'x-api-key': ALICE, 'x-instance': 'tenant-a' });
    const b = await s.connect({ 'x-api-key': ALICE, 'x-instance': 'tenant-b' });
    expect((await call(a, 'get_contact', { id: 'contact-2' })).source).toBe('origin');
    expect((await call(a, 'get_contact', { id: 'contact-2' })).source).toBe('cache');
    expect((await call(b, 'get_contact', { id: 'contact-2' })).source).toBe('origin');
  });
});
