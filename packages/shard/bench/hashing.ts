// Compares rendezvous hashing (what HashedStore uses) with jump hash and a virtual-node ring:
// lookup cost (ratio against a bare murmur3 of the key, measured in the same run), keys moved
// when a 5th shard joins 4, and balance.
import { RendezvousHash } from '../src/rendezvous-hash';
import { murmur3 } from '../src/hash';
import { HashRing, jumpHash } from './alt-hashing';

const N = 100_000;
const keys = Array.from({ length: N }, (_, i) => `user:${i}:profile`);

/** Best-of-`rounds` ns/key for each scheme, measured interleaved so machine noise hits all alike. */
function timeAll(fns: Record<string, () => void>, rounds = 9): Record<string, number> {
  const best: Record<string, number> = {};
  for (const f of Object.values(fns)) f(); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const [name, f] of Object.entries(fns)) {
      const t0 = process.hrtime.bigint();
      f();
      const ns = Number(process.hrtime.bigint() - t0) / N;
      best[name] = Math.min(best[name] ?? Infinity, ns);
    }
  }
  return best;
}

function moved(a: (k: string) => string, b: (k: string) => string): number {
  let m = 0;
  for (const k of keys) if (a(k) !== b(k)) m++;
  return m / N;
}

function imbalance(pick: (k: string) => string): number {
  const counts = new Map<string, number>();
  for (const k of keys) {
    const o = pick(k);
    counts.set(o, (counts.get(o) ?? 0) + 1);
  }
  const mean = N / counts.size;
  return Math.max(...[...counts.values()].map((v) => Math.abs(v - mean) / mean));
}

export function runHashingBench(): void {
  let sink = 0;
  console.log('[hash] scheme        shards  ns/key  x baseline (bare murmur3 of the key, same run)');
  for (const n of [4, 5, 8, 16]) {
    const ids = Array.from({ length: n }, (_, i) => `shard-${i}`);
    const hrw = new RendezvousHash(ids);
    const ring = new HashRing(ids);
    const t = timeAll({
      baseline: () => { for (const k of keys) sink ^= murmur3(k); },
      rendezvous: () => { for (const k of keys) sink ^= hrw.pick(k).length; },
      jump: () => { for (const k of keys) sink ^= jumpHash(k, n); },
      'ring(160 vn)': () => { for (const k of keys) sink ^= ring.pick(k).length; },
    });
    for (const name of ['rendezvous', 'jump', 'ring(160 vn)']) {
      console.log(`[hash] ${name.padEnd(13)} ${String(n).padStart(6)}  ${t[name]!.toFixed(1).padStart(6)}  ${(t[name]! / t.baseline!).toFixed(2)}x`);
    }
  }
  const four = ['s1', 's2', 's3', 's4'];
  const five = [...four, 's5'];
  const h4 = new RendezvousHash(four);
  const h5 = new RendezvousHash(five);
  const r4 = new HashRing(four);
  const r5 = new HashRing(five);
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  console.log(`[hash] moved when a 5th shard joins 4 (ideal 20%): rendezvous ${pct(moved((k) => h4.pick(k), (k) => h5.pick(k)))}, jump ${pct(moved((k) => String(jumpHash(k, 4)), (k) => String(jumpHash(k, 5))))}, ring ${pct(moved((k) => r4.pick(k), (k) => r5.pick(k)))}`);
  console.log(`[hash] worst shard deviation from mean, 5 shards: rendezvous ${pct(imbalance((k) => h5.pick(k)))}, jump ${pct(imbalance((k) => String(jumpHash(k, 5))))}, ring ${pct(imbalance((k) => r5.pick(k)))}`);
  // Removing a shard from the middle: only rendezvous and the ring can do it without renumbering.
  const h5m = new RendezvousHash(['s1', 's2', 's4', 's5']);
  console.log(`[hash] moved when s3 leaves 5 shards (ideal 20%): rendezvous ${pct(moved((k) => h5.pick(k), (k) => h5m.pick(k)))}; jump cannot remove a middle bucket without renumbering`);
  if (sink === 42) console.log('');
}

if (import.meta.url === `file://${process.argv[1]}`) runHashingBench();
