import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, waitFor } from '@stratacache/redis-harness';
import { call } from './helpers';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

describe('bash scripts/start.sh', () => {
  it('Ctrl-C (SIGINT to the whole process group, as a terminal does) exits 0 without an ELIFECYCLE line', async () => {
    const [port, demoPort] = [await freePort(), await freePort()];
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !['UPSTREAM_URL', 'REDIS_URL', 'ADMIN_TOKEN', 'READ_TOKEN', 'WEBHOOK_SECRET', 'NODE_OPTIONS'].includes(k)) env[k] = v;
    // detached: its own process group, like a shell job; the signal goes to the whole group
    const child = spawn('bash', ['scripts/start.sh'], {
      cwd: repoRoot,
      env: { ...env, PORT: String(port), DEMO_PORT: String(demoPort), DEMO_LATENCY: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      const mcpUrl = await waitFor(() => /MCP\s+(http:\/\/\S+\/mcp)/.exec(out)?.[1], { timeoutMs: 240_000, intervalMs: 200, message: `no MCP URL printed:\n${out}` });
      expect(mcpUrl).toBe(`http://127.0.0.1:${port}/mcp`);
      expect(out).toContain(`demo CRM    http://127.0.0.1:${demoPort}`);
      const client = new Client({ name: 'start-sh', version: '0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl!)));
      expect((await call(client, 'get_job', { id: 'job-1' })).isError).toBe(false);
      await client.close();
      // the admin API + dashboard are served next to the gateway, with a printed read token
      const dashUrl = /dashboard\s+(http:\/\/\S+\/cache\/dashboard)/.exec(out)?.[1];
      expect(dashUrl).toBe(`http://127.0.0.1:${port}/cache/dashboard`);
      const readToken = /read token\s+(\S+)/.exec(out)?.[1];
      expect(readToken).toMatch(/^read-[0-9a-f]{32}$/);
      const page = await fetch(dashUrl!);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('/cache/dashboard/app.js');
      expect((await fetch(`${dashUrl}/app.js`)).status).toBe(200);
      const data = await fetch(`${dashUrl}/data`, { headers: { authorization: `Bearer ${readToken}` } });
      expect(data.status).toBe(200);
      expect(((await data.json()) as { overview: { local: { requests: number } } }).overview.local.requests).toBeGreaterThanOrEqual(1);
      expect((await fetch(`${dashUrl}/data`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${port}/cache/clear`, { method: 'POST', headers: { authorization: `Bearer ${readToken}` } })).status).toBe(403);
    } finally {
      process.kill(-child.pid!, 'SIGINT');
    }
    const { code, signal } = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(out).toContain('SIGINT: shutting down');
    expect(out).not.toMatch(/ELIFECYCLE|Command failed/);
  }, 300_000);
});
