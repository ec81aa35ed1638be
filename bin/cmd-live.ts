// `xdplab live`: the live-mode entry. For now: `--preflight` (what this machine has and
// lacks, exit 3 when something is missing) and `--demo veth-gotcha|xskmap-errors` (the
// kernel behaviours of live/gotchas.ts, in words or --json). A scenario run with the
// native worker and the differential report is issue 6/7's next step.
import { intOption, parseArgs } from "./args.js";
import { EnvironmentError, UsageError } from "../sim/errors.js";
import { formatPreflight, preflight } from "../live/preflight.js";
import { vethGotcha, xskmapErrors } from "../live/gotchas.js";
import type { Topology } from "../live/topology.js";

const HELP = `usage: xdplab live --preflight [--json]
       xdplab live --demo veth-gotcha [--via xdp_tx|devmap] [--frames N] [--hold-ms T] [--json]
       xdplab live --demo xskmap-errors [--frames N] [--hold-ms T] [--json]
       xdplab live <scenario>            (needs the native worker: issue 6)

Needs root. Everything runs in namespaces this run creates (prefix xl?????-) and is
removed at exit, on SIGINT/SIGTERM, and by the next run's sweep after a kill -9.
  --preflight   kernel, bpffs, xdp tracepoints, helpers, XDP features; exit 3 if not ready
  --demo        veth-gotcha: XDP_TX into a veth whose peer has no XDP program nor GRO,
                then each fix; xskmap-errors: redirect to a socket on another queue, an
                empty slot, a bound socket. Exit 1 when the kernel disagrees with the model.
  --hold-ms T   after setup, print "holding <prefix>" and wait T ms before traffic
`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs("live", argv, { preflight: "flag", demo: "value", via: "value", frames: "value", "hold-ms": "value", json: "flag", help: "flag" });
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
    if (p.positional.length === 0) throw new UsageError("live: expected --preflight, --demo NAME or a scenario\n" + HELP);
    throw new EnvironmentError("live: scenario runs need the native worker (issue 6) and are not wired up yet; try --preflight or --demo");
  }
  const frames = intOption("live", p, "frames", 16);
  if (frames < 1 || frames > 1000) throw new UsageError(`live: --frames expects 1..1000, got ${frames}`);
  const holdMs = intOption("live", p, "hold-ms", 0);
  if (holdMs < 0 || holdMs > 600_000) throw new UsageError(`live: --hold-ms expects 0..600000, got ${holdMs}`);
  const pre = preflight();
  if (!pre.ok) throw new EnvironmentError(`live: not ready: ${pre.problems.join("; ")}`);
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
      process.stdout.write("Frames sent into a veth with XDP_TX/devmap land in the peer's XDP ring, which exists only while the peer has an XDP program or GRO.\n");
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
