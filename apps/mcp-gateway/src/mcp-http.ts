import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { GatewayConfig } from './config';
import { checkBody, INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, isInitialize, jsonRpcError, PARSE_ERROR } from './jsonrpc';
import { createMcpServer, headerOf, isAdminRequest, type Extra } from './mcp-server';
import { answerJson } from './tool-answer';
import type { Caller, ToolCatalog } from './tool-catalog';
import type { CallContext } from './tool-runner';

/** JSON-RPC code of a call cut off by shutdown, and of requests refused while shutting down. */
export const SHUTTING_DOWN = -32000;

interface Session {
  id: string;
  transport: StreamableHTTPServerTransport;
  server: Server;
  /** The admin tools are listed and callable (admin token at `initialize`). */
  admin: boolean;
  lastSeen: number;
  /**
   * POSTs of this session being answered: never idle (nor evicted) while > 0. A GET SSE stream
   * does not count: this server sends no notifications, a client that only listens is idle.
   */
  open: number;
}

/** A POST whose JSON-RPC requests are being answered. */
interface InFlight {
  session: Session;
  ids: (string | number)[];
  /** The response ended (sent, or the connection closed). */
  ended: boolean;
  /** Resolved when it ends (only a drain waits: no promise per request). */
  waiters: (() => void)[];
  /** Set when answered by the fast path (not the SDK transport): a shutdown answers it here. */
  reply?: FastifyReply;
}

/** Answers a fast-path call (once: a shutdown may have answered it already). */
function sendJson(reply: FastifyReply, sessionId: string, body: string): void {
  if (reply.sent) return;
  void reply.header('content-type', 'application/json').header('mcp-session-id', sessionId).send(body);
}

/** The caller of a fast-path call: identity from the request's headers, admin re-checked per call. */
class HttpCaller implements Caller {
  readonly context: CallContext;
  constructor(
    private readonly headers: FastifyRequest['headers'],
    readonly sessionAdmin: boolean,
    private readonly config: McpHttpOptions['config'],
  ) {
    this.context = { credential: headerOf(headers, config.credentialHeader), tenant: headerOf(headers, config.tenantHeader) };
  }
  isAdmin(): boolean {
    return isAdminRequest(this.headers, this.config.adminToken);
  }
}

export interface McpHttp {
  sessionCount(): number;
  /** Calls being answered right now. */
  inFlightCount(): number;
  /**
   * Stops accepting requests, waits up to `drainMs` for the calls in flight, answers the ones
   * still running with a JSON-RPC error (`SHUTTING_DOWN`), then closes every session.
   */
  close(drainMs: number): Promise<void>;
}

export interface McpHttpOptions {
  config: Pick<GatewayConfig, 'credentialHeader' | 'tenantHeader' | 'adminToken' | 'allowedOrigins' | 'logLevel' | 'maxSessions' | 'sessionIdleSec'>;
  catalog: ToolCatalog;
  logger: Logger;
}

/**
 * The MCP Streamable HTTP endpoint (`POST|GET|DELETE /mcp`) as an encapsulated Fastify plugin:
 * - JSON-RPC errors at the edge: invalid JSON → -32700, not JSON-RPC → -32600, bad params of a
 *   known method (including a malformed `initialize`) → -32602 with one line (no zod dump);
 * - sessions: at most `maxSessions` (at the cap the least recently used idle session is closed,
 *   else 503), closed after `sessionIdleSec` without a request, closed by `DELETE`;
 * - shutdown: in-flight calls drained up to a deadline, then answered with a JSON-RPC error.
 */
export async function registerMcpHttp(app: FastifyInstance, opts: McpHttpOptions): Promise<McpHttp> {
  const { config, catalog, logger } = opts;
  const sessions = new Map<string, Session>();
  const inFlight = new Set<InFlight>();
  let closing = false;

  const closeSession = (s: Session, why: string): void => {
    if (sessions.get(s.id) !== s) return;
    sessions.delete(s.id);
    void s.transport.close().catch(() => undefined);
    void s.server.close().catch(() => undefined);
    logger.debug({ why }, 'mcp session closed');
  };

  // abandoned sessions (no DELETE) are closed after SESSION_IDLE_SEC without a request
  const idleMs = config.sessionIdleSec * 1000;
  const sweeper = setInterval(
    () => {
      const now = Date.now();
      for (const s of [...sessions.values()]) if (s.open === 0 && now - s.lastSeen > idleMs) closeSession(s, 'idle');
    },
    Math.max(250, Math.min(30_000, idleMs / 4)),
  ).unref();

  /** At the cap: close the least recently used session with no open request, if any. */
  const makeRoom = (): boolean => {
    if (sessions.size < config.maxSessions) return true;
    let lru: Session | undefined;
    for (const s of sessions.values()) if (s.open === 0 && (!lru || s.lastSeen < lru.lastSeen)) lru = s;
    if (!lru) return false;
    closeSession(lru, 'evicted (MAX_SESSIONS)');
    return true;
  };

  const contextOf = (extra: Extra) => ({
    credential: headerOf(extra.requestInfo?.headers, config.credentialHeader),
    tenant: headerOf(extra.requestInfo?.headers, config.tenantHeader),
  });

  // DNS-rebinding / cross-site protection: a browser request (Origin header) must come from
  // localhost or an origin listed in ALLOWED_ORIGINS; non-browser clients send no Origin.
  const originAllowed = (origin: string | undefined): boolean => {
    if (!origin) return true;
    if (config.allowedOrigins.includes(origin)) return true;
    try {
      const host = new URL(origin).hostname;
      return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
    } catch {
      return false;
    }
  };

  /**
   * Tracks a POST of a session until its response ends ('close' follows 'finish' and also
   * fires when the connection drops); a POST carrying requests is in flight until then.
   */
  const track = (s: Session, reply: FastifyReply, ids: (string | number)[], direct = false): InFlight => {
    s.open++;
    s.lastSeen = Date.now();
    const flight: InFlight = { session: s, ids, ended: false, waiters: [], ...(direct ? { reply } : {}) };
    if (ids.length > 0) inFlight.add(flight);
    reply.raw.once('close', () => {
      flight.ended = true;
      s.open--;
      s.lastSeen = Date.now();
      inFlight.delete(flight);
      for (const w of flight.waiters) w();
    });
    return flight;
  };
  const ended = (f: InFlight): Promise<void> => (f.ended ? Promise.resolve() : new Promise((resolve) => f.waiters.push(resolve)));

  /**
   * The hot path: a single `tools/call` on an open session whose client accepts JSON is answered
   * here, without the SDK transport's Node → Web Request/Response round trip: the catalog's
   * compiled validator, the tool, and the serialised answer (a cache hit's stored bytes) in one
   * `application/json` write. Everything else (initialize, tools/list, batches, notifications,
   * responses, a bad protocol version or Accept header, GET, DELETE) goes to the SDK transport,
   * which checks and answers it as before (single results as application/json too).
   */
  const fastCall = (req: FastifyRequest): boolean => {
    const m = req.body as Record<string, unknown> | unknown[] | null;
    if (m === null || typeof m !== 'object' || Array.isArray(m) || m['method'] !== 'tools/call' || m['id'] === undefined) return false;
    const accept = req.headers.accept;
    // the transport's rule: a POST must accept both (else 406, answered by the transport)
    if (accept === undefined || !accept.includes('application/json') || !accept.includes('text/event-stream')) return false;
    const version = req.headers['mcp-protocol-version'];
    return version === undefined || (typeof version === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(version));
  };

  const answerCall = async (s: Session, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const m = req.body as { id: string | number; params: { name: string; arguments?: Record<string, unknown> } };
    track(s, reply, [m.id], true);
    const answer = await catalog.call(m.params.name, m.params.arguments, new HttpCaller(req.headers, s.admin, config));
    sendJson(reply, s.id, `{"jsonrpc":"2.0","id":${JSON.stringify(m.id)},"result":${answerJson(answer)}}`);
    return reply;
  };

  await app.register(async (scope) => {
    // JSON-RPC answers for bodies Fastify cannot parse (instead of Fastify's own error format)
    scope.setErrorHandler((err: { code?: string; statusCode?: number; message: string }, _req, reply) => {
      if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (err instanceof SyntaxError && (err as { statusCode?: number }).statusCode === 400)) {
        return reply.code(400).send(jsonRpcError(PARSE_ERROR, 'Parse error: the body is not valid JSON'));
      }
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send(jsonRpcError(INVALID_REQUEST, 'Invalid Request: body too large'));
      if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send(jsonRpcError(INVALID_REQUEST, 'Invalid Request: Content-Type must be application/json'));
      logger.error({ err: { message: err.message, code: err.code } }, 'mcp request failed');
      return reply.code(err.statusCode && err.statusCode >= 400 ? err.statusCode : 500).send(jsonRpcError(INTERNAL_ERROR, 'Internal error'));
    });

    // request logs of the MCP endpoint only at debug (one line per JSON-RPC message is noise)
    const route = { logLevel: config.logLevel === 'debug' || config.logLevel === 'trace' ? config.logLevel : 'warn' } as const;
    /** Origin and shutdown checks, first thing in each handler (no hook machinery per request). */
    const refused = (req: FastifyRequest, reply: FastifyReply): FastifyReply | undefined => {
      if (!originAllowed(headerOf(req.headers, 'origin'))) {
        return reply.code(403).send(jsonRpcError(-32000, 'Forbidden: origin not allowed (see ALLOWED_ORIGINS)'));
      }
      if (closing) return reply.code(503).header('connection', 'close').send(jsonRpcError(SHUTTING_DOWN, 'Service unavailable: the gateway is shutting down'));
      return undefined;
    };

    scope.post('/mcp', route, async (req, reply) => {
      const no = refused(req, reply);
      if (no) return no;
      const bad = checkBody(req.body);
      if (bad) {
        // bad params of a request with an id: a JSON-RPC response (clients match it by id); else 400
        return reply.code(bad.error.code === INVALID_PARAMS && bad.id !== null ? 200 : 400).send(bad);
      }
      const sid = headerOf(req.headers, 'mcp-session-id');
      let entry = sid ? sessions.get(sid) : undefined;
      if (!entry) {
        if (sid) return reply.code(404).send(jsonRpcError(-32001, 'Session not found: it was closed (DELETE, idle, or restart); initialize a new one'));
        if (!isInitialize(req.body)) {
          return reply.code(400).send(jsonRpcError(-32000, 'Bad Request: no mcp-session-id header; the first request of a session must be initialize'));
        }
        if (!makeRoom()) return reply.code(503).send(jsonRpcError(-32000, 'Too many open sessions (MAX_SESSIONS), retry later'));
        const admin = isAdminRequest(req.headers, config.adminToken);
        const server = createMcpServer({
          catalog,
          admin,
          context: contextOf,
          adminCheck: (extra) => isAdminRequest(extra.requestInfo?.headers, config.adminToken),
        });
        const created: Session = {
          id: '',
          server,
          admin,
          lastSeen: Date.now(),
          open: 0,
          transport: new StreamableHTTPServerTransport({
            sessionIdGenerator: () => randomUUID(),
            // one JSON-RPC result per POST is answered as application/json (one write), not as an
            // SSE stream; server-initiated messages still go out on the GET SSE stream
            enableJsonResponse: true,
            onsessioninitialized: (id) => {
              created.id = id;
              sessions.set(id, created);
            },
            // DELETE /mcp: the transport closes itself; drop the session and its server
            onsessionclosed: () => closeSession(created, 'DELETE'),
          }),
        };
        created.transport.onclose = () => closeSession(created, 'transport closed');
        await server.connect(created.transport);
        entry = created;
        logger.info({ admin }, 'mcp session opened');
      }
      if (fastCall(req)) return answerCall(entry, req, reply);
      const msgs = (Array.isArray(req.body) ? req.body : [req.body]) as Record<string, unknown>[];
      const ids = msgs.filter((m) => m['method'] !== undefined && (typeof m['id'] === 'string' || typeof m['id'] === 'number')).map((m) => m['id'] as string | number);
      track(entry, reply, ids);
      reply.hijack();
      await entry.transport.handleRequest(req.raw, reply.raw, req.body);
    });

    const sessionRoute = async (req: FastifyRequest, reply: FastifyReply) => {
      const no = refused(req, reply);
      if (no) return no;
      const sid = headerOf(req.headers, 'mcp-session-id');
      const entry = sid ? sessions.get(sid) : undefined;
      if (!entry) return reply.code(sid ? 404 : 400).send(jsonRpcError(sid ? -32001 : -32000, sid ? 'Session not found' : 'Missing mcp-session-id header'));
      entry.lastSeen = Date.now();
      reply.hijack();
      await entry.transport.handleRequest(req.raw, reply.raw);
      return undefined;
    };
    scope.get('/mcp', route, sessionRoute);
    scope.delete('/mcp', route, sessionRoute);
  });

  return {
    sessionCount: () => sessions.size,
    inFlightCount: () => [...inFlight].reduce((n, f) => n + f.ids.length, 0),
    async close(drainMs: number) {
      closing = true;
      clearInterval(sweeper);
      if (inFlight.size > 0) {
        const pending = inFlight.size;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all([...inFlight].map(ended)),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, drainMs);
          }),
        ]);
        clearTimeout(timer);
        // calls still running after the deadline: answered with an error instead of never
        const cut = [...inFlight];
        for (const f of cut) {
          for (const id of f.ids) {
            const msg = jsonRpcError(SHUTTING_DOWN, `the gateway shut down before this call finished (drained ${drainMs} ms); a write may or may not have been applied upstream`, id);
            if (f.reply) sendJson(f.reply, f.session.id, JSON.stringify(msg));
            else await f.session.transport.send(msg as unknown as JSONRPCMessage, { relatedRequestId: id }).catch(() => undefined);
          }
        }
        if (cut.length > 0 || pending > 0) logger.info({ drained: pending - cut.length, cut: cut.reduce((n, f) => n + f.ids.length, 0), drainMs }, 'in-flight MCP calls at shutdown');
        // let the error responses reach the sockets before the server closes them
        await Promise.race([Promise.all(cut.map(ended)), new Promise((r) => setTimeout(r, 200))]);
      }
      for (const s of [...sessions.values()]) {
        sessions.delete(s.id);
        await s.transport.close().catch(() => undefined);
        await s.server.close().catch(() => undefined);
      }
    },
  };
}
