import { request as httpRequest } from 'node:http';
import type { CapturedResponse, RouteRequest } from './request';

/** Request header marking an adapter's own background re-run of a stale route (value: the engine's random token). */
export const REVALIDATE_HEADER = 'x-stratacache-revalidate';

/** Hop-by-hop and body headers not forwarded to the re-run (a GET without a body). */
const DROP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-type', 'upgrade', 'expect', 'te', 'trailer', 'proxy-connection']);

/** The local end of the connection a request came in on (Node's `socket.localAddress` / `localPort`). */
export interface LocalEndpoint {
  localAddress?: string | undefined;
  localPort?: number | undefined;
  /** A TLS socket: no loopback re-run (the adapter cannot present the server's certificate trust). */
  encrypted?: boolean | undefined;
}

/**
 * Re-runs a `GET` of `url` against the server the request came in on, over plain HTTP on its local
 * address and port, with the request's headers (hop-by-hop ones dropped) and the engine's
 * revalidation token — for frameworks without `inject` (Express). The same middleware, auth and
 * handler run; the token makes the route cache let it through. Resolves `undefined` on a TLS socket,
 * an unknown endpoint, an error or after `timeoutMs`: the stale entry then stays until its grace ends.
 */
export function loopbackRevalidate(
  socket: LocalEndpoint | undefined,
  url: string,
  headers: RouteRequest['headers'],
  token: string,
  timeoutMs = 30_000,
): Promise<CapturedResponse | undefined> {
  if (socket === undefined || socket.encrypted === true || socket.localAddress === undefined || socket.localPort === undefined) return Promise.resolve(undefined);
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !DROP.has(k.toLowerCase())) out[k] = v;
  out[REVALIDATE_HEADER] = token;
  out['connection'] = 'close';
  const host = socket.localAddress.startsWith('::ffff:') ? socket.localAddress.slice(7) : socket.localAddress;
  return new Promise((resolve) => {
    const req = httpRequest({ host, port: socket.localPort, method: 'GET', path: url, headers: out, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
