export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending promise reactions run (works with fake timers: uses no timer). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

export const boom = (): Promise<never> => Promise.reject(new Error('boom'));
export const ok = (): Promise<string> => Promise.resolve('ok');

/** Runs `n` failing calls and swallows their errors. */
export async function failTimes(breaker: { execute<T>(fn: () => T): Promise<Awaited<T>> }, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await breaker.execute(boom).catch(() => undefined);
}
