import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { waitFor } from '@stratacache/redis-harness';
import { startStack, type Stack } from './helpers';

describe('MCP sessions', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ env: { MAX_SESSIONS: '2' } });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('caps open sessions, frees them on DELETE, refuses unknown session ids', async () => {
    const url = new URL(`${s.gateway.url}/mcp`);
    const t1 = new StreamableHTTPClientTransport(url);
    const c1 = new Client({ name: 'a', version: '0' });
    await c1.connect(t1);
    await s.connect();
    expect(s.gateway.sessionCount()).toBe(2);
    const c3 = new Client({ name: 'c', version: '0' });
    await expect(c3.connect(new StreamableHTTPClientTransport(url))).rejects.toThrow();
    await t1.terminateSession();
    await c1.close();
    await waitFor(() => s.gateway.sessionCount() === 1, { timeoutMs: 5000 });
    const c4 = new Client({ name: 'd', version: '0' });
    await c4.connect(new StreamableHTTPClientTransport(url));
    expect((await c4.listTools()).tools.length).toBeGreaterThan(0);
    await c4.close();

    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': 'nope' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
    const noSession = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(noSession.status).toBe(400);
  });

  it('refuses browser requests from foreign origins (DNS rebinding), accepts localhost ones', async () => {
    const init = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '0' } },
    });
    const post = (origin: string) =>
      fetch(`${s.gateway.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', origin },
        body: init,
      });
    const evil = await post('https://evil.example');
    expect(evil.status).toBe(403);
    await evil.arrayBuffer();
    // the cap is 2 sessions and one may still be open from the previous test: close what we open
    const local = await post('http://localhost:6274');
    expect(local.status).not.toBe(403);
    const sid = local.headers.get('mcp-session-id');
    await local.arrayBuffer();
    if (sid) await fetch(`${s.gateway.url}/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
  });
});
