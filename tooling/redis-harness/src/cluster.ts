import { requireRedisBinaries } from './binaries';
import { parseInfo, redisCli } from './cli';
import { execFile } from 'node:child_process';
import { openDeployment } from './deployments';
import { HarnessError } from './errors';
import { launchNode, type RedisNode } from './redis-node';
import { waitFor } from './wait-for';

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Number of masters (3–16, default 3). */
  masters?: number;
  /** Replicas per master (0 or 1, default 0). */
  replicas?: 0 | 1;
  /** `cluster-node-timeout` in ms (default 2000): how fast a dead master is failed over. */
  nodeTimeoutMs?: number;
  /** Extra redis-server command-line arguments for every node. */
  args?: string[];
}

/** A running Redis Cluster; `close()` kills every node and removes the temp dir. */
export interface RedisCluster {
  /** Every node in start order (the first `masters` nodes start as masters). */
  nodes: RedisNode[];
  /** host/port of every node, for `new Redis.Cluster(startupNodes)`. */
  startupNodes: { host: string; port: number }[];
  /** Running nodes that the cluster currently sees as masters (not failed). */
  masters(): Promise<RedisNode[]>;
  /** Running nodes that the cluster currently sees as replicas. */
  replicas(): Promise<RedisNode[]>;
  /** Resolves when every running, unpaused node reports cluster_state:ok with all 16384 slots ok. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** The handle listening on `port`, if any. */
  nodeByPort(port: number): RedisNode | undefined;
  /** The temp dir of this cluster. */
  dir: string;
  close(): Promise<void>;
}

/** One line of `CLUSTER NODES`. */
export interface ClusterNodeLine {
  id: string;
  port: number;
  flags: string[];
  masterId: string | undefined;
  slots: string[];
}

const SLOTS = 16_384;

/** Parses `CLUSTER NODES` output. */
export function parseClusterNodes(text: string): ClusterNodeLine[] {
  const out: ClusterNodeLine[] = [];
  for (const line of text.split(/\r?\n/)) {
    const parts = line.trim().split(' ');
    if (parts.length < 8) continue;
    const [id, addr, flags, master] = parts;
    const port = Number.parseInt((addr ?? '').split('@')[0]?.split(':').pop() ?? '', 10);
    out.push({
      id: id ?? '',
      port,
      flags: (flags ?? '').split(','),
      masterId: master && master !== '-' ? master : undefined,
      slots: parts.slice(8),
    });
  }
  return out;
}

function validate(opts: ClusterOptions): Required<ClusterOptions> {
  if (opts === null || typeof opts !== 'object') throw new HarnessError('ERR_OPTIONS', 'startCluster: options must be an object');
  const masters = opts.masters ?? 3;
  const replicas = opts.replicas ?? 0;
  const nodeTimeoutMs = opts.nodeTimeoutMs ?? 2_000;
  const args = opts.args ?? [];
  if (!Number.isInteger(masters) || masters < 3 || masters > 16) {
    throw new HarnessError('ERR_OPTIONS', `startCluster: masters must be an integer from 3 to 16, got ${String(masters)}`);
  }
  if (replicas !== 0 && replicas !== 1) {
    throw new HarnessError('ERR_OPTIONS', `startCluster: replicas must be 0 or 1, got ${String(replicas)}`);
  }
  if (!Number.isInteger(nodeTimeoutMs) || nodeTimeoutMs < 100 || nodeTimeoutMs > 60_000) {
    throw new HarnessError('ERR_OPTIONS', `startCluster: nodeTimeoutMs must be an integer from 100 to 60000, got ${String(nodeTimeoutMs)}`);
  }
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
    throw new HarnessError('ERR_OPTIONS', 'startCluster: args must be an array of strings');
  }
  return { masters, replicas, nodeTimeoutMs, args: [...args] };
}

function clusterCreate(ports: number[], replicas: number): Promise<void> {
  const { cli } = requireRedisBinaries();
  const argv = ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes'];
  return new Promise((resolve, reject) => {
    execFile(cli, argv, { timeout: 90_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const out = `${stdout}\n${stderr}`;
      if (error || /\[ERR\]/.test(out)) {
        const detail = out.split('\n').filter((l) => /ERR|error/i.test(l)).slice(0, 3).join(' | ') || (error?.message ?? '');
        reject(new HarnessError('ERR_CLUSTER_CREATE', `redis-cli --cluster create failed: ${detail}`, { cause: error }));
        return;
      }
      resolve();
    });
  });
}

const answering = (node: RedisNode): boolean => node.isRunning() && !node.isPaused();

/** Starts `masters × (1 + replicas)` cluster-enabled servers and joins them with `redis-cli --cluster create`. */
export async function startCluster(opts: ClusterOptions = {}): Promise<RedisCluster> {
  const { masters: masterCount, replicas: replicaCount, nodeTimeoutMs, args } = validate(opts);
  const total = masterCount * (1 + replicaCount);
  const deployment = openDeployment('cluster');
  const nodes = deployment.nodes;
  const byPort = (port: number): RedisNode | undefined => nodes.find((n) => n.port === port);

  const view = async (): Promise<ClusterNodeLine[]> => {
    let lastError: unknown = new HarnessError('ERR_CLOSED', 'no cluster node is running');
    for (const node of nodes.filter(answering)) {
      try {
        const text = await redisCli(node.port, ['CLUSTER', 'NODES'], { timeoutMs: 3_000 });
        return parseClusterNodes(text);
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  };

  const byRole = async (role: 'master' | 'slave'): Promise<RedisNode[]> => {
    const lines = await view();
    const ports = new Set(
      lines.filter((l) => l.flags.includes(role) && !l.flags.includes('fail') && !l.flags.includes('noaddr')).map((l) => l.port),
    );
    return nodes.filter((n) => ports.has(n.port) && n.isRunning());
  };

  const healthy = async (expectFullTopology: boolean): Promise<boolean> => {
    const live = nodes.filter(answering);
    if (live.length === 0) return false;
    for (const node of live) {
      const info = parseInfo(await redisCli(node.port, ['CLUSTER', 'INFO'], { timeoutMs: 3_000 }));
      if (info.cluster_state !== 'ok') return false;
      if (Number(info.cluster_slots_assigned) !== SLOTS || Number(info.cluster_slots_ok) !== SLOTS) return false;
      if (expectFullTopology) {
        if (Number(info.cluster_known_nodes) !== total) return false;
        const lines = parseClusterNodes(await redisCli(node.port, ['CLUSTER', 'NODES'], { timeoutMs: 3_000 }));
        const ms = lines.filter((l) => l.flags.includes('master'));
        const rs = lines.filter((l) => l.flags.includes('slave') && l.masterId);
        if (ms.length !== masterCount || rs.length !== masterCount * replicaCount) return false;
        if (lines.some((l) => l.flags.some((f) => f === 'handshake' || f === 'noaddr' || f.startsWith('fail')))) return false;
      }
    }
    return true;
  };

  const waitHealthy = async (timeoutMs = 30_000, full = false): Promise<void> => {
    await waitFor(() => healthy(full), { timeoutMs, intervalMs: 100, message: 'cluster to report cluster_state:ok on every live node' });
  };

  try {
    const conf = (): string[] => [
      'cluster-enabled yes',
      'cluster-config-file nodes.conf',
      `cluster-node-timeout ${nodeTimeoutMs}`,
      'cluster-replica-validity-factor 0',
      'repl-diskless-sync-delay 0',
    ];
    const started = await Promise.allSettled(
      Array.from({ length: total }, () => launchNode(deployment.dir, { kind: 'server', name: 'node', conf, args, bus: true })),
    );
    for (const r of started) if (r.status === 'fulfilled') nodes.push(r.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await clusterCreate(
      nodes.map((n) => n.port),
      replicaCount,
    );
    await waitHealthy(60_000, true);
  } catch (err) {
    await deployment.close();
    throw err;
  }

  return {
    nodes,
    startupNodes: nodes.map((n) => ({ host: n.host, port: n.port })),
    masters: () => byRole('master'),
    replicas: () => byRole('slave'),
    waitHealthy: (timeoutMs?: number) => waitHealthy(timeoutMs ?? 30_000),
    nodeByPort: byPort,
    dir: deployment.dir,
    close: () => deployment.close(),
  };
}
