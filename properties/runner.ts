// One generated case through the model under a set of properties, and the fast-check
// property that wraps it. The runner is the only place bug switches enter a case: it puts
// them in the scenario it builds (the mutation score, `--bug`), judges never see them.
import fc from "fast-check";
import { InputError } from "../sim/errors.js";
import { buildScenario, buildInput } from "./case.js";
import type { CaseSpec, CaseMeta } from "./case.js";
import { observe, observeRun } from "./observe.js";
import type { MemSink } from "./observe.js";
import { natCaseArb, natScenarioObject, buildNatInput, WAN } from "./nat.js";
import type { NatCaseSpec } from "./nat.js";
import { parseScenario } from "../sim/scenario/parse.js";
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

// ---- reverse-NAT cases (properties/nat.ts) -------------------------------------------

/** At most this many runs while the captured replies still change (see runNatCase). */
export const NAT_MAX_ROUNDS = 4;

export interface NatOutcome {
  refused: string | null;
  failures: Map<string, string>;
  scn: Scenario | null;
  /** The capture the judged run replayed (what a saved case writes as input.pcapng). */
  input: InputPackets | null;
  rounds: number;
}

export function natScenario(spec: NatCaseSpec, bugs: Record<string, boolean>): Scenario {
  return parseScenario(natScenarioObject(spec, bugs), "/fuzz/nat-scenario.json", "/fuzz");
}

/** The egress frame on wan of each input frame, by input index (null: did not leave there). */
function wanOut(sink: MemSink): Map<number, { bytes: Uint8Array; t: number }> {
  const byId = new Map<number, { bytes: Uint8Array; t: number }>();
  for (const o of sink.out) if (o.iface === WAN) byId.set(o.id, { bytes: o.bytes, t: o.t });
  const m = new Map<number, { bytes: Uint8Array; t: number }>();
  for (const r of sink.paths) if (r.origin === "input" && r.i !== null && byId.has(r.id)) m.set(r.i, byId.get(r.id)!);
  return m;
}

/**
 * Runs a reverse-NAT case on the full simulation. Its captured replies must be addressed
 * to the tuple each request left with, which only a run shows: run, rebuild the replies
 * from the egress frames, and run again until the capture is stable (or NAT_MAX_ROUNDS);
 * the judges' verdict is the last run's. Judges never depend on the fixed point being
 * reached: a reply that answers nothing in the judged run is not judged.
 */
export function runNatCase(spec: NatCaseSpec, bugs: Record<string, boolean>, names: readonly string[]): NatOutcome {
  let scn: Scenario;
  try {
    scn = natScenario(spec, bugs);
  } catch (e) {
    if (e instanceof InputError) return { refused: e.message, failures: new Map(), scn: null, input: null, rounds: 0 };
    throw e;
  }
  const meta: CaseMeta = { probeFromNs: Infinity };
  let built = buildNatInput(spec, () => null);
  let failures = new Map<string, string>();
  let rounds = 0;
  for (;;) {
    const r = observeRun(scn, built.input, meta, judgesFor(names));
    failures = r.failed;
    rounds++;
    if (rounds >= NAT_MAX_ROUNDS) break;
    const outs = wanOut(r.sink);
    const next = buildNatInput(spec, (ev) => {
      const i = built.lanFrame.get(ev);
      return i === undefined ? null : outs.get(i) ?? null;
    });
    if (next.replyKey === built.replyKey) break;
    built = next;
  }
  return { refused: null, failures, scn, input: built.input, rounds };
}

/** The fast-check property of the reverse-NAT suite: the named properties hold on every generated NAT case. */
export function natProperty(names: readonly string[], bugs: Record<string, boolean>): fc.IPropertyWithHooks<[NatCaseSpec]> {
  return fc.property(natCaseArb, (spec) => {
    const r = runNatCase(spec, bugs, names);
    fc.pre(r.refused === null);
    if (r.failures.size) {
      const [n, why] = [...r.failures][0]!;
      throw new Error(`${n}: ${why}`);
    }
  });
}
