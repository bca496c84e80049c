/** `@stratacache/core/testing`: the Store contract suite (vitest) for third-party stores. */
export { runStoreContract } from './store-contract';
export type { StoreContractOptions } from './store-contract';
