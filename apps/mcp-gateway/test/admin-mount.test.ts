import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayAdmin } from '../src/admin';
import { ADMIN_TOKEN, call, routeCount, startStack, type Stack } from './helpers';

const READ = 'test-read-token-0123456789';
let redis: StandaloneRedis;
let s: Stack;
beforeAll(async () => {
  redis = await startStandalone();
  s = await startStack({
    redisUrl: `redis://127.0.0.1:${redis.port}`,
    gateway: { plugins: [gatewayAdmin({ tokens: [{ token: READ, role: 'read' }, { token: ADMIN_TOKEN, role: 'admin' }] })] },
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
});
