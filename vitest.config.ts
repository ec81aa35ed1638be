import { defineConfig } from "vitest/config";

// Two groups: the unit/model/property tests run in parallel first; then the tests that
// build namespaces, attach XDP programs or time real packets run one file at a time, so
// they neither compete with each other nor with the CPU-heavy suites for the 2 cores.
const KERNEL = [
  "test/live/**/*.test.ts",
  "test/live-mode/**/*.test.ts",
  "test/live-run/live.test.ts",
  "test/live-run/bug-live.test.ts",
  "test/oracle/linux-router.test.ts",
  "test/oracle/netfilter.test.ts",
  "test/bpf/**/*.test.ts",
  "test/native/live.test.ts",
  "test/capture/sll2.test.ts",
];

export default defineConfig({
  test: {
    globalSetup: ["test/globalSetup.ts"],
    setupFiles: ["test/fc-seed.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/**/*.test.ts", "properties/**/*.test.ts"], exclude: KERNEL, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: "kernel", include: KERNEL, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
