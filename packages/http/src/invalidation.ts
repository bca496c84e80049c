import type { InvalidateResult, NamespaceRef } from '@stratacache/core';
import type { RouteCacheLayer, RouteInvalidateTarget } from './layer';
import type { InvalidationSpec, PerRequest } from './options';
import type { RouteRequest } from './request';
import { routeEntity, routeOperation } from './route-key';
import { RouteCacheOptionsError } from './errors';

function resolve<T>(v: PerRequest<readonly T[]> | undefined, req: RouteRequest): readonly T[] {
  if (v === undefined) return [];
  return typeof v === 'function' ? (v)(req) ?? [] : v;
}

/** `'GET /users/:id'` or `'/users/:id'` (GET) → `{ method, route }`. */
export function parseRouteRef(ref: string): { method: string; route: string } {
  const m = /^([A-Za-z]+)\s+(\S.*)$/.exec(ref.trim());
  if (m) return { method: (m[1] as string).toUpperCase(), route: m[2] as string };
  if (!ref.startsWith('/')) throw new RouteCacheOptionsError(`route reference must be "METHOD /path" or "/path", got ${JSON.stringify(ref)}`);
  return { method: 'GET', route: ref };
}

/** The namespace target holding every cached variant of a route (of one tenant). */
export function routeTarget(namespace: string, ref: string, tenant: string | undefined): RouteInvalidateTarget {
  const { method, route } = parseRouteRef(ref);
  return { namespace: { entity: routeEntity(namespace, tenant), operation: routeOperation(method, route) } };
}

function namespaceTarget(ns: string | NamespaceRef): RouteInvalidateTarget {
  if (typeof ns !== 'string') return { namespace: ns.operation === undefined ? { entity: ns.entity } : { entity: ns.entity, operation: ns.operation } };
  const i = ns.indexOf(':');
  return { namespace: i === -1 ? { entity: ns } : { entity: ns.slice(0, i), operation: ns.slice(i + 1) } };
}

/** Every target of an invalidation declaration, for one request. */
export function invalidationTargets(spec: InvalidationSpec, req: RouteRequest, namespace: string, tenant: string | undefined): RouteInvalidateTarget[] {
  const out: RouteInvalidateTarget[] = [];
  for (const tag of resolve(spec.tags, req)) out.push({ tag });
  for (const ns of resolve(spec.namespaces, req)) out.push(namespaceTarget(ns));
  for (const key of resolve(spec.keys, req)) out.push({ key });
  for (const r of resolve(spec.routes, req)) out.push(routeTarget(namespace, r, tenant));
  return out;
}

/** Summed result of several invalidations (one per target, in parallel). Never rejects. */
export async function runInvalidations(layer: RouteCacheLayer, targets: readonly RouteInvalidateTarget[]): Promise<InvalidateResult> {
  const results = await Promise.all(
    targets.map((t) =>
      layer.invalidate(t).catch((): InvalidateResult => ({ deleted: 0, barriers: 0, ok: false, reason: 'error' })),
    ),
  );
  const sum: InvalidateResult = { deleted: 0, barriers: 0, ok: true };
  for (const r of results) {
    sum.deleted += r.deleted;
    sum.barriers += r.barriers;
    if (!r.ok) {
      sum.ok = false;
      sum.reason ??= r.reason;
    }
  }
  return sum;
}
