// Native offline throughput: the routed trace of bench/model.ts (generator, 10k flows,
// router size mix, paced below capacity) and the same trace through interface SNAT with
// the responder reflecting every frame (so replies take the reverse-NAT path), through
// the model's kernel/NIC side with the TS worker and with the native C worker
// (live/native.ts, koffi), in the same process, alternating, best of 3, no outputs written
// (null sink). Prints packets/s of each (input + responder packets) and the native/model
// ratio, and checks both ended with the same outcomes.
// Run: npx tsc -p . && make -C native && node dist/bench/native.js [packets] [flows] [pps] [routed|nat|both]
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseScenario } from "../sim/scenario/parse.js";
import { generateTraffic } from "../sim/scenario/generator.js";
import { Sim } from "../sim/run.js";
import type { RunSink } from "../sim/trace/record.js";
import { nativeWorkerFactory, NativeWorker } from "../live/native.js";

const packets = Number(process.argv[2] ?? 200_000);
const flows = Number(process.argv[3] ?? 10_000);
const pps = Number(process.argv[4] ?? 500_000);
const which = process.argv[5] ?? "both";
const dir = mkdtempSync(path.join(tmpdir(), "xdplab-bench-native-"));
const sink: RunSink = { wantPath: false, path() {}, frameOut() {}, kernel() {}, drop() {} };

function bench(name: string, nat: boolean): void {
  const scn = parseScenario(
    {
      name: `bench-native-${name}`,
      seed: 1,
      interfaces: [
        { name: "lan", mac: "02:00:00:00:01:01", addrs: nat ? ["10.0.0.1/24"] : ["198.18.0.1/16"], mtu: 1500 },
        { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24"], mtu: 1500 },
      ],
      // NAT: the inside hosts sit behind a lan gateway, so replies have a resolved next hop
      neighbors: [{ ip: "198.19.2.2", mac: "02:00:00:00:02:02", iface: "wan" }, { ip: "10.0.0.2", mac: "02:00:00:00:01:02", iface: "lan" }],
      routes: [{ prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" }, ...(nat ? [{ prefix: "198.18.0.0/16", via: "10.0.0.2", iface: "lan" }] : [])],
      ...(nat ? { nat: { snat: [{ from: "198.18.0.0/16", egress: "wan", to: "interface" }] } } : {}),
      timing: { seriesNs: "1ms", drainNs: "5ms" },
      traffic: { ...(nat ? { respond: "reflect" } : {}), generator: { flows, packets, pps, sizes: [64, 64, 64, 128, 576, 1514, 1514, 590], proto: "mix", dst: "198.19.200.1", src: "198.18.0.0/16" } },
    },
    path.join(dir, "scenario.json"),
    dir,
  );
  const { input } = generateTraffic(scn);
  const best = { model: Infinity, native: Infinity };
  const outcomes: Record<string, string> = {};
  let total = 0;
  for (let round = 0; round < 3; round++) {
    for (const w of ["model", "native"] as const) {
      const t0 = process.hrtime.bigint();
      const sim = new Sim(scn, input, sink, w === "native" ? { seed: 1, worker: nativeWorkerFactory(), idleSkip: true } : { seed: 1 });
      const r = sim.runToEnd();
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (sim.worker instanceof NativeWorker) sim.worker.close();
      best[w] = Math.min(best[w], s);
      outcomes[w] = JSON.stringify(r.outcomes);
      total = r.packets.input + r.packets.created;
    }
  }
  const row = (w: "model" | "native"): string => `${w.padEnd(7)} ${best[w].toFixed(3)} s  ${Math.round(total / best[w]).toLocaleString("en-US")} packets/s`;
  process.stdout.write(`${name}: ${input.count} input packets (${total} with responder and generated), ${flows} flows, ${pps} pps (best of 3, no outputs)\n${row("model")}\n${row("native")}\n`);
  process.stdout.write(`native/model speed ratio ${(best.model / best.native).toFixed(2)}; outcomes ${outcomes.model === outcomes.native ? "equal" : "DIFFER"} ${outcomes.native}\n`);
}

if (which === "routed" || which === "both") bench("routed", false);
if (which === "nat" || which === "both") bench("nat", true);
