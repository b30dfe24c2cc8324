/** The indexing stage's public surface. */
export type * from './types.js';
export { DEFAULT_INDEX_PARAMS, validateIndexParams } from './params.js';
export { IndexSet, type IndexMeta, type IndexSetOptions } from './index-set.js';
export { ExactIndex } from './exact-index.js';
export { LshIndex } from './lsh-index.js';
export { HnswIndex } from './hnsw-index.js';
export { VectorStore } from './vector-store.js';
export { INDEX_FORMAT_VERSION } from './index-file.js';
