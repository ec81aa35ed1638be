// The idle-poll fast path of sim/run.ts must be invisible: for every bundled case under
// traces/ (and a sparse run), the run with polls skipped while the worker is idle gives
// the same RunResult and the same per-packet sink calls, byte for byte, as the run that
// polls every pollNs. The oracle is the unskipped model itself.
import { describe, it, expect } from "vitest";
import { readdirSync, existsSync, statSync } from "node:fs";
import path from "node:path";
import { Sim } from "../../sim/run.js";
import type { Scenario } from "../../sim/scenario/types.js";
import type { InputPackets } from "../../sim/scenario/packets.js";
import { loadScenarioFile, loadInput } from "../../bin/scenario-file.js";
import { ROOT } from "../cli.js";
import { LogSink, scenario, udpInput } from "./helpers.js";

function both(scn: Scenario, input: InputPackets): { skip: { res: unknown; log: string[]; sim: Sim }; full: { res: unknown; log: string[]; sim: Sim } } {
  const go = (idleSkip: boolean) => {
    const sink = new LogSink();
    const sim = new Sim(scn, input, sink, { idleSkip });
    const res = sim.runToEnd();
    return { res, log: sink.log, sim };
  };
  return { skip: go(true), full: go(false) };
}

function caseDirs(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = path.join(dir, e);
    if (!statSync(p).isDirectory()) continue;
    if (existsSync(path.join(p, "scenario.json"))) out.push(p);
    else out.push(...caseDirs(p));
  }
  return out;
}

const TRACES = path.join(ROOT, "traces");
const cases = caseDirs(TRACES).map((p) => path.relative(TRACES, p));

describe("idle-poll fast path changes no output", () => {
  it.each(cases)("%s", (rel) => {
    let scn: Scenario;
    try {
      scn = loadScenarioFile(path.join(TRACES, rel, "scenario.json"));
    } catch {
      return; // cases that exist to be refused (exit 2) have nothing to run
    }
    const { input } = loadInput(scn, {});
    const { skip, full } = both(scn, input);
    expect(full.sim.idleSkipped).toBe(0);
    expect(skip.log).toEqual(full.log);
    expect(skip.res).toEqual(full.res);
  });

  it("a sparse trace skips nearly every poll and still matches", () => {
    // 20 packets 1 ms apart: 10 000 polls of 2 µs in the unskipped run.
    const scn = scenario({ timing: { drainNs: 2_000_000 } });
    const { skip, full } = both(scn, udpInput(20, 1_000_000));
    expect(skip.log).toEqual(full.log);
    expect(skip.res).toEqual(full.res);
    const polls = (full.res as { counters: { worker: { polls: number } } }).counters.worker.polls;
    expect(polls).toBeGreaterThan(10_000);
    expect(skip.sim.idleSkipped).toBeGreaterThan(polls * 0.9);
  });

  it("matches under a fault, a pause and a heartbeat timeout on a sparse trace", () => {
    const scn = scenario({
      dataplane: { heartbeatTimeoutNs: 500_000 },
      // sparse events: the series and timer passes would otherwise wake the worker every 100 µs
      timing: { drainNs: 3_000_000, pollNs: 3000, seriesNs: "5ms", timerNs: "5ms" },
      faults: [
        { at: "2.5ms", kind: "worker_pause", for: "700us" },
        { at: "5ms", kind: "tx_stall", iface: "wan", for: "300us" },
        { at: "7ms", kind: "generation_bump" },
      ],
    });
    const { skip, full } = both(scn, udpInput(12, 777_777));
    expect(skip.log).toEqual(full.log);
    expect(skip.res).toEqual(full.res);
    expect(skip.sim.idleSkipped).toBeGreaterThan(1000);
  });
});
