import { strataVitest } from '@stratacache/vitest-config';

export default strataVitest({ redis: true, overrides: { test: { globalSetup: ['test/build-dashboard.setup.ts'] } } });
