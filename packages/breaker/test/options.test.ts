import { describe, expect, it, test } from 'vitest';
import { BREAKER_DEFAULTS, BreakerError, BreakerOptionsError, CircuitBreaker, parseDuration, type CircuitBreakerOptions } from '../src/index';

function optionError(options: unknown): BreakerOptionsError {
  try {
    new CircuitBreaker(options as CircuitBreakerOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(BreakerOptionsError);
    return error as BreakerOptionsError;
  }
  throw new Error('expected BreakerOptionsError');
}

describe('options', () => {
  test('defaults', () => {
    expect(BREAKER_DEFAULTS).toEqual({
      name: 'breaker',
      failureThreshold: 5,
      monitoringWindow: 120_000,
      resetTimeout: 60_000,
      halfOpenMaxCalls: 1,
    });
    expect(Object.isFrozen(BREAKER_DEFAULTS)).toBe(true);
    const breaker = new CircuitBreaker();
    expect(breaker.name).toBe('breaker');
    expect(breaker.state).toBe('CLOSED');
    expect(new CircuitBreaker({}).name).toBe('breaker');
    expect(new CircuitBreaker({ name: 'redis-main' }).name).toBe('redis-main');
  });

  test('error shape: code, option, value, message naming both', () => {
    const error = optionError({ failureThreshold: -1 });
    expect(error).toBeInstanceOf(BreakerError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('E_BREAKER_OPTIONS');
    expect(error.name).toBe('BreakerOptionsError');
    expect(error.option).toBe('failureThreshold');
    expect(error.value).toBe(-1);
    expect(error.message).toBe('Invalid circuit breaker option "failureThreshold": expected an integer from 1 to 100000, got -1');
  });

  test.each([
    ['failureThreshold', -1, '-1'],
    ['failureThreshold', 0, 'got 0'],
    ['failureThreshold', 2.5, 'got 2.5'],
    ['failureThreshold', Number.NaN, 'got NaN'],
    ['failureThreshold', Number.POSITIVE_INFINITY, 'got Infinity'],
    ['failureThreshold', 100_001, 'got 100001'],
    ['failureThreshold', '5', 'got "5"'],
    ['failureThreshold', null, 'got null'],
    ['halfOpenMaxCalls', 0, 'got 0'],
    ['halfOpenMaxCalls', -3, 'got -3'],
    ['halfOpenMaxCalls', 1.5, 'got 1.5'],
    ['halfOpenMaxCalls', Number.NaN, 'got NaN'],
    ['halfOpenMaxCalls', Number.POSITIVE_INFINITY, 'got Infinity'],
    ['monitoringWindow', 0, 'got 0'],
    ['monitoringWindow', -1, 'got -1'],
    ['monitoringWindow', -0, 'got -0'],
    ['monitoringWindow', Number.NaN, 'got NaN'],
    ['monitoringWindow', Number.NEGATIVE_INFINITY, 'got -Infinity'],
    ['monitoringWindow', '120s', 'got "120s"'],
    ['resetTimeout', 0, 'got 0'],
    ['resetTimeout', -5, 'got -5'],
    ['resetTimeout', Number.NaN, 'got NaN'],
    ['resetTimeout', Number.POSITIVE_INFINITY, 'got Infinity'],
    ['resetTimeout', 10n, 'got 10n'],
    ['callTimeout', 0, 'got 0'],
    ['callTimeout', -1, 'got -1'],
    ['callTimeout', Number.NaN, 'got NaN'],
    ['callTimeout', 2_147_483_648, 'got 2147483648'],
    ['callTimeout', '1000', 'got "1000"'],
    ['name', '', 'got ""'],
    ['name', '   ', 'got "   "'],
    ['name', 42, 'got 42'],
    ['name', 'x'.repeat(201), 'got "xxxx'],
    ['isFailure', true, 'got true'],
    ['isFailure', {}, 'got a value of type object'],
    ['now', 123, 'got 123'],
    ['onListenerError', [], 'got an array'],
  ])('rejects %s = %s', (option, value, fragment) => {
    const error = optionError({ [option]: value });
    expect(error.option).toBe(option);
    expect(error.message).toContain(`"${option}"`);
    expect(error.message).toContain(fragment);
  });

  test('rejects unknown options (catches typos)', () => {
    const error = optionError({ failureTreshold: 3 });
    expect(error.option).toBe('failureTreshold');
    expect(error.message).toContain('unknown option');
    expect(error.message).toContain('failureThreshold');
  });

  test.each([[null], [42], ['opts'], [[]]])('rejects non-object options %s', (value) => {
    expect(optionError(value).option).toBe('options');
  });

  test('accepts edge values that make sense', () => {
    expect(() => new CircuitBreaker({ monitoringWindow: Number.POSITIVE_INFINITY })).not.toThrow();
    expect(() => new CircuitBreaker({ callTimeout: Number.POSITIVE_INFINITY })).not.toThrow();
    expect(() => new CircuitBreaker({ callTimeout: undefined })).not.toThrow();
    expect(() => new CircuitBreaker({ callTimeout: 2_147_483_647 })).not.toThrow();
    expect(() => new CircuitBreaker({ resetTimeout: 0.5, monitoringWindow: 0.5, callTimeout: 0.5 })).not.toThrow();
    expect(() => new CircuitBreaker({ failureThreshold: 1, halfOpenMaxCalls: 100_000 })).not.toThrow();
    expect(
      () =>
        new CircuitBreaker({
          name: 'n',
          failureThreshold: undefined,
          monitoringWindow: undefined,
          resetTimeout: undefined,
          halfOpenMaxCalls: undefined,
          isFailure: undefined,
          now: undefined,
          onListenerError: undefined,
        }),
    ).not.toThrow();
  });

  test('a non-function passed to execute/wrap is a TypeError', async () => {
    const breaker = new CircuitBreaker();
    await expect(breaker.execute(42 as never)).rejects.toBeInstanceOf(TypeError);
    expect(() => breaker.wrap(42 as never)).toThrow(TypeError);
  });
});

describe('parseDuration (the one duration parser of the workspace)', () => {
  it('parses ms numbers and unit strings, refuses the rest', () => {
    expect(parseDuration(1500)).toBe(1500);
    expect(parseDuration('1500')).toBe(1500);
    expect(parseDuration('.5s')).toBe(500);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration(' 250 ms ')).toBe(250);
    expect(parseDuration(0)).toBe(0);
    for (const bad of [-1, Number.NaN, Infinity, '-1s', 'soon', '5 minutes', null, undefined, {}, '1e3']) expect(parseDuration(bad)).toBeUndefined();
  });
});
