// Sums the vitest JSON reports written by every package (see tooling/vitest) into one line.
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
let passed = 0, failed = 0, skipped = 0, files = 0;
const failures = [];
for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
  if (!f.endsWith('.json')) continue;
  files++;
  const r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  if (!r.success && (r.numFailedTests ?? 0) === 0) failures.push(`${f}: a suite failed to run`);
  for (const tr of r.testResults ?? []) {
    for (const a of tr.assertionResults ?? []) if (a.status === 'failed') failures.push(`${f}: ${a.fullName}`);
    if (tr.status === 'failed' && !(tr.assertionResults ?? []).some((a) => a.status === 'failed')) failures.push(`${f}: ${path.basename(tr.name)} failed to load`);
  }
}
for (const l of failures) console.log(`FAILED ${l}`);
console.log(`Packages with tests: ${files}`);
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || failures.length > 0 || passed === 0 ? 1 : 0);
