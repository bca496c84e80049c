import { GatewayError } from './errors';

/**
 * Upstream paths never leave the manifest's templates.
 *
 * Two independent checks, both before any request is sent:
 * 1. {@link encodePathValue}: an argument that is a dot segment in any spelling (`.`, `..`,
 *    `%2e`, `.%2E`, double-encoded forms, or such a segment behind a `/` or `\` once decoded)
 *    is refused; everything else is `encodeURIComponent`-encoded, so it stays inside one segment.
 * 2. {@link resolveUpstreamUrl}: after `new URL()` resolution (which collapses dot segments),
 *    the final path must be exactly the base path + the rendered path, and match the template
 *    with each placeholder standing for one non-dot segment piece; the origin must not change.
 */

/** A path argument or a resolved URL that would leave the manifest's path template (`E_PATH_INVALID`). */
export class PathError extends GatewayError {
  constructor(message: string) {
    super('E_PATH_INVALID', message);
  }
}

const DOT_SEGMENT = /^\.{1,2}$/;
const ENCODED_DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

function decodeOnce(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** True when `value`, raw or decoded up to 3 times, is (or contains behind `/` or `\`) a dot segment. */
export function isDotSegmentLike(value: string): boolean {
  let v = value;
  for (let i = 0; i < 4; i++) {
    if (ENCODED_DOT_SEGMENT.test(v)) return true;
    if (v.split(/[/\\]/).some((p) => DOT_SEGMENT.test(p) || ENCODED_DOT_SEGMENT.test(p))) return true;
    const d = decodeOnce(v);
    if (d === v) break;
    v = d;
  }
  return false;
}

/** Encodes one path argument; refuses empty values and dot segments (see module doc). */
export function encodePathValue(name: string, value: string): string {
  if (value === '') throw new PathError(`argument "${name}" is empty; it must name one resource`);
  if (isDotSegmentLike(value)) throw new PathError(`argument "${name}" is a relative path segment ("." / ".."), not an id`);
  return encodeURIComponent(value);
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Regex of the paths a template may produce under `basePath` (each placeholder = one segment piece). */
export function templatePathRegex(basePath: string, template: string): RegExp {
  const parts = template.split(/\{[a-zA-Z_][a-zA-Z0-9_.-]*\}/g).map(escapeRe);
  return new RegExp(`^${escapeRe(basePath)}${parts.join('([^/?#]+)')}$`);
}

/**
 * Resolves `base + path` (path already rendered with {@link encodePathValue}) and checks the
 * result: same origin as the base, path exactly `basePath + path` (nothing collapsed or
 * normalised), matching `template` when given, with no placeholder piece a dot segment.
 * Throws {@link PathError}; the request is then never sent.
 */
export function resolveUpstreamUrl(base: string, path: string, template?: string): URL {
  const baseUrl = new URL(base);
  const basePath = baseUrl.pathname.replace(/\/+$/, '');
  const url = new URL(base.replace(/\/+$/, '') + path);
  const expected = basePath + path;
  if (url.origin !== baseUrl.origin || url.pathname !== expected || url.search !== '' || url.hash !== '') {
    throw new PathError(`upstream path ${JSON.stringify(url.pathname)} is outside the declared template ${template ?? path}`);
  }
  if (template !== undefined) {
    const m = templatePathRegex(basePath, template).exec(url.pathname);
    if (!m || m.slice(1).some((piece) => isDotSegmentLike(piece))) {
      throw new PathError(`upstream path ${JSON.stringify(url.pathname)} does not match the declared template ${template}`);
    }
  }
  return url;
}
