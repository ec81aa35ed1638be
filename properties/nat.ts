// The reverse-NAT suite's cases, run on the full simulation: a generated SNAT case (small
// pools, two inside hosts on the same source port, TCP with consistent sequence numbers
// and RST/FIN, UDP request/reply, ICMP echo, ICMP errors from a far router quoting the
// translated packet, IPv4/IPv6, VLAN tags, fragmented replies, over-MTU packets,
// CHECKSUM_PARTIAL frames under generic XDP, a port-only DNAT rule, a cold next hop,
// sometimes the reflect responder) becomes a scenario and an input capture. Replies in
// the capture are addressed to the tuple the request really left with, which only a run
// can tell: the input is built to a fixed point (run, read the egress frames, rebuild the
// replies, run again until the capture stops changing). Judges live in natJudges.ts and
// read observables only. Cold path (plain objects).
import fc from "fast-check";
import { parseScenario } from "../sim/scenario/parse.js";
import type { Scenario } from "../sim/scenario/types.js";
import type { Dataplane } from "../sim/dataplane/dataplane.js";
import { KEY_WORDS, hashKey, invertKey } from "../sim/dataplane/reverseIndex.js";
import { InputPackets } from "../sim/scenario/packets.js";
import { rxQueueFor } from "../sim/scenario/queue.js";
import { buildFrame } from "../sim/packet/build.js";
import type { FrameSpec } from "../sim/packet/build.js";

export interface NatFlowSpec {
  proto: "udp" | "tcp" | "icmp";
  v: 4 | 6;
  host: number;
  remote: number;
  sport: number;
  dport: number;
  vlan: boolean;
}
export type NatEventKind = "send" | "reply" | "rst" | "fin" | "icmpErr" | "fragReply" | "big" | "partial" | "dnat";
export interface NatEventSpec {
  flow: number;
  kind: NatEventKind;
  gapUs: number;
  payload: number;
}
export interface NatCaseSpec {
  /** 0 = SNAT to the interface address with the default range; n > 0 = a pool of one address with n ports. */
  poolPorts: number;
  wanMtu: number;
  /** The next hop resolves this long after the start (a cold neighbour), 0 = known. */
  coldNhUs: number;
  generic: boolean;
  flows: NatFlowSpec[];
  events: NatEventSpec[];
  /** The reflect responder answers every forwarded frame (on top of the captured replies). */
  respond: boolean;
}

export const LAN = 0;
export const WAN = 1;
const POOL4 = "198.19.2.100";
export const POOL_BASE = 20000;
const DNAT_DST = "198.51.100.99";
/** A router beyond the gateway that sends ICMP errors quoting the translated packets. */
const FAR_ROUTER4 = "198.51.100.254";
const FAR_ROUTER6 = "2001:db8::fe";
const host4 = (h: number): string => `198.18.1.${10 + h}`;
const host6 = (h: number): string => `2001:2:0:1::${(0x10 + h).toString(16)}`;
const remote4 = (r: number): string => `198.51.100.${7 + r}`;
const remote6 = (r: number): string => `2001:db8::${(7 + r).toString(16)}`;
const hostMac = (h: number): string => `02:00:00:00:01:${(0x10 + h).toString(16)}`;

/**
 * True when lan frames arrive CHECKSUM_PARTIAL (generic XDP and a `partial` event in the
 * case). Not with the responder: `csumPartial` marks every frame of the interface, and the
 * responder's answers on lan carry full checksums.
 */
export const partialLan = (spec: NatCaseSpec): boolean => spec.generic && !spec.respond && spec.events.some((e) => e.kind === "partial");

/** The scenario as a user would write it; `traffic.pcap` is added when the case is saved. */
export function natScenarioObject(spec: NatCaseSpec, bugs: Record<string, boolean>, name = "fuzz-nat-case"): Record<string, unknown> {
  const neighbors: object[] = [
    { ip: "198.19.2.2", mac: "02:00:00:00:02:02", iface: "wan", ...(spec.coldNhUs > 0 ? { at: `${spec.coldNhUs}us` } : {}) },
    { ip: "2001:2:0:2::2", mac: "02:00:00:00:02:02", iface: "wan" },
  ];
  for (let h = 0; h < 4; h++) neighbors.push({ ip: host4(h), mac: hostMac(h), iface: "lan" }, { ip: host6(h), mac: hostMac(h), iface: "lan" });
  const snat4: Record<string, unknown> = { from: "198.18.1.0/24", egress: "wan", to: "interface" };
  if (spec.poolPorts > 0) Object.assign(snat4, { to: { pool: [POOL4] }, portRange: [POOL_BASE, POOL_BASE + spec.poolPorts - 1] });
  return {
    name,
    seed: 1,
    interfaces: [
      { name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.1.1/24", "2001:2:0:1::1/64"] },
      { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24", "2001:2:0:2::1/64"], mtu: spec.wanMtu },
    ],
    neighbors,
    routes: [
      { prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" },
      { prefix: "::/0", via: "2001:2:0:2::2", iface: "wan" },
    ],
    nat: {
      snat: [snat4, { from: "2001:2:0:1::/64", egress: "wan", to: "interface" }],
      dnat: [{ ingress: "lan", proto: "udp", dst: DNAT_DST, port: 7000, to: DNAT_DST, toPort: 7001 }],
    },
    // Rings and frames far beyond the traffic: this suite is about NAT, not backpressure.
    dataplane: { rings: { rx: 128, tx: 128, fill: 256, comp: 256 }, frames: 512, frameSize: 2048, headroom: 0, batch: 32, maxPendingTx: 256, ...(spec.generic ? { attach: "generic" } : {}) },
    timing: { drainNs: "2ms", seriesNs: "1ms", respondNs: "10us", timerNs: "1ms" },
    traffic: { respond: spec.respond ? "reflect" : "none", csumPartial: partialLan(spec) ? ["lan"] : "none" },
    bugs,
  };
}

// ---- independent frame reading (no sim/ parser) -------------------------------------

export interface Tuple {
  v: 4 | 6;
  proto: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  l3: number;
  l4: number;
  /** Fragment offset (bytes) and more-fragments flag; -1 when not a fragment. */
  fragOff: number;
}
const be16 = (b: Uint8Array, o: number): number => ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
const hex = (b: Uint8Array, o: number, n: number): string => Array.from(b.subarray(o, o + n), (x) => x.toString(16).padStart(2, "0")).join("");

export function readTuple(b: Uint8Array, l3Start?: number): Tuple | null {
  let l3 = l3Start ?? 14;
  if (l3Start === undefined) {
    let et = be16(b, 12);
    while (et === 0x8100 || et === 0x88a8) {
      l3 += 4;
      et = be16(b, l3 - 2);
    }
  }
  const ver = (b[l3] ?? 0) >> 4;
  let proto: number, l4: number, src: string, dst: string, fragOff = -1;
  if (ver === 4) {
    proto = b[l3 + 9]!;
    l4 = l3 + (b[l3]! & 15) * 4;
    src = hex(b, l3 + 12, 4);
    dst = hex(b, l3 + 16, 4);
    const fo = be16(b, l3 + 6);
    if ((fo & 0x3fff) !== 0) fragOff = (fo & 0x1fff) * 8;
  } else if (ver === 6) {
    proto = b[l3 + 6]!;
    l4 = l3 + 40;
    src = hex(b, l3 + 8, 16);
    dst = hex(b, l3 + 24, 16);
    if (proto === 44) {
      fragOff = be16(b, l4 + 2) & 0xfff8;
      proto = b[l4]!;
      l4 += 8;
    }
  } else return null;
  const ports = (proto === 6 || proto === 17) && fragOff <= 0;
  const echo = (proto === 1 || proto === 58) && fragOff <= 0 && (b[l4] === 8 || b[l4] === 0 || b[l4] === 128 || b[l4] === 129);
  return { v: ver as 4 | 6, proto, src, dst, sport: ports ? be16(b, l4) : echo ? be16(b, l4 + 4) : 0, dport: ports ? be16(b, l4 + 2) : 0, l3, l4, fragOff };
}

export function onesSum(b: Uint8Array, o: number, n: number, acc = 0): number {
  for (let i = 0; i + 1 < n; i += 2) acc += be16(b, o + i);
  if (n & 1) acc += (b[o + n - 1] ?? 0) << 8;
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return acc;
}

/** Checks the IPv4 header checksum and the L4 checksum (full recompute) of the packet at l3; fragments: header only. */
export function checksumsOk(b: Uint8Array, l3: number, end = b.length): string | null {
  const t = readTuple(b, l3);
  if (t === null) return "not IP";
  let l4Len: number, pseudo = 0;
  if (t.v === 4) {
    const ihl = (b[l3]! & 15) * 4;
    if (onesSum(b, l3, ihl) !== 0xffff) return "IPv4 header checksum";
    l4Len = Math.min(be16(b, l3 + 2), end - l3) - ihl;
    pseudo = onesSum(b, l3 + 12, 8, t.proto + l4Len);
  } else {
    l4Len = Math.min(40 + be16(b, l3 + 4), end - l3) - (t.l4 - l3);
    pseudo = onesSum(b, l3 + 8, 32, t.proto + l4Len);
  }
  if (t.fragOff >= 0) return null;
  if (t.proto === 17 && t.v === 4 && be16(b, t.l4 + 6) === 0) return null;
  if (t.proto !== 6 && t.proto !== 17 && t.proto !== 1 && t.proto !== 58) return null;
  if (l4Len > end - t.l4) return null; // truncated (a quote): not verifiable
  const s = onesSum(b, t.l4, l4Len, t.proto === 1 ? 0 : pseudo);
  return s === 0xffff ? null : `L4 (proto ${t.proto}) checksum`;
}

// ---- frames of a case ---------------------------------------------------------------

interface FlowRun {
  seq: number;
  ack: number;
  sent: number;
  ipId: number;
}

function flowFrame(f: NatFlowSpec, st: FlowRun, kind: NatEventKind, payload: number): FrameSpec {
  const v4 = f.v === 4;
  const dst = kind === "dnat" ? (v4 ? DNAT_DST : remote6(f.remote)) : v4 ? remote4(f.remote) : remote6(f.remote);
  const spec: FrameSpec = {
    eth: { src: hostMac(f.host), dst: "02:00:00:00:01:01" },
    ip: { version: f.v, src: v4 ? host4(f.host) : host6(f.host), dst, id: st.ipId++ & 0xffff, ...(v4 ? { df: true } : {}) },
    payload: new Uint8Array(kind === "big" ? 1460 : payload).fill(st.sent & 0xff),
  };
  if (f.vlan) spec.vlans = [{ vid: 0 }];
  if (kind === "dnat") spec.udp = { sport: f.sport, dport: 7000 };
  else if (f.proto === "udp") spec.udp = { sport: f.sport, dport: f.dport };
  else if (f.proto === "tcp") {
    const first = st.sent === 0;
    const flags = first ? "S" : kind === "rst" ? "R" : kind === "fin" ? "FA" : (spec.payload?.length ?? 0) > 0 ? "PA" : "A";
    if (first || kind === "rst") spec.payload = new Uint8Array(0);
    spec.tcp = { sport: f.sport, dport: f.dport, seq: st.seq, ack: first ? 0 : st.ack, flags };
    st.seq = (st.seq + (first ? 1 : (spec.payload?.length ?? 0) + (kind === "fin" ? 1 : 0))) >>> 0;
  } else spec.icmp = { type: v4 ? 8 : 128, code: 0, id: f.sport, seq: st.sent };
  st.sent++;
  return spec;
}

/** The far host's answer to the frame that left: addresses, ports (echo id) swapped, built fresh. */
function replyTo(out: Uint8Array, kind: NatEventKind, payload: number, ipId: number): FrameSpec[] {
  const t = readTuple(out)!;
  const ip = (hexs: string): string => (t.v === 4 ? hexs.match(/../g)!.map((x) => parseInt(x, 16)).join(".") : hexs.match(/..../g)!.join(":"));
  const base: FrameSpec = { eth: { src: "02:00:00:00:02:02", dst: "02:00:00:00:02:01" }, ip: { version: t.v, src: ip(t.dst), dst: ip(t.src), id: ipId & 0xffff } };
  if (kind === "icmpErr") {
    const quoteLen = Math.min(out.length - t.l3, t.v === 4 ? 28 + 20 : 48 + 20);
    const quote = out.slice(t.l3, t.l3 + quoteLen);
    // From a router beyond the gateway (not the remote host): its address stays as it is.
    const far: FrameSpec = { ...base, ip: { ...base.ip, src: t.v === 4 ? FAR_ROUTER4 : FAR_ROUTER6 } };
    return [{ ...far, icmp: t.v === 4 ? { type: 11, code: 0, quote } : { type: 1, code: 4, quote } }];
  }
  const pl = new Uint8Array(payload).fill(0x5a);
  if (t.proto === 17) {
    if (kind !== "fragReply") return [{ ...base, udp: { sport: t.dport, dport: t.sport }, payload: pl }];
    // A reply in two fragments: the first carries the UDP header and 24 bytes.
    const whole = buildFrame({ ...base, udp: { sport: t.dport, dport: t.sport }, payload: new Uint8Array(Math.max(payload, 40)).fill(0x5a) });
    const rt = readTuple(whole)!;
    const l4 = whole.slice(rt.l4);
    const fid = 0x4000 + (ipId & 0xfff);
    return [
      { ...base, ip: { ...base.ip, frag: { offset: 0, more: true, id: fid }, proto: 17 }, payload: l4.slice(0, 32) },
      { ...base, ip: { ...base.ip, frag: { offset: 32, more: false, id: fid }, proto: 17 }, payload: l4.slice(32) },
    ];
  }
  if (t.proto === 6) {
    const seq = ((out[t.l4 + 8]! << 24) | (out[t.l4 + 9]! << 16) | (out[t.l4 + 10]! << 8) | out[t.l4 + 11]!) >>> 0;
    return [{ ...base, tcp: { sport: t.dport, dport: t.sport, seq: 0x3000_0000, ack: (seq + 1) >>> 0, flags: "A" }, payload: pl }];
  }
  return [{ ...base, icmp: { type: t.v === 4 ? 0 : 129, code: 0, id: t.sport, seq: be16(out, t.l4 + 6) }, payload: pl }];
}

/** The session table / reverse index invariants, read off the table dump. */
export function indexFault(dp: Dataplane): string | null {
  const st = dp.nat.sessions;
  const live = st.liveIds();
  const seen = new Map<string, number>();
  const k = new Uint32Array(KEY_WORDS);
  for (const sid of live) {
    const b = sid * KEY_WORDS;
    for (const [col, kind] of [[st.orig, 0], [st.reply, 1]] as const) {
      const key = Array.from(col.subarray(b, b + KEY_WORDS)).join(",");
      if (seen.has(key) && seen.get(key) !== sid) return `sessions ${seen.get(key)} and ${sid} share the tuple ${key}`;
      seen.set(key, sid);
      k.set(col.subarray(b, b + KEY_WORDS));
      const v = st.wire.find(k, 0, hashKey(k, 0));
      if (v !== sid * 4 + kind) return `session ${sid}'s ${kind ? "reply" : "original"} tuple is indexed as ${v}`;
    }
    invertKey(st.orig, b, k, 0);
    if (st.canon.find(k, 0, hashKey(k, 0)) !== sid * 4 + 2) return `session ${sid}'s reverse canonical key is missing`;
  }
  for (const v of st.wire.values()) if (!st.isLive(v >>> 2)) return `index entry ${v} names removed session ${v >>> 2}`;
  for (const v of st.canon.values()) if (!st.isLive(v >>> 2)) return `canonical entry ${v} names removed session ${v >>> 2}`;
  if (st.wire.count !== live.length * 2) return `index holds ${st.wire.count} entries for ${live.length} live sessions`;
  return null;
}


/** A captured reply arrives at least this long after the request it answers left. */
export const REPLY_RTT_NS = 10_000;
/** Kinds of lan events whose translated frame a later reply answers. */
const ANSWERED = new Set<NatEventKind>(["send", "fin", "partial"]);
const isReply = (k: NatEventKind): boolean => k === "reply" || k === "icmpErr" || k === "fragReply";

export interface NatInput {
  input: InputPackets;
  /** Event index → input index of its lan frame (lan events only). */
  lanFrame: Map<number, number>;
  /** The reply frames' bytes, hex: equal keys mean the same capture. */
  replyKey: string;
}

/**
 * The case's input capture. `answered(k)` is the frame lan event k left with (from a
 * previous run), or null when it did not leave; a reply event answers its flow's last lan
 * send that left, and is skipped when there is none.
 */
export function buildNatInput(spec: NatCaseSpec, answered: (ev: number) => { bytes: Uint8Array; t: number } | null): NatInput {
  const input = new InputPackets();
  const lanFrame = new Map<number, number>();
  const flows: FlowRun[] = spec.flows.map((_, i) => ({ seq: (0x1000_0000 + i * 0x0101_0101) >>> 0, ack: 0x3000_0001, sent: 0, ipId: 0x100 * (i + 1) }));
  const partial = partialLan(spec);
  const frames: Array<{ b: Uint8Array; t: number; iface: number; ev: number }> = [];
  let replyKey = "";
  let t = 0;
  // Run time 0 is the first frame, always the first lan frame (a reply needs one before it).
  let t0Lan = -1;
  spec.events.forEach((ev, k) => {
    if (spec.flows.length === 0) return;
    t += ev.gapUs * 1000;
    const fi = ev.flow % spec.flows.length;
    const f = spec.flows[fi]!;
    if (isReply(ev.kind)) {
      // The flow's last send that left, searched backwards over its earlier sends.
      let out: { bytes: Uint8Array; t: number } | null = null;
      for (let j = k - 1; j >= 0 && out === null; j--) {
        const e = spec.events[j]!;
        if (e.flow % spec.flows.length === fi && ANSWERED.has(e.kind)) out = answered(j);
      }
      if (out === null) return;
      const kind = ev.kind === "fragReply" && f.proto !== "udp" ? "reply" : ev.kind;
      // Not before the request left plus a round trip (a reply cannot overtake its request).
      const at = Math.max(t, t0Lan + out.t + REPLY_RTT_NS);
      for (const fs of replyTo(out.bytes, kind, ev.payload, 0x4000 + k)) {
        const b = buildFrame(fs);
        replyKey += `${k}@${at}:${hex(b, 0, b.length)};`;
        frames.push({ b, t: at, iface: WAN, ev: -1 });
      }
      return;
    }
    const kind = ev.kind === "dnat" && (f.proto !== "udp" || f.v !== 4) ? "send" : ev.kind;
    const b = buildFrame(flowFrame(f, flows[fi]!, kind, ev.payload));
    if (partial) makePartial(b);
    if (t0Lan < 0) t0Lan = t;
    frames.push({ b, t, iface: LAN, ev: k });
  });
  frames.sort((a, b) => a.t - b.t); // stable: replies keep their order
  const t0 = frames.length ? frames[0]!.t : 0;
  frames.forEach((x, n) => {
    input.push(x.b, x.t - t0, x.iface, rxQueueFor(x.b, 0, x.b.length, 1), n);
    if (x.ev >= 0) lanFrame.set(x.ev, n);
  });
  return { input, lanFrame, replyKey };
}

/** CHECKSUM_PARTIAL (TCP/UDP only): the L4 field holds the folded pseudo-header sum, uncomplemented. */
function makePartial(frame: Uint8Array): void {
  const tp = readTuple(frame);
  if (tp === null || (tp.proto !== 6 && tp.proto !== 17)) return;
  const len = frame.length - tp.l4;
  const sum = tp.v === 4 ? onesSum(frame, tp.l3 + 12, 8, tp.proto + len) : onesSum(frame, tp.l3 + 8, 32, tp.proto + len);
  const at = tp.l4 + (tp.proto === 6 ? 16 : 6);
  frame[at] = sum >> 8;
  frame[at + 1] = sum & 0xff;
}

// ---- generators ---------------------------------------------------------------------

const natFlowArb: fc.Arbitrary<NatFlowSpec> = fc.record({
  proto: fc.constantFrom("udp" as const, "tcp" as const, "icmp" as const),
  v: fc.oneof({ weight: 3, arbitrary: fc.constant(4 as const) }, { weight: 1, arbitrary: fc.constant(6 as const) }),
  host: fc.integer({ min: 0, max: 3 }),
  remote: fc.integer({ min: 0, max: 1 }),
  // A small set of source ports, so two inside hosts collide on purpose.
  sport: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(20000, 20001, 40000) }, { weight: 1, arbitrary: fc.integer({ min: 1024, max: 65535 }) }),
  dport: fc.constantFrom(53, 80, 443),
  vlan: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

const natEventArb: fc.Arbitrary<NatEventSpec> = fc.record({
  flow: fc.nat(5),
  kind: fc.oneof(
    { weight: 6, arbitrary: fc.constant("send" as const) },
    { weight: 5, arbitrary: fc.constant("reply" as const) },
    { weight: 1, arbitrary: fc.constant("rst" as const) },
    { weight: 1, arbitrary: fc.constant("fin" as const) },
    { weight: 2, arbitrary: fc.constant("icmpErr" as const) },
    { weight: 1, arbitrary: fc.constant("fragReply" as const) },
    { weight: 1, arbitrary: fc.constant("big" as const) },
    { weight: 1, arbitrary: fc.constant("partial" as const) },
    { weight: 1, arbitrary: fc.constant("dnat" as const) },
  ),
  gapUs: fc.integer({ min: 0, max: 200 }),
  payload: fc.integer({ min: 0, max: 200 }),
});

const generalNatArb: fc.Arbitrary<NatCaseSpec> = fc.record({
  poolPorts: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
  wanMtu: fc.constantFrom(1500, 1400, 1280),
  coldNhUs: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 50, max: 2000 }) }),
  generic: fc.boolean(),
  flows: fc.array(natFlowArb, { minLength: 1, maxLength: 6 }),
  events: fc.array(natEventArb, { minLength: 1, maxLength: 40 }),
  respond: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

const ev = (flow: number, kind: NatEventKind, gapUs: number, payload: number): NatEventSpec => ({ flow, kind, gapUs, payload });

/** Two inside hosts on one source port to one server; the first closes with a RST before the second opens, and still gets replies. */
const closingReuseArb: fc.Arbitrary<NatCaseSpec> = fc
  .record({ base: generalNatArb, flow: natFlowArb, other: fc.integer({ min: 1, max: 3 }), gap: fc.integer({ min: 0, max: 100 }), payload: fc.integer({ min: 0, max: 100 }) })
  .map(({ base, flow, other, gap, payload }) => {
    const a: NatFlowSpec = { ...flow, proto: "tcp" };
    const b: NatFlowSpec = { ...a, host: (a.host + other) % 4 };
    return { ...base, coldNhUs: 0, flows: [a, b], events: [ev(0, "send", 0, 0), ev(0, "reply", gap, 0), ev(0, "send", gap, payload), ev(0, "rst", gap, 0), ev(1, "send", gap, 0), ev(0, "reply", gap, payload), ev(1, "reply", gap, payload)] };
  });

/** A UDP request to a pool address whose reply comes back in two fragments. */
const poolFragArb: fc.Arbitrary<NatCaseSpec> = fc
  .record({ base: generalNatArb, flow: natFlowArb, pool: fc.integer({ min: 1, max: 3 }), n: fc.integer({ min: 1, max: 3 }), payload: fc.integer({ min: 40, max: 400 }) })
  .map(({ base, flow, pool, n, payload }) => {
    const events: NatEventSpec[] = [];
    for (let k = 0; k < n; k++) events.push(ev(0, "send", 10, payload), ev(0, "fragReply", 10, payload));
    return { ...base, poolPorts: pool, coldNhUs: 0, flows: [{ ...flow, proto: "udp", v: 4, sport: POOL_BASE + (flow.sport % pool) }], events };
  });

/** Generic XDP behind a sender with TX checksum offload: TCP/UDP lan frames arrive CHECKSUM_PARTIAL, replies follow. */
const partialArb: fc.Arbitrary<NatCaseSpec> = fc
  .record({ base: generalNatArb, flow: natFlowArb, n: fc.integer({ min: 1, max: 3 }), payload: fc.integer({ min: 0, max: 300 }) })
  .map(({ base, flow, n, payload }) => {
    const events: NatEventSpec[] = [];
    for (let k = 0; k < n; k++) events.push(ev(0, "partial", 10, payload), ev(0, "reply", 10, payload));
    return { ...base, generic: true, respond: false, coldNhUs: 0, flows: [{ ...flow, proto: flow.proto === "icmp" ? "udp" : flow.proto }], events };
  });

export const natCaseArb: fc.Arbitrary<NatCaseSpec> = fc.oneof(
  { weight: 6, arbitrary: generalNatArb },
  { weight: 1, arbitrary: partialArb },
  { weight: 1, arbitrary: closingReuseArb },
  { weight: 1, arbitrary: poolFragArb },
);

export function describeNatCase(s: NatCaseSpec): string {
  return `${s.events.length} events over ${s.flows.length} flows (${s.flows.map((f) => `${f.proto}/v${f.v} host ${f.host} :${f.sport}`).join(", ")}); ${s.poolPorts ? `pool of ${s.poolPorts} ports` : "interface SNAT"}, wan MTU ${s.wanMtu}${s.coldNhUs ? `, next hop cold for ${s.coldNhUs} µs` : ""}${s.generic ? `, generic XDP${partialLan(s) ? " with CHECKSUM_PARTIAL lan frames" : ""}` : ""}${s.respond ? ", reflect responder" : ""}`;
}

