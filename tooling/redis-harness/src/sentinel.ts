import { parseInfo, redisCli } from './cli';
import { openDeployment } from './deployments';
import { HarnessError } from './errors';
import { launchNode, type RedisNode } from './redis-node';
import { waitFor } from './wait-for';

/** Options of {@link startSentinel}. */
export interface SentinelOptions {
  /** Number of sentinels (1–7, default 3). */
  sentinels?: number;
  /** Monitored master name (default `'mymaster'`). */
  name?: string;
  /** Quorum (default 2, or 1 with a single sentinel). */
  quorum?: number;
  /** `sentinel down-after-milliseconds` (default 1000). */
  downAfterMs?: number;
  /** `sentinel failover-timeout` (default 3000). */
  failoverTimeoutMs?: number;
  /** Extra redis-server command-line arguments for the master and the replica. */
  args?: string[];
}

/** A master, a replica and sentinels watching them; `close()` kills all and removes the temp dir. */
export interface RedisSentinelSet {
  name: string;
  /** The server started as master (after a failover it may be a replica: ask `currentMaster()`). */
  master: RedisNode;
  /** The server started as replica. */
  replica: RedisNode;
  sentinels: RedisNode[];
  /** host/port of every sentinel, for `new Redis({ sentinels, name })`. */
  sentinelAddrs: { host: string; port: number }[];
  /** The master address according to a live sentinel (`SENTINEL get-master-addr-by-name`). */
  currentMaster(): Promise<{ host: string; port: number }>;
  /** The data node (master or replica handle) listening on `port`, if any. */
  nodeByPort(port: number): RedisNode | undefined;
  /** The temp dir of this deployment. */
  dir: string;
  close(): Promise<void>;
}

/** Parses a flat `key\nvalue\n…` reply (redis-cli raw output of a map-like array). */
function pairs(text: string): Record<string, string> {
  const lines = text.split(/\r?\n/);
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) out[lines[i]!] = lines[i + 1]!;
  return out;
}

function intOption(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new HarnessError('ERR_OPTIONS', `startSentinel: ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function validate(opts: SentinelOptions): Required<SentinelOptions> {
  if (opts === null || typeof opts !== 'object') throw new HarnessError('ERR_OPTIONS', 'startSentinel: options must be an object');
  const sentinels = intOption('sentinels', opts.sentinels ?? 3, 1, 7);
  const quorum = intOption('quorum', opts.quorum ?? Math.min(2, sentinels), 1, sentinels);
  const downAfterMs = intOption('downAfterMs', opts.downAfterMs ?? 1_000, 100, 600_000);
  const failoverTimeoutMs = intOption('failoverTimeoutMs', opts.failoverTimeoutMs ?? 3_000, 500, 3_600_000);
  const name = opts.name ?? 'mymaster';
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
    throw new HarnessError('ERR_OPTIONS', `startSentinel: name must match [A-Za-z0-9._-]{1,64}, got ${JSON.stringify(name)}`);
  }
  const args = opts.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
    throw new HarnessError('ERR_OPTIONS', 'startSentinel: args must be an array of strings');
  }
  return { sentinels, quorum, downAfterMs, failoverTimeoutMs, name, args: [...args] };
}

const answering = (node: RedisNode): boolean => node.isRunning() && !node.isPaused();

/**
 * Starts a master, a replica (`replicaof`) and `sentinels` sentinels monitoring them, and waits
 * until every sentinel sees the master, the replica and all other sentinels.
 */
export async function startSentinel(opts: SentinelOptions = {}): Promise<RedisSentinelSet> {
  const o = validate(opts);
  const deployment = openDeployment('sentinel');
  const dataNodes: RedisNode[] = [];
  const sentinels: RedisNode[] = [];

  try {
    // No 5 s diskless-sync delay: the replica (and, after a failover, the old master) syncs at once.
    const fastSync = (): string[] => ['repl-diskless-sync-delay 0'];
    const master = await launchNode(deployment.dir, { kind: 'server', name: 'master', args: o.args, conf: fastSync });
    deployment.nodes.push(master);
    dataNodes.push(master);
    const replica = await launchNode(deployment.dir, {
      kind: 'server',
      name: 'replica',
      args: o.args,
      conf: () => [...fastSync(), `replicaof 127.0.0.1 ${master.port}`],
    });
    deployment.nodes.push(replica);
    dataNodes.push(replica);
    await waitFor(async () => parseInfo(await replica.cli('INFO', 'replication')).master_link_status === 'up', {
      timeoutMs: 30_000,
      intervalMs: 50,
      message: 'replica to sync with the master',
    });

    const sentinelConf = (): string[] => [
      'sentinel resolve-hostnames no',
      'sentinel announce-hostnames no',
      `sentinel monitor ${o.name} 127.0.0.1 ${master.port} ${o.quorum}`,
      `sentinel down-after-milliseconds ${o.name} ${o.downAfterMs}`,
      `sentinel failover-timeout ${o.name} ${o.failoverTimeoutMs}`,
      `sentinel parallel-syncs ${o.name} 1`,
    ];
    const started = await Promise.allSettled(
      Array.from({ length: o.sentinels }, () => launchNode(deployment.dir, { kind: 'sentinel', name: 'sentinel', conf: sentinelConf })),
    );
    for (const r of started) {
      if (r.status === 'fulfilled') {
        deployment.nodes.push(r.value);
        sentinels.push(r.value);
      }
    }
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    await waitFor(
      async () => {
        for (const s of sentinels) {
          const m = pairs(await s.cli('SENTINEL', 'MASTER', o.name));
          if (m.flags !== 'master' || Number(m['num-other-sentinels']) !== o.sentinels - 1) return false;
          const replicas = await s.cli('SENTINEL', 'REPLICAS', o.name);
          const entry = replicas.split(/\r?\n(?=name\r?\n)/).map(pairs).find((r) => Number(r.port) === replica.port);
          if (!entry || entry.flags !== 'slave' || entry['master-link-status'] !== 'ok') return false;
        }
        return true;
      },
      { timeoutMs: 45_000, intervalMs: 100, message: 'every sentinel to see the master, the replica and the other sentinels' },
    );

    const currentMaster = async (): Promise<{ host: string; port: number }> => {
      let lastError: unknown = new HarnessError('ERR_CLOSED', 'no sentinel is running');
      for (const s of sentinels.filter(answering)) {
        try {
          const [host, port] = (await redisCli(s.port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', o.name], { timeoutMs: 3_000 })).split(
            /\r?\n/,
          );
          const portNumber = Number(port);
          if (host && Number.isInteger(portNumber) && portNumber > 0) return { host, port: portNumber };
          lastError = new HarnessError('ERR_REDIS_CLI', `sentinel ${s.port} does not know master ${o.name}`);
        } catch (err) {
          lastError = err;
        }
      }
      throw lastError;
    };

    return {
      name: o.name,
      master,
      replica,
      sentinels,
      sentinelAddrs: sentinels.map((s) => ({ host: s.host, port: s.port })),
      currentMaster,
      nodeByPort: (port) => dataNodes.find((n) => n.port === port),
      dir: deployment.dir,
      close: () => deployment.close(),
    };
  } catch (err) {
    await deployment.close();
    throw err;
  }
}
