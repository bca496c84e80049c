import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPortFree, startCluster, waitFor, type RedisCluster } from '../src/index';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startCluster (3 masters)', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('forms a healthy 3-master cluster covering all slots', async () => {
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.startupNodes).toEqual(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
    expect(await cluster.masters()).toHaveLength(3);
    expect(await cluster.replicas()).toHaveLength(0);
    for (const node of cluster.nodes) {
      expect(await node.cli('CLUSTER', 'INFO')).toContain('cluster_state:ok');
      expect(await node.cli('CONFIG', 'GET', 'cluster-node-timeout')).toBe('cluster-node-timeout\n2000');
    }
    expect(await cluster.nodes[0]!.cli('-c', 'SET', '{a}k', 'v')).toBe('OK');
    expect(await cluster.nodes[1]!.cli('-c', 'GET', '{a}k')).toBe('v');
  });

  it('refuses while a master without replica is down, and heals when it restarts', async () => {
    const victim = cluster.nodes[1]!;
    await victim.kill();
    const other = cluster.nodes[0]!;
    await waitFor(async () => (await other.cli('CLUSTER', 'INFO')).includes('cluster_state:fail'), {
      timeoutMs: 20_000,
      message: 'cluster_state:fail',
    });
    await victim.restart();
    await cluster.waitHealthy();
    expect(await cluster.masters()).toHaveLength(3);
  });

  it('validates options', async () => {
    await expect(startCluster({ masters: 2 })).rejects.toMatchObject({ code: 'ERR_OPTIONS' });
    await expect(startCluster({ replicas: 2 as 1 })).rejects.toMatchObject({ code: 'ERR_OPTIONS' });
  });
});

describe('startCluster (3 masters + 3 replicas)', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startCluster({ replicas: 1 });
  });
  afterAll(async () => {
    if (!cluster) return;
    await cluster.close();
    // Down cleanly: processes gone, temp dir removed, client and bus ports free.
    expect(existsSync(cluster.dir)).toBe(false);
    for (const node of cluster.nodes) {
      expect(node.isRunning()).toBe(false);
      expect(alive(node.pid)).toBe(false);
      expect(await isPortFree(node.port)).toBe(true);
      expect(await isPortFree(node.port + 10_000)).toBe(true);
    }
  });

  it('has 3 masters and 3 replicas', async () => {
    expect(cluster.nodes).toHaveLength(6);
    expect(await cluster.masters()).toHaveLength(3);
    expect(await cluster.replicas()).toHaveLength(3);
  });

  it('kill a master: its replica is promoted; the old master rejoins as a replica', async () => {
    const masters = await cluster.masters();
    const victim = masters[0]!;
    const lines = (await victim.cli('CLUSTER', 'NODES')).split('\n');
    const victimId = lines.find((l) => l.includes('myself'))!.split(' ')[0]!;
    const replicaLine = lines.find((l) => l.split(' ')[3] === victimId)!;
    const replica = cluster.nodeByPort(Number(replicaLine.split(' ')[1]!.split('@')[0]!.split(':')[1]))!;
    expect(replica).toBeDefined();

    await victim.kill();
    await waitFor(async () => (await cluster.masters()).includes(replica), { timeoutMs: 30_000, message: 'replica promoted' });
    await cluster.waitHealthy();

    await victim.restart();
    await waitFor(async () => (await cluster.replicas()).includes(victim), { timeoutMs: 30_000, message: 'old master rejoins as replica' });
    await cluster.waitHealthy();
    expect(await cluster.masters()).toHaveLength(3);
    expect(await cluster.replicas()).toHaveLength(3);
  }, 120_000); // promotion + rejoin, each bounded at 30 s above
});
