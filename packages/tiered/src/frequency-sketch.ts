/**
 * A 4-row count-min sketch of 4-bit-ish counters (Uint8Array, saturating at 15) with periodic
 * halving, as in TinyLFU. Used by the `'lfu'` L1 policy to decide whether a new key is admitted
 * over the least-recently-used victim. Memory: 4 × width bytes.
 */
export class FrequencySketch {
  private readonly rows: Uint8Array[];
  private readonly mask: number;
  private additions = 0;
  private readonly sampleSize: number;

  constructor(capacity: number) {
    let width = 16;
    const target = Math.min(Math.max(capacity, 16) * 4, 1 << 22);
    while (width < target) width <<= 1;
    this.mask = width - 1;
    this.rows = [new Uint8Array(width), new Uint8Array(width), new Uint8Array(width), new Uint8Array(width)];
    this.sampleSize = width * 10;
  }

  private static hash(key: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) {
      h ^= key.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    return h >>> 0;
  }

  increment(key: string): void {
    const h = FrequencySketch.hash(key);
    for (let r = 0; r < 4; r++) {
      const row = this.rows[r] as Uint8Array;
      const idx = (h ^ Math.imul(h >>> (r * 8 + 1), 0x9e3779b1 + r * 0x85ebca6b)) & this.mask;
      if ((row[idx] as number) < 15) row[idx] = (row[idx] as number) + 1;
    }
    if (++this.additions >= this.sampleSize) this.age();
  }

  frequency(key: string): number {
    const h = FrequencySketch.hash(key);
    let min = 15;
    for (let r = 0; r < 4; r++) {
      const row = this.rows[r] as Uint8Array;
      const idx = (h ^ Math.imul(h >>> (r * 8 + 1), 0x9e3779b1 + r * 0x85ebca6b)) & this.mask;
      const v = row[idx] as number;
      if (v < min) min = v;
    }
    return min;
  }

  private age(): void {
    this.additions = 0;
    for (const row of this.rows) for (let i = 0; i < row.length; i++) row[i] = (row[i] as number) >>> 1;
  }
}
