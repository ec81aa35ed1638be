// Live forwarding rate (issue 7): in one run, on the lab's veth topology (one DUT
// namespace, one far side per interface, live/topology.ts), the same generated input
// (lan → wan, one frame size at a time) is injected back to back (xdplab-pktio inject
// --gap-us 0: batches of up to 256 frames through a PACKET_TX_RING, one send() each) through
//   (a) bare   — native/xskfwd: two copy-mode AF_XDP sockets, RX → other side's TX with
//                the MACs rewritten, nothing else (libxdp's default XDP program);
//   (b) worker — the shim + native worker exactly as `xdplab live --as-fast-as-possible`
//                runs it (live/run.ts runLive), routed (and NAT when live accepts it);
//   (c) model  — the same frames through the model (sim/run.ts Sim, null sink), once
//                offered at the rate the live run's DUT actually saw, once saturated.
// Rate = frames captured on the wan far side / (last capture time − first capture time).
// Needs root. Every namespace carries the harness's per-run prefix and is removed at the
// end of each measurement, also on error (Topology.destroy / runLive's finally).
// Run: npx tsc -p . && make -C native/xskfwd && node dist/bench/live.js [--frames N] [--sizes 64,1514] [--json FILE]
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { EnvironmentError, UsageError, XdplabError } from "../sim/errors.js";
import { parseScenario } from "../sim/scenario/parse.js";
import { generateTraffic } from "../sim/scenario/generator.js";
import type { Scenario } from "../sim/scenario/types.js";
import type { InputPackets } from "../sim/scenario/input.js";
import { Sim } from "../sim/run.js";
import type { RunSink } from "../sim/trace/record.js";
import { formatMac } from "../live/addresses.js";
import { ip, requireRoot } from "../live/exec.js";
import { writeEthernetPcap } from "../live/pcapio.js";
import type { PcapFrame } from "../live/pcapio.js";
import { pktioPath, projectRoot, startCapture } from "../live/pktio.js";
import type { Port } from "../live/pktio.js";
import { preflight } from "../live/preflight.js";
import { liveRefusal, runLive } from "../live/run.js";
import { BPFFS_ROOT, processStartTicks } from "../live/state.js";
import { Topology } from "../live/topology.js";

const MAX_FRAMES = 100_000; // runLive's bound on one live run

// ---------------------------------------------------------------- arguments

interface Args {
  frames: number;
  sizes: number[];
  json: string | null;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { frames: MAX_FRAMES, sizes: [64, 1514], json: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = argv[i + 1];
    if (k === "--help" || k === "-h") {
      process.stdout.write("usage: node dist/bench/live.js [--frames N (1000..100000)] [--sizes 64,1514 (64..1514 each)] [--json FILE]\n");
      process.exit(0);
    }
    if (v === undefined) throw new UsageError(`${k} needs a value`);
    i++;
    if (k === "--frames") {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1000 || n > MAX_FRAMES) throw new UsageError(`--frames expects an integer in 1000..${MAX_FRAMES} (runLive's bound), got '${v}'`);
      a.frames = n;
    } else if (k === "--sizes") {
      const s = v.split(",").map((x) => Number(x));
      if (s.length === 0 || s.some((n) => !Number.isInteger(n) || n < 64 || n > 1514)) throw new UsageError(`--sizes expects a comma-separated list of frame sizes in 64..1514, got '${v}'`);
      a.sizes = s;
    } else if (k === "--json") a.json = v;
    else throw new UsageError(`unknown option ${k} (see --help)`);
  }
  return a;
}

// ---------------------------------------------------------------- scenario and input

const dir = mkdtempSync(path.join(tmpdir(), "xdplab-bench-live-"));
const WAN_NEIGH_MAC = "02:00:00:00:02:02";

/** The routed scenario of bench/model.ts and bench/native.ts, one frame size, UDP only;
 *  with nat: interface SNAT on wan (no responder: live runs have none). */
function scenario(size: number, frames: number, pps: number, nat: boolean): Scenario {
  return parseScenario(
    {
      name: `bench-live-${nat ? "nat" : "routed"}-${size}`,
      seed: 1,
      interfaces: [
        { name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.0.1/16"], mtu: 1500 },
        { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24"], mtu: 1500 },
      ],
      neighbors: [{ ip: "198.19.2.2", mac: WAN_NEIGH_MAC, iface: "wan" }],
      routes: [{ prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" }],
      ...(nat ? { nat: { snat: [{ from: "198.18.0.0/16", egress: "wan", to: "interface" }] } } : {}),
      timing: { seriesNs: "1ms", drainNs: "5ms" },
      traffic: { generator: { flows: 1000, packets: frames, pps, sizes: [size], proto: "udp", dst: "198.19.200.1", src: "198.18.0.0/16" } },
    },
    path.join(dir, "scenario.json"),
    dir,
  );
}

// ---------------------------------------------------------------- figures

interface Drops {
  [counter: string]: number;
}

interface Row {
  size: number;
  what: string;
  offered: number;
  /** Frames per second put in by the injector (pktio send times) or seen arriving by the
   *  DUT (shim events), or offered to the model. */
  inRate: number | null;
  inRateKind: string;
  forwarded: number;
  spanNs: number;
  rate: number;
  /** Far-side kernel counter (ip -s link), when available, as a cross-check of the capture. */
  farRx: number | null;
  drops: Drops;
  note: string;
}

const rateOf = (n: number, spanNs: number): number => (n >= 2 && spanNs > 0 ? (n * 1e9) / spanNs : 0);

function span(ts: readonly number[]): { n: number; spanNs: number } {
  if (ts.length === 0) return { n: 0, spanNs: 0 };
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of ts) {
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  return { n: ts.length, spanNs: hi - lo };
}

/** XDP_STATISTICS counters that count lost frames; tx_ring_empty_descs counts kicks that
 *  found the TX ring empty (no frame lost) and goes to the notes instead. */
const NOT_A_DROP = "tx_ring_empty_descs";

function nonzero(o: Record<string, number>, prefix = ""): Drops {
  const d: Drops = {};
  for (const [k, v] of Object.entries(o)) if (v !== 0 && k !== NOT_A_DROP) d[prefix + k] = v;
  return d;
}

function xdpDrops(stats: ReadonlyArray<Record<string, number | string>>): { drops: Drops; emptyKicks: number } {
  const drops: Drops = {};
  let emptyKicks = 0;
  for (const x of stats)
    for (const [k, v] of Object.entries(x)) {
      if (typeof v !== "number" || k === "queue" || v === 0) continue;
      if (k === NOT_A_DROP) emptyKicks += v;
      else drops[`${String(x["iface"])}.${k}`] = v;
    }
  return { drops, emptyKicks };
}

// ---------------------------------------------------------------- (a) bare forwarder


function xskfwdPath(): string {
  const p = path.join(projectRoot(), "native", "xskfwd", "build", "xdplab-xskfwd");
  if (!existsSync(p)) throw new EnvironmentError(`bench/live needs ${p}; build it with 'make -C native/xskfwd' (scripts/setup.sh does this)`);
  return p;
}

function rxPackets(ns: string, ifname: string): number {
  const j = JSON.parse(ip(ns, ["-s", "-j", "link", "show", "dev", ifname])) as Array<{ stats64?: { rx?: { packets?: number } } }>;
  return j[0]?.stats64?.rx?.packets ?? 0;
}

function lines(child: ChildProcess): { all: string[]; next: (pred: (l: string) => boolean, ms: number) => Promise<string>; stderr: () => string } {
  const all: string[] = [];
  const waiters: Array<() => void> = [];
  let partial = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (c: string) => {
    partial += c;
    let nl: number;
    while ((nl = partial.indexOf("\n")) >= 0) {
      all.push(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
    }
    waiters.splice(0).forEach((w) => w());
  });
  child.stderr?.setEncoding("utf8").on("data", (c: string) => (err += c));
  child.on("close", () => waiters.splice(0).forEach((w) => w()));
  const next = (pred: (l: string) => boolean, ms: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new EnvironmentError(`xdplab-xskfwd: no answer within ${ms} ms${err === "" ? "" : `: ${err.trim()}`}`)), ms);
      const check = (): void => {
        const hit = all.find(pred);
        if (hit !== undefined) {
          clearTimeout(t);
          resolve(hit);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(t);
          reject(new EnvironmentError(`xdplab-xskfwd exited (${child.exitCode ?? child.signalCode}): ${(all.join(" ") + " " + err).trim()}`));
        } else waiters.push(check);
      };
      check();
    });
  return { all, next, stderr: () => err };
}

/** utime + stime of a process in seconds (/proc/<pid>/stat), null when unreadable. */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const st = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
    // fields after the command: state is field 3, utime 14, stime 15 (1-based in proc(5))
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** pktio inject with the arguments runLive uses for --as-fast-as-possible; returns the
 *  REALTIME send time of every frame sent (back to back, pktio stamps once per batch). */
async function injectFast(ports: readonly Port[], input: InputPackets): Promise<{ sent: number; errors: number; sendNs: number[] }> {
  const d = mkdtempSync(path.join(tmpdir(), "xdplab-bench-inject-"));
  try {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < input.count; i++) frames.push(input.frame(i));
    const pcap = path.join(d, "in.pcap");
    writeEthernetPcap(pcap, frames);
    writeFileSync(path.join(d, "ports.txt"), Array.from({ length: input.count }, (_, i) => `${input.iface[i]}\n`).join(""));
    const args = ["inject", ...ports.flatMap((p) => ["--if", `${p.netns}:${p.ifname}`]), "--pcap", pcap, "--ifaces", path.join(d, "ports.txt"), "--max-ms", "20000", "--count", String(input.count), "--gap-us", "0"];
    const child = spawn(pktioPath(), args, { stdio: ["ignore", "pipe", "pipe"] });
    const l = lines(child);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (c) => resolve(c));
    });
    if (code !== 0) throw new EnvironmentError(`xdplab-pktio inject: ${l.stderr().trim() || `exit ${code}`}`);
    const sent: bigint[] = [];
    let errors = 0;
    for (const line of l.all) {
      const w = line.split(" ");
      if (w[0] === "sent") sent.push(BigInt(w[3] ?? "0"));
      else if (w[0] === "error") errors++;
    }
    const base = sent[0] ?? 0n;
    const sendNs = sent.map((t) => Number(t - base));
    return { sent: sendNs.length, errors, sendNs };
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

/** The injector's own ceiling on this topology: the same injection with nothing attached
 *  in the DUT namespace (the DUT's stack drops the frames: ip_forward 0, no addresses). */
async function runInjectorAlone(scn: Scenario, input: InputPackets, log: (s: string) => void): Promise<Row> {
  const topo = Topology.create({ interfaces: scn.interfaces.map((i) => ({ name: i.name, mac: i.mac, mtu: i.mtu })), ipForward: false, file: scn.file });
  try {
    const lan = topo.ifaces.find((i) => i.name === "lan")!;
    const ports: Port[] = topo.ifaces.map((i) => ({ netns: i.peer.netns, ifname: i.peer.name }));
    const rx0 = rxPackets(topo.dutNs, lan.dut.name);
    const inj = await injectFast(ports, input);
    await sleep(100);
    const dutRx = rxPackets(topo.dutNs, lan.dut.name) - rx0;
    const inSpan = span(inj.sendNs);
    log(`  injector alone: lab ${topo.prefix}, ${inj.sent} sent at ${fmt(rateOf(inSpan.n, inSpan.spanNs))} fps`);
    return {
      size: 0,
      what: "injector alone (no XDP on the DUT)",
      offered: input.count,
      inRate: rateOf(inSpan.n, inSpan.spanNs),
      inRateKind: "injector",
      forwarded: 0,
      spanNs: inSpan.spanNs,
      rate: 0,
      farRx: dutRx,
      drops: inj.errors > 0 ? { inject_errors: inj.errors } : {},
      note: `DUT lan rx counter ${dutRx} (the "far rx counter" column of this row)`,
    };
  } finally {
    topo.destroy();
  }
}

async function runBare(scn: Scenario, input: InputPackets, log: (s: string) => void): Promise<Row> {
  const bin = xskfwdPath();
  const topo = Topology.create({ interfaces: scn.interfaces.map((i) => ({ name: i.name, mac: i.mac, mtu: i.mtu })), ipForward: false, file: scn.file });
  let fwd: ChildProcess | null = null;
  let captured: PcapFrame[][] = [];
  try {
    // libxdp pins its dispatcher under $LIBXDP_BPFFS/xdp: the run's own bpffs directory,
    // removed with the topology.
    const bpffs = path.join(BPFFS_ROOT, topo.prefix.slice(0, -1));
    topo.track({ kind: "bpffs", name: bpffs });
    mkdirSync(bpffs, { recursive: true, mode: 0o700 });
    const lan = topo.ifaces.find((i) => i.name === "lan")!;
    const wan = topo.ifaces.find((i) => i.name === "wan")!;
    const args = ["--netns", topo.dutNs, "--a", lan.dut.name, "--a-dmac", formatMac(lan.peer.mac), "--b", wan.dut.name, "--b-dmac", WAN_NEIGH_MAC, "--mode", scn.dataplane.attach, "--max-ms", "120000"];
    // The worker's ring sizes, and a shared UMEM as large as its two (one per binding).
    const dp = scn.dataplane;
    args.push("--rx-ring", String(dp.rings.rx), "--tx-ring", String(dp.rings.tx), "--fill-ring", String(dp.rings.fill), "--comp-ring", String(dp.rings.comp));
    args.push("--frames", String(2 * dp.frames), "--frame-size", String(dp.frameSize));
    fwd = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LIBXDP_BPFFS: bpffs } });
    const ticks = fwd.pid === undefined ? null : processStartTicks(fwd.pid);
    if (fwd.pid !== undefined && ticks !== null) topo.track({ kind: "pid", name: String(fwd.pid), startTicks: ticks });
    const out = lines(fwd);
    const ready = await out.next((l) => l.startsWith("{\"ready\"") || l.startsWith("{\"error\""), 10_000);
    if (ready.startsWith("{\"error\"")) throw new EnvironmentError(`xdplab-xskfwd: ${ready}`);
    log(`  bare: lab ${topo.prefix}, xdplab-xskfwd ${ready}`);
    const ports: Port[] = topo.ifaces.map((i) => ({ netns: i.peer.netns, ifname: i.peer.name }));
    const rx0 = rxPackets(wan.peer.netns, wan.peer.name);
    const cap = await startCapture(ports, { timeoutMs: 60_000, direction: "in" });
    let inj: Awaited<ReturnType<typeof injectFast>>;
    try {
      inj = await injectFast(ports, input);
      let last = -1;
      for (let k = 0; k < 100; k++) {
        await sleep(100);
        const n = rxPackets(wan.peer.netns, wan.peer.name);
        if (n === last) break;
        last = n;
      }
    } finally {
      await cap.stop().then(
        (f) => (captured = f),
        () => undefined,
      );
    }
    const farRx = rxPackets(wan.peer.netns, wan.peer.name) - rx0;
    const cpu = cpuSeconds(fwd.pid);
    fwd.kill("SIGTERM");
    const fin = await out.next((l) => l.startsWith("{\"a\""), 10_000);
    const st = JSON.parse(fin) as Record<"a" | "b", { rx: number; tx: number; tx_full_waits: number; drops: Record<string, number> }>;
    const emptyKicks = (st.a.drops[NOT_A_DROP] ?? 0) + (st.b.drops[NOT_A_DROP] ?? 0);
    const wanIdx = scn.interfaces.findIndex((i) => i.name === "wan");
    const wanFrames = captured[wanIdx] ?? [];
    const base = wanFrames[0]?.tNs ?? 0n;
    const got = span(wanFrames.map((f) => Number(f.tNs - base)));
    const inSpan = span(inj.sendNs);
    return {
      size: 0,
      what: "bare AF_XDP forwarder (xskfwd)",
      offered: input.count,
      inRate: rateOf(inSpan.n, inSpan.spanNs),
      inRateKind: "injector",
      // The far veth's rx counter is the forwarded count: at the faster injection the
      // far-side capture socket can fall behind (its receive buffer overflows) and miss
      // frames the veth did deliver; the span stays first → last captured frame.
      forwarded: Math.max(got.n, farRx),
      spanNs: got.spanNs,
      rate: rateOf(Math.max(got.n, farRx), got.spanNs),
      farRx,
      drops: { ...nonzero(st.a.drops, "lan."), ...nonzero(st.b.drops, "wan."), ...(inj.errors > 0 ? { inject_errors: inj.errors } : {}) },
      note: `captured ${got.n} of the ${farRx} the far veth received; xskfwd rx lan ${st.a.rx}, tx wan ${st.b.tx}, tx-ring-full waits ${st.b.tx_full_waits}, tx_ring_empty_descs ${emptyKicks}; xskfwd CPU ${cpu === null ? "?" : `${cpu.toFixed(2)} s (${((cpu * 1e6) / Math.max(1, st.a.rx)).toFixed(1)} µs per frame, user + system, its own process only)`}`,
    };
  } finally {
    if (fwd !== null && fwd.exitCode === null && fwd.signalCode === null) fwd.kill("SIGKILL");
    topo.destroy();
  }
}

// ---------------------------------------------------------------- (b) worker via runLive

async function runWorker(scn: Scenario, input: InputPackets, log: (s: string) => void): Promise<Row> {
  const r = await runLive(scn, input, { asFastAsPossible: true, log: (l) => log(`  worker: ${l}`) });
  const got = span(r.outputs.filter((o) => o.iface === "wan").map((o) => o.tNs));
  const ev = span(r.events.filter((e) => e.iface === "lan").map((e) => e.tsNs));
  const { drops, emptyKicks } = xdpDrops(r.xdpStatistics as unknown as Array<Record<string, number | string>>);
  for (const k of ["dropped", "to_kernel", "pending_tx_full", "reserve_failed"]) if ((r.worker[k] ?? 0) !== 0) drops[`worker.${k}`] = r.worker[k]!;
  for (const [ifc, c] of Object.entries(r.shimCounters)) for (const [k, v] of Object.entries(c)) if (k !== "redirect") drops[`shim.${ifc}.${k}`] = v;
  // What left on wan: IPv4 source = the wan address (SNAT) or still a lan host (routed).
  const wanOut = r.outputs.filter((o) => o.iface === "wan");
  const snatted = wanOut.filter((o) => o.data.length >= 34 && o.data[12] === 0x08 && o.data[13] === 0x00 && o.data[26] === 198 && o.data[27] === 19 && o.data[28] === 2 && o.data[29] === 1).length;
  const errs = r.injected.filter((x) => x.error !== null).length;
  if (errs > 0) drops["inject_errors"] = errs;
  return {
    size: 0,
    what: `native worker + shim (runLive${scn.nat.snat.length > 0 ? ", SNAT" : ""})`,
    offered: input.count,
    inRate: rateOf(ev.n, ev.spanNs),
    inRateKind: `DUT ingress (shim events: ${ev.n}${r.eventsLost > 0 ? `, ${r.eventsLost} lost` : ""})`,
    forwarded: got.n,
    spanNs: got.spanNs,
    rate: rateOf(got.n, got.spanNs),
    farRx: null,
    drops,
    note: `lab ${r.prefix}; worker rx ${r.worker["rx"] ?? 0}, tx submitted ${r.worker["tx_ring_submitted"] ?? 0}, kicks ${r.worker["kicks"] ?? 0}, polls ${r.worker["polls"] ?? 0}, tx_ring_empty_descs ${emptyKicks}; IPv4 source rewritten to 198.19.2.1 in ${snatted} of ${wanOut.length} captured`,
  };
}

// ---------------------------------------------------------------- (c) model

function runModel(scn: Scenario, what: string, kind: string): Row {
  const { input } = generateTraffic(scn);
  const wanIdx = scn.interfaces.findIndex((i) => i.name === "wan");
  let n = 0;
  let first = Infinity;
  let last = -Infinity;
  const sink = {
    wantPath: false,
    path() {},
    frameOut(iface: number, tNs: number) {
      if (iface !== wanIdx) return;
      n++;
      if (tNs < first) first = tNs;
      if (tNs > last) last = tNs;
    },
    kernel() {},
    drop() {},
    series() {},
  } as unknown as RunSink;
  const r = new Sim(scn, input, sink, { seed: scn.seed }).runToEnd();
  const { drops, emptyKicks } = xdpDrops(r.xdpStatistics as unknown as Array<Record<string, number | string>>);
  for (const k of ["dropped", "to_kernel", "in_flight"] as const) if (r.outcomes[k] !== 0) drops[`outcome.${k}`] = r.outcomes[k];
  const sp = n > 0 ? last - first : 0;
  const inSpan = input.count > 1 ? input.tNs[input.count - 1]! - input.tNs[0]! : 0;
  return {
    size: 0,
    what,
    offered: input.count,
    inRate: rateOf(input.count, inSpan),
    inRateKind: kind,
    forwarded: n,
    spanNs: sp,
    rate: rateOf(n, sp),
    farRx: null,
    drops,
    note: `timing: pollNs ${scn.timing.pollNs}, perPacketNs ${scn.timing.perPacketNs}, kickNs ${scn.timing.kickNs}, wan link ${(scn.interfaces[wanIdx]?.linkBps ?? 0) / 1e9} Gb/s; tx_ring_empty_descs ${emptyKicks}`,
  };
}

// ---------------------------------------------------------------- main

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

function table(rows: readonly Row[]): string {
  const out: string[] = [];
  out.push("| frame B | what | offered | in rate (kind) | forwarded | span ms | rate fps | Mb/s (L2) | far rx counter | drops (nonzero counters) |");
  out.push("|---:|---|---:|---|---:|---:|---:|---:|---:|---|");
  for (const r of rows) {
    const d = Object.entries(r.drops).map(([k, v]) => `${k} ${fmt(v)}`).join(", ") || "—";
    out.push(`| ${r.size} | ${r.what} | ${fmt(r.offered)} | ${r.inRate === null ? "—" : fmt(r.inRate)} (${r.inRateKind}) | ${fmt(r.forwarded)} | ${(r.spanNs / 1e6).toFixed(1)} | ${fmt(r.rate)} | ${((r.rate * r.size * 8) / 1e6).toFixed(0)} | ${r.farRx === null ? "—" : fmt(r.farRx)} | ${d} |`);
  }
  return out.join("\n") + "\n";
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  requireRoot();
  const pre = preflight();
  if (!pre.ok) throw new EnvironmentError(`not ready: ${pre.problems.join("; ")} (see 'xdplab live --preflight')`);
  xskfwdPath();
  const log = (s: string): void => void process.stderr.write(s + "\n");
  const rows: Row[] = [];
  const ratios: string[] = [];
  const load0 = loadavg().map((x) => x.toFixed(1)).join(" ");
  for (const size of args.sizes) {
    const scn = scenario(size, args.frames, 1_000_000, false);
    const { input } = generateTraffic(scn);
    log(`${size} B: ${input.count} frames lan → wan, injected back to back`);
    const alone = { ...(await runInjectorAlone(scn, input, log)), size };
    rows.push(alone);
    const bare = { ...(await runBare(scn, input, log)), size };
    rows.push(bare);
    log(`  bare: ${fmt(bare.forwarded)} forwarded at ${fmt(bare.rate)} fps`);
    const worker = { ...(await runWorker(scn, input, log)), size };
    rows.push(worker);
    log(`  worker: ${fmt(worker.forwarded)} forwarded at ${fmt(worker.rate)} fps`);
    const natScn = scenario(size, args.frames, 1_000_000, true);
    const natRefusal = liveRefusal(natScn);
    let natRow: Row | null = null;
    if (natRefusal === null) {
      natRow = { ...(await runWorker(natScn, input, log)), size };
      rows.push(natRow);
    } else log(`  NAT: not measured live — ${natRefusal}`);
    // The model: offered at the rate the worker run's DUT saw (shim events), then saturated.
    const seen = worker.inRate !== null && worker.inRate > 0 ? worker.inRate : (bare.inRate ?? 1e6);
    const mSeen = { ...runModel(scenario(size, args.frames, Math.round(seen), false), "model, routed, offered as the worker run saw", "offered"), size };
    const mSat = { ...runModel(scenario(size, args.frames, 100_000_000, false), "model, routed, saturated (100 Mfps offered)", "offered"), size };
    rows.push(mSeen, mSat);
    const mNat = { ...runModel(scenario(size, args.frames, 100_000_000, true), "model, SNAT, saturated (100 Mfps offered)", "offered"), size };
    rows.push(mNat);
    const q = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : "—");
    ratios.push(`${size} B: bare/injector-alone ${q(bare.rate, alone.inRate ?? 0)}; worker/bare ${q(worker.rate, bare.rate)}; model(offered as seen)/worker ${q(mSeen.rate, worker.rate)}; model(saturated)/worker ${q(mSat.rate, worker.rate)}; model(saturated)/bare ${q(mSat.rate, bare.rate)}` +
      (natRow !== null ? `; worker SNAT/routed ${q(natRow.rate, worker.rate)}` : `; NAT live: not measured (${natRefusal})`));
  }
  process.stdout.write(`${args.frames} frames per size, injected back to back (xdplab-pktio inject --gap-us 0, TX ring); load average at start ${load0}, at end ${loadavg().map((x) => x.toFixed(1)).join(" ")}\n\n`);
  process.stdout.write(table(rows));
  process.stdout.write("\nratios (forwarded rate):\n" + ratios.map((r) => `  ${r}\n`).join(""));
  process.stdout.write("notes:\n" + rows.map((r) => `  ${r.size} B ${r.what}: ${r.note}\n`).join(""));
  if (args.json !== null) writeFileSync(args.json, JSON.stringify({ frames: args.frames, sizes: args.sizes, rows, ratios }, null, 1) + "\n");
  return 0;
}

main()
  .then((code) => {
    rmSync(dir, { recursive: true, force: true });
    process.exitCode = code;
  })
  .catch((e: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    if (e instanceof XdplabError) {
      process.stderr.write(`bench/live: ${e.message}\n`);
      process.exitCode = e instanceof UsageError ? 2 : e instanceof EnvironmentError ? 3 : 1;
    } else {
      process.stderr.write(`bench/live: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 4;
    }
  });
