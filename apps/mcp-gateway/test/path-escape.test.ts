import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManifest } from '../src/manifest/load';
import { defaultManifestPath } from '../src/config';
import { renderPath } from '../src/tool-runner';
import { PathError, resolveUpstreamUrl, templatePathRegex } from '../src/upstream-path';
import { call, routeCount, startStack, type Stack } from './helpers';

const manifest = loadManifest(defaultManifestPath());
const pathTools = manifest.tools.filter((t) => t.pathParams.length > 0);

/** Pieces an attacker would combine: dots, separators, encoded forms, unicode, control characters. */
const piece = fc.oneof(
  fc.constantFrom('.', '..', '/', '\\', '%2e', '%2E', '%2f', '%2F', '%5c', '%252e', '%25', '?', '#', ';', '%00', '\u0000', '\n', '\t', '\u3002', '\uff0e', '\u2024', '\ud83d\ude00', ' ', '~', 'job-1', 'a'),
  fc.string({ maxLength: 4 }),
  fc.string({ unit: 'binary', maxLength: 3 }),
);
const id = fc.array(piece, { minLength: 1, maxLength: 6 }).map((ps) => ps.join(''));

describe('path escaping (property)', () => {
  for (const base of ['http://127.0.0.1:4010', 'http://127.0.0.1:4010/api/v1/']) {
    it(`random ids never produce an upstream path outside the declared templates (base ${base})`, () => {
      const basePath = new URL(base).pathname.replace(/\/+$/, '');
      fc.assert(
        fc.property(fc.constantFrom(...pathTools), id, (tool, value) => {
          const args = Object.fromEntries(tool.pathParams.map((p) => [p, value]));
          let url: URL;
          try {
            const path = renderPath(tool.request.path, args);
            if (path === undefined) return;
            url = resolveUpstreamUrl(base, path, tool.request.path);
          } catch (err) {
            expect(err).toBeInstanceOf(PathError);
            return;
          }
          // after URL resolution: same origin, the template under the base path, one segment per value
          expect(url.origin).toBe('http://127.0.0.1:4010');
          const m = templatePathRegex(basePath, tool.request.path).exec(url.pathname);
          expect(m, url.pathname).not.toBeNull();
          for (const seg of m!.slice(1)) {
            expect(seg).not.toMatch(/^(\.|%2e){1,2}$/i);
            expect(decodeURIComponent(seg)).toBe(value);
          }
          expect(url.search).toBe('');
        }),
        { numRuns: 3000, seed: 20261201 },
      );
    });
  }

  it('refuses dot segments in every spelling', () => {
    for (const v of ['.', '..', '%2e', '%2E%2e', '.%2e', '%252e%252e', '../x', 'x/..', '..\\x', '%2e%2e%2fjobs', '', '%2e%2e%5c']) {
      expect(() => renderPath('/jobs/{id}', { id: v }), v).toThrow(PathError);
    }
    expect(renderPath('/jobs/{id}', { id: 'a/b' })).toBe('/jobs/a%2Fb');
    expect(renderPath('/jobs/{id}', { id: '...' })).toBe('/jobs/...');
  });
});

describe('path escaping (end to end)', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('update_job / delete_attachment / list_contact_jobs with ".." are tool errors and never reach the upstream', async () => {
    const c = await s.connect();
    const before = s.upstream.stats().total;
    for (const [tool, args] of [
      ['update_job', { id: '..', title: 'x' }],
      ['update_job', { id: '.' }],
      ['update_job', { id: '%2e%2e' }],
      ['delete_attachment', { id: '..' }],
      ['list_contact_jobs', { id: '..' }],
      ['list_contact_jobs', { id: '.%2E' }],
      ['get_job', { id: '../contacts' }],
    ] as const) {
      const r = await call(c, tool, args);
      expect(r.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(r.text).toMatch(/relative path segment|empty/);
    }
    expect(s.upstream.stats().total).toBe(before);
    expect(routeCount(s.upstream, 'GET /jobs')).toBe(0);
    // an ordinary id still works, and one with a slash stays one segment
    expect((await call(c, 'get_job', { id: 'job-1' })).isError).toBe(false);
    const slash = await call(c, 'get_job', { id: 'job-1/x' });
    expect(slash.isError).toBe(true);
    expect(slash.text).toContain('404');
  });
});
