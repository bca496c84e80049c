import { KeyBuilder, escapeKeyPart } from '@stratacache/core';
import type { ResolvedRouteConfig } from './options';
import { headerValue, splitUrl, type RouteRequest } from './request';

/** Identifiers are built (normalised, escaped, hashed past 128 characters) by core's KeyBuilder. */
const ids = new KeyBuilder({ prefix: 'route' });

/** The method a cached entry is stored under: HEAD is answered from the GET entry. */
export function keyMethod(method: string): string {
  return method === 'HEAD' ? 'GET' : method;
}

/** `{namespace}` or `{namespace}@{tenant}`: the entity part of a route key. */
export function routeEntity(namespace: string, tenant: string | undefined): string {
  return tenant === undefined ? namespace : `${namespace}@${tenant}`;
}

/** `GET /users/:id`: the operation part of a route key (one namespace per route, for route invalidation). */
export function routeOperation(method: string, route: string): string {
  return `${keyMethod(method)} ${route}`;
}

/**
 * The query as a sorted params object: keys sorted (by KeyBuilder), repeated keys keep their order,
 * ignored keys dropped. `?b=2&a=1` and `?a=1&b=2` give the same key.
 */
export function normaliseQuery(query: string, ignore: ReadonlySet<string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (query.length === 0) return out;
  for (const [k, v] of new URLSearchParams(query)) {
    if (ignore.has(k)) continue;
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}

/**
 * The relative cache key of a request: `{namespace}[@tenant]:{METHOD route}:{identifier}`, where the
 * identifier holds the path and normalised query (or the route's own `key`) and the `vary` headers.
 * Every part is escaped, and a long identifier is hashed, by core's KeyBuilder.
 */
export function buildRouteKey(req: RouteRequest, cfg: ResolvedRouteConfig, namespace: string, tenant: string | undefined): string {
  const id: Record<string, unknown> = {};
  if (cfg.key !== undefined) {
    id.k = cfg.key(req);
  } else {
    const { path, query } = splitUrl(req.url);
    id.p = path;
    const q = normaliseQuery(query, cfg.ignoreQuery);
    if (Object.keys(q).length > 0) id.q = q;
  }
  if (cfg.vary.length > 0) {
    const h: Record<string, string | null> = {};
    for (const name of cfg.vary) h[name] = headerValue(req.headers, name) ?? null;
    id.h = h;
  }
  const entity = escapeKeyPart(routeEntity(namespace, tenant));
  const op = escapeKeyPart(routeOperation(req.method, req.route));
  return `${entity}:${op}:${ids.identifier(id)}`;
}
