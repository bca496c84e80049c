// `pnpm bench`: hashing comparison, tenant isolation latency, failover drills (bounded, < 90 s).
import { runHashingBench } from './hashing';
import { runIsolationBench } from './isolation';
import { runDrills } from './drills';

const t0 = Date.now();
runHashingBench();
await runIsolationBench();
await runDrills();
console.log(`[bench] done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(0);
