import { strataVitest } from '@stratacache/vitest-config';

// The publish test starts its own Verdaccio and (for the Redis case) one redis-server through the
// harness; it runs alone in its file, with long timeouts (a cold build + publish + npm install).
export default strataVitest({ redis: true, overrides: { test: { testTimeout: 300_000, hookTimeout: 400_000 } } });
