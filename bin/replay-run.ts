// Runs a loaded scenario through the model and writes every output of DESIGN §4.3.
// Shared by `xdplab replay` and `xdplab check`.
import path from "node:path";
import { Sim } from "../sim/run.js";
import type { RunResult, PathRecord } from "../sim/trace/record.js";
import type { Scenario } from "../sim/scenario/types.js";
import type { InputPackets } from "../sim/scenario/input.js";
import { renderReport } from "../sim/trace/report.js";
import { ReplayOutputs, combinedHash, type OutputFileInfo } from "./replay-outputs.js";

export const XDPLAB_VERSION = "0.1.0";

export interface InputInfo {
  capture: string | null;
  packets: number;
  skipped: Record<string, number>;
}

export interface ReplayRun {
  dir: string;
  result: RunResult;
  summary: Summary;
  records: PathRecord[] | null;
  framesOut: Map<string, Uint8Array[]>;
}

export interface Summary {
  xdplab: string;
  scenario: { name: string; file: string; seed: number };
  input: InputInfo;
  outcomes: RunResult["outcomes"];
  reasons: RunResult["reasons"];
  verdicts: RunResult["verdicts"];
  counters: RunResult["counters"];
  xdpStatistics: RunResult["xdpStatistics"];
  packets: RunResult["packets"];
  endNs: number;
  outputs: OutputFileInfo[];
  hash: string;
}

export function replayToDir(
  scn: Scenario,
  input: InputPackets,
  inputInfo: InputInfo,
  dir: string,
  opts: { path: boolean; keepRecords?: boolean; keepFrames?: number },
): ReplayRun {
  const outs = new ReplayOutputs(dir, scn, input.epochNs, opts);
  const sim = new Sim(scn, input, outs, { seed: scn.seed });
  const result = sim.runToEnd();
  outs.closeStreams();
  outs.writeWhole("series.json", JSON.stringify(result.series) + "\n");
  const partial = {
    xdplab: XDPLAB_VERSION,
    scenario: { name: scn.name, file: path.basename(scn.file), seed: result.seed },
    input: { ...inputInfo, capture: inputInfo.capture === null ? null : path.basename(inputInfo.capture) },
    outcomes: result.outcomes,
    reasons: result.reasons,
    verdicts: result.verdicts,
    counters: result.counters,
    xdpStatistics: result.xdpStatistics,
    packets: result.packets,
    endNs: result.endNs,
  };
  outs.writeWhole("report.html", renderReport(scn, partial, result.series, outs.records));
  const outputs = outs.files();
  const summary: Summary = { ...partial, outputs, hash: combinedHash(outputs) };
  outs.writeWhole("summary.json", JSON.stringify(summary, null, 2) + "\n");
  return { dir, result, summary, records: outs.records, framesOut: outs.framesOut };
}
