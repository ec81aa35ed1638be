// `xdplab replay <scenario|case-dir> [--pcap f] [--iface name] [--out dir] [--seed n] [--json] [--no-path]`
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs, intOption } from "./args.js";
import { UsageError } from "../sim/errors.js";
import { loadScenarioFile, loadInput } from "./scenario-file.js";
import { replayToDir } from "./replay-run.js";

const HELP = `usage: xdplab replay <scenario.json|scenario.yaml|case-dir> [options]

Runs the scenario's traffic through the deterministic model and writes, under --out:
summary.json, path.jsonl, <iface>.pcapng per egress interface, kernel.pcapng,
drops.pcapng (reason as packet comment), series.json and report.html.

options:
  --pcap FILE     capture to replay (overrides traffic.pcap)
  --iface NAME    put every packet of the capture on this interface
  --out DIR       output directory (default: out/<scenario name>)
  --seed N        seed (overrides the scenario's)
  --no-path       do not write path.jsonl (faster)
  --json          print the summary as JSON on stdout
`;

/** A case directory holds scenario.json (or .yaml); a file is the scenario itself. */
export function resolveScenarioPath(arg: string): string {
  if (!existsSync(arg)) throw new UsageError(`replay: no such file or directory: ${arg}`);
  if (statSync(arg).isDirectory()) {
    for (const n of ["scenario.json", "scenario.yaml", "scenario.yml"]) {
      const p = path.join(arg, n);
      if (existsSync(p)) return p;
    }
    throw new UsageError(`replay: ${arg} is a directory without scenario.json or scenario.yaml`);
  }
  return arg;
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs("replay", argv, { pcap: "value", iface: "value", out: "value", seed: "value", json: "flag", "no-path": "flag", help: "flag" });
  if (p.flags.has("help")) {
    process.stdout.write(HELP);
    return 0;
  }
  if (p.positional.length !== 1) throw new UsageError("replay: expected exactly one scenario file or case directory\n" + HELP);
  const file = resolveScenarioPath(p.positional[0]!);
  const scn = loadScenarioFile(file);
  if (p.values.has("seed")) scn.seed = intOption("replay", p, "seed", scn.seed) >>> 0;
  const { input, info } = loadInput(scn, { pcap: p.values.get("pcap"), iface: p.values.get("iface") });
  const dir = p.values.get("out") ?? path.join("out", scn.name);
  process.stderr.write(`xdplab replay: scenario ${scn.name}, seed ${scn.seed}, ${input.count} input packets\n`);
  const r = replayToDir(scn, input, info, dir, { path: !p.flags.has("no-path") });
  if (p.flags.has("json")) {
    process.stdout.write(JSON.stringify(r.summary, null, 2) + "\n");
    return 0;
  }
  const s = r.summary;
  const lines = [
    `scenario  ${scn.name}   seed ${s.scenario.seed}`,
    `input     ${s.input.packets} packets${s.input.capture ? ` from ${s.input.capture}` : ""}`,
    `outcomes  forwarded ${s.outcomes.forwarded}, to_kernel ${s.outcomes.to_kernel}, dropped ${s.outcomes.dropped}, in_flight ${s.outcomes.in_flight}`,
  ];
  const reasons = Object.entries(s.reasons);
  if (reasons.length) lines.push("reasons   " + reasons.map(([k, v]) => `${k} ${v}`).join(", "));
  for (const x of s.xdpStatistics) {
    const nz = Object.entries(x).filter(([k, v]) => k !== "iface" && k !== "queue" && v !== 0);
    lines.push(`xsk ${x.iface}:${x.queue}  ` + (nz.length ? nz.map(([k, v]) => `${k} ${v}`).join(", ") : "no drops"));
  }
  lines.push(`outputs   ${dir} (hash ${s.hash.slice(0, 16)})`);
  process.stdout.write(lines.join("\n") + "\n");
  return 0;
}
