import { Redis, type RedisOptions } from 'ioredis';

/** A client that reconnects quietly (tests kill servers on purpose). */
export function client(port: number, extra: RedisOptions = {}): Redis {
  const c = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 100, lazyConnect: false, ...extra });
  c.on('error', () => undefined);
  return c;
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
