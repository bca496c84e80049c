import { createServer } from 'node:net';
import { HarnessError } from './errors';

/** Ports handed out by this process; never handed out twice (restarts reuse theirs explicitly). */
const handedOut = new Set<number>();

/** Cluster bus ports are the client port + 10 000. */
export const CLUSTER_BUS_OFFSET = 10_000;

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/** True when nothing listens on 127.0.0.1:`port` (we can bind it). */
export async function isPortFree(port: number): Promise<boolean> {
  return (await tryListen(port)) === port;
}

/**
 * A port that was free a moment ago (bind to port 0, read it back, close). With `bus`, port+10 000
 * must be free too. Another process may still grab it before redis-server binds it: callers retry
 * with a fresh port when the server fails with "address in use".
 */
export async function freePort(opts: { bus?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = await tryListen(0);
    if (port === undefined || handedOut.has(port)) continue;
    if (opts.bus) {
      const bus = port + CLUSTER_BUS_OFFSET;
      if (bus > 65_535 || !(await isPortFree(bus))) continue;
    }
    handedOut.add(port);
    return port;
  }
  throw new HarnessError('ERR_NO_FREE_PORT', 'could not find a free TCP port on 127.0.0.1 after 200 attempts');
}
