import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toMs } from '../src/duration';
import { CacheOptionsError } from '../src/errors';

describe('toMs', () => {
  it.each([
    [0, 0],
    [1500, 1500],
    [1.4, 1],
    ['0', 0],
    ['1500', 1500],
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    [' 10 s ', 10_000],
    ['10S', 10_000],
    ['.5s', 500],
  ] as const)('%j -> %d ms', (input, expected) => {
    expect(toMs(input, 'ttl')).toBe(expected);
  });

  it.each([
    -1,
    Number.NaN,
    Infinity,
    -Infinity,
    '',
    ' ',
    'abc',
    '5 minutes',
    '-5m',
    '5mm',
    '1e3',
    '5w',
    'm',
    '1.2.3s',
  ])('rejects %j with a CacheOptionsError naming the option', (input) => {
    expect(() => toMs(input, 'defaultTtl')).toThrow(CacheOptionsError);
    try {
      toMs(input, 'defaultTtl');
    } catch (e) {
      expect((e as CacheOptionsError).code).toBe('E_CACHE_OPTIONS');
      expect((e as Error).message).toContain('defaultTtl');
    }
  });

  it('rejects non-number, non-string values', () => {
    for (const bad of [null, undefined, {}, [], true, 5n]) {
      expect(() => toMs(bad as never, 'grace')).toThrow(/grace/);
    }
  });

  it('property: every unit scales the number', () => {
    const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])), (n, unit) => {
        expect(toMs(`${n}${unit}`, 'x')).toBe(n * units[unit]);
      }),
    );
  });

  it('property: any string either parses to a finite integer >= 0 or throws CacheOptionsError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 12 }), (s) => {
        try {
          const ms = toMs(s, 'x');
          expect(Number.isInteger(ms) && ms >= 0).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(CacheOptionsError);
        }
      }),
    );
  });
});
