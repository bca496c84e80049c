import { readFileSync } from 'node:fs';
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { ManifestError, type ManifestIssue } from '../errors';
import { manifestSchema, RESERVED_TOOL_NAMES, type InvalidationTarget, type Manifest, type ManifestTool } from './schema';
import { templateVars } from './template';
import { createInputCompiler, type InputValidator } from './input-validator';

export interface CompiledTool extends ManifestTool {
  kind: 'read' | 'write';
  /** Validator compiled once from `input` (Ajv): checks the MCP call arguments, applies defaults. */
  validateInput: InputValidator;
  /** Names of the `{placeholders}` of `request.path`. */
  pathParams: string[];
  /** Argument names that form the cache key (reads). */
  keyFields: string[];
  /** Effective TTL / grace / scope of a cached read (defaults applied). */
  ttlMs: number;
  graceMs: number;
  scope: 'shared' | 'caller';
}

export interface CompiledManifest extends Omit<Manifest, 'tools'> {
  tools: CompiledTool[];
  /** Where the manifest came from (file path or `<inline>`). */
  source: string;
}

type PathKey = string | number;

function pathToString(path: readonly PathKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s || '(root)';
}

/** Finds the line/column of the deepest node of `path` that exists in the document. */
function locate(doc: Document, lc: LineCounter, path: readonly PathKey[], key?: string): { line: number; column: number } {
  let node: unknown = doc.contents;
  for (let i = 0; i <= path.length; i++) {
    const next = i < path.length ? doc.getIn(path.slice(0, i + 1), true) : undefined;
    if (i < path.length && isNode(next)) {
      node = next;
      continue;
    }
    if (i === path.length && key !== undefined && isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === key);
      if (pair && isNode(pair.key)) node = pair.key;
    } else if (i < path.length && isMap(node)) {
      // the value is missing or null: point at its key if present
      const k = path[i];
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(k));
      if (pair && isNode(pair.key)) node = pair.key;
    }
    break;
  }
  const offset = isNode(node) && node.range ? node.range[0] : 0;
  const pos = lc.linePos(offset);
  return { line: pos.line, column: pos.col };
}

/**
 * Parses and validates a manifest (YAML or JSON text). Every problem is reported with the
 * line and column of the offending node; throws {@link ManifestError} (`E_MANIFEST_INVALID`).
 */
export function parseManifest(text: string, source = '<inline>'): CompiledManifest {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues: ManifestIssue[] = doc.errors.map((e) => {
      const pos = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
      return { path: '(syntax)', message: e.message.split('\n')[0] ?? e.message, line: pos.line, column: pos.col };
    });
    throw new ManifestError(source, issues);
  }
  const raw: unknown = doc.toJS();
  const issues: ManifestIssue[] = [];
  const report = (path: readonly PathKey[], message: string, key?: string): void => {
    const pos = locate(doc, lc, path, key);
    issues.push({ path: pathToString(key ? [...path, key] : path), message, ...pos });
  };

  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.filter((p): p is PathKey => typeof p !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) report(path, `unknown field "${k}"`, k);
      } else if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
        report(path, `required field is missing (${issue.message.replace(/^Invalid input: /, '')})`);
      } else {
        report(path, issue.message);
      }
    }
    throw new ManifestError(source, sortIssues(issues));
  }
  const m = parsed.data;
  const tools: CompiledTool[] = [];
  const compileInput = createInputCompiler();
  const seen = new Map<string, number>();

  m.tools.forEach((t, i) => {
    const at = (...p: PathKey[]): PathKey[] => ['tools', i, ...p];
    if (seen.has(t.name)) report(at('name'), `duplicate tool name "${t.name}" (first declared at tools[${seen.get(t.name)}])`);
    seen.set(t.name, i);
    if ((RESERVED_TOOL_NAMES as readonly string[]).includes(t.name)) report(at('name'), `"${t.name}" is reserved for the gateway's cache tools`);

    const props = Object.keys(t.input.properties ?? {});
    const required = new Set(t.input.required ?? []);
    const hasArg = (n: string): boolean => props.includes(n);
    for (const r of required) if (!hasArg(r)) report(at('input', 'required'), `required argument "${r}" is not declared in input.properties`);

    const pathParams = templateVars(t.request.path);
    for (const p of pathParams) {
      if (!hasArg(p)) report(at('request', 'path'), `path placeholder {${p}} is not an argument (declare it in input.properties)`);
      else if (!required.has(p)) report(at('request', 'path'), `path placeholder {${p}} must be listed in input.required`);
    }
    const qNames = t.request.query === undefined ? [] : Array.isArray(t.request.query) ? t.request.query : Object.values(t.request.query);
    for (const a of qNames) if (!hasArg(a)) report(at('request', 'query'), `query maps unknown argument "${a}"`);
    const b = t.request.body;
    const bNames = b === undefined || b === 'args' ? [] : Array.isArray(b) ? b : Object.values(b);
    for (const a of bNames) if (!hasArg(a)) report(at('request', 'body'), `body maps unknown argument "${a}"`);

    const kind = t.request.method === 'GET' ? 'read' : 'write';
    if (kind === 'write' && t.cache) report(at('cache'), `${t.request.method} is a write: writes are never cached (remove "cache", use "invalidates")`);
    if (kind === 'read' && t.invalidates.length > 0) report(at('invalidates'), 'a GET read cannot invalidate (only writes invalidate)');
    if (kind === 'read' && b !== undefined) report(at('request', 'body'), 'a GET read has no body (use "query")');

    const keyFields = t.cache?.key ?? props.slice().sort();
    t.cache?.key?.forEach((k, j) => {
      if (!hasArg(k)) report(at('cache', 'key', j), `key field "${k}" is not an argument`);
    });
    t.cache?.tags.forEach((tag, j) => {
      for (const v of templateVars(tag)) if (!hasArg(v)) report(at('cache', 'tags', j), `tag placeholder {${v}} is not an argument`);
    });
    t.invalidates.forEach((target, j) => checkTargetTemplates(target, (v) => hasArg(v) || v.startsWith('result.'), at('invalidates', j), report, 'an argument or result.<field>'));

    let validateInput: InputValidator = () => undefined;
    try {
      validateInput = compileInput(t.input);
    } catch (err) {
      report(at('input'), `input is not a usable JSON schema: ${(err as Error).message}`);
    }
    tools.push({
      ...t,
      kind,
      validateInput,
      pathParams,
      keyFields,
      ttlMs: t.cache?.ttl ?? m.defaults.ttl,
      graceMs: t.cache?.grace ?? m.defaults.grace,
      scope: t.cache?.scope ?? m.defaults.scope,
    });
  });

  if (m.webhooks) {
    for (const [event, rule] of Object.entries(m.webhooks.events)) {
      rule.invalidates.forEach((target, j) =>
        checkTargetTemplates(
          target,
          (v) => ['resource_id', 'resource_type', 'event'].includes(v) || v.startsWith('data.'),
          ['webhooks', 'events', event, 'invalidates', j],
          report,
          'resource_id, resource_type, event or data.<field>',
        ),
      );
    }
  }

  if (issues.length > 0) throw new ManifestError(source, sortIssues(issues));
  return { ...m, tools, source };
}

function checkTargetTemplates(
  target: InvalidationTarget,
  known: (v: string) => boolean,
  path: PathKey[],
  report: (path: readonly PathKey[], message: string) => void,
  expected: string,
): void {
  const fields: [string, string | undefined][] =
    'tag' in target ? [['tag', target.tag]] : [['entity', target.entity], ['operation', target.operation]];
  for (const [field, value] of fields) {
    if (value === undefined) continue;
    for (const v of templateVars(value)) if (!known(v)) report([...path, field], `placeholder {${v}} is not ${expected}`);
  }
}

function sortIssues(issues: ManifestIssue[]): ManifestIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Reads and validates a manifest file (`.yaml`, `.yml` or `.json`). */
export function loadManifest(file: string): CompiledManifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ManifestError(file, [{ path: '(file)', message: `cannot read manifest: ${(err as Error).message}`, line: 0, column: 0 }]);
  }
  return parseManifest(text, file);
}
