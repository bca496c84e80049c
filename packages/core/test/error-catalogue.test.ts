import { BreakerOptionsError, CircuitBreaker, CircuitOpenError, StratacacheError as BaseFromBreaker } from '@stratacache/breaker';
import { describe, expect, it } from 'vitest';
import {
  CacheEventEmitter,
  CacheOptionsError,
  CacheService,
  KeyError,
  StoreTimeoutError,
  StrataCacheError,
  StratacacheError,
} from '../src/index';

describe('one error catalogue', () => {
  it('every error extends the one StratacacheError (defined in breaker) and carries its code', async () => {
    expect(StratacacheError).toBe(BaseFromBreaker);
    expect(StrataCacheError).toBe(StratacacheError);
    const errs: [unknown, string][] = [
      [new CacheOptionsError('x'), 'E_CACHE_OPTIONS'],
      [new KeyError('x'), 'E_CACHE_KEY'],
      [new StoreTimeoutError('get', 5), 'E_STORE_TIMEOUT'],
    ];
    try {
      new CircuitBreaker({ failureThreshold: -1 });
    } catch (e) {
      errs.push([e, 'E_BREAKER_OPTIONS']);
    }
    const b = new CircuitBreaker({ failureThreshold: 1 });
    await b.execute(() => Promise.reject(new Error('boom'))).catch(() => undefined);
    try {
      await b.execute(() => Promise.resolve(1));
    } catch (e) {
      errs.push([e, 'E_CIRCUIT_OPEN']);
    }
    expect(errs).toHaveLength(5);
    for (const [e, code] of errs) {
      expect(e).toBeInstanceOf(StratacacheError);
      expect((e as StratacacheError).code).toBe(code);
      expect((e as Error).name).not.toBe('Error');
    }
    expect(errs[3]?.[0]).toBeInstanceOf(BreakerOptionsError);
    expect(errs[4]?.[0]).toBeInstanceOf(CircuitOpenError);
  });
});

describe('listener errors are surfaced, not swallowed', () => {
  it('counts a throwing listener and hands it to onListenerError; the emit goes on', () => {
    const em = new CacheEventEmitter();
    const seen: unknown[] = [];
    em.onListenerError = (err, ev) => seen.push([(err as Error).message, ev.type]);
    const got: string[] = [];
    em.on('hit', () => {
      throw new Error('listener bug');
    });
    em.on('hit', (e) => got.push(e.type));
    em.emit({ type: 'hit', source: 'l2' });
    expect(got).toEqual(['hit']);
    expect(em.listenerErrors).toBe(1);
    expect(seen).toEqual([['listener bug', 'hit']]);
  });

  it('a throwing listener never breaks a cache call', async () => {
    const cache = new CacheService();
    cache.on('set', () => {
      throw new Error('listener bug');
    });
    await expect(cache.set('a:b:c', 1)).resolves.toEqual({ ok: true });
    expect(await cache.get('a:b:c')).toBe(1);
    await cache.close();
  });
});

describe('onListenerError option', () => {
  it('CacheService: a throwing listener is counted in stats().listenerErrors and handed to onListenerError', async () => {
    const seen: string[] = [];
    const cache = new CacheService({ onListenerError: (err, ev) => seen.push(`${(err as Error).message}/${ev.type}`) });
    cache.on('set', () => {
      throw new Error('bug');
    });
    await cache.set('a:b:c', 1);
    expect(seen).toEqual(['bug/set']);
    expect(cache.stats().listenerErrors).toBe(1);
    expect(() => new CacheService({ onListenerError: 'x' as never })).toThrow(CacheOptionsError);
    await cache.close();
  });
});
