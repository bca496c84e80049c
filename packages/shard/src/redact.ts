const SECRET_PARAMS = /([?&](?:password|pass|pwd|auth|token|secret)=)[^&#]*/gi;

/**
 * Return `url` with its password (and password-like query parameters) replaced by `***`.
 * Works on malformed input too, so it is safe to put the result in an error message or a log:
 * `redis://user:s3cret@host:6379/0` -> `redis://user:***@host:6379/0`,
 * `redis://:s3cret@host` -> `redis://:***@host`.
 */
export function redactUrl(url: string): string {
  let out = url;
  const scheme = /^([a-z][a-z0-9+.-]*:\/\/)/i.exec(out);
  const start = scheme ? scheme[1]!.length : 0;
  // userinfo ends at the last '@' before the first '/', '?' or '#' after the authority start.
  const rest = out.slice(start);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    // `user:pass` -> `user:***`; a lone token (`redis://token@host`) may itself be a password.
    const redacted = colon === -1 ? (userinfo ? '***' : '') : `${userinfo.slice(0, colon)}:***`;
    out = out.slice(0, start) + redacted + out.slice(start + at);
  }
  return out.replace(SECRET_PARAMS, '$1***');
}
