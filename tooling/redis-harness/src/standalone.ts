import { openDeployment } from './deployments';
import { HarnessError } from './errors';
import { launchNode, type RedisNode } from './redis-node';

/** Options of {@link startStandalone}. */
export interface StandaloneOptions {
  /** Extra redis-server command-line arguments, e.g. `['--maxmemory', '10mb']`. Reused on restart. */
  args?: string[];
}

/** A standalone server; `close()` kills it and removes its temp dir. */
export type StandaloneRedis = RedisNode & { close(): Promise<void> };

function validate(opts: StandaloneOptions): string[] {
  if (opts === null || typeof opts !== 'object') {
    throw new HarnessError('ERR_OPTIONS', 'startStandalone: options must be an object');
  }
  const args = opts.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
    throw new HarnessError('ERR_OPTIONS', 'startStandalone: args must be an array of strings');
  }
  return [...args];
}

/** Starts one redis-server on a free port (no persistence). */
export async function startStandalone(opts: StandaloneOptions = {}): Promise<StandaloneRedis> {
  const args = validate(opts);
  const deployment = openDeployment('standalone');
  try {
    const node = await launchNode(deployment.dir, { kind: 'server', name: 'server', args });
    deployment.nodes.push(node);
    const handle: StandaloneRedis = {
      host: node.host,
      port: node.port,
      url: node.url,
      dir: node.dir,
      kind: node.kind,
      logfile: node.logfile,
      get pid() {
        return node.pid;
      },
      stop: () => node.stop(),
      kill: () => node.kill(),
      pause: () => node.pause(),
      resume: () => node.resume(),
      restart: () => node.restart(),
      isRunning: () => node.isRunning(),
      isPaused: () => node.isPaused(),
      cli: (...cliArgs: string[]) => node.cli(...cliArgs),
      ping: (timeoutMs?: number) => node.ping(timeoutMs),
      close: () => deployment.close(),
    };
    return handle;
  } catch (err) {
    await deployment.close();
    throw err;
  }
}
