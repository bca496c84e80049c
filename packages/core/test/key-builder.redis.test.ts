/**
 * Cross-checks the glob semantics and the escaping guarantees against a real redis-server
 * (KEYS / SCAN MATCH), so `globMatch` and the in-process store behave exactly like Redis.
 */
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyBuilder, globMatch } from '../src/key-builder';

let server: StandaloneRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startStandalone();
  redis = new Redis({ host: server.host, port: server.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
});

afterAll(async () => {
  await redis?.quit().catch(() => undefined);
  await server?.close();
});

/** Does Redis' own matcher accept `subject` for `pattern`? (one key in an otherwise empty db, deleted again) */
async function redisMatches(pattern: string, subject: string): Promise<boolean> {
  const res = (await redis.multi().set(subject, '1').keys(pattern).del(subject).exec()) ?? [];
  const keys = res[1]?.[1] as string[];
  return keys.length === 1;
}

describe('globMatch agrees with Redis', () => {
  const alphabet = fc.constantFrom('a', 'b', ':', '*', '?', '[', ']', '^', '-', '\\', 'z');
  it('on random patterns and subjects', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: alphabet, maxLength: 8 }),
        fc.string({ unit: fc.constantFrom('a', 'b', ':', '*', '?', '[', ']', '-', '\\', 'z'), minLength: 1, maxLength: 8 }),
        async (pattern, subject) => {
          expect(globMatch(pattern, subject)).toBe(await redisMatches(pattern, subject));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('KeyBuilder patterns on a real Redis', () => {
  it('SCAN MATCH with a pattern built from user input finds exactly that namespace', async () => {
    const kb = new KeyBuilder({ prefix: 'crm' });
    const nasty = ['*', 'jobs*', 'j?bs', '[jJ]obs', 'jobs:list', 'a\\', '%2A', 'jobs'];
    expect(await redis.dbsize()).toBe(0);
    const all: string[] = [];
    for (const e of nasty) for (const id of nasty) all.push(kb.build(e, 'list', id));
    await redis.mset(...all.flatMap((k) => [k, '1']));
    for (const e of nasty) {
      const found = new Set<string>();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', kb.pattern(e, 'list'), 'COUNT', 1000);
        cursor = next;
        for (const k of keys) found.add(k);
      } while (cursor !== '0');
      expect([...found].sort()).toEqual(nasty.map((id) => kb.build(e, 'list', id)).sort());
      // and every exact key matches only itself
      for (const id of nasty) expect(await redis.keys(kb.build(e, 'list', id))).toEqual([kb.build(e, 'list', id)]);
    }
    await redis.del(...all);
  });
});
