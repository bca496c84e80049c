import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { isPortFree, startSentinel, waitFor, type RedisSentinelSet } from '../src/index';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startSentinel', () => {
  let set: RedisSentinelSet;
  beforeAll(async () => {
    set = await startSentinel();
  });
  afterAll(async () => {
    if (!set) return;
    await set.close();
    expect(existsSync(set.dir)).toBe(false);
    for (const node of [set.master, set.replica, ...set.sentinels]) {
      expect(alive(node.pid)).toBe(false);
      expect(await isPortFree(node.port)).toBe(true);
    }
  });

  it('starts master, replica and 3 sentinels that agree on the master', async () => {
    expect(set.name).toBe('mymaster');
    expect(set.sentinels).toHaveLength(3);
    expect(set.sentinelAddrs).toEqual(set.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })));
    expect(await set.currentMaster()).toEqual({ host: '127.0.0.1', port: set.master.port });
    expect(await set.master.cli('SET', 'k', 'v')).toBe('OK');
    await waitFor(async () => (await set.replica.cli('GET', 'k')) === 'v', { message: 'replication' });
    expect(await set.sentinels[0]!.cli('SENTINEL', 'CKQUORUM', 'mymaster')).toMatch(/^OK/);
  });

  it('kill the master: sentinels fail over to the replica; the old master returns as a replica', async () => {
    await set.master.kill();
    await waitFor(async () => (await set.currentMaster()).port === set.replica.port, {
      timeoutMs: 30_000,
      message: 'failover to the replica',
    });
    expect(await set.replica.cli('ROLE')).toMatch(/^master/);
    await set.master.restart();
    // Sentinel converts a returning old master on its periodic INFO round (every 10 s), once it sees
    // the instance up again: usually ~10 s, seen past 30 s on a loaded machine, hence the margin.
    await waitFor(async () => (await set.master.cli('ROLE')).startsWith('slave'), {
      timeoutMs: 75_000,
      message: 'old master reconfigured as replica',
    });
  }, 120_000); // failover (~2 s) + Sentinel's reconfiguration round (~10 s), much more on a loaded machine

  it('pause the master: PING with a 500 ms timeout fails, resume brings it back', async () => {
    const { port } = await set.currentMaster();
    const node = set.nodeByPort(port)!;
    node.pause();
    try {
      expect(await node.ping(500)).toBe(false);
    } finally {
      node.resume();
    }
    expect(await node.ping(500)).toBe(true);
  });

  it('validates options', async () => {
    await expect(startSentinel({ sentinels: 0 })).rejects.toMatchObject({ code: 'ERR_OPTIONS' });
    await expect(startSentinel({ name: 'bad name' })).rejects.toMatchObject({ code: 'ERR_OPTIONS' });
  });
});
