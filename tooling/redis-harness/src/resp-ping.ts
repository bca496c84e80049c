import { connect } from 'node:net';

/**
 * Sends an inline PING over a raw socket and resolves true on `+PONG` within `timeoutMs`, false on
 * anything else (refused, timeout, LOADING, …). Cheaper than spawning redis-cli for readiness polls.
 */
export function pingPort(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    let buffer = '';
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.setNoDelay(true);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      if (buffer.includes('\r\n')) finish(buffer.startsWith('+PONG'));
    });
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}
