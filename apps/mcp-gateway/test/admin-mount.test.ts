import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayAdmin } from '../src/admin';
import { waitFor } from '@stratacache/redis-harness';
import { ADMIN_TOKEN, ALICE, call, routeCount, startStack, type Stack } from './helpers';

const READ = 'test-read-token-0123456789';
let redis: StandaloneRedis;
let s: Stack;
beforeAll(async () => {
  redis = await startStandalone();
  s = await startStack({
    redisUrl: `redis://127.0.0.1:${redis.port}`,
    gateway: { plugins: [gatewayAdmin({ tokens: [{ token: READ, role: 'read' }, { token: ADMIN_TOKEN, role: 'admin' }] })] },
    env: { UPSTREAM_API_KEY: ALICE },
  });
});
afterAll(async () => {
  await s?.close();
  await redis?.close();
});

describe('admin API mounted next to the gateway (plugin hook)', () => {
  it('sees the gateway’s reads, clears its cache (admin only), serves metrics; no token in the logs', async () => {
    const c = await s.connect();
    const before = routeCount(s.upstream, 'GET /jobs/:id');
    await call(c, 'get_job', { id: 'job-1' });
    await call(c, 'get_job', { id: 'job-1' });
    expect(routeCount(s.upstream, 'GET /jobs/:id') - before).toBe(1);
    const app = s.gateway.app;
    const read = { authorization: `Bearer ${READ}` };
    const data = (await app.inject({ url: '/cache/dashboard/data', headers: read })).json();
    expect(data.overview.local.requests).toBeGreaterThanOrEqual(2);
    expect(data.overview.local.hits).toBeGreaterThanOrEqual(1);
    expect((await app.inject({ url: '/cache/health', headers: read })).json().ok).toBe(true);
    expect((await app.inject({ url: '/metrics', headers: read })).body).toMatch(/^stratacache_requests_total\{/m);
    expect((await app.inject({ method: 'POST', url: '/cache/clear', headers: read })).statusCode).toBe(403);
    const cleared = await app.inject({ method: 'POST', url: '/cache/clear', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(cleared.statusCode).toBe(200);
    await call(c, 'get_job', { id: 'job-1' });
    expect(routeCount(s.upstream, 'GET /jobs/:id') - before).toBe(2);
    const logs = s.logs.join('');
    expect(logs).not.toContain(READ);
    expect(logs).not.toContain(ADMIN_TOKEN);
  });

  it('POST /cache/warming refreshes a tool read through the upstream (BullMQ on the shard’s Redis); the next agent call is a hit', async () => {
    await warmScenario(s);
  });
});

describe('admin mount on the embedded store: warming in process', () => {
  let m: Stack;
  beforeAll(async () => {
    m = await startStack({ gateway: { plugins: [gatewayAdmin({ tokens: [{ token: READ, role: 'read' }, { token: ADMIN_TOKEN, role: 'admin' }] })] }, env: { UPSTREAM_API_KEY: ALICE } });
  });
  afterAll(async () => {
    await m?.close();
  });
  it('same routes, embedded runner', async () => {
    await warmScenario(m, 'embedded');
  });
});

type Queue = { mode: string; keys: string[]; keyCount: number; queues: { completed: number }[] };

async function warmScenario(st: Stack, mode = 'bullmq'): Promise<void> {
  const app = st.gateway.app;
  const read = { authorization: `Bearer ${READ}` };
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const queue = async (): Promise<Queue> => (await app.inject({ url: '/cache/warming/queue', headers: read })).json().queue as Queue;
  const q0 = await queue();
  expect(q0.mode).toBe(mode);
  // warmable: cached, shared reads with no required argument (list_users, search_contacts, …), never get_me (caller-scoped)
  const usersKey = q0.keys.find((k) => k.includes(':user:list:'));
  expect(usersKey, q0.keys.join(', ')).toBeDefined();
  expect(q0.keys.some((k) => k.includes(':user:me:'))).toBe(false);
  expect(q0.keys.some((k) => k.includes(':job:get:'))).toBe(false);
  const c = await st.connect();
  await call(c, 'get_job', { id: 'job-2' }); // the agent's key is verified by the upstream
  const before = routeCount(st.upstream, 'GET /users');
  expect((await app.inject({ method: 'POST', url: '/cache/warming', headers: read, payload: { keys: [usersKey] } })).statusCode).toBe(403);
  const w = await app.inject({ method: 'POST', url: '/cache/warming', headers: admin, payload: { keys: [usersKey, 'nope:get:1'] } });
  expect(w.statusCode).toBe(202);
  expect(w.json()).toMatchObject({ accepted: 1, result: { rejected: [{ key: 'nope:get:1', code: 'E_WARMING_UNKNOWN_KEY' }] } });
  await waitFor(async () => ((await queue()).queues.reduce((n, r) => n + r.completed, 0) >= 1 ? true : undefined), { timeoutMs: 15_000, intervalMs: 50, message: 'warm job not completed' });
  expect(routeCount(st.upstream, 'GET /users') - before).toBe(1);
  const r = await call(c, 'list_users');
  expect(r.isError).toBe(false);
  expect(r.source).toBe('cache');
  expect(routeCount(st.upstream, 'GET /users') - before).toBe(1);
  const d = (await app.inject({ url: '/cache/dashboard/data', headers: read })).json();
  expect(d.warming.queue.mode).toBe(mode);
  expect(Array.isArray(d.entities)).toBe(true);
}
