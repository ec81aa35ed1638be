// The judge `xdplab check` uses for `{ "property": name }` assertions: re-runs the saved
// case (its scenario.json and capture, as loaded by check — so removing the bug switch
// from scenario.json is what "fixed" means) under the named property's judge. The probe
// start time comes from the case's case.json, written by `xdplab fuzz`.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Scenario } from "../sim/scenario/types.js";
import type { InputPackets } from "../sim/scenario/packets.js";
import type { PropertyJudge } from "../sim/trace/expect.js";
import { propertyByName } from "./registry.js";
import { judgeLoaded } from "./runner.js";
import type { CaseMeta } from "./case.js";

export function propertyJudgeForCase(dir: string, scn: Scenario, input: InputPackets): PropertyJudge {
  let meta: CaseMeta = { probeFromNs: Infinity };
  const f = path.join(dir, "case.json");
  if (existsSync(f)) {
    const o = JSON.parse(readFileSync(f, "utf8")) as { meta?: { probeFromNs?: unknown } };
    if (typeof o.meta?.probeFromNs === "number") meta = { probeFromNs: o.meta.probeFromNs };
  }
  return (name: string): string | null => {
    if (propertyByName(name) === undefined) return `unknown property ${name}`;
    return judgeLoaded(scn, input, meta, [name]).get(name) ?? null;
  };
}
