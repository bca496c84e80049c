import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CacheService, MemoryStore, RedisStore } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
import { Redis } from 'ioredis';

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A client that reconnects quietly. */
export function client(port: number): Redis {
  const c = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 100 });
  c.on('error', () => undefined);
  return c;
}

export interface Tier {
  cache: TieredCache;
  service: CacheService;
  close(): Promise<void>;
}

/** A TieredCache over Redis (port) or over a shared MemoryStore (embedded). */
export async function tiered(prefix: string, backend: { port: number } | { memory: MemoryStore }): Promise<Tier> {
  const store = 'port' in backend ? new RedisStore(client(backend.port), { ownsClient: true }) : backend.memory;
  const service = new CacheService({ store, prefix, opTimeout: 2_000 });
  const cache = new TieredCache(service, { l1: { ttl: '30s' } });
  await cache.ready();
  return {
    cache,
    service,
    async close() {
      await cache.close();
      await service.close();
      if ('port' in backend) await store.close();
    },
  };
}

const workerScript = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));

export interface Child {
  proc: ChildProcess;
  out: string[];
  ready: Promise<void>;
  exited: Promise<number | null>;
}

/** A worker process (test/fixtures/worker.ts through tsx) with env; `ready` resolves on its "ready" line. */
export function spawnWorker(env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--conditions=@stratacache/source', workerScript], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  let onReady: () => void = () => undefined;
  let onFail: (e: Error) => void = () => undefined;
  const ready = new Promise<void>((res, rej) => {
    onReady = res;
    onFail = rej;
  });
  proc.stdout!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) {
      out.push(line);
      if (line === 'ready') onReady();
    }
  });
  proc.stderr!.on('data', (d: Buffer) => out.push(`[err] ${d.toString()}`));
  const exited = new Promise<number | null>((res) => proc.on('exit', (code) => {
    onFail(new Error(`worker exited (${String(code)}) before ready: ${out.join('\n')}`));
    res(code);
  }));
  return { proc, out, ready, exited };
}
