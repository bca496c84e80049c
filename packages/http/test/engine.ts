import type { CapturedResponse, RouteCache, RouteRequest, ResolvedRouteConfig } from '../src/index';

export interface Reply {
  xCache: string | undefined;
  status: number;
  body: string;
  ran: boolean;
}

/** A minimal adapter: what Fastify / Express do with a decision, without a framework. */
export async function handle(
  engine: RouteCache,
  cfg: ResolvedRouteConfig | undefined,
  req: Partial<RouteRequest> & { url: string },
  handler: () => Promise<CapturedResponse> | CapturedResponse,
): Promise<Reply> {
  const r: RouteRequest = { method: 'GET', route: req.url.split('?')[0] as string, headers: {}, raw: undefined, ...req };
  const d = await engine.decide(r, cfg);
  if (d.action === 'serve') return { xCache: d.xCache, status: d.status, body: d.body.toString(), ran: false };
  const res = await handler();
  if (d.action === 'pass') return { xCache: undefined, status: res.status, body: res.body?.toString() ?? '', ran: true };
  const out = await d.complete(res);
  return { xCache: d.xCache, status: res.status, body: out?.toString() ?? '', ran: true };
}

export function json(v: unknown, status = 200, headers: Record<string, string> = {}): CapturedResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: Buffer.from(JSON.stringify(v)) };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
