// fast-check's seed for this test process. Locally every run draws new seeds (property
// tests keep exploring). In CI (CI=true) the seed is fixed — XDPLAB_FC_SEED, default 1 —
// so a landing run is repeatable; a failure prints its seed and path either way, and
// `XDPLAB_FC_SEED=<n> npm test` repeats a CI run's cases. Calls that pass their own seed
// keep it. Long explorations are `xdplab fuzz` campaigns (docs/properties.md).
import fc from "fast-check";

const env = process.env["XDPLAB_FC_SEED"];
const seed = env !== undefined ? Number(env) : process.env["CI"] === "true" ? 1 : undefined;
if (seed !== undefined) {
  if (!Number.isInteger(seed)) throw new Error(`XDPLAB_FC_SEED must be an integer, not '${env}'`);
  fc.configureGlobal({ seed });
}
