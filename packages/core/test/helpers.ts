import type { Store } from '../src/index';

/** Counts calls per Store method (a transparent proxy: the real store still does the work). */
export function countingStore(inner: Store): Store & { calls: Record<string, number>; reset(): void } {
  const calls: Record<string, number> = {};
  const proxy = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'calls') return calls;
      if (prop === 'reset') return () => Object.keys(calls).forEach((k) => delete calls[k]);
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return proxy as Store & { calls: Record<string, number>; reset(): void };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Chaos wrapper around a real store: on demand, every call fails (`mode = 'error'`), hangs until
 * `mode` changes back (`'hang'`), or is delayed (`delayMs`).
 */
export class ChaosStore implements Store {
  mode: 'ok' | 'error' | 'hang' = 'ok';
  delayMs = 0;
  calls = 0;
  private waiters: (() => void)[] = [];
  constructor(readonly inner: Store) {}
  get kind() {
    return `chaos(${this.inner.kind})`;
  }
  setMode(mode: 'ok' | 'error' | 'hang'): void {
    this.mode = mode;
    if (mode !== 'hang') for (const w of this.waiters.splice(0)) w();
  }
  private async gate(): Promise<void> {
    this.calls++;
    if (this.delayMs > 0) await sleep(this.delayMs);
    if (this.mode === 'hang') await new Promise<void>((r) => this.waiters.push(r));
    if (this.mode === 'error') throw new Error('chaos: injected store failure');
  }
  async get(key: string) { await this.gate(); return this.inner.get(key); }
  async mget(keys: readonly string[]) { await this.gate(); return this.inner.mget(keys); }
  async set(key: string, value: Buffer, ttlMs?: number) { await this.gate(); return this.inner.set(key, value, ttlMs); }
  async mset(entries: Parameters<Store['mset']>[0]) { await this.gate(); return this.inner.mset(entries); }
  async del(keys: string | readonly string[]) { await this.gate(); return this.inner.del(keys); }
  async deleteMatching(glob: string) { await this.gate(); return this.inner.deleteMatching(glob); }
  async publish(channel: string, message: Buffer | string) { await this.gate(); return this.inner.publish(channel, message); }
  async subscribe(channel: string, handler: Parameters<Store['subscribe']>[1]) { await this.gate(); return this.inner.subscribe(channel, handler); }
  async ping() { await this.gate(); return this.inner.ping(); }
  isReady() { return this.mode === 'ok' && this.inner.isReady(); }
  async close() { this.setMode('ok'); return this.inner.close(); }
}
