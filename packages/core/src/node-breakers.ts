import { CircuitBreaker } from '@stratacache/breaker';
import type { CircuitBreakerOptions } from '@stratacache/breaker';
import type { Cluster } from 'ioredis';

/** Most per-node breakers kept (a Cluster has at most a few hundred masters; failovers add new node ids). */
const MAX_NODES = 1024;

/** CRC16-XMODEM table (the Redis Cluster key hash). */
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/**
 * The Redis Cluster hash slot of a key (0–16383): CRC16 of the key, or of its hash tag — the part
 * between the first `{` and the next `}` when that part is not empty. Keys are hashed as UTF-8.
 */
export function keySlot(key: string): number {
  let s = 0;
  let e = key.length;
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) {
      s = open + 1;
      e = close;
    }
  }
  let crc = 0;
  for (let i = s; i < e; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x80) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ c) & 0xff] as number);
    else {
      for (const b of Buffer.from(key.slice(i, i + (c >= 0xd800 && c <= 0xdbff ? 2 : 1)), 'utf8')) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ b) & 0xff] as number);
      if (c >= 0xd800 && c <= 0xdbff) i++;
    }
  }
  return crc & 16383;
}

/**
 * One circuit breaker per Cluster master (slot owner): a key's breaker is the breaker of the node
 * that owns its slot now (ioredis' slot table), so a dead master opens only its own breaker and keys
 * in other slots keep using Redis. After a failover the slot's new owner has its own (closed)
 * breaker. Until the slot table is known, keys use `fallback` (the store's breaker).
 *
 * Each breaker follows its node's connection, like the store's breaker follows the store's: when
 * ioredis drops a node's connection (`-node`: a Cluster does not reconnect a lost node, it waits for
 * the slot table to move) the node's breaker opens at once — so reads of its keys (and of barrier
 * copies on it) are refused at once instead of each waiting `opTimeout` until the breaker has counted
 * its failures; when the node is connected again (`+node`) the half-open probe may run at once.
 */
export class NodeBreakers {
  private readonly byNode = new Map<string, CircuitBreaker>();

  constructor(
    private readonly cluster: Cluster,
    private readonly options: CircuitBreakerOptions,
    readonly fallback: CircuitBreaker,
    private readonly onCreate: (node: string, breaker: CircuitBreaker) => void,
  ) {
    this.stop = watchNodes(cluster, this);
  }

  /** The node's connection dropped (`-node`): its breaker opens at once. */
  nodeLost(node: string): void {
    const b = this.byNode.get(node);
    if (b !== undefined && b.state !== 'OPEN') b.trip('connection-lost');
  }

  /** The node is connected again (`+node`): an OPEN breaker may probe at once. */
  nodeAdded(node: string): void {
    const b = this.byNode.get(node);
    if (b !== undefined && b.state === 'OPEN') b.probeNow();
  }

  /** Stops following the nodes' connections. */
  readonly stop: () => void;

  /** The node (`host:port`) that owns `key`'s slot, or undefined when the slot table is not known yet. */
  nodeOf(key: string): string | undefined {
    return this.cluster.slots[keySlot(key)]?.[0];
  }

  /** The breaker of `key`'s node. */
  forKey(key: string): CircuitBreaker {
    const node = this.nodeOf(key);
    if (node === undefined) return this.fallback;
    let b = this.byNode.get(node);
    if (b === undefined) {
      if (this.byNode.size >= MAX_NODES) return this.fallback;
      b = new CircuitBreaker({ ...this.options, name: `${this.options.name ?? 'stratacache'}@${node}` });
      this.byNode.set(node, b);
      this.onCreate(node, b);
    }
    return b;
  }

  /** Every node breaker so far (for health and tests). */
  all(): ReadonlyMap<string, CircuitBreaker> {
    return this.byNode;
  }
}

/** NodeBreakers per Cluster client: one `-node` / `+node` listener pair per client, however many CacheServices share it. */
const watchers = new WeakMap<Cluster, Set<NodeBreakers>>();

function nodeKey(redis: unknown): string | undefined {
  const o = (redis as { options?: { host?: string; port?: number } } | undefined)?.options;
  return o?.host === undefined || o.port === undefined ? undefined : `${o.host}:${o.port}`;
}

function watchNodes(cluster: Cluster, nb: NodeBreakers): () => void {
  let set = watchers.get(cluster);
  if (set === undefined) {
    const all = new Set<NodeBreakers>();
    set = all;
    watchers.set(cluster, all);
    cluster.on('-node', (redis: unknown) => {
      const k = nodeKey(redis);
      if (k !== undefined) for (const x of all) x.nodeLost(k);
    });
    cluster.on('+node', (redis: unknown) => {
      const k = nodeKey(redis);
      if (k !== undefined) for (const x of all) x.nodeAdded(k);
    });
  }
  set.add(nb);
  const s = set;
  return () => {
    s.delete(nb);
  };
}
