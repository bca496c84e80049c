/**
 * Redis glob semantics (as in `SCAN MATCH` / `KEYS`): `*` any run of characters (including `:`),
 * `?` one character, `[abc]` a set, `[^abc]` a negated set, `[a-z]` a range, `\x` a literal `x`.
 */

const RE_SPECIAL = /[.*+?^${}()|[\]\\/-]/g;
const GLOB_SPECIAL = /[*?[\]\\]/g;

/** Escapes a string so it matches itself literally inside a Redis glob (user input → pattern). */
export function escapeGlob(text: string): string {
  return text.replace(GLOB_SPECIAL, '\\$&');
}

/** True if `glob` contains no unescaped glob metacharacter (it can only match one key). */
export function isLiteralGlob(glob: string): boolean {
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '*' || c === '?' || c === '[') return false;
  }
  return true;
}

/** Removes glob escapes from a literal glob (`a\*b` → `a*b`). */
export function unescapeGlob(glob: string): string {
  return glob.replace(/\\(.)/g, '$1');
}

/** Compiles a Redis glob to an anchored RegExp with the same matching rules. */
export function globToRegExp(glob: string): RegExp {
  let re = '^';
  const n = glob.length;
  for (let i = 0; i < n; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      while (glob[i + 1] === '*') i++;
      re += '[\\s\\S]*';
    } else if (c === '?') {
      re += '[\\s\\S]';
    } else if (c === '\\') {
      if (i + 1 < n) {
        i++;
        re += (glob[i] as string).replace(RE_SPECIAL, '\\$&');
      } else {
        re += '\\\\';
      }
    } else if (c === '[') {
      // Redis: a set runs until ']' or the end of the pattern.
      i++;
      let negate = false;
      if (glob[i] === '^') {
        negate = true;
        i++;
      }
      let set = '';
      while (i < n && glob[i] !== ']') {
        const ch = glob[i] as string;
        if (ch === '\\' && i + 1 < n) {
          i++;
          set += escapeSetChar(glob[i] as string);
        } else if (glob[i + 1] === '-' && i + 2 < n && glob[i + 2] !== ']') {
          let lo = ch;
          let hi = glob[i + 2] as string;
          if (lo > hi) [lo, hi] = [hi, lo];
          set += `${escapeSetChar(lo)}-${escapeSetChar(hi)}`;
          i += 2;
        } else {
          set += escapeSetChar(ch);
        }
        i++;
      }
      if (set === '') re += negate ? '[\\s\\S]' : '(?!)';
      else re += negate ? `[^${set}]` : `[${set}]`;
    } else {
      re += c.replace(RE_SPECIAL, '\\$&');
    }
  }
  return new RegExp(`${re}$`);
}

function escapeSetChar(ch: string): string {
  return ch === ']' || ch === '\\' || ch === '^' || ch === '-' || ch === '[' ? `\\${ch}` : ch;
}
