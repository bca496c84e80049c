import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** Where the build put the page's script (chart library bundled in): `dist/dashboard/app.js`. */
function assetCandidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, 'dashboard', 'app.js'), join(here, '..', '..', 'dist', 'dashboard', 'app.js')];
}

let cached: string | undefined;
function appScript(): string {
  if (cached !== undefined) return cached;
  const file = assetCandidates().find((f) => existsSync(f));
  if (!file) throw new Error('stratacache dashboard asset missing: build @stratacache/fastify (pnpm build) first');
  cached = readFileSync(file, 'utf8');
  return cached;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function dashboardHtml(prefix: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>stratacache dashboard</title>
<link rel="icon" href="data:,">
</head>
<body data-prefix="${esc(prefix)}">
<div id="app"><noscript>The dashboard needs JavaScript.</noscript></div>
<script src="${esc(prefix)}/dashboard/app.js"></script>
</body>
</html>`;
}

/** `GET <prefix>/dashboard` (the page shell, public: it holds no data) and its script. */
export function registerDashboard(app: FastifyInstance, prefix: string): void {
  const pub = { strataRole: false as const };
  app.get(`${prefix}/dashboard`, { config: pub, schema: { tags: ['dashboard'], summary: 'The dashboard page (HTML; data from /dashboard/data with a token)' } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(dashboardHtml(prefix)),
  );
  app.get(`${prefix}/dashboard/app.js`, { config: pub, schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(appScript()),
  );
}
