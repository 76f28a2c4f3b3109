import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The suite spawns the CLI and generates large lists; 2-core CI machines are slow.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
