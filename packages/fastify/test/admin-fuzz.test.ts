import fc from 'fast-check';
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, READ, auth, setup, type Setup } from './admin-helpers';

let redis: StandaloneRedis;
let s: Setup;
beforeAll(async () => {
  redis = await startStandalone();
  s = await setup(redis.port, 'fuzz', {}, { warm: () => undefined, stats: () => ({ waiting: 0 }) });
});
afterAll(async () => {
  await s?.close();
  await redis?.close();
});

const POST_ROUTES = ['/cache/invalidate', '/cache/warming', '/cache/optimize', '/cache/clear', '/cache/alerts/x/acknowledge'];
const GET_ROUTES = ['/cache/analytics/top-queries', '/cache/analytics/performance', '/cache/trends', '/cache/invalidations', '/cache/alerts', '/cache/stats', '/cache/health', '/cache/dashboard/data'];
const field = fc.constantFrom('key', 'pattern', 'tag', 'namespace', 'operation', 'keys', 'dryRun', 'limit', 'range', '__proto__', 'constructor');
const value = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })));
const body = fc.oneof(fc.dictionary(field, value, { maxKeys: 4 }), fc.anything({ maxDepth: 2 }), fc.string({ maxLength: 30 }));
const segment = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('..', '%', '%00', 'a%2Fb', '-1', '9'.repeat(30)));

describe('fuzz: random bodies, params and queries on the admin routes', () => {
  it('only 2xx / 4xx, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...POST_ROUTES), body, fc.constantFrom(ADMIN, READ), fc.boolean(), async (url, payload, token, asText) => {
        const r = await s.app.inject({
          method: 'POST',
          url,
          headers: { ...auth(token), 'content-type': asText ? 'text/plain' : 'application/json' },
          payload: (typeof payload === 'string' && asText ? payload : JSON.stringify(payload)) ?? 'null',
        });
        expect(r.statusCode, `${url} ${JSON.stringify(payload)} → ${r.body}`).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...GET_ROUTES), fc.dictionary(field, fc.oneof(segment, fc.integer().map(String)), { maxKeys: 3 }), async (url, query) => {
        const qs = new URLSearchParams(query).toString();
        const r = await s.app.inject({ method: 'GET', url: `${url}?${qs}`, headers: auth(READ) });
        expect(r.statusCode, `${url}?${qs} → ${r.body}`).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
    await fc.assert(
      fc.asyncProperty(segment, async (id) => {
        const r = await s.app.inject({ method: 'POST', url: `/cache/alerts/${encodeURIComponent(id)}/acknowledge`, headers: auth(ADMIN) });
        expect([200, 400, 404]).toContain(r.statusCode);
      }),
      { numRuns: 100 },
    );
  });
});
