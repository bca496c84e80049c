#!/usr/bin/env node
// Checks every publishable package of the workspace (a package.json under packages/* without
// "private": true) for what a published tarball needs, and prints the exact fix for each problem.
// Runs in `turbo run lint` (through tooling/release-test) and so in scripts/test.sh.
//
//   node scripts/check-packages.mjs          check, exit 1 on any problem
//   node scripts/check-packages.mjs --fix    also apply the mechanical fixes (fields, LICENSE copy,
//                                            CHANGELOG.md stub, lint script), then check again
//
// The rules (see CONTRIBUTING.md, "Adding a publishable package"):
// - name @stratacache/*, license MIT, a LICENSE file identical to the root LICENSE, README.md with an
//   `npm install <name>` line and a link to CHANGELOG.md, a CHANGELOG.md (changesets appends to it);
// - "files": exactly dist, README.md, CHANGELOG.md, LICENSE (dist/ only: no src, tests or benches);
// - "type": "module", main/module/types, and publishConfig.exports where every entry has
//   import {types, default} and require {types, default} (ESM + CJS + types);
// - "sideEffects", engines.node, repository (with directory), homepage, bugs, keywords,
//   publishConfig.access public;
// - the lint script runs publint, attw (scripts/attw.mjs) and eslint;
// - dependencies: nothing dev-only (test/build tools, @types/*, private workspace packages), every
//   dependency imported somewhere in src/, and ioredis only as a peerDependency (one client instance
//   shared with the application), with ioredis also in devDependencies for the package's own tests.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fix = process.argv.includes('--fix');
const REPO_URL = 'git+https://github.com/stratacache/stratacache.git';
const HOMEPAGE = 'https://github.com/stratacache/stratacache';
const BUGS = 'https://github.com/stratacache/stratacache/issues';
const FILES = ['dist', 'README.md', 'CHANGELOG.md', 'LICENSE'];
const LINT = 'publint --pack pnpm && node ../../scripts/attw.mjs && eslint --max-warnings 0 .';
const DEV_ONLY = /^(vitest|vite|tsup|tsx|typescript|eslint|typescript-eslint|@eslint\/.*|publint|@arethetypeswrong\/.*|@changesets\/.*|turbo|fast-check|verdaccio|@types\/.*|@vitest\/.*|esbuild)$/;
const PEER_ONLY = ['ioredis'];

const rootLicense = fs.readFileSync(path.join(root, 'LICENSE'), 'utf8');
const changesetDir = path.join(root, '.changeset');
const pendingChangesets = fs.existsSync(changesetDir)
  ? fs.readdirSync(changesetDir).filter((f) => f.endsWith('.md') && f !== 'README.md').map((f) => fs.readFileSync(path.join(changesetDir, f), 'utf8').split('---')[1] ?? '')
  : [];

/** Every workspace package.json (for the private ones' names). */
function workspacePackages() {
  const out = [];
  for (const group of ['packages', 'apps', 'tooling']) {
    const dir = path.join(root, group);
    if (!fs.existsSync(dir)) continue;
    for (const d of fs.readdirSync(dir)) {
      const file = path.join(dir, d, 'package.json');
      if (fs.existsSync(file)) out.push({ dir: path.join(dir, d), rel: `${group}/${d}`, pkg: JSON.parse(fs.readFileSync(file, 'utf8')) });
    }
  }
  return out;
}

export function publishablePackages() {
  return workspacePackages().filter((p) => p.rel.startsWith('packages/') && !p.pkg.private);
}

function srcText(dir) {
  let text = '';
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (/\.(c|m)?tsx?$/.test(e.name)) text += fs.readFileSync(f, 'utf8') + '\n';
    }
  };
  if (fs.existsSync(path.join(dir, 'src'))) walk(path.join(dir, 'src'));
  return text;
}

function applyFixes({ dir, rel, pkg }) {
  const short = path.basename(dir);
  pkg.license = 'MIT';
  pkg.files = FILES;
  pkg.repository = { type: 'git', url: REPO_URL, directory: rel };
  pkg.homepage = `${HOMEPAGE}/tree/main/${rel}#readme`;
  pkg.bugs = { url: BUGS };
  if (!Array.isArray(pkg.keywords) || pkg.keywords.length === 0) pkg.keywords = ['stratacache', 'cache', short];
  if (!pkg.keywords.includes('stratacache')) pkg.keywords.unshift('stratacache');
  if (pkg.sideEffects === undefined) pkg.sideEffects = false;
  pkg.engines = { node: '>=20.11', ...(pkg.engines ?? {}) };
  pkg.publishConfig = { access: 'public', ...(pkg.publishConfig ?? {}) };
  pkg.scripts = { ...(pkg.scripts ?? {}), lint: LINT };
  const src = srcText(dir);
  for (const dep of PEER_ONLY) {
    const range = pkg.dependencies?.[dep];
    if (range) {
      delete pkg.dependencies[dep];
      // a peer only where src/ imports it; the package's tests keep it as a devDependency
      if (src.includes(`'${dep}'`)) pkg.peerDependencies = { ...(pkg.peerDependencies ?? {}), [dep]: '^5.4.0' };
      pkg.devDependencies = { ...(pkg.devDependencies ?? {}), [dep]: range };
    }
  }
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'LICENSE'), rootLicense);
  const changelog = path.join(dir, 'CHANGELOG.md');
  if (!fs.existsSync(changelog)) fs.writeFileSync(changelog, `# ${pkg.name}\n`);
}

function check({ dir, rel, pkg }, privateNames) {
  const problems = [];
  const bad = (what, howToFix) => problems.push(`  - ${what}\n      fix: ${howToFix}`);
  const pj = `${rel}/package.json`;
  const byFix = `run \`node scripts/check-packages.mjs --fix\` (or edit ${pj})`;

  if (!/^@stratacache\/[a-z0-9-]+$/.test(pkg.name ?? '')) bad(`name "${pkg.name}" is not @stratacache/<name>`, `set "name" in ${pj}`);
  if (!/^\d+\.\d+\.\d+/.test(pkg.version ?? '')) bad('no semver "version"', `set "version": "0.0.0" in ${pj} and add a changeset (pnpm changeset)`);
  if (pkg.version === '0.0.0' && !pendingChangesets.some((c) => c.includes(`"${pkg.name}"`) || c.includes(`'${pkg.name}'`)))
    bad('version 0.0.0 and no pending changeset names it (it would be published as 0.0.0)', `pnpm changeset  (pick ${pkg.name}, minor: its first release becomes 0.1.0)`);
  if (!pkg.description) bad('no "description"', `add a one-line "description" to ${pj}`);
  if (pkg.license !== 'MIT') bad(`"license" is ${JSON.stringify(pkg.license)}, not "MIT"`, byFix);
  const lic = path.join(dir, 'LICENSE');
  if (!fs.existsSync(lic) || fs.readFileSync(lic, 'utf8') !== rootLicense) bad('LICENSE missing or not the root LICENSE', `cp LICENSE ${rel}/LICENSE`);
  const readme = path.join(dir, 'README.md');
  if (!fs.existsSync(readme)) bad('no README.md', `write ${rel}/README.md (install line, smallest example, changelog link)`);
  else {
    const text = fs.readFileSync(readme, 'utf8');
    if (!text.includes(`npm install ${pkg.name}`)) bad(`README.md has no install line`, `add \`npm install ${pkg.name}\` to ${rel}/README.md`);
    if (!text.includes('CHANGELOG.md')) bad('README.md does not link the changelog', `add "[Changelog](./CHANGELOG.md)" to ${rel}/README.md`);
  }
  if (!fs.existsSync(path.join(dir, 'CHANGELOG.md'))) bad('no CHANGELOG.md', `printf '# ${pkg.name}\\n' > ${rel}/CHANGELOG.md`);
  if (JSON.stringify([...(pkg.files ?? [])].sort()) !== JSON.stringify([...FILES].sort()))
    bad(`"files" is ${JSON.stringify(pkg.files)}, want ${JSON.stringify(FILES)} (dist/ only)`, byFix);
  if (pkg.type !== 'module') bad('"type" is not "module"', `set "type": "module" in ${pj} (tsup builds dist/*.js as ESM, dist/*.cjs as CJS)`);
  for (const f of ['main', 'module', 'types']) if (!pkg[f]) bad(`no "${f}"`, `set "main": "./dist/index.cjs", "module": "./dist/index.js", "types": "./dist/index.d.ts" in ${pj}`);
  const exp = pkg.publishConfig?.exports ?? pkg.exports;
  if (!exp || typeof exp !== 'object') bad('no "exports"', `add "exports" and "publishConfig.exports" like packages/breaker/package.json`);
  else {
    for (const [sub, target] of Object.entries(exp)) {
      if (sub === './package.json') continue;
      const ok = target && target.import?.types && target.import?.default && target.require?.types && target.require?.default;
      if (!ok) bad(`publishConfig.exports["${sub}"] lacks import/require × types/default`, `copy the shape of packages/breaker/package.json "publishConfig.exports"`);
      if (JSON.stringify(target).includes('./src/')) bad(`publishConfig.exports["${sub}"] points into src/`, `list only the dist/ conditions under "publishConfig.exports" in ${pj}`);
    }
    if (!pkg.publishConfig?.exports && JSON.stringify(pkg.exports).includes('./src/'))
      bad('"exports" points into src/ and there is no publishConfig.exports', `add "publishConfig.exports" without the @stratacache/source condition (see packages/breaker)`);
  }
  if (pkg.sideEffects === undefined) bad('no "sideEffects"', `${byFix}; false unless a module has import-time effects`);
  if (!pkg.engines?.node) bad('no "engines.node"', byFix);
  if (!pkg.repository?.url || pkg.repository?.directory !== rel) bad('"repository" missing or without "directory"', byFix);
  if (!pkg.homepage) bad('no "homepage"', byFix);
  if (!pkg.bugs) bad('no "bugs"', byFix);
  if (!Array.isArray(pkg.keywords) || !pkg.keywords.includes('stratacache')) bad('"keywords" missing or without "stratacache"', byFix);
  if (pkg.publishConfig?.access !== 'public') bad('publishConfig.access is not "public"', byFix);
  const lint = pkg.scripts?.lint ?? '';
  if (!/publint/.test(lint) || !/attw/.test(lint) || !/eslint/.test(lint)) bad('the "lint" script does not run publint, attw and eslint', `set "lint": "${LINT}" in ${pj}`);
  if (!pkg.scripts?.build) bad('no "build" script', `set "build": "tsup" in ${pj}`);

  const src = srcText(dir);
  for (const [dep] of Object.entries(pkg.dependencies ?? {})) {
    if (DEV_ONLY.test(dep)) bad(`dev-only "${dep}" in dependencies`, `pnpm --filter ${pkg.name} remove ${dep} && pnpm --filter ${pkg.name} add -D ${dep}`);
    if (privateNames.has(dep)) bad(`private workspace package "${dep}" in dependencies (it is never published)`, `move "${dep}" to devDependencies in ${pj}`);
    if (PEER_ONLY.includes(dep)) bad(`"${dep}" in dependencies: it is a peerDependency (one client shared with the app)`, `${byFix}: peerDependencies "${dep}": "^5.4.0" + devDependencies`);
    const esc = dep.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    if (!new RegExp(`from ['"]${esc}(/[^'"]*)?['"]|import\\(['"]${esc}(/[^'"]*)?['"]\\)|require\\(['"]${esc}(/[^'"]*)?['"]\\)`).test(src))
      bad(`"${dep}" is in dependencies but nothing in src/ imports it`, `remove it (pnpm --filter ${pkg.name} remove ${dep}) or move it to devDependencies`);
  }
  for (const dep of PEER_ONLY) {
    if (new RegExp(`from ['"]${dep}['"]`).test(src) && !pkg.peerDependencies?.[dep])
      bad(`src/ imports "${dep}" but it is not a peerDependency`, `add "peerDependencies": { "${dep}": "^5.4.0" } and "devDependencies": { "${dep}": "^5.11.1" } to ${pj}`);
    if (pkg.peerDependencies?.[dep] && !pkg.devDependencies?.[dep]) bad(`peer "${dep}" is not in devDependencies (the package's own tests need it)`, `pnpm --filter ${pkg.name} add -D ${dep}@^5`);
  }
  return problems;
}

const all = workspacePackages();
const privateNames = new Set(all.filter((p) => p.pkg.private).map((p) => p.pkg.name));
const pubs = publishablePackages();
if (fix) for (const p of pubs) applyFixes(p);
let failed = 0;
for (const p of publishablePackages()) {
  const problems = check(p, privateNames);
  if (problems.length) {
    failed++;
    console.error(`✗ ${p.pkg.name} (${p.rel}): ${problems.length} problem(s)\n${problems.join('\n')}`);
  }
}
if (failed) {
  console.error(`\ncheck-packages: ${failed} of ${pubs.length} publishable package(s) are not ready to publish (see CONTRIBUTING.md).`);
  process.exit(1);
}
console.log(`check-packages: ${pubs.length} publishable packages OK (${pubs.map((p) => p.pkg.name.replace('@stratacache/', '')).join(', ')})`);
