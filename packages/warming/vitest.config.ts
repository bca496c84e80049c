import { strataVitest } from '@stratacache/vitest-config';

export default strataVitest({ redis: true, decorators: true });
