// `pnpm bench`: hashing comparison, tenant isolation latency, failover drills, outage drills (bounded, < 120 s).
import { runHashingBench } from './hashing';
import { runIsolationBench } from './isolation';
import { runDrills } from './drills';
import { runOutageDrills } from './outage';

const t0 = Date.now();
runHashingBench();
await runIsolationBench();
await runDrills();
await runOutageDrills();
console.log(`[bench] done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(0);
