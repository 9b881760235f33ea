import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// graphql 16 ships CommonJS (main) and ESM (module) builds. Node loads the CJS
// one for graphql-yoga and Pothos; vite would pick the ESM one for our code,
// and two copies of graphql reject each other's schemas and errors.
const graphqlMain = createRequire(import.meta.url).resolve('graphql');

export default defineConfig({
  resolve: {
    alias: [{ find: /^graphql$/, replacement: graphqlMain }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real servers on loopback: keep the 2-core machine from thrashing.
    maxWorkers: 2,
  },
});
