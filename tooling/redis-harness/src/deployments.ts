import { closeDeploymentDir, openDeploymentDir } from './run-root';
import { killAll, type RedisNode } from './redis-node';

/** A group of nodes sharing one deployment dir (a standalone server, a cluster, a sentinel set). */
export interface Deployment {
  readonly dir: string;
  readonly nodes: RedisNode[];
  close(): Promise<void>;
}

const open = new Set<Deployment>();

/** Creates a deployment dir and returns a handle whose `close()` kills the nodes and removes the dir. */
export function openDeployment(kind: string): Deployment {
  const dir = openDeploymentDir(kind);
  const nodes: RedisNode[] = [];
  let closing: Promise<void> | undefined;
  const deployment: Deployment = {
    dir,
    nodes,
    close() {
      closing ??= (async () => {
        open.delete(deployment);
        try {
          await killAll(nodes);
        } finally {
          closeDeploymentDir(dir);
        }
      })();
      return closing;
    },
  };
  open.add(deployment);
  return deployment;
}

/** Closes every deployment started by this process (kills the servers, removes the temp dirs). */
export async function stopAll(): Promise<void> {
  await Promise.all([...open].map((d) => d.close()));
}
