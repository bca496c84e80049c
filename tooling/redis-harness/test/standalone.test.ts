import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPortFree, startStandalone, waitFor, type StandaloneRedis } from '../src/index';

describe('startStandalone', () => {
  let redis: StandaloneRedis;

  beforeAll(async () => {
    redis = await startStandalone({ args: ['--maxmemory', '16mb'] });
  });

  afterAll(async () => {
    await redis?.close();
  });

  it('serves on a free port with the harness settings', async () => {
    expect(redis.host).toBe('127.0.0.1');
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.port).not.toBe(6379);
    expect(await redis.cli('PING')).toBe('PONG');
    expect(await redis.cli('SET', 'k', 'v')).toBe('OK');
    expect(await redis.cli('GET', 'k')).toBe('v');
    expect(await redis.cli('CONFIG', 'GET', 'save')).toBe('save');
    expect(await redis.cli('CONFIG', 'GET', 'maxmemory')).toBe('maxmemory\n16777216');
    expect(await redis.cli('CONFIG', 'GET', 'dir')).toBe(`dir\n${redis.dir}`);
    expect(existsSync(redis.logfile)).toBe(true);
  });

  it('kill + restart: same port, data gone, args kept', async () => {
    await redis.cli('SET', 'gone', '1');
    const oldPid = redis.pid;
    await redis.kill();
    expect(redis.isRunning()).toBe(false);
    expect(await redis.ping(300)).toBe(false);
    await redis.restart();
    expect(redis.isRunning()).toBe(true);
    expect(redis.pid).not.toBe(oldPid);
    expect(await redis.cli('EXISTS', 'gone')).toBe('0');
    expect(await redis.cli('CONFIG', 'GET', 'maxmemory')).toBe('maxmemory\n16777216');
  });

  it('stop is graceful and restart works after it', async () => {
    await redis.stop();
    expect(redis.isRunning()).toBe(false);
    await redis.restart();
    expect(await redis.cli('PING')).toBe('PONG');
  });

  it('pause makes PING time out; resume brings it back', async () => {
    redis.pause();
    expect(redis.isPaused()).toBe(true);
    expect(await redis.ping(500)).toBe(false);
    redis.resume();
    expect(await redis.ping(500)).toBe(true);
  });

  it('close kills the process, removes the temp dir and frees the port', async () => {
    const extra = await startStandalone();
    const { pid, port, dir } = extra;
    await extra.close();
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(dir)).toBe(false);
    expect(await waitFor(() => isPortFree(port), { timeoutMs: 5_000 })).toBe(true);
  });

  it('validates options', async () => {
    await expect(startStandalone({ args: 'x' as unknown as string[] })).rejects.toMatchObject({ code: 'ERR_OPTIONS' });
  });
});
