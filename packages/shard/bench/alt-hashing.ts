// Alternative consistent-hashing schemes, for the comparison benchmark only (not exported).
import { murmur3 } from '../src/hash';

/** Jump consistent hash (Lamping & Veach) with a 32-bit PRNG seeded by the key. Buckets are 0..n-1. */
export function jumpHash(key: string, buckets: number): number {
  let state = murmur3(key) >>> 0;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    // mulberry32 step
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967296; // (0, 1]
    j = Math.floor((b + 1) / r);
  }
  return b;
}

/** Hash ring with virtual nodes and binary search. */
export class HashRing {
  private points: Uint32Array;
  private owners: string[];
  constructor(nodes: string[], vnodes = 160) {
    const pts: { p: number; id: string }[] = [];
    for (const id of nodes) for (let v = 0; v < vnodes; v++) pts.push({ p: murmur3(`${id}#${v}`), id });
    pts.sort((a, b) => a.p - b.p);
    this.points = Uint32Array.from(pts.map((x) => x.p));
    this.owners = pts.map((x) => x.id);
  }
  pick(key: string): string {
    const h = murmur3(key);
    const pts = this.points;
    let lo = 0;
    let hi = pts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pts[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === pts.length ? 0 : lo]!;
  }
}
