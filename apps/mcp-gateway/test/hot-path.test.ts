import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { startStandalone } from '@stratacache/redis-harness';
import { ALICE, call, routeCount, startStack, type Stack } from './helpers';

/**
 * Issue 19, the hot path: single results as application/json, the serialised result cached
 * (a hit returns the stored bytes), compact JSON by default and pretty as an option, one
 * catalog (compiled validators, precomputed lists) for every session, the SDK path still whole.
 */
const H = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-api-key': ALICE };

async function init(url: string, extra: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { ...H, ...extra },
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '0' } } }),
  });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  await res.json();
  return res.headers.get('mcp-session-id')!;
}

function rpc(url: string, sid: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { ...H, 'mcp-session-id': sid, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const getJob = (id: number, jobId = 'job-3') => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'get_job', arguments: { id: jobId } } });

for (const backend of ['memory', 'redis'] as const) {
  describe(`hot path on ${backend}`, () => {
    let s: Stack;
    let sid: string;
    let redis: Awaited<ReturnType<typeof startStandalone>> | undefined;
    beforeAll(async () => {
      if (backend === 'redis') redis = await startStandalone();
      s = await startStack(redis ? { redisUrl: redis.url } : {});
      sid = await init(s.gateway.url);
    });
    afterAll(async () => {
      await s?.close();
      await redis?.close();
    });

    it('a tools/call is answered as one application/json body; the hit is the origin answer byte for byte, with its source marker', async () => {
      const before = routeCount(s.upstream, 'GET /jobs/:id');
      const first = await rpc(s.gateway.url, sid, getJob(1));
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toMatch(/^application\/json/);
      expect(first.headers.get('mcp-session-id')).toBe(sid);
      const origin = await first.text();
      const hit = await (await rpc(s.gateway.url, sid, getJob(2))).text();
      expect(routeCount(s.upstream, 'GET /jobs/:id')).toBe(before + 1);
      expect(origin).toContain('"_meta":{"stratacache/source":"origin"}');
      expect(hit).toContain('"_meta":{"stratacache/source":"cache"}');
      // same text bytes; only the id and the marker differ
      expect(hit.replace('"id":2', '"id":1').replace('"stratacache/source":"cache"', '"stratacache/source":"origin"')).toBe(origin);
      const r = JSON.parse(hit) as { jsonrpc: string; id: number; result: { content: { type: string; text: string }[] } };
      expect(r.jsonrpc).toBe('2.0');
      expect(r.id).toBe(2);
      // compact JSON by default
      expect(r.result.content[0]!.text).not.toContain('\n');
      expect((JSON.parse(r.result.content[0]!.text) as { id: string }).id).toBe('job-3');
    });

    it('string ids, tool errors, unknown tools and bad arguments keep their shapes on the fast path', async () => {
      const str = (await (await rpc(s.gateway.url, sid, { ...getJob(0), id: 'abc' })).json()) as { id: unknown; result: unknown };
      expect(str.id).toBe('abc');
      const bad = (await (await rpc(s.gateway.url, sid, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'get_job', arguments: {} } })).json()) as {
        result: { isError: boolean; content: { text: string }[] };
      };
      expect(bad.result.isError).toBe(true);
      expect(bad.result.content[0]!.text).toMatch(/Input validation error: Invalid arguments for tool get_job: id: required/);
      const unknown = (await (await rpc(s.gateway.url, sid, { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'nope' } })).json()) as {
        result: { isError: boolean; content: { text: string }[] };
      };
      expect(unknown.result).toEqual({ content: [{ type: 'text', text: 'MCP error -32602: Tool nope not found' }], isError: true });
      const notFound = (await (await rpc(s.gateway.url, sid, getJob(5, 'job-999'))).json()) as { result: { isError: boolean; _meta: Record<string, unknown> } };
      expect(notFound.result.isError).toBe(true);
      expect(notFound.result._meta['stratacache/error']).toBe('E_UPSTREAM_HTTP');
    });

    it('what the fast path does not take still goes through the SDK transport: batches, notifications, bad Accept or protocol version', async () => {
      const batch = await rpc(s.gateway.url, sid, [getJob(10), { jsonrpc: '2.0', id: 11, method: 'tools/list' }]);
      expect(batch.status).toBe(200);
      expect(batch.headers.get('content-type')).toMatch(/^application\/json/);
      const answers = (await batch.json()) as { id: number; result: { tools?: unknown[]; _meta?: Record<string, unknown> } }[];
      expect(answers.map((a) => a.id).sort()).toEqual([10, 11]);
      expect(answers.find((a) => a.id === 10)!.result._meta!['stratacache/source']).toBe('cache');
      expect(answers.find((a) => a.id === 11)!.result.tools!.length).toBeGreaterThan(10);
      const note = await rpc(s.gateway.url, sid, { jsonrpc: '2.0', method: 'notifications/initialized' });
      expect(note.status).toBe(202);
      const jsonOnly = await rpc(s.gateway.url, sid, getJob(12), { accept: 'application/json' });
      expect(jsonOnly.status).toBe(406);
      await jsonOnly.arrayBuffer();
      const oldVersion = await rpc(s.gateway.url, sid, getJob(13), { 'mcp-protocol-version': '1999-01-01' });
      expect(oldVersion.status).toBe(400);
      await oldVersion.arrayBuffer();
    });

    it('server-initiated messages keep their SSE stream (GET /mcp)', async () => {
      const ctl = new AbortController();
      const res = await fetch(`${s.gateway.url}/mcp`, {
        headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
        signal: ctl.signal,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      ctl.abort();
    });

    it('the SDK client gets the same answers (cache marker, compact text) through JSON responses', async () => {
      const c = await s.connect();
      const a = await call(c, 'get_job', { id: 'job-4' });
      const b = await call(c, 'get_job', { id: 'job-4' });
      expect([a.source, b.source]).toEqual(['origin', 'cache']);
      expect(b.text).toBe(a.text);
      expect((b.json as { id: string }).id).toBe('job-4');
    });
  });
}

describe('hot path options and compatibility', () => {
  let s: Stack;
  afterAll(async () => {
    await s?.close();
  });

  it('RESULT_JSON=pretty indents the text (2 spaces); the cached bytes are the pretty ones', async () => {
    s = await startStack({ env: { RESULT_JSON: 'pretty' } });
    const c = await s.connect();
    const a = await call(c, 'get_job', { id: 'job-5' });
    const b = await call(c, 'get_job', { id: 'job-5' });
    expect(b.source).toBe('cache');
    expect(a.text).toContain('\n  "id": "job-5"');
    expect(b.text).toBe(a.text);
  });

  it('an entry written by an older gateway (the upstream value, not its text) is still served', async () => {
    const c = await s.connect();
    // what the previous version cached: the parsed upstream value under the same key
    await call(c, 'get_job', { id: 'job-6' });
    await s.gateway.cache.invalidate([{ tag: 'job:job-6' }]);
    const spec = { entity: 'job', operation: 'get', params: { id: 'job-6' }, ttlMs: 60_000, graceMs: 0, tags: ['job:job-6'] };
    await s.gateway.cache.read(spec, async () => ({ id: 'job-6', title: 'from an older gateway' }));
    const r = await call(c, 'get_job', { id: 'job-6' });
    expect(r.source).toBe('cache');
    expect((r.json as { title: string }).title).toBe('from an older gateway');
  });

  it('one catalog for every session: the tools/list answer is built once, not per session', async () => {
    const c1 = await s.connect();
    const c2 = await s.connect();
    const [l1, l2] = await Promise.all([c1.listTools(), c2.listTools()]);
    expect(l1).toEqual(l2);
    expect(s.gateway.catalog.list(false)).toBe(s.gateway.catalog.list(false));
    const getJobDef = l1.tools.find((t) => t.name === 'get_job')!;
    // the manifest's JSON schema as written
    expect(getJobDef.inputSchema).toEqual(s.gateway.manifest.tools.find((t) => t.name === 'get_job')!.input);
  });
});
