import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ, auth, setup, traffic, type Setup } from './admin-helpers';

let redis: StandaloneRedis;
let s: Setup;
beforeAll(async () => {
  redis = await startStandalone();
  s = await setup(redis.port, 'sse', { liveMs: 100 });
});
afterAll(async () => {
  await s?.close();
  await redis?.close();
});

describe('live numbers (server-sent events)', () => {
  it('streams this process’s numbers with a bearer token; 401 without; ends on close', async () => {
    const url = await s.app.listen({ port: 0, host: '127.0.0.1' });
    expect((await fetch(`${url}/cache/dashboard/events`)).status).toBe(401);
    const res = await fetch(`${url}/cache/dashboard/events`, { headers: auth(READ) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    await traffic(s.cache, 5);
    const reader = res.body!.getReader();
    let text = '';
    const dec = new TextDecoder();
    while (!/"requests":10\b/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value);
    }
    expect(text).toMatch(/^event: overview\ndata: \{/m);
    expect(text).toMatch(/"requests":10\b/);
    // Fastify's close ends the open stream (preClose), it does not hang on it
    const closing = s.app.close();
    for (;;) if ((await reader.read()).done) break;
    await closing;
  });
});
