// `xdplab live`: the live-mode entry. `--preflight` (what this machine has and lacks,
// exit 3 when something is missing), `--demo veth-gotcha|xskmap-errors` (the kernel
// behaviours of live/gotchas.ts), and `xdplab live <scenario>`: the scenario on the
// lab's veths (or named NICs) with the shim and the native worker (live/run.ts), the
// model on the same input, and the differential report (live/report.ts).
import path from "node:path";
import { intOption, parseArgs } from "./args.js";
import { EnvironmentError, UsageError } from "../sim/errors.js";
import { loadInput, loadScenarioFile } from "./scenario-file.js";
import { resolveScenarioPath } from "./cmd-replay.js";
import { replayToDir } from "./replay-run.js";
import { Sim } from "../sim/run.js";
import type { Scenario } from "../sim/scenario/types.js";
import type { InputPackets } from "../sim/scenario/input.js";
import { checkRealNics, defaultRouteDevices, liveRefusal, parseIfaceMap, runLive } from "../live/run.js";
import type { LiveResult } from "../live/run.js";
import { compareLive, formatLiveDiff, writeLiveOutputs } from "../live/report.js";
import type { LiveDiff } from "../live/report.js";
import { formatPreflight, preflight } from "../live/preflight.js";
import { vethGotcha, xskmapErrors } from "../live/gotchas.js";
import type { Topology } from "../live/topology.js";
import { pairNics } from "../live/realnic.js";
import type { NicPair } from "../live/realnic.js";

const HELP = `usage: xdplab live --preflight [--json]
       xdplab live --demo veth-gotcha [--via xdp_tx|devmap] [--frames N] [--hold-ms T] [--json]
       xdplab live --demo xskmap-errors [--frames N] [--hold-ms T] [--json]
       xdplab live <scenario|case-dir> [--pcap f] [--out dir] [--as-fast-as-possible] [--json]
                   [--iface lan=eth1,wan=eth2 --far lan=eth3,wan=eth4
                    --i-understand-this-uses-real-nics [--set-mac] [--force]] [--hold-ms T]

Needs root. Everything runs in namespaces this run creates (prefix xl?????-) and is
removed at exit, on SIGINT/SIGTERM, and by the next run's sweep after a kill -9.
  --preflight   kernel, bpffs, xdp tracepoints, helpers, XDP features; exit 3 if not ready
  --demo        veth-gotcha: XDP_TX (--via devmap: a devmap redirect) into a veth whose
                peer has no XDP program nor GRO, then each fix; xskmap-errors: redirect
                to a socket on another queue, an empty slot, a bound socket. Exit 1 when
                the kernel disagrees with the model.
  --hold-ms T   after setup, print "holding <prefix>" and wait T ms before traffic

A scenario run: DUT namespace + one far side per interface, the shim on every DUT
interface, the native worker on AF_XDP sockets, the input injected from the far sides at
the capture's pacing; then the model on the same input and the differential report
(summary.json, report.html, live-events.jsonl and model/ under --out, default
out/live/<name>). Exit 1 when a paced run differs from the model; overload figures
(--as-fast-as-possible) are reported against the model's seed sweep and never fail.
Scenarios live mode cannot run (faults, queues > 1 on veth, …) exit 3 saying why.

Named NICs (a lab with cabled NIC pairs; docs/live-nics.md): --iface names the NIC the
device under test uses for each scenario interface, --far the NIC cabled to it (where
frames are injected and captured). For the run each is moved into the lab's namespaces,
renamed, MTU'd, pinned, brought up; afterwards moved back with its name, MTU, MAC,
offloads and up/down state (also by the sweep after a kill -9). Refused (exit 2): a NIC
that does not exist, has IP addresses, is a bridge/bond member, already has XDP, or
carries the default route (unless --force). --set-mac gives the DUT NICs the scenario's
MACs (otherwise they keep theirs: DUT NICs run promiscuous, frames keep their bytes).
`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs("live", argv, {
    preflight: "flag", demo: "value", via: "value", frames: "value", "hold-ms": "value", json: "flag", help: "flag",
    pcap: "value", out: "value", "as-fast-as-possible": "flag", iface: "value", "i-understand-this-uses-real-nics": "flag", force: "flag",
    far: "value", "set-mac": "flag",
  });
  if (p.flags.has("help")) {
    process.stdout.write(HELP);
    return 0;
  }
  const json = p.flags.has("json");
  if (p.flags.has("preflight")) {
    const r = preflight();
    process.stdout.write(json ? JSON.stringify(r, null, 1) + "\n" : formatPreflight(r));
    if (!r.ok) throw new EnvironmentError(`preflight: ${r.problems.length} problem(s): ${r.problems[0] ?? ""}`);
    return 0;
  }
  const demo = p.values.get("demo");
  if (demo === undefined) {
    if (p.positional.length !== 1) throw new UsageError("live: expected --preflight, --demo NAME or one scenario\n" + HELP);
    return runScenario(p.positional[0]!, {
      pcap: p.values.get("pcap"), out: p.values.get("out"), fast: p.flags.has("as-fast-as-possible"), json,
      iface: p.values.get("iface"), confirmed: p.flags.has("i-understand-this-uses-real-nics"), force: p.flags.has("force"),
      far: p.values.get("far"), setMac: p.flags.has("set-mac"),
      holdMs: intOption("live", p, "hold-ms", 0),
    });
  }
  const frames = intOption("live", p, "frames", 16);
  if (frames < 1 || frames > 1000) throw new UsageError(`live: --frames expects 1..1000, got ${frames}`);
  const holdMs = intOption("live", p, "hold-ms", 0);
  if (holdMs < 0 || holdMs > 600_000) throw new UsageError(`live: --hold-ms expects 0..600000, got ${holdMs}`);
  const pre = preflight();
  if (!pre.ok) throw new EnvironmentError(`not ready: ${pre.problems.join("; ")}`);
  const log = json ? (): void => undefined : (l: string): void => void process.stdout.write(l + "\n");
  const hold = holdMs === 0 ? undefined : async (t: Topology): Promise<void> => {
    process.stdout.write(`holding ${t.prefix}\n`);
    await new Promise((r) => setTimeout(r, holdMs));
  };
  if (demo === "veth-gotcha") {
    const via = p.values.get("via") ?? "xdp_tx";
    if (via !== "xdp_tx" && via !== "devmap") throw new UsageError(`live: --via expects xdp_tx or devmap, got '${via}'`);
    const r = await vethGotcha({ frames, path: via, log, ...(hold === undefined ? {} : { hold }) });
    if (json) process.stdout.write(JSON.stringify(r, null, 1) + "\n");
    else {
      process.stdout.write(
        "Frames sent into a veth with XDP_TX or a devmap land in the peer's XDP ring, which exists only while the peer has an XDP program or GRO.\n" +
          (via === "xdp_tx"
            ? "With GRO alone, XDP_TX does not wake the peer (veth_xdp_flush kicks its NAPI only when it has an XDP program): the frames wait for the next ordinary frame.\n"
            : "Without either, the devmap refuses the redirect up front (-EOPNOTSUPP on xdp:xdp_redirect_err: no ndo-xmit feature); GRO alone is enough here (the devmap flush kicks the peer's NAPI).\n"),
      );
      process.stdout.write(r.phases.every((x) => x.agrees) ? "live run agrees with the model\n" : "live run DIFFERS from the model (see above)\n");
    }
    return r.phases.every((x) => x.agrees) ? 0 : 1;
  }
  if (demo === "xskmap-errors") {
    const r = await xskmapErrors({ frames, log, ...(hold === undefined ? {} : { hold }) });
    if (json) process.stdout.write(JSON.stringify(r, null, 1) + "\n");
    else process.stdout.write(r.phases.every((x) => x.agrees) ? "live run agrees with the model\n" : "live run DIFFERS from the model (see above)\n");
    return r.phases.every((x) => x.agrees) ? 0 : 1;
  }
  throw new UsageError(`live: unknown demo '${demo}' (veth-gotcha, xskmap-errors)`);
}

/** The model's figures over a seed sweep (overload runs are compared against this range). */
export function modelSweep(scn: Scenario, input: InputPackets, seeds: number): Record<string, { min: number; max: number }> {
  const range: Record<string, { min: number; max: number }> = {};
  const put = (k: string, v: number): void => {
    const r = range[k];
    if (r === undefined) range[k] = { min: v, max: v };
    else {
      r.min = Math.min(r.min, v);
      r.max = Math.max(r.max, v);
    }
  };
  for (let s = 0; s < seeds; s++) {
    const sink = { frameOut() {}, kernel() {}, drop() {}, path() {}, series() {} } as unknown as ConstructorParameters<typeof Sim>[2];
    const r = new Sim(scn, input, sink, { seed: (scn.seed + s) >>> 0 }).runToEnd();
    for (const [k, v] of Object.entries(r.outcomes)) put(`outcomes.${k}`, v);
    for (const x of r.xdpStatistics) for (const k of ["rx_dropped", "rx_ring_full", "rx_fill_ring_empty_descs"] as const) put(`xdpStatistics.${x.iface}:${x.queue}.${k}`, x[k]);
  }
  return range;
}

interface ScenarioRunOptions {
  pcap: string | undefined;
  out: string | undefined;
  fast: boolean;
  json: boolean;
  iface: string | undefined;
  confirmed: boolean;
  force: boolean;
  far: string | undefined;
  setMac: boolean;
  holdMs: number;
}

async function runScenario(arg: string, o: ScenarioRunOptions): Promise<number> {
  const file = resolveScenarioPath(arg);
  const scn = loadScenarioFile(file);
  if (o.holdMs < 0 || o.holdMs > 600_000) throw new UsageError(`live: --hold-ms expects 0..600000, got ${o.holdMs}`);
  let nics: { pairs: NicPair[]; setMac: boolean } | undefined;
  if (o.iface !== undefined) {
    if (o.far === undefined) throw new UsageError("--iface needs --far too: for each scenario interface the NIC cabled to the DUT's NIC, where frames are injected and captured (e.g. --iface lan=eth1,wan=eth2 --far lan=eth3,wan=eth4)");
    const dut = parseIfaceMap(o.iface, scn, "--iface");
    const far = parseIfaceMap(o.far, scn, "--far");
    const pairs = pairNics(scn.interfaces.map((i) => i.name), dut, far);
    const all = new Map<string, string>(pairs.flatMap((q) => [[`${q.iface}`, q.dut], [`${q.iface} far`, q.far]] as Array<[string, string]>));
    checkRealNics(all, { confirmed: o.confirmed, force: o.force, defaultRouteDevs: defaultRouteDevices() });
    nics = { pairs, setMac: o.setMac };
  } else if (o.far !== undefined || o.setMac) {
    throw new UsageError(`${o.far !== undefined ? "--far" : "--set-mac"} goes with --iface (named NICs); without --iface the run uses the veth lab`);
  }
  const why = liveRefusal(scn, nics !== undefined);
  if (why !== null) throw new EnvironmentError(`${scn.name} cannot run live: ${why}`);
  const { input, info } = loadInput(scn, { pcap: o.pcap });
  const dir = o.out ?? path.join("out", "live", scn.name);
  const log = o.json ? (): void => undefined : (l: string): void => void process.stderr.write(l + "\n");
  log(`xdplab live: scenario ${scn.name}, seed ${scn.seed}, ${input.count} input packets, ${o.fast ? "as fast as possible" : "paced as captured"}`);
  const hold = o.holdMs > 0 ? async (prefix: string): Promise<void> => {
    process.stdout.write(`holding ${prefix}\n`);
    await new Promise((r) => setTimeout(r, o.holdMs));
  } : undefined;
  const live: LiveResult = await runLive(scn, input, { asFastAsPossible: o.fast, log, ...(hold === undefined ? {} : { hold }), ...(nics === undefined ? {} : { nics }) });
  const model = replayToDir(scn, input, info, path.join(dir, "model"), { path: true, keepRecords: true, keepFrames: 1_000_000 });
  const diff: LiveDiff = compareLive(input, model.records ?? [], model.framesOut, model.result.counters, model.result.xdpStatistics as unknown as Array<Record<string, number | string>>, live, scn.interfaces.map((i) => i.name));
  const overload = o.fast ? { seeds: 5, model: modelSweep(scn, input, 5) } : undefined;
  writeLiveOutputs(dir, { scenario: scn.name, seed: scn.seed, model: model.summary, live, diff, ...(overload === undefined ? {} : { overload }) });
  if (o.json) process.stdout.write(JSON.stringify({ scenario: scn.name, paced: live.paced, divergent: diff.divergent, agree: diff.agree, packets: diff.packets, packetDiffs: diff.packetDiffs.length, outputDiffs: diff.outputDiffs.length, counterDiffs: diff.counterDiffs, xdpStatistics: live.xdpStatistics, worker: live.worker, out: dir }, null, 1) + "\n");
  else process.stdout.write(formatLiveDiff(diff, live) + `outputs   ${dir}\n`);
  if (!live.paced) {
    if (!o.json) process.stdout.write("overload run: differences are reported against the model's seed sweep (summary.json overload), not gated\n");
    return 0;
  }
  return diff.divergent ? 1 : 0;
}
