// The generated-case suites against the healthy model (no bug switch): backpressure,
// accounting, control, rings (system level) and determinism, each property over its own
// fast-check run. Checksum properties are in checksum.test.ts; the ring views against a
// reference queue in test/xsk/ring.test.ts. `xdplab fuzz` runs the same properties longer.
import { describe, it } from "vitest";
import fc from "fast-check";
import { allProperties, SUITES } from "./registry.js";
import { caseProperty } from "./runner.js";

const RUNS = Number(process.env["XDPLAB_PROPERTY_RUNS"] ?? 25);

for (const suite of SUITES) {
  const props = allProperties().filter((p) => p.suite === suite);
  if (!props.length) continue;
  describe(`${suite} properties`, () => {
    for (const p of props) {
      it(`${p.name}: ${p.doc}`, () => {
        fc.assert(caseProperty([p.name], {}), { numRuns: RUNS, seed: 0x5eed ^ p.name.length });
      }, 120_000);
    }
  });
}
