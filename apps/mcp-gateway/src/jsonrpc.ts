import {
  CallToolRequestSchema,
  InitializeRequestSchema,
  ListToolsRequestSchema,
  PingRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

/**
 * JSON-RPC checks done at the HTTP edge of `/mcp`, before a message reaches the SDK transport,
 * so every malformed input gets the error code the JSON-RPC spec names and a one-line message:
 * -32700 Parse error (not JSON), -32600 Invalid Request (not a JSON-RPC 2.0 message),
 * -32602 Invalid params (a known method whose params do not fit its schema; never a zod dump).
 */
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;

export type JsonRpcId = string | number | null;

export interface JsonRpcErrorBody {
  jsonrpc: '2.0';
  id: JsonRpcId;
  error: { code: number; message: string };
}

export function jsonRpcError(code: number, message: string, id: JsonRpcId = null): JsonRpcErrorBody {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

/** Methods whose params are checked here (the ones this server implements). */
const SCHEMAS: Record<string, { safeParse(v: unknown): { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } } }> = {
  initialize: InitializeRequestSchema,
  'tools/call': CallToolRequestSchema,
  'tools/list': ListToolsRequestSchema,
  ping: PingRequestSchema,
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string | number => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

/** `params` of a `tools/call` that CallToolRequestSchema accepts for sure (no `_meta`, no `task`). */
function isPlainCall(params: unknown): boolean {
  if (!isObject(params) || typeof params['name'] !== 'string') return false;
  let n = 1;
  if ('arguments' in params) {
    if (!isObject(params['arguments'])) return false;
    n++;
  }
  return Object.keys(params).length === n;
}

/** One line out of validation issues: `params.name: expected string, received number (+1 more)`. */
function oneLine(issues: { path: PropertyKey[]; message: string }[]): string {
  const first = issues[0];
  if (!first) return 'invalid';
  const where = first.path.length ? `${first.path.map(String).join('.')}: ` : '';
  const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : '';
  return `${where}${first.message.split('\n')[0]}${more}`.slice(0, 300);
}

/**
 * Checks one parsed JSON-RPC message. Returns the error to answer, or undefined when the
 * message may go to the transport.
 */
export function checkMessage(msg: unknown): JsonRpcErrorBody | undefined {
  if (!isObject(msg)) return jsonRpcError(INVALID_REQUEST, 'Invalid Request: a JSON-RPC message must be a JSON object');
  const id: JsonRpcId = isId(msg['id']) ? msg['id'] : null;
  if (msg['jsonrpc'] !== '2.0') return jsonRpcError(INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"', id);
  const method = msg['method'];
  if (method === undefined) {
    // a response from the client (to a server request): the transport checks it
    if ('result' in msg || 'error' in msg) return undefined;
    return jsonRpcError(INVALID_REQUEST, 'Invalid Request: "method" is missing', id);
  }
  if (typeof method !== 'string' || method === '') return jsonRpcError(INVALID_REQUEST, 'Invalid Request: "method" must be a non-empty string', id);
  if ('id' in msg && !isId(msg['id'])) return jsonRpcError(INVALID_REQUEST, 'Invalid Request: "id" must be a string or a number', null);
  if ('params' in msg && msg['params'] !== undefined && !isObject(msg['params'])) {
    return jsonRpcError(INVALID_PARAMS, `Invalid params for ${method}: params must be an object`, id);
  }
  // the common shape of a tool call needs no schema walk: `{ name: string, arguments?: object }`
  if (method === 'tools/call' && isPlainCall(msg['params'])) return undefined;
  const schema = SCHEMAS[method];
  if (schema && 'id' in msg) {
    const r = schema.safeParse(msg);
    if (!r.success) return jsonRpcError(INVALID_PARAMS, `Invalid params for ${method}: ${oneLine(r.error?.issues ?? [])}`, id);
  }
  return undefined;
}

/** Checks a POST body (one message or a batch); returns the first error found. */
export function checkBody(body: unknown): JsonRpcErrorBody | undefined {
  if (Array.isArray(body)) {
    if (body.length === 0) return jsonRpcError(INVALID_REQUEST, 'Invalid Request: empty batch');
    for (const m of body) {
      const e = checkMessage(m);
      if (e) return e;
    }
    return undefined;
  }
  return checkMessage(body);
}

/** True when the body is (or contains) an `initialize` request. */
export function isInitialize(body: unknown): boolean {
  const msgs = Array.isArray(body) ? body : [body];
  return msgs.some((m) => isObject(m) && m['method'] === 'initialize');
}
