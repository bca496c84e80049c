import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The first port handed out is one we hold busy: the harness must notice the clash and retry.
const busy = { port: 0 };
vi.mock('../src/ports', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/ports')>();
  let first = true;
  return {
    ...real,
    freePort: async (opts?: { bus?: boolean }) => {
      if (first && busy.port) {
        first = false;
        return busy.port;
      }
      return real.freePort(opts);
    },
  };
});

const { startStandalone } = await import('../src/index');

describe('port collisions', () => {
  let holder: Server;
  beforeAll(async () => {
    holder = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const address = holder.address();
    busy.port = typeof address === 'object' && address ? address.port : 0;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  });

  it('retries with a fresh port when the chosen one is taken before redis binds it', async () => {
    const redis = await startStandalone();
    try {
      expect(redis.port).not.toBe(busy.port);
      expect(await redis.cli('PING')).toBe('PONG');
    } finally {
      await redis.close();
    }
  });

  it('restart fails clearly when someone took the port meanwhile', async () => {
    const redis = await startStandalone();
    try {
      await redis.kill();
      const squatter = createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => squatter.listen(redis.port, '127.0.0.1', resolve));
      try {
        await expect(redis.restart()).rejects.toMatchObject({
          code: 'ERR_REDIS_START',
          message: expect.stringContaining('Address already in use'),
        });
      } finally {
        await new Promise<void>((resolve) => squatter.close(() => resolve()));
      }
      await redis.restart();
      expect(await redis.ping()).toBe(true);
    } finally {
      await redis.close();
    }
  });
});
