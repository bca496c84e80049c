import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createServer, type AddressInfo } from 'node:net';
import { startStandalone, waitFor } from '@stratacache/redis-harness';
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

/** Spawns `node src/start.ts` (tsx) and collects its output. */
function spawnStart(env: Record<string, string>) {
  const child = spawn(process.execPath, NODE_ARGS, { cwd: appDir, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { text: '' };
  child.stdout.on('data', (d: Buffer) => (out.text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.text += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

describe('start (HTTP, demo mode)', () => {
  it('prints the URLs, the webhook secret and a signed-webhook curl that works; serves MCP; JSON logs when not a TTY; exits 0 on SIGTERM', async () => {
    const { child, out, exited } = spawnStart({ PORT: '0', LOG_LEVEL: 'info' });
    try {
      const mcpUrl = await waitFor(() => /MCP\s+(http:\/\/\S+\/mcp)/.exec(out.text)?.[1], { timeoutMs: 30_000, intervalMs: 100, message: 'no MCP URL printed' });
      await waitFor(() => out.text.includes('Ctrl-C to stop'), { timeoutMs: 5000, intervalMs: 50 });
      expect(out.text).toContain('npx @modelcontextprotocol/inspector');
      expect(out.text).toMatch(/embedded in-process store/);
      const admin = /admin token (\S+)/.exec(out.text)?.[1];
      expect(admin).toBeDefined();
      expect(out.text).toMatch(/webhook secret [0-9a-f]{48}/);
      const client = new Client({ name: 'start-test', version: '0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl!), { requestInit: { headers: { authorization: `Bearer ${admin}` } } }));
      expect((await call(client, 'get_job', { id: 'job-1' })).source).toBe('origin');
      expect((await call(client, 'get_job', { id: 'job-1' })).source).toBe('cache');
      // the printed command signs and sends a webhook that the gateway accepts and applies
      const curl = out.text.split('\n').find((l) => l.includes('openssl dgst'))!.trim();
      const sent = await new Promise<string>((resolve, reject) => {
        const sh = spawn('bash', ['-c', curl], { stdio: ['ignore', 'pipe', 'inherit'] });
        let o = '';
        sh.stdout.on('data', (d: Buffer) => (o += d.toString()));
        sh.on('exit', () => resolve(o));
        sh.on('error', reject);
      });
      expect(JSON.parse(sent)).toMatchObject({ ok: true, matched: true });
      expect((await call(client, 'get_job', { id: 'job-1' })).source).toBe('origin');
      // a write through the gateway, and the demo upstream's webhook arrives too
      await call(client, 'update_job', { id: 'job-1', title: 'via start' });
      const r = await call(client, 'get_job', { id: 'job-1' });
      expect((r.json as { title: string }).title).toBe('via start');
      await waitFor(async () => ((await call(client, 'cache_stats')).json as { gateway: { webhooks: number } }).gateway.webhooks >= 2, {
        timeoutMs: 10_000,
        intervalMs: 100,
        message: 'demo webhook did not arrive',
      });
      await client.close();
      // stdout is a pipe here: log lines are JSON
      const logLine = out.text.split('\n').find((l) => l.includes('webhook applied'));
      expect(() => JSON.parse(logLine!)).not.toThrow();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 90_000);

  it('a busy port: one line naming the port and its variable, exit 1; LOG_FORMAT=pretty prints short readable lines', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const { out, exited } = spawnStart({ PORT: String(port), LOG_FORMAT: 'pretty' });
      expect(await exited).toBe(1);
      expect(out.text).toContain(`port ${port} on 127.0.0.1 is already in use: set PORT to another port (PORT=0 picks a free one)`);
      expect(out.text).not.toMatch(/EADDRINUSE|\n\s+at /);
      // the KEY_SECRET-less demo logs nothing, but a pretty line has no JSON braces at its start
      for (const l of out.text.split('\n').filter((x) => /\b(INFO|WARN|ERROR)\b/.test(x))) expect(l.trim().startsWith('{')).toBe(false);
      const demo = spawnStart({ PORT: '0', DEMO_PORT: String(port) });
      expect(await demo.exited).toBe(1);
      expect(demo.out.text).toContain(`port ${port} on 127.0.0.1 is already in use: set DEMO_PORT`);
    } finally {
      blocker.close();
    }
  }, 60_000);

  it('names the Redis it runs on (host:port/db, never the password); pretty log lines with LOG_FORMAT=pretty', async () => {
    const redis = await startStandalone();
    const port = new URL(redis.url).port;
    const { child, out, exited } = spawnStart({ PORT: '0', REDIS_URL: `redis://127.0.0.1:${port}/3`, LOG_FORMAT: 'pretty', LOG_LEVEL: 'info' });
    try {
      const mcpUrl = await waitFor(() => /MCP\s+(http:\/\/\S+\/mcp)/.exec(out.text)?.[1], { timeoutMs: 30_000, intervalMs: 100, message: 'no MCP URL printed' });
      expect(out.text).toContain(`cache       tiered+shard on Redis 127.0.0.1:${port}/3`);
      await fetch(mcpUrl!.replace('/mcp', '/healthz'));
      const line = await waitFor(() => out.text.split('\n').find((l) => l.includes('GET /healthz 200')), { timeoutMs: 5000, intervalMs: 50 });
      expect(line!.trim().startsWith('{')).toBe(false);
      expect(line!.length).toBeLessThan(200);
    } finally {
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      await redis.close();
    }
  }, 60_000);
});
