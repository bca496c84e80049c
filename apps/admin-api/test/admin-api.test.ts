import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { freePort, startStandalone, waitFor, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminServer, loadConfig } from '../src/index';

const appDir = fileURLToPath(new URL('..', import.meta.url));
const READ = 'read-token-for-admin-api-test';
const ADMIN = 'admin-token-for-admin-api-test';
let redis: StandaloneRedis;
beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  await redis?.close();
});

describe('config from env', () => {
  it('tokens, port, Redis or the embedded store; bad values named', () => {
    const c = loadConfig({ ADMIN_TOKENS: `read:${READ},admin:${ADMIN}`, PORT: '0', REDIS_URL: 'redis://127.0.0.1:1' });
    expect(c.tokens.map((t) => t.role)).toEqual(['read', 'admin']);
    expect(c.generated).toBe(false);
    expect(c.redisUrl).toBe('redis://127.0.0.1:1');
    const g = loadConfig({});
    expect(g.generated).toBe(true);
    expect(g.redisUrl).toBeUndefined();
    expect(g.port).toBe(8090);
    expect(() => loadConfig({ PORT: 'x' })).toThrow(/PORT/);
    expect(() => loadConfig({ ADMIN_TOKENS: 'root:abcdefabcdefabcdef' })).toThrow(/ADMIN_TOKENS/);
    expect(() => loadConfig({ READ_TOKEN: 'short' })).toThrow(/16 characters/);
  });
});

describe('server on Redis', () => {
  it('serves the admin routes with the env tokens; no token in the logs', async () => {
    let logs = '';
    const dest = new Writable({ write: (c: Buffer, _e, cb) => ((logs += c.toString()), cb()) });
    const server = await createAdminServer(loadConfig({ ADMIN_TOKENS: `read:${READ},admin:${ADMIN}`, REDIS_URL: `redis://127.0.0.1:${redis.port}`, LOG_LEVEL: 'trace', ANALYTICS_FLUSH_MS: '0' }), { logDestination: dest });
    try {
      for (let i = 0; i < 10; i++) await server.cache.getOrSet(`jobs:get:${i % 3}`, async () => i, { ttl: '1m' });
      const h = await server.app.inject({ url: '/cache/health', headers: { authorization: `Bearer ${READ}` } });
      expect(h.statusCode).toBe(200);
      const stats = (await server.app.inject({ url: '/cache/stats', headers: { authorization: `Bearer ${READ}` } })).json();
      expect(stats.local.requests).toBe(10);
      expect((await server.app.inject({ method: 'POST', url: '/cache/clear', headers: { authorization: `Bearer ${READ}` } })).statusCode).toBe(403);
      expect((await server.app.inject({ method: 'POST', url: '/cache/clear', headers: { authorization: `Bearer ${ADMIN}` } })).statusCode).toBe(200);
      expect((await server.app.inject({ url: '/' })).headers.location).toBe('/cache/dashboard');
    } finally {
      await server.close();
    }
    expect(logs).toContain('cache cleared');
    expect(logs).not.toContain(READ);
    expect(logs).not.toContain(ADMIN);
  });
});

describe('the process', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} → clean shutdown, exit 0`, async () => {
      const port = await freePort();
      const child = spawn(process.execPath, ['--conditions=@stratacache/source', '--import', 'tsx', 'src/start.ts'], {
        cwd: appDir,
        env: { ...process.env, PORT: String(port), REDIS_URL: `redis://127.0.0.1:${redis.port}`, ADMIN_TOKENS: '', READ_TOKEN: '', ADMIN_TOKEN: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      const readToken = await waitFor(() => /read {2}token (\S+)/.exec(out)?.[1], { timeoutMs: 60_000, intervalMs: 100, message: `no token printed:\n${out}` });
      expect(out).toContain(`dashboard   http://127.0.0.1:${port}/cache/dashboard`);
      const r = await fetch(`http://127.0.0.1:${port}/cache/health`, { headers: { authorization: `Bearer ${readToken}` } });
      expect(r.status).toBe(200);
      child.kill(signal);
      expect(await exited).toBe(0);
      expect(out).toContain(`${signal}: shutting down`);
    }, 90_000);
  }
});
