import { ShardConfigError } from './errors';
import { fmix32, murmur3 } from './hash';

/** A node of a {@link RendezvousHash}: an id and an optional relative weight (default 1). */
export interface HashNode {
  id: string;
  weight?: number;
}

interface Entry {
  id: string;
  seed: number;
  weight: number;
}

const TWO_32 = 4294967296;

/**
 * Rendezvous (highest-random-weight) hashing over named nodes.
 *
 * For a key, every node gets a pseudo-random score `mix(hash(key) ^ hash(node))`; the key
 * belongs to the highest score. Adding a node moves only the keys it now wins (≈ 1/(n+1) of
 * them); removing a node moves only its own keys; nodes can have arbitrary names and be
 * removed from the middle (jump hash cannot). Lookup is O(n) — a few tens of nanoseconds per
 * node, fine for the handful of shards a cache has. Weights use the logarithmic method
 * (`-w / ln(u)`), so a node of weight 2 receives about twice the keys of a node of weight 1.
 */
export class RendezvousHash {
  #nodes: Entry[] = [];
  #weighted = false;

  constructor(nodes: Iterable<string | HashNode> = []) {
    for (const n of nodes) {
      if (typeof n === 'string') this.add(n);
      else this.add(n.id, n.weight);
    }
  }

  /** Number of nodes. */
  get size(): number {
    return this.#nodes.length;
  }

  /** Node ids in insertion order. */
  nodes(): string[] {
    return this.#nodes.map((n) => n.id);
  }

  /** Add a node (ids are unique). */
  add(id: string, weight = 1): this {
    if (typeof id !== 'string' || id.length === 0) {
      throw new ShardConfigError('invalid-option', 'node', 'node id must be a non-empty string');
    }
    if (!(Number.isFinite(weight) && weight > 0)) {
      throw new ShardConfigError('invalid-option', `node ${id}`, `weight must be a positive number, got ${weight}`);
    }
    if (this.#nodes.some((n) => n.id === id)) {
      throw new ShardConfigError('invalid-option', `node ${id}`, 'duplicate node id');
    }
    this.#nodes.push({ id, seed: murmur3(id, 0x5bd1e995), weight });
    this.#weighted = this.#nodes.some((n) => n.weight !== this.#nodes[0]!.weight);
    return this;
  }

  /** Remove a node; returns whether it existed. Only that node's keys move. */
  remove(id: string): boolean {
    const i = this.#nodes.findIndex((n) => n.id === id);
    if (i === -1) return false;
    this.#nodes.splice(i, 1);
    this.#weighted = this.#nodes.some((n) => n.weight !== this.#nodes[0]!.weight);
    return true;
  }

  /** The node that owns `key`. Throws `E_SHARD_CONFIG` when there are no nodes. */
  pick(key: string): string {
    const nodes = this.#nodes;
    if (nodes.length === 0) {
      throw new ShardConfigError('empty-shards', '', 'no nodes to hash onto');
    }
    const hk = murmur3(key);
    let best = nodes[0]!;
    if (!this.#weighted) {
      let bestScore = fmix32(hk ^ best.seed);
      for (let i = 1; i < nodes.length; i++) {
        const n = nodes[i]!;
        const s = fmix32(hk ^ n.seed);
        if (s > bestScore || (s === bestScore && n.id < best.id)) {
          best = n;
          bestScore = s;
        }
      }
      return best.id;
    }
    let bestScore = -Infinity;
    for (const n of nodes) {
      const s = weightedScore(hk, n);
      if (s > bestScore || (s === bestScore && n.id < best.id)) {
        best = n;
        bestScore = s;
      }
    }
    return best.id;
  }

  /**
   * The `count` best nodes for `key`, best first — e.g. replicas of a key, or the fallback
   * order when the owner is down.
   */
  rank(key: string, count = this.#nodes.length): string[] {
    const hk = murmur3(key);
    return this.#nodes
      .map((n) => ({ id: n.id, s: this.#weighted ? weightedScore(hk, n) : fmix32(hk ^ n.seed) }))
      .sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1))
      .slice(0, Math.max(0, count))
      .map((x) => x.id);
  }
}

function weightedScore(hk: number, n: Entry): number {
  const u = (fmix32(hk ^ n.seed) + 0.5) / TWO_32; // (0, 1)
  return -n.weight / Math.log(u);
}
