import { afterEach, describe, expect, it } from 'vitest';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { waitFor } from '@stratacache/redis-harness';
import { call, routeCount, startStack, type Stack } from './helpers';

describe('in-flight calls at shutdown', () => {
  let s: Stack | undefined;
  afterEach(async () => {
    s?.upstream.chaos('ok');
    await s?.close();
    s = undefined;
  });

  it('a call that finishes within DRAIN_TIMEOUT_MS gets its normal answer', async () => {
    s = await startStack({ latency: 600 });
    const c = await s.connect();
    const pending = call(c, 'get_job', { id: 'job-8' });
    await waitFor(() => routeCount(s!.upstream, 'GET /jobs/:id') >= 1, { timeoutMs: 5000, intervalMs: 10 });
    const t0 = performance.now();
    const closing = s.gateway.close({ drainMs: 5000 });
    const r = await pending;
    expect(r.isError).toBe(false);
    expect((r.json as { id: string }).id).toBe('job-8');
    await closing;
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it('a call still running at the deadline is answered with a JSON-RPC error (not left to the client timeout)', async () => {
    s = await startStack({ env: { DRAIN_TIMEOUT_MS: '300' } });
    const c = await s.connect();
    s.upstream.chaos('hang');
    const t0 = performance.now();
    const pending = c.callTool({ name: 'update_job', arguments: { id: 'job-9', title: 'hung' } }, undefined, { timeout: 20_000 }).catch((e: unknown) => e);
    await waitFor(() => routeCount(s!.upstream, 'PATCH /jobs/:id') >= 1, { timeoutMs: 5000, intervalMs: 10 });
    const closing = s.gateway.close();
    const err = await pending;
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(-32000);
    expect((err as McpError).message).toContain('shut down before this call finished');
    expect(ms).toBeLessThan(3000);
    await closing;
    // new requests during/after shutdown are refused, not hung
    const res = await fetch(`${s.gateway.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).catch(() => undefined);
    expect(res === undefined || res.status === 503).toBe(true);
  });
});
