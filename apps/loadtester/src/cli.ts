#!/usr/bin/env node
// The `stratacache-load` bin: see main.ts.
import { main } from './main';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // harness processes and sockets are closed by then; do not wait for stray timers
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stdout.write(`FAIL: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
