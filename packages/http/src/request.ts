/** The framework-neutral view of a request that route caching reads. Adapters build it. */
export interface RouteRequest {
  /** Upper-case method (`GET`, `HEAD`, `POST`, …). */
  method: string;
  /** The route pattern (`/users/:id`) when the framework knows it, else the path. */
  route: string;
  /** The raw request target (`/users/1?b=2&a=1`): path and query are read from it. */
  url: string;
  /** Lower-case header names (Node's `IncomingHttpHeaders`). */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The framework request itself, handed to user callbacks (`key`, `tags`, `tenant`, …). */
  raw: unknown;
}

/** A response as the adapter captured it after the handler ran. */
export interface CapturedResponse {
  status: number;
  /** Response headers (any case; values as Node gives them). */
  headers: Readonly<Record<string, number | string | readonly string[] | undefined>>;
  /** The body bytes, or `undefined` when the body is a stream or otherwise not capturable. */
  body: Buffer | undefined;
}

export function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  if (q === -1) return { path: url, query: '' };
  return { path: url.slice(0, q), query: url.slice(q + 1) };
}

export function headerValue(headers: RouteRequest['headers'] | CapturedResponse['headers'], name: string): string | undefined {
  const v = headers[name] ?? findHeader(headers, name);
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return v.join(', ');
}

type HeaderValue = string | number | readonly string[] | undefined;

function findHeader(headers: Readonly<Record<string, HeaderValue>>, name: string): HeaderValue {
  for (const k of Object.keys(headers)) if (k.toLowerCase() === name) return headers[k];
  return undefined;
}
