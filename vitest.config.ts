import { defineConfig } from 'vitest/config';

/**
 * The unit tier (`npm run test:unit`): tests that load no model and start no service or browser,
 * well under 30 s together. Every other test file, including any new one until it is listed here,
 * is in the integration tier. `npm test` runs both.
 */
const UNIT_TESTS = [
  'answer',
  'catalog',
  'config',
  'dense-matrix',
  'exact',
  'feature-maps',
  'hnsw',
  'imaging',
  'index-persistence',
  'index-set',
  'judge-photo',
  'leading-eigenvectors',
  'simhash-sketches',
  'lsh',
  'pool-kernel',
  'product-matcher',
  'resize-kernel',
  'scenes',
  'service-docs',
  'vector-kernel',
  'whitening-kernel',
  'worker',
].map((name) => `test/${name}.test.ts`);

export default defineConfig({
  test: {
    // onnxruntime-node and sharp are native addons: separate processes keep their thread pools apart.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT_TESTS } },
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: UNIT_TESTS } },
    ],
  },
});
