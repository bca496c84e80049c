import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { startStack, type Stack } from './helpers';

const H = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
type RpcError = { jsonrpc: string; id: unknown; error: { code: number; message: string } };

describe('JSON-RPC errors on /mcp (raw HTTP)', () => {
  let s: Stack;
  let sid: string;
  const post = async (body: string, withSession = true) => {
    const res = await fetch(`${s.gateway.url}/mcp`, {
      method: 'POST',
      headers: { ...H, ...(withSession ? { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' } : {}) },
      body,
    });
    return { status: res.status, body: (await res.json()) as RpcError };
  };
  beforeAll(async () => {
    s = await startStack();
    const res = await fetch(`${s.gateway.url}/mcp`, {
      method: 'POST',
      headers: H,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } }),
    });
    sid = res.headers.get('mcp-session-id')!;
    await res.arrayBuffer();
  });
  afterAll(async () => {
    await s?.close();
  });

  const oneLine = (m: string) => {
    expect(m).not.toContain('\n');
    expect(m).not.toMatch(/"code":\s*"invalid_type"|\[\s*\{/);
  };

  it('invalid JSON → -32700 Parse error (with and without a session)', async () => {
    for (const withSession of [false, true]) {
      const r = await post('{"jsonrpc": "2.0", "id": 1, "method": ', withSession);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the body is not valid JSON' } });
    }
  });

  it('a text/plain body → 400 with a JSON-RPC -32600', async () => {
    const res = await fetch(`${s.gateway.url}/mcp`, { method: 'POST', headers: { 'content-type': 'text/plain', accept: H.accept }, body: 'hello' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as RpcError).error.code).toBe(-32600);
  });

  it('not a JSON-RPC 2.0 message → -32600 Invalid Request', async () => {
    for (const body of ['[]', '42', JSON.stringify({ id: 1, method: 'tools/list' }), JSON.stringify({ jsonrpc: '2.0', id: 1 })]) {
      const r = await post(body);
      expect(r.status, body).toBe(400);
      expect(r.body.error.code, body).toBe(-32600);
      oneLine(r.body.error.message);
    }
  });

  it('bad params → -32602 Invalid params with a one-line message naming the field', async () => {
    const cases: [object, string][] = [
      [{ method: 'tools/call', params: { name: 5 } }, 'Invalid params for tools/call: params.name:'],
      [{ method: 'tools/call', params: { name: 'get_job', arguments: 'x' } }, 'Invalid params for tools/call: params.arguments:'],
      [{ method: 'tools/list', params: { cursor: 5 } }, 'Invalid params for tools/list: params.cursor:'],
      [{ method: 'tools/call', params: 'x' }, 'Invalid params for tools/call: params must be an object'],
    ];
    let id = 10;
    for (const [msg, start] of cases) {
      const r = await post(JSON.stringify({ jsonrpc: '2.0', id: ++id, ...msg }));
      expect(r.status).toBe(200);
      expect(r.body.id).toBe(id);
      expect(r.body.error.code).toBe(-32602);
      expect(r.body.error.message.startsWith(start), r.body.error.message).toBe(true);
      oneLine(r.body.error.message);
    }
  });

  it('a malformed initialize → -32602 with a clear message (not "no valid session ID")', async () => {
    for (const params of [undefined, { protocolVersion: 5, capabilities: {}, clientInfo: { name: 'x', version: '0' } }, { protocolVersion: '2025-06-18', capabilities: {} }]) {
      const r = await post(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'initialize', ...(params ? { params } : {}) }), false);
      expect(r.body.error.code).toBe(-32602);
      expect(r.body.error.message).toMatch(/^Invalid params for initialize: params/);
      expect(r.body.error.message).not.toContain('session');
      oneLine(r.body.error.message);
    }
    expect(s.gateway.sessionCount()).toBe(1);
  });

  it('the SDK client sees -32602 as an McpError for bad params', async () => {
    const c = await s.connect();
    const err = await c.request({ method: 'tools/call', params: { name: 7 } } as never, (await import('@modelcontextprotocol/sdk/types.js')).CallToolResultSchema).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(-32602);
  });
});
