import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandalone } from '@stratacache/redis-harness';
import { computeSignature } from '../src/webhooks/signature';
import { MemoryReplayGuard } from '../src/webhooks/replay-guard';
import { startStack, WEBHOOK_SECRET, type Stack } from './helpers';

const post = (s: Stack, body: string, signature: string) =>
  fetch(`${s.gateway.url}/webhooks/crm`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': signature }, body });

/** Every spelling of one delivery the verifier accepts. */
function spellings(body: string): string[] {
  const t = Math.floor(Date.now() / 1000);
  const sig = computeSignature(WEBHOOK_SECRET, t, body);
  return [
    `t=${t},v1=${sig}`,
    `t=${t},v1=${sig.toUpperCase()}`,
    `t=${t}, v1=${sig}`,
    ` t=${t} , v1=${sig} `,
    `t=${t},v1=${'0'.repeat(64)},v1=${sig}`,
    `v1=${sig},t=${t}`,
    `t=${t},v1=${sig},v1=${sig.toUpperCase()}`,
  ];
}

describe.each(['memory', 'redis'] as const)('webhook replay on %s', (backend) => {
  let redis: Awaited<ReturnType<typeof startStandalone>> | undefined;
  let a: Stack;
  let b: Stack;
  beforeAll(async () => {
    if (backend === 'redis') redis = await startStandalone();
    const prefix = `gwreplay${backend}`;
    a = await startStack({ redisUrl: redis?.url, prefix });
    b = await startStack({ redisUrl: redis?.url, prefix });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.close();
  });

  it('one delivery is applied once whatever the spelling of its signature (hex case, spaces, extra v1= entries)', async () => {
    const body = JSON.stringify({ event: 'job.updated', resource_type: 'job', resource_id: `job-3`, data: { n: backend } });
    const [first, ...others] = spellings(body);
    const r = await post(a, body, first!);
    expect(r.status).toBe(200);
    for (const sig of others) {
      const replay = await post(a, body, sig);
      expect(replay.status, sig).toBe(401);
      expect(((await replay.json()) as { reason: string }).reason).toBe('replayed');
    }
    // another delivery (other body) is still accepted
    const other = JSON.stringify({ event: 'job.updated', resource_type: 'job', resource_id: 'job-4' });
    expect((await post(a, other, spellings(other)[1]!)).status).toBe(200);
  });

  it(backend === 'redis' ? 'two instances on one Redis refuse each other\'s replays' : 'instances on the embedded store each keep their own memory', async () => {
    const body = JSON.stringify({ event: 'job.updated', resource_type: 'job', resource_id: 'job-5', data: { n: backend } });
    const [s1, s2] = spellings(body);
    expect((await post(a, body, s1!)).status).toBe(200);
    const atB = await post(b, body, s2!);
    if (backend === 'redis') {
      expect(atB.status).toBe(401);
      expect(((await atB.json()) as { reason: string }).reason).toBe('replayed');
      if (redis) expect(await redis.cli('--scan', '--pattern', 'gwreplayredis:__webhook_seen:*')).toContain('crm:');
    } else {
      expect(atB.status).toBe(200);
    }
  });
});

describe('in-process replay memory', () => {
  it('is bounded: at most maxEntries deliveries, the oldest forgotten first', async () => {
    const g = new MemoryReplayGuard(3);
    for (const id of ['a', 'b', 'c']) expect(await g.firstDelivery(id, 60_000)).toBe(true);
    expect(await g.firstDelivery('a', 60_000)).toBe(false);
    expect(await g.firstDelivery('d', 60_000)).toBe(true);
    expect(g.size).toBe(3);
    expect(await g.firstDelivery('a', 60_000)).toBe(true); // forgotten (oldest)
    expect(await g.firstDelivery('d', 60_000)).toBe(false);
  });
});
