import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { waitFor } from '@stratacache/redis-harness';
import { call, routeCount, startStack, type Stack } from './helpers';

const H = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '0' } },
});

describe('MCP sessions', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ env: { MAX_SESSIONS: '2' } });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('at MAX_SESSIONS the least recently used idle session is closed; DELETE closes a session; unknown ids get 404', async () => {
    const url = new URL(`${s.gateway.url}/mcp`);
    const t1 = new StreamableHTTPClientTransport(url);
    const c1 = new Client({ name: 'a', version: '0' });
    await c1.connect(t1);
    const c2 = await s.connect();
    await c1.listTools(); // c1 used last: c2 is the least recently used
    expect(s.gateway.sessionCount()).toBe(2);
    const c3 = new Client({ name: 'c', version: '0' });
    await c3.connect(new StreamableHTTPClientTransport(url));
    expect(s.gateway.sessionCount()).toBe(2);
    await expect(c2.listTools()).rejects.toThrow(/404|Session not found/);
    expect((await c1.listTools()).tools.length).toBeGreaterThan(0);

    // DELETE closes the session (transport spec): gone from the gateway, its id answers 404
    const sid = t1.sessionId!;
    await t1.terminateSession();
    await waitFor(() => s.gateway.sessionCount() === 1, { timeoutMs: 5000 });
    const after = await fetch(url, { method: 'POST', headers: { ...H, 'mcp-session-id': sid }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    expect(after.status).toBe(404);
    await c1.close();
    await c3.close();

    const noSession = await fetch(url, { method: 'POST', headers: H, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    expect(noSession.status).toBe(400);
    expect(((await noSession.json()) as { error: { message: string } }).error.message).toContain('must be initialize');
  });

  it('refuses browser requests from foreign origins (DNS rebinding), accepts localhost ones', async () => {
    const post = (origin: string) => fetch(`${s.gateway.url}/mcp`, { method: 'POST', headers: { ...H, origin }, body: INIT });
    const evil = await post('https://evil.example');
    expect(evil.status).toBe(403);
    await evil.arrayBuffer();
    const local = await post('http://localhost:6274');
    expect(local.status).not.toBe(403);
    const sid = local.headers.get('mcp-session-id');
    await local.arrayBuffer();
    if (sid) await fetch(`${s.gateway.url}/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
  });
});

describe('MCP session limits', () => {
  let s: Stack | undefined;
  afterEach(async () => {
    s?.upstream.chaos('ok');
    await s?.close();
    s = undefined;
  });

  it('a session without requests for SESSION_IDLE_SEC is closed (its id then answers 404)', async () => {
    s = await startStack({ env: { SESSION_IDLE_SEC: '1' } });
    const res = await fetch(`${s.gateway.url}/mcp`, { method: 'POST', headers: H, body: INIT });
    const sid = res.headers.get('mcp-session-id')!;
    await res.arrayBuffer();
    const client = await s.connect();
    expect(s.gateway.sessionCount()).toBe(2);
    // the SDK client keeps using its session: it stays; the raw one is abandoned
    const t0 = Date.now();
    while (Date.now() - t0 < 2500) {
      await client.listTools();
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(s.gateway.sessionCount()).toBe(1);
    const gone = await fetch(`${s.gateway.url}/mcp`, { method: 'POST', headers: { ...H, 'mcp-session-id': sid }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    expect(gone.status).toBe(404);
  });

  it('at MAX_SESSIONS with every session busy, initialize gets 503', async () => {
    s = await startStack({ env: { MAX_SESSIONS: '1' } });
    const c1 = await s.connect();
    s.upstream.chaos('hang');
    const pending = call(c1, 'list_job_estimates', { id: 'job-2' }).catch((e: Error) => e);
    await waitFor(() => routeCount(s!.upstream, 'GET /jobs/:id/estimates') >= 1, { timeoutMs: 5000, intervalMs: 20 });
    const res = await fetch(`${s.gateway.url}/mcp`, { method: 'POST', headers: H, body: INIT });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('MAX_SESSIONS');
    s.upstream.chaos('ok');
    await pending;
  });
});
