// Running one case under the property judges: a memory sink that keeps what a user sees
// (path records, output frames, kernel and drop sinks), and a loop that steps the Sim
// and lets every judge look after each event and once at the end. Judges see the run,
// the scenario and the input; never the bug switches.
import { Sim } from "../sim/run.js";
import type { PathRecord, RunSink, RunResult } from "../sim/run.js";
import type { Scenario } from "../sim/scenario/types.js";
import type { InputPackets } from "../sim/scenario/packets.js";
import type { CaseMeta } from "./case.js";

export interface OutFrame {
  iface: number;
  t: number;
  id: number;
  bytes: Uint8Array;
}

export class MemSink implements RunSink {
  readonly wantPath = true;
  paths: PathRecord[] = [];
  out: OutFrame[] = [];
  kernelIds: number[] = [];
  dropIds: number[] = [];
  path(rec: PathRecord): void {
    this.paths.push(rec);
  }
  frameOut(iface: number, t: number, buf: Uint8Array, off: number, len: number, id: number): void {
    this.out.push({ iface, t, id, bytes: buf.slice(off, off + len) });
  }
  kernel(_i: number, _t: number, _b: Uint8Array, _o: number, _l: number, id: number): void {
    this.kernelIds.push(id);
  }
  drop(_i: number, _t: number, _b: Uint8Array, _o: number, _l: number, id: number): void {
    this.dropIds.push(id);
  }
}

/** Everything a judge may look at. `res` is set for the end judgement only. */
export interface RunView {
  sim: Sim;
  scn: Scenario;
  input: InputPackets;
  meta: CaseMeta;
  sink: MemSink;
  res: RunResult | null;
}

export interface Judge {
  /** After every event; a string is the first violation, described. */
  step?(v: RunView): string | null;
  /** Once, after the run ended (drain over, in-flight decided). */
  end?(v: RunView): string | null;
}

/** Runs the case once with the given judges; returns the first violation of each judge that failed. */
export function observe(scn: Scenario, input: InputPackets, meta: CaseMeta, judges: ReadonlyMap<string, Judge>): Map<string, string> {
  return observeRun(scn, input, meta, judges).failed;
}

/** observe(), also handing back what the run showed (the NAT cases read its egress frames). */
export function observeRun(scn: Scenario, input: InputPackets, meta: CaseMeta, judges: ReadonlyMap<string, Judge>): { failed: Map<string, string>; sink: MemSink } {
  const sink = new MemSink();
  const sim = new Sim(scn, input, sink, { seed: scn.seed });
  const v: RunView = { sim, scn, input, meta, sink, res: null };
  const failed = new Map<string, string>();
  const stepping: Array<[string, Judge]> = [...judges].filter(([, j]) => j.step !== undefined);
  while (sim.step()) {
    for (let k = 0; k < stepping.length; k++) {
      const [name, j] = stepping[k]!;
      if (failed.has(name)) continue;
      const bad = j.step!(v);
      if (bad !== null) failed.set(name, `t=${sim.now}ns: ${bad}`);
    }
  }
  v.res = sim.result();
  for (const [name, j] of judges) {
    if (failed.has(name) || j.end === undefined) continue;
    const bad = j.end(v);
    if (bad !== null) failed.set(name, bad);
  }
  return { failed, sink };
}
