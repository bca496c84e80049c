import { randomBytes } from 'node:crypto';
import { requireRedisBinaries } from './binaries';
import { stopAll } from './deployments';
import { reapOrphans, reapRun } from './reaper';
import { RUN_ID_ENV } from './run-root';

/**
 * vitest globalSetup (wired by `strataVitest({ redis: true })`): fails fast with one line when
 * redis-server is missing, reaps servers orphaned by interrupted runs, tags this run's temp roots
 * (through an env var the forked workers inherit) and kills all of them at teardown.
 */
export default async function setup(): Promise<() => Promise<void>> {
  requireRedisBinaries();
  await reapOrphans();
  const runId = `${process.pid}-${randomBytes(6).toString('hex')}`;
  process.env[RUN_ID_ENV] = runId;
  return async () => {
    await stopAll();
    await reapRun(runId);
  };
}
