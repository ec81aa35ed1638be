// Writes the captures of the bundled cases under traces/. The captures are committed;
// this script documents exactly how each was made and re-creates it byte for byte:
//   node dist/scripts/make-traces.js
import { writeFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { buildFrame, type FrameSpec } from "../sim/packet/build.js";
import { PcapngWriter, memorySink } from "../capture/encode.js";
import { LINKTYPE_ETHERNET } from "../sim/packet/linktypes.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const EPOCH = 1_700_000_000_000_000_000n; // 2023-11-14T22:13:20Z, any fixed instant

export const LAN_MAC = "02:00:00:00:01:01";
export const WAN_MAC = "02:00:00:00:02:01";
export const LAN_HOST_MAC = "02:00:00:00:01:0a";
export const WAN_GW_MAC = "02:00:00:00:02:02";

interface Pkt {
  t: number; // ns from the first packet
  iface: "lan" | "wan";
  frame: Uint8Array;
}

function writeCase(dir: string, file: string, pkts: Pkt[]): void {
  const sink = memorySink();
  const w = new PcapngWriter(sink);
  const ids = { lan: w.addInterface("lan", LINKTYPE_ETHERNET), wan: w.addInterface("wan", LINKTYPE_ETHERNET) };
  for (const p of pkts) w.writePacket(ids[p.iface], EPOCH + BigInt(p.t), p.frame, 0, p.frame.length);
  w.close();
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, file), sink.bytes());
}

function payload(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

/** lan hosts 198.18.1.10.. talking to servers beyond the wan gateway, with replies. */
function fromLan(i: number, spec: Omit<FrameSpec, "eth" | "ip"> & { ip?: Partial<FrameSpec["ip"]> }, host: number, server: string): Uint8Array {
  return buildFrame({ ...spec, eth: { src: LAN_HOST_MAC, dst: LAN_MAC }, ip: { version: 4, src: `198.18.1.${10 + host}`, dst: server, ttl: 64, id: 0x1000 + i, df: true, ...spec.ip } });
}
function fromWan(i: number, spec: Omit<FrameSpec, "eth" | "ip"> & { ip?: Partial<FrameSpec["ip"]> }, host: number, server: string): Uint8Array {
  return buildFrame({ ...spec, eth: { src: WAN_GW_MAC, dst: WAN_MAC }, ip: { version: 4, src: server, dst: `198.18.1.${10 + host}`, ttl: 57, id: 0x2000 + i, df: true, ...spec.ip } });
}

/**
 * routed-basic: 8 lan hosts each with a UDP flow to a server beyond the wan gateway
 * (one 1000-byte datagram every 40 µs per host, answered by a 200-byte reply), 10 ms
 * long; one datagram with TTL 1 and one with DF set that exceeds the wan MTU (1400).
 */
export function routedBasic(): Pkt[] {
  const pkts: Pkt[] = [];
  let i = 0;
  for (let step = 0; step < 250; step++) {
    const host = step % 8;
    const t = step * 40_000;
    const server = `198.19.200.${1 + host}`;
    const sport = 40000 + host;
    const ttl = step === 100 ? 1 : 64;
    const size = step === 150 ? 1440 : 1000;
    pkts.push({ t, iface: "lan", frame: fromLan(i++, { udp: { sport, dport: 443 }, payload: payload(size, step), ip: { ttl } }, host, server) });
    pkts.push({ t: t + 15_000, iface: "wan", frame: fromWan(i++, { udp: { sport: 443, dport: sport }, payload: payload(200, step) }, host, server) });
  }
  return pkts;
}

// ---- regression cases of CATALOGUE A, B, E (traces/<section>/<switch>[-healthy]/) ----
// Each capture is one small lan-side UDP stream; the case's scenario decides what goes
// wrong. Times are ns from the first packet (the model's t = 0), so a fault `at` in a
// scenario lines up with packet indices: packet k of a stream is at start + k·gap.

interface Stream {
  n: number;
  gapNs: number;
  startNs?: number;
  /** Destination: a server beyond the wan gateway by default. */
  dst?: string;
  payload?: number;
  /** Index of the first packet (payload seed and IP ID). */
  first?: number;
}

function udpStream(s: Stream): Pkt[] {
  const out: Pkt[] = [];
  const first = s.first ?? 0;
  for (let k = 0; k < s.n; k++) {
    const i = first + k;
    const frame = fromLan(i, { udp: { sport: 40000, dport: 443 }, payload: payload(s.payload ?? 100, i) }, 0, s.dst ?? "198.19.200.1");
    out.push({ t: (s.startNs ?? 0) + k * s.gapNs, iface: "lan", frame });
  }
  return out;
}

/** Several streams merged in time order (stable: equal times keep stream order). */
function merge(...parts: Pkt[][]): Pkt[] {
  return parts.flat().sort((a, b) => a.t - b.t);
}

/** Capture of every A/B/E case, by case name (both twins of a switch share it). */
export const CASE_CAPTURES: Record<string, () => Pkt[]> = {
  // packet k at 50 µs·k: a fault window [0.99 ms, 1.99 ms) covers packets 20..39
  "binding-gap": () => udpStream({ n: 60, gapNs: 50_000 }),
  steady: () => udpStream({ n: 20, gapNs: 50_000 }),
  // packet k at 75 µs·k: packets 0..13 arrive before the late bring-up at 1 ms
  "arm-early": () => udpStream({ n: 20, gapNs: 75_000 }),
  // 24 hairpin packets (lan→lan, parked on a stalled lan link), 40 into a stalled wan
  // (fills the wan pipeline and pending TX: backpressure), then 30 more, one per 20 µs
  "fill-backpressure": () =>
    merge(
      udpStream({ n: 24, gapNs: 1_000, dst: "198.18.1.20", payload: 958 }),
      udpStream({ n: 40, gapNs: 2_000, startNs: 30_000, first: 24 }),
      udpStream({ n: 30, gapNs: 20_000, startNs: 200_000, first: 64 }),
    ),
  "stall-burst": () => udpStream({ n: 200, gapNs: 5_000 }),
  "steady-fast": () => udpStream({ n: 400, gapNs: 2_000 }),
  // 40 packets to a martian destination, then 20 good ones
  "drops-then-good": () => merge(udpStream({ n: 40, gapNs: 20_000, dst: "127.0.0.1" }), udpStream({ n: 20, gapNs: 20_000, startNs: 800_000, first: 40 })),
  "burst-100": () => udpStream({ n: 100, gapNs: 0 }),
  // 80 packets in 8 µs while the worker is paused, then one at 3 ms
  "zc-dry-then-late": () => merge(udpStream({ n: 80, gapNs: 100 }), udpStream({ n: 1, gapNs: 0, startNs: 3_000_000, first: 80 })),
  // 64 packets while paused, one inside the worker's first cycle (101 µs), one at 3 ms
  "zc-wakeup-race": () =>
    merge(udpStream({ n: 64, gapNs: 1_000 }), udpStream({ n: 1, gapNs: 0, startNs: 101_000, first: 64 }), udpStream({ n: 1, gapNs: 0, startNs: 3_000_000, first: 65 })),
  // packet k at 50 µs·k: a link cycle [0.99, 1.09) ms, rebind 200 µs after it
  "link-cycle": () => udpStream({ n: 60, gapNs: 50_000 }),
};

/** Case directory → capture name (traces/<section>/<switch>[-healthy]). */
export const CASES: Record<string, string> = {};
const caseOf = (section: string, bug: string, capture: string, healthy = true): void => {
  CASES[`${section}/${bug}`] = capture;
  if (healthy) CASES[`${section}/${bug}-healthy`] = capture;
};
caseOf("A", "fallbackDrops", "binding-gap");
caseOf("A", "missingBindingPasses", "binding-gap");
caseOf("A", "staleXskSlot", "steady");
caseOf("A", "abiDrift", "steady");
caseOf("A", "armBeforeBound", "arm-early");
caseOf("A", "circularGate", "steady");
caseOf("B", "skipFillOnBackpressure", "fill-backpressure");
caseOf("B", "unboundedPendingTx", "stall-burst");
caseOf("B", "lazyCompletionReap", "steady-fast");
caseOf("B", "leakOnDrop", "drops-then-good");
caseOf("B", "noTxKick", "burst-100");
caseOf("B", "wakeTxForRx", "zc-dry-then-late");
caseOf("B", "lostWakeup", "zc-wakeup-race");
caseOf("B", "allOrNothingReserve", "steady-fast");
// Without the switch a non-power-of-two ring is refused (exit 2): the twin is a test.
caseOf("B", "nonPow2Rings", "steady", false);
caseOf("B", "emptyFillAtBind", "steady");
caseOf("E", "noRebindAfterCycle", "link-cycle");
caseOf("E", "armedAcrossRebind", "link-cycle");
caseOf("E", "stopWithoutRebind", "link-cycle");

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && path.resolve(process.argv[1]) === self) {
  writeCase(path.join(ROOT, "traces/examples/routed-basic"), "input.pcapng", routedBasic());
  process.stderr.write("wrote traces/examples/routed-basic/input.pcapng\n");
  for (const [dir, cap] of Object.entries(CASES)) {
    writeCase(path.join(ROOT, "traces", dir), "input.pcapng", CASE_CAPTURES[cap]!());
    process.stderr.write(`wrote traces/${dir}/input.pcapng\n`);
  }
}
