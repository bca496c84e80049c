import { UpstreamError } from './errors';
import { resolveUpstreamUrl } from './upstream-path';

export interface UpstreamClientOptions {
  baseUrl: string;
  /** Header the credential is sent in (`Authorization` gets `Bearer <key>`). */
  authHeader: string;
  /** Deadline of a whole call (ms), retries and backoff included. */
  timeoutMs: number;
  /** Retries of idempotent calls (network error, timeout, 5xx, 429). */
  retries: number;
  /** First backoff delay (ms), doubled each retry, with full jitter. Default 100. */
  backoffMs?: number;
}

export interface UpstreamRequest {
  method: string;
  /** Path (already rendered, URL-encoded) relative to the base URL. */
  path: string;
  /** The manifest's path template: the resolved URL must still match it (never leaves it). */
  template?: string;
  query?: Record<string, string | number | boolean>;
  body?: unknown;
  credential?: string | undefined;
  timeoutMs?: number;
}

export interface UpstreamResponse {
  status: number;
  data: unknown;
  /** Attempts made (1 = no retry). */
  attempts: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** A retry is only started with at least this much of the call's budget left. */
const MIN_ATTEMPT_MS = 50;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);

function errorMessageOf(data: unknown, fallback: string): string {
  if (data && typeof data === 'object') {
    const o = data as Record<string, unknown>;
    for (const k of ['message', 'error_description', 'error', 'detail', 'title']) {
      if (typeof o[k] === 'string' && o[k]) return (o[k]).slice(0, 500);
    }
  }
  if (typeof data === 'string' && data.trim()) return data.trim().slice(0, 500);
  return fallback;
}

/**
 * Calls the upstream REST API with Node's global fetch: one deadline per call shared by its
 * attempts (`AbortSignal.timeout` of the time left), retries with exponential backoff for idempotent methods
 * only — a POST/PATCH/PUT/DELETE is sent exactly once — and typed errors.
 */
export class UpstreamClient {
  private readonly base: string;
  constructor(private readonly opts: UpstreamClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
  }

  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const method = req.method.toUpperCase();
    const maxAttempts = IDEMPOTENT.has(method) ? this.opts.retries + 1 : 1;
    // checked after URL resolution: a path outside the template is refused before any request
    const url = resolveUpstreamUrl(this.base, req.path, req.template);
    for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (req.credential) {
      headers[this.opts.authHeader] = this.opts.authHeader.toLowerCase() === 'authorization' ? `Bearer ${req.credential}` : req.credential;
    }
    let body: string | undefined;
    if (req.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.body);
    }
    // one deadline for the whole call: retries and their backoff draw from the same budget, so
    // a hanging upstream costs a caller `timeout`, never `timeout × attempts`
    const timeoutMs = req.timeoutMs ?? this.opts.timeoutMs;
    const deadline = performance.now() + timeoutMs;
    const timedOut = (cause?: unknown) =>
      new UpstreamError('E_UPSTREAM_TIMEOUT', `upstream ${method} ${req.path} timed out after ${timeoutMs} ms`, cause === undefined ? {} : { cause });
    let lastErr: UpstreamError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) {
        const cap = (this.opts.backoffMs ?? 100) * 2 ** (attempt - 2);
        const wait = cap / 2 + Math.random() * (cap / 2);
        // no budget left for a useful attempt: stop with the last error
        if (deadline - performance.now() - wait < MIN_ATTEMPT_MS) break;
        await sleep(wait);
      }
      const remaining = Math.floor(deadline - performance.now());
      if (remaining <= 0) {
        lastErr ??= timedOut();
        break;
      }
      let res: Response;
      try {
        res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(remaining) });
      } catch (err) {
        const e = err as Error;
        if (e.name === 'TimeoutError' || e.name === 'AbortError') {
          lastErr = timedOut(err);
          break; // the budget is spent
        }
        lastErr = new UpstreamError('E_UPSTREAM_NETWORK', `upstream ${method} ${req.path} failed: ${e.message}`, { cause: err });
        continue;
      }
      let data: unknown = null;
      try {
        const text = await res.text();
        if (text) data = (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
      } catch (err) {
        lastErr = new UpstreamError('E_UPSTREAM_NETWORK', `upstream ${method} ${req.path}: unreadable response (${(err as Error).message})`, {
          status: res.status,
          cause: err,
        });
        if (res.ok) continue;
      }
      if (res.ok) return { status: res.status, data, attempts: attempt };
      const upstreamMessage = errorMessageOf(data, res.statusText || `HTTP ${res.status}`);
      lastErr = new UpstreamError('E_UPSTREAM_HTTP', `upstream ${method} ${req.path} answered ${res.status}: ${upstreamMessage}`, {
        status: res.status,
        upstreamMessage,
      });
      // 4xx (except 408/429) is the caller's problem: never retried
      if (res.status < 500 && res.status !== 408 && res.status !== 429) break;
    }
    throw lastErr ?? new UpstreamError('E_UPSTREAM_NETWORK', `upstream ${method} ${req.path} failed`);
  }
}
