// Writes the captures of the bundled cases under traces/. The captures are committed;
// this script documents exactly how each was made and re-creates it byte for byte:
//   node dist/scripts/make-traces.js
// `--checksums` instead prints the checksum values the C/D/D′ cases assert, computed by an
// RFC 1071 sum written here, independent of sim/'s incremental code.
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
  // fill-backpressure × 40 in time, for a live run (traces/live/): the phases must stay
  // apart under the pacing a real injector keeps (tens of µs), not the model's µs
  "fill-backpressure-live": () =>
    merge(
      udpStream({ n: 24, gapNs: 40_000, dst: "198.18.1.20", payload: 958 }),
      udpStream({ n: 40, gapNs: 80_000, startNs: 1_200_000, first: 24 }),
      udpStream({ n: 30, gapNs: 800_000, startNs: 8_000_000, first: 64 }),
    ),
  "stall-burst": () => udpStream({ n: 200, gapNs: 5_000 }),
  "steady-fast": () => udpStream({ n: 400, gapNs: 2_000 }),
  // 40 packets to a martian destination, then 20 good ones
  "drops-then-good": () => merge(udpStream({ n: 40, gapNs: 20_000, dst: "127.0.0.1" }), udpStream({ n: 20, gapNs: 20_000, startNs: 800_000, first: 40 })),
  // drops-then-good × 50 in time (1 ms apart), for a live run (traces/live/): a live worker
  // that is off the CPU for a few hundred µs must not see its 16-entry RX ring overflow
  "drops-then-good-live": () => merge(udpStream({ n: 40, gapNs: 1_000_000, dst: "127.0.0.1" }), udpStream({ n: 20, gapNs: 1_000_000, startNs: 40_000_000, first: 40 })),
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
caseOf("live", "skipFillOnBackpressure", "fill-backpressure-live");
caseOf("live", "leakOnDrop", "drops-then-good-live");
caseOf("E", "noRebindAfterCycle", "link-cycle");
caseOf("E", "armedAcrossRebind", "link-cycle");
caseOf("E", "stopWithoutRebind", "link-cycle");

// ---- regression cases of CATALOGUE C, D, D′ (traces/C, traces/D, traces/Dprime) ----
// One topology throughout: lan 198.18.1.0/24 (hosts .10, .11), wan 198.19.2.1/24 with the
// gateway .2, far hosts 198.19.3.3 beyond it. SNAT cases translate lan sources to
// 198.19.2.1; DNAT cases publish 198.19.2.1:5353 (udp) / :8080 (tcp) on lan host .10.

const FAR = "198.19.3.3";
const SNAT_ADDR = "198.19.2.1";

interface L3Opts {
  ttl?: number;
  id?: number;
  df?: boolean;
  frag?: { offset: number; more: boolean; id?: number };
  proto?: number;
}
/** A frame arriving on lan from host .10/.11 (any source given), or on wan from the gateway. */
function onLan(src: string, dst: string, l4: Omit<FrameSpec, "eth" | "ip">, o: L3Opts = {}): Uint8Array {
  return buildFrame({ ...l4, eth: { src: LAN_HOST_MAC, dst: LAN_MAC }, ip: { version: 4, src, dst, ttl: o.ttl ?? 64, id: o.id ?? 1, df: o.df ?? true, ...(o.frag ? { frag: o.frag } : {}), ...(o.proto !== undefined ? { proto: o.proto } : {}) } });
}
function onWan(src: string, dst: string, l4: Omit<FrameSpec, "eth" | "ip">, o: L3Opts = {}): Uint8Array {
  return buildFrame({ ...l4, eth: { src: WAN_GW_MAC, dst: WAN_MAC }, ip: { version: 4, src, dst, ttl: o.ttl ?? 64, id: o.id ?? 1, df: o.df ?? true, ...(o.frag ? { frag: o.frag } : {}), ...(o.proto !== undefined ? { proto: o.proto } : {}) } });
}
const at = (t: number, iface: "lan" | "wan", frame: Uint8Array): Pkt => ({ t, iface, frame });

/** The forwarded copy of the client's query in dnat-udp (as the lan host received it): what its ICMP error quotes. */
function dnatQueryAsForwarded(): Uint8Array {
  return onLan(FAR, "198.18.1.10", { udp: { sport: 40000, dport: 53 }, payload: payload(20, 1) }, { ttl: 63, id: 0x3001 });
}

export const NAT_CAPTURES: Record<string, () => Pkt[]> = {
  // two lan hosts, same source port, same server and port: the second must not share the reply tuple
  "snat-same-port": () => [
    at(0, "lan", onLan("198.18.1.10", FAR, { udp: { sport: 40000, dport: 53 }, payload: payload(20, 0) }, { id: 0x1000 })),
    at(20_000, "lan", onLan("198.18.1.11", FAR, { udp: { sport: 40000, dport: 53 }, payload: payload(20, 1) }, { id: 0x1001 })),
  ],
  // three datagrams of one flow
  "snat-one-flow": () => [0, 1, 2].map((k) => at(k * 20_000, "lan", onLan("198.18.1.10", FAR, { udp: { sport: 40000, dport: 53 }, payload: payload(20, k) }, { id: 0x1000 + k }))),
  // flows A (.10:40000), B (.11:41000), A again
  "snat-aba": () => [
    at(0, "lan", onLan("198.18.1.10", FAR, { udp: { sport: 40000, dport: 53 }, payload: payload(20, 0) }, { id: 0x1000 })),
    at(20_000, "lan", onLan("198.18.1.11", FAR, { udp: { sport: 41000, dport: 53 }, payload: payload(20, 1) }, { id: 0x1001 })),
    at(40_000, "lan", onLan("198.18.1.10", FAR, { udp: { sport: 40000, dport: 53 }, payload: payload(20, 2) }, { id: 0x1002 })),
  ],
  // one UDP datagram through SNAT (checksum cases); then the same over IPv6 (NAT66 to 2001:2:0:2::1)
  "snat-udp-1": () => [
    at(0, "lan", onLan("198.18.1.10", FAR, { udp: { sport: 40000, dport: 53 }, payload: payload(21, 0) }, { id: 0x1000 })),
    at(20_000, "lan", buildFrame({ eth: { src: LAN_HOST_MAC, dst: LAN_MAC }, ip: { version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:3::3", ttl: 64 }, udp: { sport: 40000, dport: 53 }, payload: payload(21, 0) })),
  ],
  // one UDP datagram to 198.19.3.3:2000 (port-only DNAT to :3000)
  "udp-to-2000": () => [at(0, "lan", onLan("198.18.1.10", FAR, { udp: { sport: 40000, dport: 2000 }, payload: payload(21, 0) }, { id: 0x1000 }))],
  // client query to the DNAT address and the lan server's answer
  "dnat-udp": () => [
    at(0, "wan", onWan(FAR, SNAT_ADDR, { udp: { sport: 40000, dport: 5353 }, payload: payload(20, 1) }, { id: 0x3001 })),
    at(50_000, "lan", onLan("198.18.1.10", FAR, { udp: { sport: 53, dport: 40000 }, payload: payload(40, 2) }, { id: 0x4001 })),
  ],
  // client query to the DNAT address; the lan host answers with ICMP port unreachable quoting
  // it. Then a traceroute probe through SNAT (.10:40001, TTL 2): the wan gateway answers time
  // exceeded to 198.19.2.1, quoting the probe as our router sent it (TTL 1, translated).
  "dnat-udp-unreach": () => {
    const q = dnatQueryAsForwarded().subarray(14, 14 + 28);
    const probeOut = onLan(SNAT_ADDR, FAR, { udp: { sport: 40001, dport: 33434 }, payload: payload(12, 2) }, { ttl: 1, id: 0x1002, df: false });
    return [
      at(0, "wan", onWan(FAR, SNAT_ADDR, { udp: { sport: 40000, dport: 5353 }, payload: payload(20, 1) }, { id: 0x3001 })),
      at(50_000, "lan", onLan("198.18.1.10", FAR, { icmp: { type: 3, code: 3, quote: q } }, { id: 0x4001, df: false })),
      at(100_000, "lan", onLan("198.18.1.10", FAR, { udp: { sport: 40001, dport: 33434 }, payload: payload(12, 2) }, { ttl: 2, id: 0x1002, df: false })),
      at(150_000, "wan", onWan("198.19.2.2", SNAT_ADDR, { icmp: { type: 11, code: 0, quote: probeOut.subarray(14, 14 + 28) } }, { id: 0x5001, df: false })),
    ];
  },
  // client query; the lan server's 1508-byte answer in two fragments (DF clear)
  "dnat-udp-frag-reply": () => {
    // UDP header (8) + 1500 payload bytes; fragments of 1400 and 108 bytes of IP payload
    const whole = onLan("198.18.1.10", FAR, { udp: { sport: 53, dport: 40000 }, payload: payload(1500, 3) }, { id: 0x4001, df: false });
    const l4 = whole.subarray(14 + 20);
    const f1 = onLan("198.18.1.10", FAR, { payload: l4.subarray(0, 1400) }, { id: 0x4001, df: false, proto: 17, frag: { offset: 0, more: true } });
    const f2 = onLan("198.18.1.10", FAR, { payload: l4.subarray(1400) }, { id: 0x4001, df: false, proto: 17, frag: { offset: 1400, more: false } });
    return [
      at(0, "wan", onWan(FAR, SNAT_ADDR, { udp: { sport: 40000, dport: 5353 }, payload: payload(20, 1) }, { id: 0x3001 })),
      at(50_000, "lan", f1),
      at(52_000, "lan", f2),
    ];
  },
  // TCP through DNAT :8080 → .10:80: handshake, a stray RST from the client, then the server's data
  "dnat-tcp-rst": () => [
    at(0, "wan", onWan(FAR, SNAT_ADDR, { tcp: { sport: 40000, dport: 8080, seq: 1000, flags: "S" } }, { id: 0x3001 })),
    at(20_000, "lan", onLan("198.18.1.10", FAR, { tcp: { sport: 80, dport: 40000, seq: 5000, ack: 1001, flags: "SA" } }, { id: 0x4001 })),
    at(40_000, "wan", onWan(FAR, SNAT_ADDR, { tcp: { sport: 40000, dport: 8080, seq: 1001, ack: 5001, flags: "A" } }, { id: 0x3002 })),
    at(60_000, "wan", onWan(FAR, SNAT_ADDR, { tcp: { sport: 40000, dport: 8080, seq: 1001, ack: 5001, flags: "R" } }, { id: 0x3003 })),
    at(80_000, "lan", onLan("198.18.1.10", FAR, { tcp: { sport: 80, dport: 40000, seq: 5001, ack: 1001, flags: "PA" }, payload: payload(30, 4) }, { id: 0x4002 })),
  ],
  // a small datagram, then one of 1428 bytes (IP) with DF set, over the wan MTU of 1400
  "udp-over-mtu": () => [
    at(0, "lan", onLan("198.18.1.10", FAR, { udp: { sport: 40000, dport: 53 }, payload: payload(100, 0) }, { id: 0x1000 })),
    at(20_000, "lan", onLan("198.18.1.10", FAR, { udp: { sport: 40000, dport: 53 }, payload: payload(1400, 1) }, { id: 0x1001 })),
  ],
  // a UDP query through SNAT and the server's answer to 198.19.2.1:40000
  "snat-udp-reply": () => [
    at(0, "lan", onLan("198.18.1.10", FAR, { udp: { sport: 40000, dport: 53 }, payload: payload(20, 0) }, { id: 0x1000 })),
    at(50_000, "wan", onWan(FAR, SNAT_ADDR, { udp: { sport: 53, dport: 40000 }, payload: payload(40, 1) }, { id: 0x2000 })),
  ],
  // TCP A (.10:40000 → :80) set up and reset by the client (CLOSE); B (.11:40000) opens to
  // the same server and port; then a late segment of A's server arrives at 198.19.2.1:40000.
  // B's SYN sequence (50) is below A's (101): Linux ≥ 6.4's nf_nat_used_tuple_harder evicts a
  // closing SNAT entry only when the new SYN's sequence has advanced past it, so on Linux
  // too A keeps its tuple and B must take 40001.
  "snat-tcp-close-reuse": () => [
    at(0, "lan", onLan("198.18.1.10", FAR, { tcp: { sport: 40000, dport: 80, seq: 100, flags: "S" } }, { id: 0x1000 })),
    at(20_000, "wan", onWan(FAR, SNAT_ADDR, { tcp: { sport: 80, dport: 40000, seq: 900, ack: 101, flags: "SA" } }, { id: 0x2000 })),
    at(40_000, "lan", onLan("198.18.1.10", FAR, { tcp: { sport: 40000, dport: 80, seq: 101, ack: 901, flags: "A" } }, { id: 0x1001 })),
    at(60_000, "lan", onLan("198.18.1.10", FAR, { tcp: { sport: 40000, dport: 80, seq: 101, ack: 901, flags: "R" } }, { id: 0x1002 })),
    at(80_000, "lan", onLan("198.18.1.11", FAR, { tcp: { sport: 40000, dport: 80, seq: 50, flags: "S" } }, { id: 0x1100 })),
    at(100_000, "wan", onWan(FAR, SNAT_ADDR, { tcp: { sport: 80, dport: 40000, seq: 901, ack: 101, flags: "PA" }, payload: payload(30, 5) }, { id: 0x2001 })),
  ],
  // SYN through SNAT to 198.19.2.7, an on-link wan host whose neighbour entry resolves at
  // 100 µs (the SYN is held until then); its SYN-ACK at 300 µs
  "snat-cold-neighbor": () => [
    at(0, "lan", onLan("198.18.1.10", "198.19.2.7", { tcp: { sport: 40000, dport: 80, seq: 100, flags: "S" } }, { id: 0x1000 })),
    at(300_000, "wan", onWan("198.19.2.7", SNAT_ADDR, { tcp: { sport: 80, dport: 40000, seq: 900, ack: 101, flags: "SA" } }, { id: 0x2000 })),
  ],
  // snat-udp-1's datagram as a sender with TX checksum offload hands it over
  // (CHECKSUM_PARTIAL): the UDP field holds the folded, uncomplemented pseudo-header sum
  "snat-udp-1-partial": () => {
    const f = Uint8Array.from(NAT_CAPTURES["snat-udp-1"]!()[0]!.frame);
    const p = ocSum([198, 18, 1, 10, 198, 19, 3, 3, 0, 17, f[38]!, f[39]!]);
    f[40] = p >> 8;
    f[41] = p & 0xff;
    return [at(0, "lan", f)];
  },
};

/** Four UDP queries .10:40000 → FAR:53 (one per 50 µs) through SNAT, each answered 20 µs later to 198.19.2.1:40000. */
function snatUdpExchange(): Pkt[] {
  const out: Pkt[] = [];
  for (let k = 0; k < 4; k++) {
    out.push(at(k * 50_000, "lan", onLan("198.18.1.10", FAR, { udp: { sport: 40000, dport: 53 }, payload: payload(20, k) }, { id: 0x1000 + k })));
    out.push(at(k * 50_000 + 20_000, "wan", onWan(FAR, SNAT_ADDR, { udp: { sport: 53, dport: 40000 }, payload: payload(40, k) }, { id: 0x2000 + k })));
  }
  return out;
}
NAT_CAPTURES["snat-udp-exchange"] = snatUdpExchange;
caseOf("A", "ignoreSessionMap", "snat-udp-exchange");
caseOf("D", "partialCsumAsFull", "snat-udp-1-partial");
caseOf("C", "replyMissGoesToKernel", "snat-udp-reply");
caseOf("C", "reverseIndexOverwrite", "snat-tcp-close-reuse");
caseOf("C", "sessionAfterNeighbor", "snat-cold-neighbor");
caseOf("C", "snatPortCollision", "snat-same-port");
caseOf("C", "tupleFromMutatedFrame", "snat-one-flow");
caseOf("C", "portsFromStaleFrame", "snat-aba");
caseOf("C", "noReverseIndex", "dnat-udp");
caseOf("C", "embeddedIcmpNoSwap", "dnat-udp-unreach");
caseOf("C", "rstTearsDown", "dnat-tcp-rst");
caseOf("D", "signFlippedDelta", "snat-udp-1");
caseOf("D", "portOnlyNatNoCsum", "udp-to-2000");
caseOf("Dprime", "ignoreMtu", "udp-over-mtu");
caseOf("Dprime", "fragmentsLoseSession", "dnat-udp-frag-reply");

// Checksums the D cases assert, computed here by a plain RFC 1071 sum over the bytes a
// correct router would emit (not by sim/'s incremental code): `node dist/scripts/make-traces.js --checksums`.
function ocSum(b: ArrayLike<number>, acc = 0): number {
  for (let i = 0; i < b.length; i += 2) acc += ((b[i] ?? 0) << 8) + (b[i + 1] ?? 0);
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return acc;
}
/** UDP checksum over an IPv4 UDP segment with the given addresses (field taken as 0). */
function udpChecksum4(src: number[], dst: number[], seg: Uint8Array): number {
  const s = Uint8Array.from(seg);
  s[6] = 0;
  s[7] = 0;
  const c = ~ocSum(s, ocSum([...src, ...dst, 0, 17, s.length >> 8, s.length & 0xff])) & 0xffff;
  return c === 0 ? 0xffff : c;
}
/** RFC 1624 eqn. 3 with HC not complemented: the documented signFlippedDelta arithmetic. */
function flippedUpdate(hc: number, m: number, m2: number): number {
  return ~ocSum([hc >> 8, hc & 0xff, (~m >> 8) & 0xff, ~m & 0xff, m2 >> 8, m2 & 0xff]) & 0xffff;
}
export function expectedChecksums(): Record<string, string> {
  const hex = (v: number): string => v.toString(16).padStart(4, "0");
  const out: Record<string, string> = {};
  const snat = NAT_CAPTURES["snat-udp-1"]!()[0]!.frame;
  const seg = snat.subarray(34);
  out["snat-udp-1 input udp csum"] = hex((seg[6]! << 8) | seg[7]!);
  out["snat-udp-1 correct udp csum after SNAT"] = hex(udpChecksum4([198, 19, 2, 1], [198, 19, 3, 3], seg));
  // the two changed source words, in header order: c612→c613, 010a→0201
  const hc = (seg[6]! << 8) | seg[7]!;
  out["snat-udp-1 signFlippedDelta udp csum"] = hex(flippedUpdate(flippedUpdate(hc, 0xc612, 0xc613), 0x010a, 0x0201));
  // CHECKSUM_PARTIAL: the field is the pseudo-header sum P; the segment sum with the field
  // zeroed is S. Healthy: P gets the address deltas D (pseudo-header words only) and the
  // software completion gives ~(S + P + D) — a full checksum over the translated packet.
  // partialCsumAsFull: the field is updated as a complete checksum, ~(~P + D) = P − D, then
  // completed: ~(S + P − D).
  const pf = NAT_CAPTURES["snat-udp-1-partial"]!()[0]!.frame;
  const P = (pf[40]! << 8) | pf[41]!;
  out["snat-udp-1-partial input field (pseudo-header sum)"] = hex(P);
  const segZ = Uint8Array.from(pf.subarray(34));
  segZ[6] = 0;
  segZ[7] = 0;
  const S = ocSum(segZ);
  const D = ocSum([0xc613, (~0xc612) & 0xffff, 0x0201, (~0x010a) & 0xffff].flatMap((w) => [w >> 8, w & 0xff]));
  const fin = (v: number): number => (v === 0 ? 0xffff : v);
  out["snat-udp-1-partial healthy completed csum"] = hex(fin(~ocSum([S >> 8, S & 0xff, P >> 8, P & 0xff, D >> 8, D & 0xff]) & 0xffff));
  const pMinusD = ocSum([P >> 8, P & 0xff, (~D >> 8) & 0xff, ~D & 0xff]);
  out["snat-udp-1-partial partialCsumAsFull csum"] = hex(fin(~ocSum([S >> 8, S & 0xff, pMinusD >> 8, pMinusD & 0xff]) & 0xffff));
  // IPv6: words 3 (0001→0002) and 7 (0010→0001) of the source change
  const v6 = NAT_CAPTURES["snat-udp-1"]!()[1]!.frame;
  const seg6 = Uint8Array.from(v6.subarray(54));
  const hc6 = (seg6[6]! << 8) | seg6[7]!;
  const a6 = (w3: number, w7: number): number[] => [0x20, 0x01, 0, 2, 0, 0, w3 >> 8, w3 & 0xff, 0, 0, 0, 0, 0, 0, w7 >> 8, w7 & 0xff];
  const z6 = Uint8Array.from(seg6);
  z6[6] = 0;
  z6[7] = 0;
  const c6 = ~ocSum(z6, ocSum([...a6(2, 1), ...a6(3, 3), 0, 0, z6.length >> 8, z6.length & 0xff, 0, 0, 0, 17])) & 0xffff;
  out["snat-udp-1 v6 input udp csum"] = hex(hc6);
  out["snat-udp-1 v6 correct udp csum after NAT66"] = hex(c6 === 0 ? 0xffff : c6);
  out["snat-udp-1 v6 signFlippedDelta udp csum"] = hex(flippedUpdate(flippedUpdate(hc6, 0x0001, 0x0002), 0x0010, 0x0001));
  const po = NAT_CAPTURES["udp-to-2000"]!()[0]!.frame;
  const pseg = Uint8Array.from(po.subarray(34));
  out["udp-to-2000 input udp csum"] = hex((pseg[6]! << 8) | pseg[7]!);
  pseg[2] = 3000 >> 8;
  pseg[3] = 3000 & 0xff;
  out["udp-to-2000 correct udp csum after :3000"] = hex(udpChecksum4([198, 18, 1, 10], [198, 19, 3, 3], pseg));
  const col = NAT_CAPTURES["snat-same-port"]!()[1]!.frame;
  const cseg = Uint8Array.from(col.subarray(34));
  cseg[0] = 40001 >> 8;
  cseg[1] = 40001 & 0xff;
  out["snat-same-port 2nd udp csum with sport 40001"] = hex(udpChecksum4([198, 19, 2, 1], [198, 19, 3, 3], cseg));
  return out;
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && path.resolve(process.argv[1]) === self) {
  if (process.argv.includes("--checksums")) {
    for (const [k, v] of Object.entries(expectedChecksums())) process.stdout.write(`${k}: ${v}\n`);
    process.exit(0);
  }
  writeCase(path.join(ROOT, "traces/examples/routed-basic"), "input.pcapng", routedBasic());
  process.stderr.write("wrote traces/examples/routed-basic/input.pcapng\n");
  for (const [dir, cap] of Object.entries(CASES)) {
    writeCase(path.join(ROOT, "traces", dir), "input.pcapng", (CASE_CAPTURES[cap] ?? NAT_CAPTURES[cap])!());
    process.stderr.write(`wrote traces/${dir}/input.pcapng\n`);
  }
}
