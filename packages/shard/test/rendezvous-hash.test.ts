import { describe, expect, it } from 'vitest';
import { RendezvousHash, ShardConfigError, murmur3 } from '../src/index';

const N = 100_000;
const keys = Array.from({ length: N }, (_, i) => `user:${i}:profile`);

function assign(h: RendezvousHash): string[] {
  return keys.map((k) => h.pick(k));
}

function counts(owners: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const o of owners) m.set(o, (m.get(o) ?? 0) + 1);
  return m;
}

describe('RendezvousHash', () => {
  it('moves about 1/5 of 100k keys when a fifth shard joins four, all of them to the new shard', () => {
    const four = new RendezvousHash(['s1', 's2', 's3', 's4']);
    const five = new RendezvousHash(['s1', 's2', 's3', 's4', 's5']);
    const before = assign(four);
    const after = assign(five);
    let moved = 0;
    for (let i = 0; i < N; i++) {
      if (before[i] !== after[i]) {
        moved++;
        expect(after[i]).toBe('s5'); // keys only ever move to the new shard
      }
    }
    const fraction = moved / N;
    console.log(`[hash] rendezvous 4->5 shards: moved ${(fraction * 100).toFixed(2)}% of ${N} keys (ideal 20%)`);
    expect(fraction).toBeGreaterThan(0.17);
    expect(fraction).toBeLessThan(0.23);
  });

  it('balances keys across shards (each within ±5% of the mean)', () => {
    const h = new RendezvousHash(['a', 'b', 'c', 'd', 'e']);
    const c = counts(assign(h));
    const mean = N / 5;
    const spread = [...c.values()].map((v) => ((v - mean) / mean) * 100);
    console.log(`[hash] balance over 5 shards: ${[...c.entries()].map(([k, v]) => `${k}=${v}`).join(' ')}`);
    expect(c.size).toBe(5);
    for (const s of spread) expect(Math.abs(s)).toBeLessThan(5);
  });

  it('removing a shard moves only that shard’s keys', () => {
    const h = new RendezvousHash(['a', 'b', 'c', 'd', 'e']);
    const before = assign(h);
    h.remove('c');
    const after = assign(h);
    for (let i = 0; i < N; i++) {
      if (before[i] !== 'c') expect(after[i]).toBe(before[i]);
      else expect(after[i]).not.toBe('c');
    }
  });

  it('is deterministic and independent of insertion order', () => {
    const a = new RendezvousHash(['x', 'y', 'z']);
    const b = new RendezvousHash(['z', 'x', 'y']);
    for (const k of keys.slice(0, 5000)) expect(a.pick(k)).toBe(b.pick(k));
    expect(murmur3('hello')).toBe(murmur3('hello'));
    expect(murmur3('hello')).not.toBe(murmur3('hellp'));
  });

  it('honours weights roughly proportionally', () => {
    const h = new RendezvousHash([{ id: 'big', weight: 2 }, { id: 'small', weight: 1 }, { id: 'small2', weight: 1 }]);
    const c = counts(assign(h));
    const big = (c.get('big') ?? 0) / N;
    expect(big).toBeGreaterThan(0.47);
    expect(big).toBeLessThan(0.53);
  });

  it('rank() lists all nodes best first, starting with pick()', () => {
    const h = new RendezvousHash(['a', 'b', 'c', 'd']);
    for (const k of keys.slice(0, 1000)) {
      const r = h.rank(k);
      expect(r[0]).toBe(h.pick(k));
      expect(new Set(r).size).toBe(4);
    }
    expect(h.rank('k', 2)).toHaveLength(2);
  });

  it('rejects bad nodes with E_SHARD_CONFIG', () => {
    expect(() => new RendezvousHash(['a', 'a'])).toThrow(ShardConfigError);
    expect(() => new RendezvousHash([{ id: 'a', weight: 0 }])).toThrow(/weight/);
    expect(() => new RendezvousHash([]).pick('k')).toThrow(expect.objectContaining({ code: 'E_SHARD_CONFIG', reason: 'empty-shards' }));
  });
});
