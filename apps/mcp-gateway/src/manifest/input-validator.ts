import { Ajv, type ErrorObject } from 'ajv';

/**
 * Validates (and completes with `default`s) the arguments of one tool call. Returns undefined
 * when they fit the tool's input schema, else one line naming the bad fields.
 */
export type InputValidator = (args: Record<string, unknown>) => string | undefined;

/**
 * One Ajv per manifest load: every tool's input JSON schema is compiled once, at start-up, into
 * a validator function (no schema is built per call or per session). Semantics of the zod
 * validator it replaces: undeclared properties pass through, `default`s are applied; formats
 * are not checked (`format` is documentation only).
 */
export function createInputCompiler(): (schema: object) => InputValidator {
  const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: true, validateFormats: false });
  return (schema) => {
    const check = ajv.compile(schema);
    return (args) => (check(args) ? undefined : describe(check.errors ?? []));
  };
}

/** `id: required; limit: must be integer (+1 more)` — the field first, one line. */
function describe(errors: ErrorObject[]): string {
  const parts = errors.slice(0, 3).map((e) => {
    const at = e.instancePath.slice(1).replace(/\//g, '.');
    if (e.keyword === 'required') return `${at ? `${at}.` : ''}${(e.params as { missingProperty: string }).missingProperty}: required`;
    const allowed = e.keyword === 'enum' ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')})` : '';
    return `${at || '(arguments)'}: ${e.message ?? 'invalid'}${allowed}`;
  });
  const more = errors.length > 3 ? ` (+${errors.length - 3} more)` : '';
  return `${parts.join('; ')}${more}`.slice(0, 300);
}
