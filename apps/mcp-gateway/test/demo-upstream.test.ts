import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoUpstream, type DemoUpstream } from '../src/demo-upstream';

/** The demo upstream, one Fastify plugin per resource, through `app.inject()` (no port). */
describe('demo upstream plugins (inject)', () => {
  let up: DemoUpstream;
  const H = { 'x-api-key': 'demo-key-alice' };
  beforeAll(async () => {
    up = createDemoUpstream({ latency: 0 });
    await up.app.ready();
  });
  afterAll(async () => {
    await up.close();
  });

  it('every resource plugin answers, behind the shared API-key check, latency and counters', async () => {
    const gets = ['/me', '/users', '/users/user-1', '/contacts?limit=2', '/contacts/contact-1', '/contacts/contact-1/jobs', '/jobs?status=lead', '/jobs/job-1', '/jobs/job-1/estimates', '/jobs/job-1/attachments', '/jobs/job-1/activities', '/tasks', '/calendar', '/webhooks'];
    up.resetStats();
    for (const url of gets) expect((await up.app.inject({ url, headers: H })).statusCode, url).toBe(200);
    expect(up.stats().reads).toBe(gets.length);
    expect(up.stats().byRoute['GET /jobs/:id']).toBe(1);
    expect((await up.app.inject({ url: '/jobs/job-1' })).statusCode).toBe(401);
    expect((await up.app.inject({ url: '/health' })).json()).toEqual({ ok: true });
    const users = (await up.app.inject({ url: '/users', headers: H })).json() as { data: Record<string, unknown>[] };
    expect(users.data[0]).not.toHaveProperty('api_key');
  });

  it('writes: shapes, 404 / 400 / 422 answers, one id sequence, signed webhooks emitted', async () => {
    const job = await up.app.inject({ method: 'POST', url: '/jobs', headers: H, payload: { title: 'x', contact_id: 'contact-1' } });
    expect(job.statusCode).toBe(201);
    const id = (job.json() as { id: string }).id;
    const patched = await up.app.inject({ method: 'PATCH', url: `/jobs/${id}`, headers: H, payload: { status: 'scheduled' } });
    expect((patched.json() as { status: string }).status).toBe('scheduled');
    const acts = (await up.app.inject({ url: `/jobs/${id}/activities`, headers: H })).json() as { data: { kind: string }[] };
    expect(acts.data.map((a) => a.kind)).toEqual(['status_change']);
    const est = await up.app.inject({ method: 'POST', url: `/jobs/${id}/estimates`, headers: H, payload: { lines: [{ description: 'a', amount_cents: 5 }, { description: 'b', amount_cents: 7 }] } });
    expect((est.json() as { amount_cents: number }).amount_cents).toBe(12);
    expect((await up.app.inject({ url: '/jobs/job-999', headers: H })).json()).toEqual({ error: 'not_found', message: 'job job-999 not found' });
    expect((await up.app.inject({ method: 'PATCH', url: '/jobs/job-1', headers: H, payload: { status: 'exploded' } })).statusCode).toBe(400);
    expect((await up.app.inject({ method: 'POST', url: '/jobs', headers: H, payload: { title: 'x', contact_id: 'contact-999' } })).statusCode).toBe(422);
    expect((await up.app.inject({ method: 'DELETE', url: `/jobs/${id}`, headers: H })).statusCode).toBe(204);
    const task = (await up.app.inject({ method: 'POST', url: '/tasks', headers: H, payload: { title: 't', assignee_id: 'user-1' } })).json() as { id: string };
    expect(Number(task.id.split('-')[1])).toBeGreaterThan(Number(id.split('-')[1]));
  });

  it('control routes: chaos, stats reset (not counted themselves)', async () => {
    await up.app.inject({ method: 'POST', url: '/__chaos', payload: { mode: 'error' } });
    expect((await up.app.inject({ url: '/jobs/job-1', headers: H })).statusCode).toBe(503);
    await up.app.inject({ method: 'POST', url: '/__chaos', payload: { mode: 'ok' } });
    await up.app.inject({ method: 'POST', url: '/__stats/reset' });
    await up.app.inject({ url: '/__stats' });
    expect(up.stats().total).toBe(0);
  });
});
