import type { ResolvedOptions, ResolvedRouteConfig } from './options';
import { headerValue, splitUrl, type CapturedResponse, type RouteRequest } from './request';

/** The `x-cache` values. */
export type XCache = 'HIT' | 'MISS' | 'STALE' | 'BYPASS';

const FALSE_VALUES = new Set(['false', '0', 'no', 'off']);
const BYPASS_HEADER_VALUES = new Set(['1', 'true', 'yes', 'on', 'no-cache']);

/** True when the request asks not to use the cache (`?use_cache=false` or the bypass header). */
export function isBypass(req: RouteRequest, opts: ResolvedOptions): boolean {
  if (opts.bypassQuery !== false) {
    const { query } = splitUrl(req.url);
    if (query.length > 0 && query.includes(opts.bypassQuery)) {
      const v = new URLSearchParams(query).get(opts.bypassQuery);
      if (v !== null && FALSE_VALUES.has(v.toLowerCase())) return true;
    }
  }
  if (opts.bypassHeader !== false) {
    const v = headerValue(req.headers, opts.bypassHeader);
    if (v !== undefined && BYPASS_HEADER_VALUES.has(v.trim().toLowerCase())) return true;
  }
  return false;
}

/** Whether the response may be stored: an allowed status (2xx by default), a captured body within the size bound, no `set-cookie`, no `Cache-Control: no-store / private`. */
export function isStorable(res: CapturedResponse, cfg: ResolvedRouteConfig, maxBodyBytes: number): boolean {
  if (cfg.statuses ? !cfg.statuses.has(res.status) : res.status < 200 || res.status > 299) return false;
  if (res.body === undefined || res.body.length > maxBodyBytes) return false;
  if (headerValue(res.headers, 'set-cookie') !== undefined) return false;
  const cc = headerValue(res.headers, 'cache-control');
  if (cc !== undefined && /(?:^|[,\s])(?:no-store|private)(?:$|[,\s=])/i.test(cc)) return false;
  return true;
}

/** Whether the request's own `Cache-Control` forbids storing (`no-store`). */
export function requestForbidsStore(req: RouteRequest): boolean {
  const cc = headerValue(req.headers, 'cache-control');
  return cc !== undefined && /(?:^|[,\s])no-store(?:$|[,\s])/i.test(cc);
}
