import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startStandalone, waitFor, type StandaloneRedis } from '@stratacache/redis-harness';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockManager, fencedSet } from '../src/index';
import { client } from './helpers';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

let server: StandaloneRedis;
let redis: Redis;
const children = new Set<ChildProcess>();

function spawnChild(name: string, args: string[]): ChildProcess {
  const child = fork(fixture(name), args, {
    cwd: pkgDir,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: { type?: string }): void => {
      if (msg?.type === type) {
        child.off('exit', onExit);
        child.off('message', onMessage);
        resolve(msg as T);
      }
    };
    const onExit = (code: number | null): void => {
      child.off('message', onMessage);
      reject(new Error(`child exited (${code}) before sending "${type}"`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Linux process state letter from /proc (T = stopped). */
function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
}

beforeAll(async () => {
  server = await startStandalone();
  redis = client(server.port);
});

afterAll(async () => {
  for (const child of children) {
    try {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  redis?.disconnect();
  await server?.close();
});

describe('several OS processes', () => {
  it('4 processes contending: no lost update, fences strictly increasing across holders', async () => {
    const workers = 4;
    const iterations = 25;
    const procs = Array.from({ length: workers }, () => spawnChild('contender.ts', [String(server.port), String(iterations), 'mp']));
    const codes = await Promise.all(procs.map(exitCode));
    expect(codes).toEqual(Array(workers).fill(0));

    expect(await redis.get('mp:counter')).toBe(String(workers * iterations));
    const entries = await redis.lrange('mp:fences', 0, -1);
    expect(entries).toHaveLength(workers * iterations);
    const fences = entries.map((e) => Number(e.split(':')[0]));
    for (let i = 1; i < fences.length; i++) {
      expect(fences[i]).toBeGreaterThan(fences[i - 1] as number);
    }
    // Every process really took part.
    expect(new Set(entries.map((e) => e.split(':')[1])).size).toBe(workers);
  }, 90_000);

  it('a holder paused with SIGSTOP past its ttl loses: its late fenced write is rejected', async () => {
    const ttl = 1_000;
    const child = spawnChild('holder.ts', [String(server.port), 'stop', 'res', String(ttl)]);
    const { fence: pausedFence } = await nextMessage<{ fence: number }>(child, 'acquired');
    expect(pausedFence).toBeGreaterThan(0);

    const pid = child.pid as number;
    process.kill(pid, 'SIGSTOP');
    await waitFor(() => procState(pid) === 'T', { timeoutMs: 10_000, intervalMs: 10, message: 'child did not stop' });
    child.send({ type: 'write' }); // queued: it runs only once the child resumes
    const result = nextMessage<{ accepted: boolean; held: boolean }>(child, 'result');

    const locks = new LockManager(redis, { prefix: 'stop' });
    const second = await locks.acquire('res', { retries: 400, retryDelay: 25, jitter: 0 });
    expect(second.fence).toBeGreaterThan(pausedFence);
    expect(await fencedSet(redis, 'stop:protected', 'from-second', second.fence)).toBe(true);

    process.kill(pid, 'SIGCONT');
    expect(await result).toMatchObject({ accepted: false, held: false });
    expect(await redis.get('stop:protected')).toBe('from-second');
    expect(await second.isHeld()).toBe(true);
    await second.release();
    expect(await exitCode(child)).toBe(0);
  }, 60_000);
});
