import { createHash, timingSafeEqual } from 'node:crypto';

export type AdminRole = 'read' | 'admin';

/** A bearer token and its role. `admin` implies `read`. */
export interface AdminToken {
  token: string;
  role: AdminRole;
  /** Shown in logs and acknowledgements instead of the token (default `read-1`, `admin-1`, …). */
  name?: string;
}

export const MIN_TOKEN_LENGTH = 16;

interface Entry {
  digest: Buffer;
  role: AdminRole;
  name: string;
}

/**
 * Bearer-token table. Tokens are kept as SHA-256 digests and compared with `timingSafeEqual`
 * against every entry (no early exit), so neither the content nor the position of a token leaks
 * through timing.
 */
export class TokenTable {
  private readonly entries: Entry[];

  constructor(tokens: readonly AdminToken[]) {
    const counts: Record<AdminRole, number> = { read: 0, admin: 0 };
    this.entries = tokens.map((t, i) => {
      if (typeof t?.token !== 'string' || t.token.length < MIN_TOKEN_LENGTH) {
        throw new TypeError(`stratacache admin: tokens[${i}] must be a string of at least ${MIN_TOKEN_LENGTH} characters`);
      }
      if (t.role !== 'read' && t.role !== 'admin') throw new TypeError(`stratacache admin: tokens[${i}].role must be 'read' or 'admin'`);
      return { digest: digest(t.token), role: t.role, name: t.name ?? `${t.role}-${++counts[t.role]}` };
    });
  }

  get size(): number {
    return this.entries.length;
  }

  /** The entry of a presented token, or undefined. Constant time in the token's content. */
  match(presented: string): { role: AdminRole; name: string } | undefined {
    const d = digest(presented);
    let found: Entry | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, d) && found === undefined) found = e;
    return found ? { role: found.role, name: found.name } : undefined;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearer(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/** `'read:tok1,admin:tok2'` (env form) → tokens. */
export function parseTokens(spec: string): AdminToken[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s, i) => {
      const at = s.indexOf(':');
      const role = s.slice(0, at);
      if (at < 0 || (role !== 'read' && role !== 'admin')) throw new TypeError(`token #${i + 1}: expected 'read:<token>' or 'admin:<token>'`);
      return { role, token: s.slice(at + 1) };
    });
}

/** Header paths pino must redact: the bearer token never reaches the logs. */
export const REDACT_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization', 'token', 'tokens'];
