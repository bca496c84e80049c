import { describe, expect, expectTypeOf, test } from 'vitest';
import { CircuitBreaker, CircuitOpenError } from '../src/index';

describe('wrap', () => {
  test('keeps this, arguments and name', async () => {
    const breaker = new CircuitBreaker();
    class Client {
      prefix = 'k:';
      async get(key: string, suffix = ''): Promise<string> {
        return `${this.prefix}${key}${suffix}`;
      }
    }
    const client = new Client();
    const guardedGet = breaker.wrap(client.get);
    expect(guardedGet.name).toBe('get');
    await expect(guardedGet.call(client, 'a')).resolves.toBe('k:a');
    await expect(guardedGet.call(client, 'a', '!')).resolves.toBe('k:a!');
    const obj = { prefix: 'p:', get: guardedGet };
    await expect(obj.get('b')).resolves.toBe('p:b');
    expect(breaker.stats().successes).toBe(3);
  });

  test('types: parameters and awaited return type are preserved', () => {
    const breaker = new CircuitBreaker();
    const fn = async (a: number, b: string): Promise<{ n: number; s: string }> => ({ n: a, s: b });
    const wrapped = breaker.wrap(fn);
    expectTypeOf(wrapped).parameters.toEqualTypeOf<[number, string]>();
    expectTypeOf(wrapped).returns.toEqualTypeOf<Promise<{ n: number; s: string }>>();
    const sync = breaker.wrap((x: number) => x * 2);
    expectTypeOf(sync).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(breaker.execute(() => Promise.resolve(1))).toEqualTypeOf<Promise<number>>();
  });

  test('wrapped calls are counted and fail fast when open', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 60_000 });
    let calls = 0;
    const wrapped = breaker.wrap(async (fail: boolean) => {
      calls++;
      if (fail) throw new Error('fail');
      return 'ok';
    });
    await expect(wrapped(true)).rejects.toThrow('fail');
    await expect(wrapped(false)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(calls).toBe(1);
  });

  test('synchronous throw inside a wrapped function becomes a rejection', async () => {
    const breaker = new CircuitBreaker();
    const wrapped = breaker.wrap((): number => {
      throw new TypeError('bad');
    });
    await expect(wrapped()).rejects.toBeInstanceOf(TypeError);
    expect(breaker.stats().failures).toBe(1);
  });
});
