// Model throughput benchmark: a 1M-packet routed trace (10k flows, a router-like size mix,
// paced below the model's capacity) replayed through the deterministic model twice — with
// path.jsonl written to a temp dir, and without path records — reporting packets/s of
// virtual-time simulation per wall-clock second, peak RSS, and a readable summary of ring
// levels from series.json. Each variant runs in its own child process so peak RSS is its
// own. A third variant, "null sink", runs the same Sim with a sink that keeps nothing (no
// pcapng, no SHA-256, no summary): the model measured alone.
// Run: npx tsc -p . && node dist/bench/model.js [packets] [flows] [pps] [routed|nat]
// One variant only (for --cpu-prof): node dist/bench/model.js --one null|nopath|path packets flows pps [routed|nat]
// `nat`: the same mix from one lan host (flows differ by port) through interface SNAT, every forwarded
// packet answered by the reflect responder, so half the model's packets are replies
// matched by the reverse index and translated back.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseScenario } from "../sim/scenario/parse.js";
import { generateTraffic } from "../sim/scenario/generator.js";
import type { Scenario } from "../sim/scenario/types.js";
import type { SeriesResult } from "../sim/trace/record.js";
import { replayToDir } from "../bin/replay-run.js";
import { Sim } from "../sim/run.js";
import type { RunSink } from "../sim/trace/record.js";

type Mode = "null" | "nopath" | "path";
const MODES: readonly Mode[] = ["null", "nopath", "path"];
const MODE_NAMES: Record<Mode, string> = { null: "null sink (model only)", nopath: "without paths", path: "with path.jsonl" };
const NULL_SINK: RunSink = { wantPath: false, path() {}, frameOut() {}, kernel() {}, drop() {} };

const SIZES = [64, 64, 64, 128, 576, 1514, 1514, 590];
let PPS = 500_000;
let KIND: "routed" | "nat" = "routed";

function scenario(packets: number, flows: number, dir: string): Scenario {
  return parseScenario(
    {
      name: "bench-model",
      seed: 1,
      interfaces: [
        { name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.0.1/16"], mtu: 1500 },
        { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24"], mtu: 1500 },
      ],
      neighbors: [{ ip: "198.19.2.2", mac: "02:00:00:00:02:02", iface: "wan" }, { ip: "198.18.1.10", mac: "02:00:00:00:01:0a", iface: "lan" }],
      routes: [{ prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" }],
      // Defaults otherwise (rings 1024/1024/4096/4096, 10 Gb/s links, 150 ns per packet):
      // 500 kpps of ~560-byte frames is ~2.3 Gb/s and ~8 % of the worker: no overload.
      timing: { seriesNs: "1ms", drainNs: "5ms" },
      ...(KIND === "nat" ? { nat: { snat: [{ from: "198.18.0.0/16", egress: "wan", to: "interface" }] } } : {}),
      traffic: { generator: { flows, packets, pps: PPS, sizes: SIZES, proto: "mix", dst: "198.19.200.1", src: KIND === "nat" ? "198.18.1.10/32" : "198.18.0.0/16" }, ...(KIND === "nat" ? { respond: "reflect" } : {}) },
    },
    path.join(dir, "scenario.json"),
    dir,
  );
}

interface OneResult {
  mode: string;
  packets: number;
  created: number;
  genSeconds: number;
  runSeconds: number;
  /** CPU seconds (user + system) of the run: steadier than wall time on a shared machine. */
  runCpuSeconds: number;
  pps: number;
  maxRssMB: number;
  pathBytes: number;
  outcomes: Record<string, number>;
  virtualSeconds: number;
  series: SeriesResult;
}

function one(mode: Mode, packets: number, flows: number): OneResult {
  const dir = mkdtempSync(path.join(tmpdir(), "xdplab-bench-model-"));
  try {
    const scn = scenario(packets, flows, dir);
    let t0 = process.hrtime.bigint();
    const { input, info } = generateTraffic(scn);
    const genSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const out = path.join(dir, "out");
    t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    const result = mode === "null" ? new Sim(scn, input, NULL_SINK, { seed: scn.seed }).runToEnd() : replayToDir(scn, input, info, out, { path: mode === "path" }).result;
    const runSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const runCpuSeconds = (cpu.user + cpu.system) / 1e6;
    const pathBytes = mode !== "null" && readdirSync(out).includes("path.jsonl") ? statSync(path.join(out, "path.jsonl")).size : 0;
    return {
      mode,
      packets: input.count,
      created: result.packets.created,
      genSeconds,
      runSeconds,
      runCpuSeconds,
      pps: (input.count + result.packets.created) / runSeconds,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
      pathBytes,
      outcomes: result.outcomes,
      virtualSeconds: result.endNs / 1e9,
      series: result.series,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- series summary ----------------------------------------------------------------

const BARS = " ▁▂▃▄▅▆▇█";

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Max per bucket, scaled to `scale`, as a row of block characters. */
function sparkline(v: number[], width: number, scale: number): string {
  if (v.length === 0) return "";
  const per = Math.ceil(v.length / width);
  let s = "";
  for (let i = 0; i < v.length; i += per) {
    let m = 0;
    for (let j = i; j < Math.min(v.length, i + per); j++) m = Math.max(m, v[j]!);
    s += BARS[m === 0 ? 0 : Math.max(1, Math.min(8, Math.ceil((m / Math.max(1, scale)) * 8)))];
  }
  return s;
}

function seriesRow(name: string, v: number[], scale: number): string {
  const sorted = [...v].sort((a, b) => a - b);
  const stats = `min ${quantile(sorted, 0)}  p50 ${quantile(sorted, 0.5)}  p99 ${quantile(sorted, 0.99)}  max ${sorted[sorted.length - 1] ?? 0}`;
  return `  ${name.padEnd(24)} ${stats.padEnd(40)} |${sparkline(v, 60, scale)}| of ${scale}`;
}

function printSeries(s: SeriesResult, ringSizes: { rx: number; tx: number; fill: number; comp: number }, maxPendingTx: number): void {
  const ms = s.intervalNs / 1e6;
  console.log(`\nRing levels per ${ms} ms interval (sampled at the end of each; ${s.t.length} intervals; bars: max per bucket, full = ring size)`);
  for (const b of s.bindings) {
    console.log(` ${b.iface}:${b.queue}`);
    console.log(seriesRow("fill ring (free bufs)", b.fill, ringSizes.fill));
    console.log(seriesRow("rx ring", b.rx, ringSizes.rx));
    console.log(seriesRow("tx ring", b.tx, ringSizes.tx));
    console.log(seriesRow("completion ring", b.comp, ringSizes.comp));
  }
  console.log(" worker");
  console.log(seriesRow("pending_tx_local", s.pendingTxLocal, maxPendingTx));
  console.log(seriesRow("pending_tx_prepared", s.pendingTxPrepared, maxPendingTx));
  console.log(seriesRow("pending_fill", s.pendingFill, ringSizes.fill));
  const peak = Math.max(1, ...s.rxPerInterval, ...s.forwardedPerInterval);
  console.log(seriesRow("rx / interval", s.rxPerInterval, peak));
  console.log(seriesRow("forwarded / interval", s.forwardedPerInterval, peak));
  console.log(seriesRow("dropped / interval", s.droppedPerInterval, peak));
}

// ---- main ----------------------------------------------------------------------------

const argv = process.argv.slice(2);
if (argv[0] === "--one") {
  PPS = Number(argv[4] ?? PPS);
  KIND = argv[5] === "nat" ? "nat" : "routed";
  const mode: Mode = argv[1] === "path" || argv[1] === "null" ? argv[1] : "nopath";
  const r = one(mode, Number(argv[2]), Number(argv[3]));
  process.stdout.write(JSON.stringify(r) + "\n");
} else {
  const packets = Number(argv[0] ?? 1_000_000);
  const flows = Number(argv[1] ?? 10_000);
  PPS = Number(argv[2] ?? PPS);
  KIND = argv[3] === "nat" ? "nat" : "routed";
  const self = fileURLToPath(import.meta.url);
  const results: OneResult[] = [];
  for (const mode of MODES) {
    const r = spawnSync(process.execPath, [...process.execArgv, self, "--one", mode, String(packets), String(flows), String(PPS), KIND], { encoding: "utf8", maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "inherit"] });
    if (r.status !== 0) throw new Error(`bench child (${mode}) exited ${r.status}`);
    results.push(JSON.parse(r.stdout) as OneResult);
  }
  console.log(`Model benchmark (${KIND}): ${packets.toLocaleString("en")} input packets (packets/s counts input + responder replies), ${flows.toLocaleString("en")} flows, ${PPS.toLocaleString("en")} pps, sizes ${SIZES.join("/")}`);
  console.log("| variant | input | created | run s | run CPU s | packets/s | peak RSS MB | path.jsonl MB | generate s | virtual s | outcomes |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
  for (const r of results) {
    const o = Object.entries(r.outcomes).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(", ");
    console.log(`| ${MODE_NAMES[r.mode as Mode]} | ${r.packets} | ${r.created} | ${r.runSeconds.toFixed(2)} | ${r.runCpuSeconds.toFixed(2)} | ${Math.round(r.pps).toLocaleString("en")} | ${Math.round(r.maxRssMB)} | ${(r.pathBytes / 1e6).toFixed(1)} | ${r.genSeconds.toFixed(2)} | ${r.virtualSeconds.toFixed(3)} | ${o} |`);
  }
  const scn = scenario(1, 1, tmpdir());
  printSeries(results[0]!.series, scn.dataplane.rings, scn.dataplane.maxPendingTx);
}
