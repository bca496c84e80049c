import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CpuRound } from './measure';

const HOST = fileURLToPath(new URL('./peer-host.ts', import.meta.url));

/** The peer libraries' process (see `peer-host.ts` for why they do not share the bench's process). */
export interface Peers {
  ops(name: string, ms: number, inflight: number, round?: number): Promise<number>;
  cpu(name: string, ms: number, inflight: number, round?: number): Promise<CpuRound>;
  seq(name: string, n: number, round?: number): Promise<number>;
  stampede(name: 'bento' | 'cm'): Promise<number>;
  stop(): Promise<void>;
}

/** Forks the peer process against the Redis on `port` (built packages, like the bench) and waits until it is set up. */
export async function startPeers(port: number): Promise<Peers> {
  const child: ChildProcess = fork(HOST, [String(port)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('peer process did not become ready')), 60_000);
    child.on('message', (m: { ready?: boolean; id?: number; result?: unknown; error?: string }) => {
      if (m.ready === true) {
        clearTimeout(timer);
        resolve();
        return;
      }
      const p = pending.get(m.id as number);
      if (p === undefined) return;
      pending.delete(m.id as number);
      if (m.error !== undefined) p.reject(new Error(`peer process: ${m.error}`));
      else p.resolve(m.result);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      const err = new Error(`peer process exited with ${String(code)}`);
      reject(err);
      for (const p of pending.values()) p.reject(err);
    });
  });
  const call = <T>(msg: Record<string, unknown>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, ...msg });
    });
  return {
    ops: (name, ms, inflight, round) => call<number>({ cmd: 'ops', name, ms, inflight, round }),
    cpu: (name, ms, inflight, round) => call<CpuRound>({ cmd: 'cpu', name, ms, inflight, round }),
    seq: (name, n, round) => call<number>({ cmd: 'seq', name, n, round }),
    stampede: (name) => call<number>({ cmd: 'stampede', name }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.send({ id: 0, cmd: 'exit' });
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
}
