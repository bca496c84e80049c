/**
 * A tool result kept in its serialised form: each text item is already a JSON string literal,
 * so an answer is written by concatenation. A cache hit returns the literal stored in the cache
 * (serialised once, when the origin answered) and only the small `_meta` object is serialised.
 */
export interface ToolAnswer {
  /** JSON string literals (`"..."`) of the text items, in order. */
  literals: string[];
  isError?: boolean;
  _meta?: Record<string, unknown>;
}

/** The MCP `CallToolResult` object of an answer (the SDK path: stdio, batches). */
export interface ToolResult {
  [k: string]: unknown;
  content: { type: 'text'; text: string }[];
  isError?: boolean;
  _meta?: Record<string, unknown>;
}

export type JsonFormat = 'compact' | 'pretty';

/** Text of an upstream value: strings as they are, anything else as JSON (compact or 2-space indented). */
export function textOf(value: unknown, format: JsonFormat): string {
  if (typeof value === 'string') return value;
  return (format === 'pretty' ? JSON.stringify(value, null, 2) : JSON.stringify(value)) ?? 'null';
}

/** An answer of plain texts (errors, admin tools, writes). */
export function answerOf(texts: string[], extra: Omit<ToolAnswer, 'literals'> = {}): ToolAnswer {
  return { literals: texts.map((t) => JSON.stringify(t)), ...extra };
}

/** `_meta` of a read answer (the source marker alone), serialised once. */
const SOURCE_ONLY: Record<string, string> = {
  cache: '{"stratacache/source":"cache"}',
  origin: '{"stratacache/source":"origin"}',
  stale: '{"stratacache/source":"stale"}',
};
function metaJson(meta: Record<string, unknown>): string {
  const src = meta['stratacache/source'];
  if (typeof src === 'string' && SOURCE_ONLY[src] !== undefined) {
    let n = 0;
    for (const _ in meta) n++;
    if (n === 1) return SOURCE_ONLY[src];
  }
  return JSON.stringify(meta);
}

/** `CallToolResult` JSON of an answer: the literals are concatenated, never re-serialised. */
export function answerJson(a: ToolAnswer): string {
  let s = '{"content":[';
  for (let i = 0; i < a.literals.length; i++) s += `${i ? ',' : ''}{"type":"text","text":${a.literals[i]}}`;
  s += ']';
  if (a.isError) s += ',"isError":true';
  if (a._meta !== undefined) s += `,"_meta":${metaJson(a._meta)}`;
  return `${s}}`;
}

/** `CallToolResult` object of an answer. */
export function answerResult(a: ToolAnswer): ToolResult {
  const r: ToolResult = { content: a.literals.map((l) => ({ type: 'text' as const, text: JSON.parse(l) as string })) };
  if (a.isError) r.isError = true;
  if (a._meta !== undefined) r._meta = a._meta;
  return r;
}
