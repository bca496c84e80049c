import {
  loopbackRevalidate,
  RouteCache,
  RouteCacheOptionsError,
  type CapturedResponse,
  type ResolvedRouteConfig,
  type RouteCacheConfig,
  type RouteCacheLayer,
  type RouteCacheOptions,
  type RouteRequest,
  type RunDecision,
  type ServeDecision,
} from '@stratacache/http';
import type { InvalidateResult } from '@stratacache/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** What {@link routeCache} returns: middleware factories over one engine. */
export interface ExpressRouteCache {
  /** Middleware for one route: `app.get('/users/:id', rc.route({ ttl: '30s' }), handler)`. `config` overrides the globals. */
  route(config?: RouteCacheConfig | true): RequestHandler;
  /** Middleware for every route under it (`app.use(rc.all())`); the key's route part is then the path. */
  all(config?: RouteCacheConfig | true): RequestHandler;
  /** Invalidates every cached variant of a route (`'GET /users/:id'` or `'/users/:id'`) of a tenant. */
  invalidateRoute(route: string, tenant?: string): Promise<InvalidateResult>;
  /** The framework-neutral engine. */
  readonly engine: RouteCache;
  /** The cache given as `cache`. */
  readonly cache: RouteCacheLayer;
}

/** The route pattern when Express matched one (`/users/:id`, with the router's mount path), else the path. */
function routeOf(req: Request): string {
  const r = (req as { route?: { path?: unknown } }).route;
  if (r !== undefined && typeof r.path === 'string') return `${req.baseUrl}${r.path}`;
  return `${req.baseUrl}${req.path}`;
}

function toRouteRequest(req: Request): RouteRequest {
  return { method: req.method, route: routeOf(req), url: req.originalUrl, headers: req.headers, raw: req };
}

function serve(res: Response, req: Request, d: ServeDecision, statusHeader: string | false): void {
  res.status(d.status);
  for (const [name, value] of d.headers) res.setHeader(name, value);
  if (statusHeader !== false) res.setHeader(statusHeader, d.xCache);
  res.setHeader('content-length', d.body.length);
  if (req.method === 'HEAD') res.end();
  else res.end(d.body);
}

type EndCallback = () => void;
type End = (chunk?: unknown, encoding?: BufferEncoding | EndCallback, cb?: EndCallback) => Response;
type Write = (chunk: unknown, ...rest: unknown[]) => boolean;

function toBytes(chunk: unknown, encoding: BufferEncoding | undefined): Buffer | undefined {
  if (chunk === undefined || chunk === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding ?? 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return undefined;
}

/**
 * Captures the response of `res` (the bytes given to `res.end`; a response written with `res.write`
 * is streamed: not captured, not stored), completes the decision with it before the bytes leave,
 * and aborts the decision when the connection closes first.
 */
function intercept(res: Response, d: RunDecision): void {
  const origEnd = res.end.bind(res) as End;
  const origWrite = res.write.bind(res) as Write;
  let streamed = false;
  let ended = false;
  (res as unknown as { write: Write }).write = (chunk, ...rest) => {
    streamed = true;
    return origWrite(chunk, ...rest);
  };
  (res as unknown as { end: End }).end = (chunk?: unknown, encoding?: BufferEncoding | EndCallback, cb?: EndCallback) => {
    if (ended) return origEnd(chunk, encoding, cb);
    ended = true;
    if (typeof chunk === 'function') {
      cb = chunk as EndCallback;
      chunk = undefined;
      encoding = undefined;
    } else if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    const enc = encoding;
    const body = streamed ? undefined : toBytes(chunk, enc);
    const finish = (out: Buffer | undefined): void => {
      if (out !== undefined && out !== body && !res.headersSent) {
        res.setHeader('content-length', out.length);
        origEnd(out, cb);
      } else {
        origEnd(chunk, enc, cb);
      }
    };
    d.complete({ status: res.statusCode, headers: res.getHeaders(), body }).then(finish, () => finish(undefined));
    return res;
  };
  res.once('close', () => d.abort());
}

function middleware(engine: RouteCache, cfg: ResolvedRouteConfig): RequestHandler {
  const statusHeader = engine.options.statusHeader;
  return (req: Request, res: Response, next: NextFunction): void => {
    // stale-while-revalidate: a request answered with a stale entry is re-run in the background as a
    // GET to this server (same URL and headers, so the same middleware and auth), marked with the
    // engine's token so that it passes through (`loopbackRevalidate` of @stratacache/http)
    const revalidate = (): Promise<CapturedResponse | undefined> => loopbackRevalidate(req.socket, req.originalUrl, req.headers, engine.revalidationToken);
    engine.decide(toRouteRequest(req), cfg, revalidate).then((d) => {
      if (d.action === 'pass') return next();
      if (d.action === 'serve') return serve(res, req, d, statusHeader);
      if (statusHeader !== false && d.xCache !== undefined) res.setHeader(statusHeader, d.xCache);
      intercept(res, d);
      next();
    }, next);
  };
}

/**
 * Route caching for Express 5, over `@stratacache/http`. Validates `options` (throws
 * `RouteCacheOptionsError`, code `E_ROUTE_CACHE_OPTIONS`).
 *
 * ```ts
 * const rc = routeCache({ cache, ttl: '1m' });
 * app.get('/users/:id', rc.route({ tags: ['users'] }), getUser);
 * app.put('/users/:id', rc.route({ invalidates: { tags: ['users'] } }), putUser);
 * ```
 */
export function routeCache(options: RouteCacheOptions): ExpressRouteCache {
  const engine = new RouteCache(options);
  const build = (config: RouteCacheConfig | true | undefined, what: string): RequestHandler => {
    if (config !== undefined && config !== true && (config === null || typeof config !== 'object')) {
      throw new RouteCacheOptionsError(`${what}: config must be true or an object`);
    }
    return middleware(engine, engine.route(config, `${what}: `));
  };
  return {
    route: (config) => build(config, 'route()'),
    all: (config) => build(config, 'all()'),
    invalidateRoute: (route, tenant) => engine.invalidateRoute(route, tenant),
    engine,
    cache: engine.cache,
  };
}
