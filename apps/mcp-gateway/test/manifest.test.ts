import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../src/errors';
import { loadManifest, parseManifest } from '../src/manifest/load';
import { defaultManifestPath } from '../src/config';

function issuesOf(text: string, source = 'test.yaml'): ManifestError {
  try {
    parseManifest(text, source);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    return err as ManifestError;
  }
  throw new Error('expected a ManifestError');
}

const TOOL = `  - name: get_job
    description: one job
    input: { type: object, required: [id], properties: { id: { type: string } } }
    request: { method: GET, path: "/jobs/{id}" }
    cache: { entity: job, operation: get, key: [id], tags: ["job:{id}"] }
`;

describe('manifest', () => {
  it('the bundled crm.yaml is valid: reads are cached, writes invalidate, webhooks map events', () => {
    const m = loadManifest(defaultManifestPath());
    expect(m.name).toBe('crm');
    const reads = m.tools.filter((t) => t.kind === 'read');
    const writes = m.tools.filter((t) => t.kind === 'write');
    expect(reads.length).toBeGreaterThanOrEqual(10);
    expect(writes.length).toBeGreaterThanOrEqual(8);
    for (const r of reads) expect(r.cache).toBeDefined();
    for (const w of writes) {
      expect(w.cache).toBeUndefined();
      expect(w.invalidates.length).toBeGreaterThan(0);
    }
    const getJob = m.tools.find((t) => t.name === 'get_job')!;
    expect(getJob.ttlMs).toBe(300_000);
    expect(getJob.graceMs).toBe(600_000);
    expect(getJob.pathParams).toEqual(['id']);
    expect(m.tools.find((t) => t.name === 'get_me')!.scope).toBe('caller');
    expect(Object.keys(m.webhooks!.events)).toContain('job.updated');
  });

  it('unknown fields, bad values and missing fields are reported with line and column', () => {
    const e = issuesOf(`version: 1
name: x
tools:
  - name: a
    description: d
    bogus: 1
    request: { method: GET, path: "/a" }
    cache: { entity: a, operation: get, ttl: 5 minutes }
  - name: b
    request: { method: FETCH, path: b }
`);
    const byPath = Object.fromEntries(e.issues.map((i) => [i.path, i]));
    expect(byPath['tools[0].bogus']).toMatchObject({ line: 6, column: 5 });
    expect(byPath['tools[0].cache.ttl']).toMatchObject({ line: 8 });
    expect(byPath['tools[0].cache.ttl']!.message).toContain('5 minutes');
    expect(byPath['tools[1].description']).toMatchObject({ line: 9 });
    expect(byPath['tools[1].description']!.message).toContain('missing');
    expect(byPath['tools[1].request.method']).toMatchObject({ line: 10 });
    expect(byPath['tools[1].request.path']).toMatchObject({ line: 10 });
    expect(e.code).toBe('E_MANIFEST_INVALID');
    expect(e.message).toContain('test.yaml:6:5 tools[0].bogus');
  });

  it('semantic errors point at the offending node', () => {
    const e = issuesOf(`version: 1
name: x
tools:
${TOOL}  - name: get_job
    description: duplicate
    request: { method: GET, path: "/jobs/{job_id}" }
  - name: write_job
    description: a write with a cache
    input: { type: object, properties: { id: { type: string } } }
    request: { method: POST, path: "/jobs/{id}" }
    cache: { entity: job, operation: get }
    invalidates:
      - tag: "job:{nope}"
  - name: cache_stats
    description: reserved
    request: { method: GET, path: /x }
webhooks:
  events:
    job.updated:
      invalidates:
        - tag: "job:{resourceId}"
`);
    const lines = e.issues.map((i) => `${i.line} ${i.path}: ${i.message}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^9 tools\[1\]\.name: duplicate tool name "get_job"/),
        expect.stringMatching(/^11 tools\[1\]\.request\.path: path placeholder \{job_id\}/),
        expect.stringMatching(/^15 tools\[2\]\.request\.path: path placeholder \{id\} must be listed in input\.required/),
        expect.stringMatching(/^16 tools\[2\]\.cache: POST is a write: writes are never cached/),
        expect.stringMatching(/^18 tools\[2\]\.invalidates\[0\]\.tag: placeholder \{nope\}/),
        expect.stringMatching(/^19 tools\[3\]\.name: "cache_stats" is reserved/),
        expect.stringMatching(/^26 webhooks\.events\.job\.updated\.invalidates\[0\]\.tag: placeholder \{resourceId\}/),
      ]),
    );
  });

  it('YAML syntax errors carry line numbers', () => {
    const e = issuesOf('version: 1\nname: x\ntools:\n  - name: a\n    description: [unclosed\n');
    expect(e.issues[0]!.path).toBe('(syntax)');
    expect(e.issues[0]!.line).toBeGreaterThanOrEqual(5);
  });

  it('JSON manifests work too, with line numbers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-manifest-'));
    const file = join(dir, 'm.json');
    writeFileSync(
      file,
      JSON.stringify({ version: 1, name: 'x', tools: [{ name: 'a', description: 'd', request: { method: 'GET', path: '/a', extra: true } }] }, null, 2),
    );
    try {
      loadManifest(file);
      expect.unreachable();
    } catch (err) {
      const i = (err as ManifestError).issues[0]!;
      expect(i.path).toBe('tools[0].request.extra');
      expect(i.line).toBe(11);
    }
    const ok = join(dir, 'ok.json');
    writeFileSync(ok, JSON.stringify({ version: 1, name: 'x', tools: [{ name: 'a', description: 'd', request: { method: 'GET', path: '/a' } }] }));
    expect(loadManifest(ok).tools[0]!.kind).toBe('read');
  });

  it('a missing file is a ManifestError, not a crash', () => {
    expect(() => loadManifest('/nonexistent/manifest.yaml')).toThrow(ManifestError);
  });

  it('input schemas are compiled once into validators that name the bad field', () => {
    const m = parseManifest(`version: 1\nname: x\ntools:\n${TOOL}`);
    expect(m.tools[0]!.validateInput({ id: 3 })).toMatch(/^id: must be string/);
    expect(m.tools[0]!.validateInput({})).toMatch(/^id: required/);
    expect(m.tools[0]!.validateInput({ id: 'job-1', extra: 1 })).toBeUndefined(); // undeclared arguments pass through
  });
});
