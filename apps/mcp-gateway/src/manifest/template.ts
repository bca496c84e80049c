const VAR_RE = /\{([a-zA-Z_][a-zA-Z0-9_.-]*)\}/g;

/** Names of the `{placeholders}` of a template, in order, without duplicates. */
export function templateVars(template: string): string[] {
  const out: string[] = [];
  for (const m of template.matchAll(VAR_RE)) if (m[1] && !out.includes(m[1])) out.push(m[1]);
  return out;
}

function lookup(vars: Record<string, unknown>, path: string): unknown {
  if (path in vars) return vars[path];
  let cur: unknown = vars;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * Replaces `{name}` / `{a.b}` with values from `vars`. Returns `undefined` when a placeholder
 * has no scalar value (the caller skips that target rather than invalidating a wrong key).
 * `encode` is applied to each value (e.g. `encodeURIComponent` for URL paths).
 */
export function renderTemplate(template: string, vars: Record<string, unknown>, encode: (s: string, name: string) => string = (s) => s): string | undefined {
  let missing = false;
  const out = template.replace(VAR_RE, (_all, name: string) => {
    const v = lookup(vars, name);
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return encode(String(v), name);
    missing = true;
    return '';
  });
  return missing ? undefined : out;
}
