import { describe, expect, it } from 'vitest';
import { LockOptionsError } from '../src/index';
import { resolveAcquireOptions, resolveManagerOptions, resolveUsingExtras } from '../src/options';

describe('durations: the lock takes the same duration strings as every other package', () => {
  it('ttl, jitter, retryDelay, commandTimeout and extendInterval accept ms or duration strings', () => {
    const m = resolveManagerOptions({ ttl: '10s', jitter: '50ms', retryDelay: '.1s', commandTimeout: '1.5s' });
    expect(m.ttl).toBe(10_000);
    expect(m.jitter).toBe(50);
    expect(m.retryDelay).toBe(100);
    expect(m.commandTimeout).toBe(1_500);
    expect(resolveAcquireOptions('acquire', { ttl: '2m' }, m).ttl).toBe(120_000);
    expect(resolveUsingExtras('using', { extendInterval: '3s' }, 10_000).extendInterval).toBe(3_000);
    expect(resolveManagerOptions({ ttl: 2500 }).ttl).toBe(2500);
  });

  it('refuses unparsable, negative and zero durations with a typed error', () => {
    for (const bad of [{ ttl: 'soon' }, { ttl: '-1s' }, { ttl: '0s' }, { commandTimeout: '0ms' }, { jitter: 'x' }]) {
      expect(() => resolveManagerOptions(bad)).toThrow(LockOptionsError);
    }
  });
});
