// One generated case through the model under a set of properties, and the fast-check
// property that wraps it. The runner is the only place bug switches enter a case: it puts
// them in the scenario it builds (the mutation score, `--bug`), judges never see them.
import fc from "fast-check";
import { InputError } from "../sim/errors.js";
import { buildScenario, buildInput } from "./case.js";
import type { CaseSpec, CaseMeta } from "./case.js";
import { observe } from "./observe.js";
import { judgesFor } from "./registry.js";
import { caseArb } from "./arbitraries.js";
import type { Scenario } from "../sim/scenario/types.js";
import type { InputPackets } from "../sim/scenario/packets.js";

export interface CaseOutcome {
  /** Validation refused the scenario (e.g. a ring size that is not a power of two): nothing to judge. */
  refused: string | null;
  failures: Map<string, string>;
}

export function prepareCase(spec: CaseSpec, bugs: Record<string, boolean>): { scn: Scenario; input: InputPackets; meta: CaseMeta } {
  const scn = buildScenario(spec, bugs);
  const { input, meta } = buildInput(spec, scn.interfaces.map((i) => i.queues));
  return { scn, input, meta };
}

export function runCase(spec: CaseSpec, bugs: Record<string, boolean>, names: readonly string[]): CaseOutcome {
  let prepared;
  try {
    prepared = prepareCase(spec, bugs);
  } catch (e) {
    if (e instanceof InputError) return { refused: e.message, failures: new Map() };
    throw e;
  }
  return { refused: null, failures: observe(prepared.scn, prepared.input, prepared.meta, judgesFor(names)) };
}

/** Judges an already loaded scenario + input (a saved case replayed by `xdplab check`). */
export function judgeLoaded(scn: Scenario, input: InputPackets, meta: CaseMeta, names: readonly string[]): Map<string, string> {
  return observe(scn, input, meta, judgesFor(names));
}

/** The fast-check property: the named properties hold on every generated case (refused shapes are skipped). */
export function caseProperty(names: readonly string[], bugs: Record<string, boolean>): fc.IPropertyWithHooks<[CaseSpec]> {
  return fc.property(caseArb, (spec) => {
    const r = runCase(spec, bugs, names);
    fc.pre(r.refused === null);
    if (r.failures.size) {
      const [n, why] = [...r.failures][0]!;
      throw new Error(`${n}: ${why}`);
    }
  });
}
