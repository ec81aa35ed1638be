// `xdplab diff --offline <case-dir|scenario>`: the TS worker and the native C worker on
// the same scenario, same model kernel (live/offline-diff.ts). Exit 0 when they agree,
// 1 with the first divergence (both sides printed), 2 for bad input, 3 when the native
// worker is not built or the scenario needs something it does not implement.
import { parseArgs } from "./args.js";
import { UsageError, EnvironmentError } from "../sim/errors.js";
import { loadScenarioFile, loadInput } from "./scenario-file.js";
import { resolveScenarioPath } from "./cmd-replay.js";
import { diffOffline, NOT_COMPARED } from "../live/offline-diff.js";
import { nativeUnsupported } from "../live/native.js";

const HELP = `usage: xdplab diff --offline <scenario.json|case-dir> [--json]

Runs the scenario twice through the model's kernel and NIC: with the TypeScript worker
and with the native C worker (native/build/libxdplab_worker.so) sharing the model's ring
and UMEM memory. Compares path records, output frames, kernel and drop captures,
counters, XDP_STATISTICS and the time series; prints the first divergence.
Exit 0 when both agree, 1 on a divergence.
`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs("diff", argv, { offline: "flag", json: "flag", help: "flag" });
  if (p.flags.has("help")) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!p.flags.has("offline")) throw new UsageError("diff: only --offline is implemented (live differential: `xdplab live`)\n" + HELP);
  if (p.positional.length !== 1) throw new UsageError("diff: expected exactly one scenario file or case directory\n" + HELP);
  const file = resolveScenarioPath(p.positional[0]!);
  const scn = loadScenarioFile(file);
  const why = nativeUnsupported(scn);
  if (why !== null) throw new EnvironmentError(`diff: ${file}: the native worker cannot run this scenario: ${why} (docs/native.md)`);
  const { input } = loadInput(scn, {});
  process.stderr.write(`xdplab diff: scenario ${scn.name}, seed ${scn.seed}, ${input.count} input packets\n`);
  const r = diffOffline(scn, input);
  if (NOT_COMPARED.length > 0) process.stderr.write(`xdplab diff: path fields not compared (not in the native worker yet): ${NOT_COMPARED.join(", ")}\n`);
  if (p.flags.has("json")) {
    process.stdout.write(JSON.stringify({ agree: r.agree, packets: r.packets, first: r.first }, null, 2) + "\n");
    return r.agree ? 0 : 1;
  }
  if (r.agree) {
    process.stdout.write(`agree: ${r.packets} path records, outcomes ${JSON.stringify(r.model.outcomes)}\n`);
    return 0;
  }
  const d = r.first!;
  process.stdout.write(`DIVERGENCE in ${d.what} at ${d.what === "path" || d.what === "frame" || d.what === "kernel" || d.what === "drop" ? "packet id" : "#"} ${d.at}\n`);
  process.stdout.write(`  model : ${JSON.stringify(d.model)}\n`);
  process.stdout.write(`  native: ${JSON.stringify(d.native)}\n`);
  return 1;
}
