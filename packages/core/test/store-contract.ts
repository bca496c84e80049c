export { runStoreContract } from '../src/testing/store-contract';
export type { StoreContractOptions } from '../src/testing/store-contract';
