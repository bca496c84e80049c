export { runStoreContract } from '../src/testing/index';
export type { StoreContractOptions } from '../src/testing/index';
