import { describe, expect, it } from 'vitest';
import { decodeBusMessage, encodeBusMessage, newSenderId } from '../src/bus-message';
import { FrequencySketch } from '../src/frequency-sketch';
import { estimateSize } from '../src/index';

describe('bus message encoding', () => {
  it('round-trips every type and is compact', () => {
    const id = newSenderId();
    expect(id).toHaveLength(10);
    const raw = encodeBusMessage('d', id, ['user:get:123456789012']);
    expect(Buffer.byteLength(raw)).toBe(33);
    expect(decodeBusMessage(raw)).toEqual({ type: 'd', sender: id, parts: ['user:get:123456789012'] });
    expect(decodeBusMessage(encodeBusMessage('n', id, ['user', 'get']))?.parts).toEqual(['user', 'get']);
    expect(decodeBusMessage(encodeBusMessage('c', id, []))?.parts).toEqual([]);
    expect(decodeBusMessage(encodeBusMessage('t', id, ['a:b', 'c']))?.parts).toEqual(['a:b', 'c']);
  });

  it('ignores foreign or malformed messages', () => {
    expect(decodeBusMessage('')).toBeUndefined();
    expect(decodeBusMessage('hello world, not ours')).toBeUndefined();
    expect(decodeBusMessage('1x0123456789key')).toBeUndefined();
    expect(decodeBusMessage('2d0123456789key')).toBeUndefined();
  });
});

describe('size estimate and frequency sketch', () => {
  it('estimates sizes monotonically and stays bounded for huge values', () => {
    expect(estimateSize('x'.repeat(1000))).toBeGreaterThan(estimateSize('x'.repeat(10)));
    expect(estimateSize({ a: [1, 2, 3], b: new Map([[1, 'x']]), c: new Date(), d: Buffer.alloc(100), e: 10n })).toBeGreaterThan(100);
    const huge = Array.from({ length: 200_000 }, (_, i) => ({ i }));
    const t0 = performance.now();
    expect(estimateSize(huge)).toBeGreaterThan(200_000);
    expect(performance.now() - t0).toBeLessThan(1_000);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(estimateSize(cyclic)).toBeGreaterThan(0);
  });

  it('counts frequencies approximately and ages them', () => {
    const s = new FrequencySketch(100);
    for (let i = 0; i < 10; i++) s.increment('hot');
    s.increment('cold');
    expect(s.frequency('hot')).toBeGreaterThan(s.frequency('cold'));
    expect(s.frequency('never')).toBeLessThanOrEqual(1);
  });
});
