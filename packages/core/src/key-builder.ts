import { createHash } from 'node:crypto';
import { CacheOptionsError, StratacacheError } from './errors';

/**
 * Builds hierarchical cache keys `{prefix}:{entity}:{operation}:{identifier}`.
 *
 * - Every part that comes from the caller is escaped percent-style (`*` -> `%2A`, `:` -> `%3A`, …),
 *   so a built key never contains a raw glob character (`* ? [ ] \`), a raw separator inside a
 *   part, or a Redis Cluster hash tag (`{ }`): user input can never widen an invalidation pattern,
 *   and a key is its own exact glob.
 * - Identifiers built from a params object are normalised: key order does not matter, the
 *   defaults registered for `entity:operation` are filled in (`all:all:0:100`).
 * - Identifiers longer than `maxIdentifierLength` are replaced by a readable head plus a stable
 *   SHA-256 hash (`~h` + 22 base64url chars, 128 bits), identical in every process.
 */
export interface KeyBuilderOptions {
  /** Namespace of every key, e.g. `'crm'` or `'app:v2'`. May contain `:`; must not contain glob characters. */
  prefix: string;
  /** Only `':'` is supported (kept as an option for clarity). */
  separator?: ':';
  /** Identifiers longer than this are hashed (a readable head is kept). Default 128; `Infinity` disables. Minimum 32. */
  maxIdentifierLength?: number;
  /**
   * Parameter defaults per `entity:operation`, in positional order, e.g.
   * `{ 'jobs:list': { status: 'all', type: 'all', offset: 0, limit: 100 } }`.
   */
  defaults?: Record<string, Record<string, unknown>>;
}

export interface ParsedKey {
  prefix: string;
  entity: string;
  operation: string;
  /** The identifier with escapes reversed (for a string identifier: exactly the string given to `build`). */
  identifier: string;
  /** The identifier exactly as it appears in the key. */
  rawIdentifier: string;
  /** True when the identifier was too long and was replaced by head + hash. */
  hashed: boolean;
}

export type KeyIdentifier = string | number | bigint | boolean | Record<string, unknown> | unknown[];

/** Invalid key part (empty or non-string entity/operation, unsupported identifier value, …). Code `E_CACHE_KEY`. */
export class KeyError extends StratacacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_CACHE_KEY', message, options);
  }
}

/** See {@link KeyBuilder.namespaceKey}. `entity` / `operation` are escaped as they appear in keys. */
export interface NamespaceKey {
  entity: string;
  operation: string | undefined;
  /** `{prefix}:{entity}:` or `{prefix}:{entity}:{operation}:` — every full key of the namespace starts with it. */
  keyPrefix: string;
  /** True when a full key (with prefix) belongs to the namespace. */
  matches(fullKey: string): boolean;
}

const SEP = ':';
const HASH_MARK = '~h';
const HASH_CHARS = 22;
const MIN_IDENTIFIER_LENGTH = 32;

/**
 * Characters escaped in every part: `%` (the escape itself), `:` (separator), glob characters
 * `* ? [ ] \`, Redis Cluster hash-tag braces `{ }`, the characters the identifier grammar uses
 * (`= , ( ) ~`), ASCII control characters and DEL. Lone UTF-16 surrogates become `%uXXXX` (they
 * would otherwise all encode to the same UTF-8 bytes in Redis).
 */
// eslint-disable-next-line no-control-regex
const ESCAPE_RE = /[%:*?[\]\\{}=,()~\u0000-\u001f\u007f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const UNESCAPE_RE = /%(?:u([0-9A-F]{4})|([0-9A-F]{2}))/g;
const GLOB_CHARS_RE = /[*?[\]\\]/;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  if (code >= 0xd800 && code <= 0xdfff) return `%u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Reverses {@link KeyBuilder.escape}. Never throws; sequences it did not produce are left as they are. */
export function unescapeKeyPart(part: string): string {
  return part.replace(UNESCAPE_RE, (_m, u: string | undefined, h: string | undefined) =>
    String.fromCharCode(parseInt((u ?? h) as string, 16)),
  );
}

// eslint-disable-next-line no-control-regex
const MAY_NEED_ESCAPE_RE = /[%:*?[\]\\{}=,()~\u0000-\u001f\u007f\uD800-\uDFFF]/;

/** Escapes a key part (see {@link KeyBuilder.escape}). */
export function escapeKeyPart(part: string): string {
  // fast path: most parts (ids, enum values, words) need no escaping at all
  return MAY_NEED_ESCAPE_RE.test(part) ? part.replace(ESCAPE_RE, escapeChar) : part;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v).constructor?.name ?? 'object';
  return typeof v;
}

export class KeyBuilder {
  readonly prefix: string;
  readonly maxIdentifierLength: number;
  private readonly defaults: ReadonlyMap<string, { readonly keys: readonly string[]; readonly values: Readonly<Record<string, unknown>> }>;

  constructor(opts: KeyBuilderOptions) {
    if (opts === null || typeof opts !== 'object') throw new CacheOptionsError('KeyBuilder options must be an object with a prefix');
    const { prefix, separator = SEP, maxIdentifierLength = 128, defaults = {} } = opts;
    if (typeof prefix !== 'string' || prefix.length === 0) {
      throw new CacheOptionsError(`prefix must be a non-empty string, got ${typeof prefix === 'string' ? '""' : describe(prefix)}`);
    }
    if (GLOB_CHARS_RE.test(prefix)) {
      throw new CacheOptionsError(`prefix must not contain glob characters (* ? [ ] \\), got ${JSON.stringify(prefix)}`);
    }
    if (prefix.startsWith(SEP) || prefix.endsWith(SEP)) {
      throw new CacheOptionsError(`prefix must not start or end with ':' (the separator is added), got ${JSON.stringify(prefix)}`);
    }
    if (separator !== SEP) throw new CacheOptionsError(`separator: only ':' is supported, got ${JSON.stringify(separator)}`);
    if (
      typeof maxIdentifierLength !== 'number' ||
      !(maxIdentifierLength === Infinity || Number.isInteger(maxIdentifierLength)) ||
      maxIdentifierLength < MIN_IDENTIFIER_LENGTH
    ) {
      throw new CacheOptionsError(
        `maxIdentifierLength must be an integer >= ${MIN_IDENTIFIER_LENGTH} (or Infinity), got ${String(maxIdentifierLength)}`,
      );
    }
    if (!isPlainObject(defaults)) throw new CacheOptionsError('defaults must be an object keyed by "entity:operation"');
    const map = new Map<string, { keys: string[]; values: Readonly<Record<string, unknown>> }>();
    for (const [ns, d] of Object.entries(defaults)) {
      if (!isPlainObject(d)) throw new CacheOptionsError(`defaults[${JSON.stringify(ns)}] must be an object of parameter defaults`);
      if (!/^[^:]+:[^:]+$/.test(ns)) {
        throw new CacheOptionsError(`defaults key must be "entity:operation", got ${JSON.stringify(ns)}`);
      }
      map.set(ns, { keys: Object.keys(d), values: Object.freeze({ ...d }) });
    }
    this.prefix = prefix;
    this.maxIdentifierLength = maxIdentifierLength;
    this.defaults = map;
  }

  /** `{prefix}:{entity}:{operation}:{identifier}`. With no identifier the identifier part is built from the defaults (or is empty). */
  build(entity: string, operation: string, identifier?: KeyIdentifier): string {
    const e = this.part(entity, 'entity');
    const o = this.part(operation, 'operation');
    const id = this.identifier(identifier ?? {}, entity, operation);
    return `${this.prefix}${SEP}${e}${SEP}${o}${SEP}${id}`;
  }

  /**
   * The normalised identifier part (already escaped; hashed when too long):
   * - string: escaped as is; number / bigint / boolean: `String(value)` (so `1` and `'1'` give the same key).
   * - params object: first the keys that have defaults for `entity:operation`, positionally in the
   *   order the defaults were declared (`all:all:0:100`), then every other key sorted, as `key=value`,
   *   all joined by `:`. `undefined` means "not given" (the default applies, or the key is dropped);
   *   `null` is kept as the token `~n`.
   * - top-level array: positional values joined by `:`.
   * - nested values: arrays `(a,b)`, plain objects `(k=v,k2=v2)` with sorted keys (`(=)` when empty),
   *   Map like an object, Set sorted, Date as ISO string, bytes as `~x` + hex, `undefined` in an array `~u`.
   */
  identifier(params: KeyIdentifier | undefined, entity?: string, operation?: string): string {
    let raw: string;
    if (isParamsObject(params)) {
      const obj: Record<string, unknown> =
        params instanceof Map ? Object.fromEntries([...params].map(([k, v]) => [String(k), v])) : (params ?? {});
      const defaults = entity !== undefined && operation !== undefined ? this.defaults.get(`${entity}${SEP}${operation}`) : undefined;
      const stack: object[] = [obj];
      raw = '';
      let first = true;
      if (defaults) {
        for (const k of defaults.keys) {
          const v = obj[k] !== undefined ? obj[k] : defaults.values[k];
          raw += (first ? '' : SEP) + (v === undefined ? '' : this.token(v, stack));
          first = false;
        }
      }
      const extra: string[] = [];
      for (const k of Object.keys(obj)) {
        if (obj[k] !== undefined && !(defaults !== undefined && Object.hasOwn(defaults.values, k))) extra.push(k);
      }
      if (extra.length > 1) extra.sort();
      for (const k of extra) {
        raw += `${first ? '' : SEP}${escapeKeyPart(k)}=${this.token(obj[k], stack)}`;
        first = false;
      }
    } else if (Array.isArray(params)) {
      const stack: object[] = [params];
      raw = params.map((v) => this.token(v, stack)).join(SEP);
    } else {
      raw = this.token(params, []);
    }
    return this.shorten(raw);
  }

  /**
   * A glob (Redis `SCAN MATCH` / `KEYS` semantics) for a namespace. Parts are escaped, so `'*'`
   * only appears where intended:
   * - `pattern()` -> `{prefix}:*`; `pattern('jobs')` -> `{prefix}:jobs:*`
   * - `pattern('jobs', 'list')` -> `{prefix}:jobs:list:*`
   * - `pattern(undefined, 'list')` -> `{prefix}:*:list:*`
   * - `pattern('jobs', 'list', 'open:*')` -> `{prefix}:jobs:list:open:*`. `identifierGlob` is used
   *   verbatim: build any user-supplied piece of it with {@link KeyBuilder.escape}.
   */
  pattern(entity?: string, operation?: string, identifierGlob?: string): string {
    if (identifierGlob !== undefined && typeof identifierGlob !== 'string') {
      throw new KeyError(`identifierGlob must be a string, got ${describe(identifierGlob)}`);
    }
    if (entity === undefined && operation === undefined && identifierGlob === undefined) return `${this.prefix}${SEP}*`;
    const e = entity === undefined ? '*' : this.part(entity, 'entity');
    if (operation === undefined && identifierGlob === undefined) return `${this.prefix}${SEP}${e}${SEP}*`;
    const o = operation === undefined ? '*' : this.part(operation, 'operation');
    return `${this.prefix}${SEP}${e}${SEP}${o}${SEP}${identifierGlob ?? '*'}`;
  }

  /**
   * Escapes a part percent-style so it contains no separator, glob character (`* ? [ ] \`),
   * hash-tag brace, identifier-grammar character (`= , ( ) ~`), control character or lone surrogate.
   * Reversible with {@link unescapeKeyPart}; {@link KeyBuilder.parse} reverses it.
   */
  escape(part: string): string {
    if (typeof part !== 'string') throw new KeyError(`escape() expects a string, got ${describe(part)}`);
    return escapeKeyPart(part);
  }

  /** `{prefix}:{entity}` or `{prefix}:{entity}:{operation}` (escaped). */
  namespace(entity: string, operation?: string): string {
    const e = this.part(entity, 'entity');
    if (operation === undefined) return `${this.prefix}${SEP}${e}`;
    return `${this.prefix}${SEP}${e}${SEP}${this.part(operation, 'operation')}`;
  }

  /**
   * The one namespace function: the escaped parts of a namespace, the prefix every full key of it
   * starts with (`{prefix}:{entity}:` or `{prefix}:{entity}:{operation}:`) and a matcher of full keys.
   * CacheService builds its namespace barriers from it and TieredCache matches L1 keys with it, so a
   * name that needs escaping (`a:b`, `a*b`, `team{1}`) means the same namespace in every layer.
   * Takes the readable (unescaped) names, as given to `build` and `invalidateNamespace`.
   */
  namespaceKey(entity: string, operation?: string): NamespaceKey {
    const e = this.part(entity, 'entity');
    const o = operation === undefined ? undefined : this.part(operation, 'operation');
    const keyPrefix = o === undefined ? `${this.prefix}${SEP}${e}${SEP}` : `${this.prefix}${SEP}${e}${SEP}${o}${SEP}`;
    return { entity: e, operation: o, keyPrefix, matches: (fullKey: string) => fullKey.startsWith(keyPrefix) };
  }

  /** Splits a key built by this builder. Returns `undefined` (never throws) for keys of another prefix or shape. */
  parse(key: string): ParsedKey | undefined {
    if (typeof key !== 'string') return undefined;
    const head = this.prefix + SEP;
    if (!key.startsWith(head)) return undefined;
    const rest = key.slice(head.length);
    const i = rest.indexOf(SEP);
    if (i <= 0) return undefined;
    const j = rest.indexOf(SEP, i + 1);
    if (j <= i + 1) return undefined;
    const rawIdentifier = rest.slice(j + 1);
    return {
      prefix: this.prefix,
      entity: unescapeKeyPart(rest.slice(0, i)),
      operation: unescapeKeyPart(rest.slice(i + 1, j)),
      identifier: unescapeKeyPart(rawIdentifier),
      rawIdentifier,
      hashed: isHashed(rawIdentifier),
    };
  }

  private part(value: unknown, name: 'entity' | 'operation'): string {
    if (typeof value !== 'string') throw new KeyError(`${name} must be a non-empty string, got ${describe(value)}`);
    if (value.length === 0) throw new KeyError(`${name} must be a non-empty string, got ""`);
    return escapeKeyPart(value);
  }

  /** One value as an identifier token. `stack` holds the objects being serialised (cycle detection). */
  private token(v: unknown, stack: object[]): string {
    switch (typeof v) {
      case 'string':
        return escapeKeyPart(v);
      case 'number':
        return Object.is(v, -0) ? '0' : String(v);
      case 'bigint':
      case 'boolean':
        return String(v);
      case 'undefined':
        return '~u';
      case 'object':
        break;
      default:
        throw new KeyError(`a ${typeof v} cannot be part of a cache key identifier`);
    }
    if (v === null) return '~n';
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? '~d' : escapeKeyPart(v.toISOString());
    if (v instanceof Uint8Array) return `~x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
    if (stack.includes(v)) throw new KeyError('a circular structure cannot be part of a cache key identifier');
    stack.push(v);
    try {
      if (Array.isArray(v)) return `(${v.map((x) => this.token(x, stack)).join(',')})`;
      if (v instanceof Set) return `(${[...v].map((x) => this.token(x, stack)).sort().join(',')})`;
      const parts: string[] = [];
      if (v instanceof Map) {
        for (const [k, x] of v) if (x !== undefined) parts.push(`${this.token(k, stack)}=${this.token(x, stack)}`);
      } else {
        for (const k of Object.keys(v)) {
          const x = (v as Record<string, unknown>)[k];
          if (x !== undefined) parts.push(`${escapeKeyPart(k)}=${this.token(x, stack)}`);
        }
      }
      return parts.length === 0 ? '(=)' : `(${parts.sort().join(',')})`;
    } finally {
      stack.pop();
    }
  }

  private shorten(id: string): string {
    if (id.length <= this.maxIdentifierLength) return id;
    const hash = createHash('sha256').update(id, 'utf8').digest('base64url').slice(0, HASH_CHARS);
    let head = id.slice(0, this.maxIdentifierLength - HASH_CHARS - HASH_MARK.length);
    // never cut an escape sequence (or a surrogate pair) in half
    const pct = head.lastIndexOf('%');
    if (pct !== -1 && pct >= head.length - 5) {
      const m = /^%(?:u[0-9A-F]{4}|[0-9A-F]{2})/.exec(id.slice(pct));
      if (m && pct + m[0].length > head.length) head = head.slice(0, pct);
    }
    const last = head.charCodeAt(head.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) head = head.slice(0, -1);
    return `${head}${HASH_MARK}${hash}`;
  }
}

/** undefined, a plain object, a class instance or a Map: a params bag (not an array, Date, Set or bytes). */
function isParamsObject(v: unknown): v is Record<string, unknown> | Map<unknown, unknown> | undefined {
  if (v === undefined) return true;
  if (v === null || typeof v !== 'object') return false;
  return !(Array.isArray(v) || v instanceof Date || v instanceof Set || v instanceof Uint8Array);
}

function isHashed(rawIdentifier: string): boolean {
  const at = rawIdentifier.length - HASH_CHARS - HASH_MARK.length;
  return at >= 0 && rawIdentifier.startsWith(HASH_MARK, at) && /^[A-Za-z0-9_-]+$/.test(rawIdentifier.slice(at + HASH_MARK.length));
}

/**
 * Redis glob semantics (`KEYS` / `SCAN MATCH` / `PSUBSCRIBE`): `*` any run (including `:`),
 * `?` one character, `[abc]` / `[^abc]` / `[a-z]` classes, `\x` a literal `x`. Case-sensitive.
 * Linear-time backtracking (one restart point), so hostile patterns cannot blow up.
 * Useful for an in-process store's `deleteMatching`, and used by `TtlPolicy`.
 */
export function globMatch(pattern: string, subject: string): boolean {
  let p = 0;
  let s = 0;
  let starP = -1;
  let starS = 0;
  const pl = pattern.length;
  const sl = subject.length;
  while (s < sl) {
    if (p < pl) {
      const c = pattern[p];
      if (c === '*') {
        while (p < pl && pattern[p] === '*') p++;
        if (p === pl) return true;
        starP = p;
        starS = s;
        continue;
      }
      const step = matchOne(pattern, p, subject[s] as string);
      if (step > 0) {
        p += step;
        s++;
        continue;
      }
    }
    if (starP === -1) return false;
    p = starP;
    s = ++starS;
  }
  while (p < pl && pattern[p] === '*') p++;
  return p === pl;
}

/** Matches one pattern token at `p` against `ch`: returns the token length, or 0 when it does not match. */
function matchOne(pattern: string, p: number, ch: string): number {
  const c = pattern[p] as string;
  if (c === '?') return 1;
  if (c === '\\' && p + 1 < pattern.length) return pattern[p + 1] === ch ? 2 : 0;
  if (c !== '[') return c === ch ? 1 : 0;
  // character class
  let i = p + 1;
  const negate = pattern[i] === '^';
  if (negate) i++;
  let matched = false;
  while (i < pattern.length && pattern[i] !== ']') {
    if (pattern[i] === '\\' && i + 1 < pattern.length) {
      if (pattern[i + 1] === ch) matched = true;
      i += 2;
    } else if (i + 2 < pattern.length && pattern[i + 1] === '-') {
      let lo = pattern.charCodeAt(i);
      let hi = pattern.charCodeAt(i + 2);
      if (lo > hi) [lo, hi] = [hi, lo];
      const code = ch.charCodeAt(0);
      if (code >= lo && code <= hi) matched = true;
      i += 3;
    } else {
      if (pattern[i] === ch) matched = true;
      i++;
    }
  }
  // an unterminated class runs to the end of the pattern (as in Redis)
  const len = (i < pattern.length ? i + 1 : i) - p;
  return matched !== negate ? len : 0;
}

/** The literal characters before the first glob metacharacter (used to rank patterns by specificity). */
export function globLiteralPrefix(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' || c === '?' || c === '[') break;
    if (c === '\\' && i + 1 < pattern.length) {
      out += pattern[++i];
      continue;
    }
    out += c;
  }
  return out;
}
