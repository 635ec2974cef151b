import { createRequire } from "node:module";
import swc from "unplugin-swc";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // SWC (not esbuild) so type-graphql and TypeORM get decorator metadata, as at run time.
  plugins: [swc.vite({ module: { type: "es6" } })],
  // graphql 16 ships CJS (main) and ESM (module) builds; Node hands type-graphql the CJS one,
  // so our code must get the same copy or `instanceof GraphQLScalarType` fails.
  resolve: { alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve("graphql") }] },
  test: {
    include: ["server/src/**/*.test.ts", "test/**/*.test.ts", "client-sdk/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Test files run in parallel, each on its own database cloned from a migrated template.
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
  },
});
