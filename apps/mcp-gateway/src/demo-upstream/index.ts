export { createDemoUpstream, parseLatency } from './server';
export type { DemoUpstream, DemoUpstreamOptions, DemoUpstreamStats, LatencyRange, ChaosMode } from './server';
export { seedCrm, DEMO_API_KEYS, SEED_BASE_DATE } from './data';
export type * from './data';
export { WebhookEmitter } from './webhook-emitter';
export type { WebhookTarget, WebhookPayload } from './webhook-emitter';
