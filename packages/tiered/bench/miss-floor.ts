/**
 * The Redis floor under a sequential fused miss, with raw ioredis and core's own scripts (no
 * stratacache code on the path): a lone GET, a lone READ_OR_LOCK `EVALSHA`, and what a sequential
 * miss really sends — the previous miss's WRITE_AND_RELEASE (1 KB entry, PUBLISH to a subscribed
 * channel) and the next READ_OR_LOCK in one auto-pipelined socket write. p50 in µs, 2 rounds.
 * Run: cd packages/tiered && pnpm exec tsx --conditions=@stratacache/source bench/miss-floor.ts
 */
import { startStandalone } from '@stratacache/redis-harness';
import { Redis } from 'ioredis';
import { READ_OR_LOCK_LUA, WRITE_AND_RELEASE_LUA } from '../../core/src/fused-lock';

const N = 5_000;
const p50 = (x: number[]): string => (x.sort((a, b) => a - b)[Math.floor(x.length / 2)] as number).toFixed(1);

async function main(): Promise<void> {
  const redis = await startStandalone();
  const url = `redis://127.0.0.1:${redis.port}`;
  const piped = new Redis(url, { enableAutoPipelining: true });
  const raw = new Redis(url, { enableAutoPipelining: false });
  const sub = new Redis(url);
  await sub.subscribe('bus');
  sub.on('message', () => undefined);
  const value = Buffer.alloc(1_100, 7);
  const ro = (await raw.script('LOAD', READ_OR_LOCK_LUA)) as string;
  const wr = (await raw.script('LOAD', WRITE_AND_RELEASE_LUA)) as string;
  try {
    for (let round = 0; round < 2; round++) {
      const get: number[] = [];
      const lone: number[] = [];
      const pair: number[] = [];
      for (let i = 0; i < N; i++) {
        let t0 = performance.now();
        await raw.getBuffer(`g:${round}:${i}`);
        get.push((performance.now() - t0) * 1000);
        t0 = performance.now();
        await raw.evalsha(ro, 3, `a:${round}:${i}`, `la:${round}:${i}`, 'barrier', 'token', 10_000, '0');
        lone.push((performance.now() - t0) * 1000);
        t0 = performance.now();
        void piped.evalsha(wr, 2, `a:${round}:${i}`, `la:${round}:${i}`, 'token', value, 600_000, 'bus', `s ${'k'.repeat(40)}`);
        await piped.evalsha(ro, 3, `b:${round}:${i}`, `lb:${round}:${i}`, 'barrier', 'token', 10_000, '0');
        pair.push((performance.now() - t0) * 1000);
      }
      console.log(`GET ${p50(get)} µs | READ_OR_LOCK alone ${p50(lone)} µs | previous WRITE_AND_RELEASE (+PUBLISH) + READ_OR_LOCK in one write ${p50(pair)} µs`);
    }
  } finally {
    piped.disconnect();
    raw.disconnect();
    sub.disconnect();
    await redis.close();
  }
}

void main();
