import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { waitFor } from '@stratacache/redis-harness';
import { createDemoUpstream, type DemoUpstream } from '../src/demo-upstream';
import { call } from './helpers';

const appDir = fileURLToPath(new URL('..', import.meta.url));
const NODE_ARGS = ['--conditions=@stratacache/source', '--import', 'tsx', 'src/start.ts'];
const baseEnv = (): Record<string, string> => {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !['UPSTREAM_URL', 'REDIS_URL', 'ADMIN_TOKEN', 'PORT'].includes(k)) env[k] = v;
  return { ...env, LOG_LEVEL: 'warn', DEMO_LATENCY: '0' };
};

describe('stdio mode (spawned with tsx)', () => {
  let upstream: DemoUpstream;
  beforeAll(async () => {
    upstream = createDemoUpstream({ latency: 0 });
    await upstream.listen();
  });
  afterAll(async () => {
    await upstream?.close();
  });

  it('lists tools and serves cached reads against UPSTREAM_URL; admin tools with STDIO_ADMIN', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...NODE_ARGS, '--stdio'],
      cwd: appDir,
      env: { ...baseEnv(), UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: 'demo-key-bob', STDIO_ADMIN: 'true' },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'stdio-test', version: '0' });
    try {
      await client.connect(transport);
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('get_job');
      expect(names).toContain('cache_stats');
      const me = await call(client, 'get_me');
      expect((me.json as { id: string }).id).toBe('user-3');
      expect((await call(client, 'get_job', { id: 'job-1' })).source).toBe('origin');
      expect((await call(client, 'get_job', { id: 'job-1' })).source).toBe('cache');
    } finally {
      await client.close();
    }
  }, 90_000);

  it('without UPSTREAM_URL it starts the demo upstream itself', async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [...NODE_ARGS, '--stdio'], cwd: appDir, env: baseEnv(), stderr: 'pipe' });
    const client = new Client({ name: 'stdio-test', version: '0' });
    try {
      await client.connect(transport);
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('list_jobs');
      expect(names).not.toContain('cache_stats');
      const r = await call(client, 'list_jobs', { limit: 5 });
      expect(r.isError).toBe(false);
      expect((r.json as { data: unknown[] }).data).toHaveLength(5);
    } finally {
      await client.close();
    }
  }, 90_000);
});

describe('start (HTTP, demo mode)', () => {
  it('prints the URLs, serves MCP with webhooks wired to the demo upstream, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, NODE_ARGS, { cwd: appDir, env: { ...baseEnv(), PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const mcpUrl = await waitFor(() => /MCP\s+(http:\/\/\S+\/mcp)/.exec(out)?.[1], { timeoutMs: 30_000, intervalMs: 100, message: 'no MCP URL printed' });
      expect(out).toContain('npx @modelcontextprotocol/inspector');
      expect(out).toContain('curl');
      expect(out).toMatch(/embedded in-process store/);
      const admin = /admin token (\S+)/.exec(out)?.[1];
      expect(admin).toBeDefined();
      const client = new Client({ name: 'start-test', version: '0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl!), { requestInit: { headers: { authorization: `Bearer ${admin}` } } }));
      expect((await call(client, 'get_job', { id: 'job-1' })).source).toBe('origin');
      expect((await call(client, 'get_job', { id: 'job-1' })).source).toBe('cache');
      // a write through the gateway, and the demo upstream's webhook arrives too
      await call(client, 'update_job', { id: 'job-1', title: 'via start' });
      const r = await call(client, 'get_job', { id: 'job-1' });
      expect((r.json as { title: string }).title).toBe('via start');
      await waitFor(async () => ((await call(client, 'cache_stats')).json as { gateway: { webhooks: number } }).gateway.webhooks >= 1, {
        timeoutMs: 10_000,
        intervalMs: 100,
        message: 'demo webhook did not arrive',
      });
      await client.close();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 90_000);
});
