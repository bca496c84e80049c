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
