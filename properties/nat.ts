// The reverse-NAT suite at the dataplane level: a generated SNAT case (small pools, two
// inside hosts on the same source port, TCP with consistent sequence numbers and RST/FIN,
// UDP request/reply, ICMP echo and errors, IPv4/IPv6, VLAN tags, fragmented replies,
// over-MTU packets, CHECKSUM_PARTIAL frames under generic XDP, a port-only DNAT rule, a
// cold next hop) is run through the shim model and the Dataplane, the way the worker
// does: steering keys published to the shim's session map after every packet, replies
// built by the far host from the frame that really left (addresses and ports swapped).
// Judges see only what a user sees: verdicts, outcomes, output bytes and the session
// table dump — never the bug switches. Cold path (plain objects).
import fc from "fast-check";
import { parseScenario } from "../sim/scenario/parse.js";
import type { Scenario } from "../sim/scenario/types.js";
import { Dataplane, DP_FORWARD, DP_HOLD, DP_ICMP_ERROR, LOOKUP_KIND_NAMES } from "../sim/dataplane/dataplane.js";
import { Shim, ShimMaps, V_REDIRECT } from "../sim/xdp/shim.js";
import { SESSION_KEY_LEN } from "../sim/xdp/maps.js";
import { STEER_ADD } from "../sim/dataplane/session.js";
import { KEY_WORDS, hashKey, invertKey } from "../sim/dataplane/reverseIndex.js";
import { PacketView } from "../sim/packet/view.js";
import { buildFrame } from "../sim/packet/build.js";
import type { FrameSpec } from "../sim/packet/build.js";
import { reasonName } from "../sim/reasons.js";

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
}

const LAN = 0;
const WAN = 1;
const POOL4 = "198.19.2.100";
const POOL_BASE = 20000;
const DNAT_DST = "198.51.100.99";
const host4 = (h: number): string => `198.18.1.${10 + h}`;
const host6 = (h: number): string => `2001:2:0:1::${(0x10 + h).toString(16)}`;
const remote4 = (r: number): string => `198.51.100.${7 + r}`;
const remote6 = (r: number): string => `2001:db8::${(7 + r).toString(16)}`;
const hostMac = (h: number): string => `02:00:00:00:01:${(0x10 + h).toString(16)}`;

export function natScenarioObject(spec: NatCaseSpec, bugs: Record<string, boolean>): Record<string, unknown> {
  const neighbors: object[] = [
    { ip: "198.19.2.2", mac: "02:00:00:00:02:02", iface: "wan", ...(spec.coldNhUs > 0 ? { at: `${spec.coldNhUs}us` } : {}) },
    { ip: "2001:2:0:2::2", mac: "02:00:00:00:02:02", iface: "wan" },
  ];
  for (let h = 0; h < 4; h++) neighbors.push({ ip: host4(h), mac: hostMac(h), iface: "lan" }, { ip: host6(h), mac: hostMac(h), iface: "lan" });
  const snat4: Record<string, unknown> = { from: "198.18.1.0/24", egress: "wan", to: "interface" };
  if (spec.poolPorts > 0) Object.assign(snat4, { to: { pool: [POOL4] }, portRange: [POOL_BASE, POOL_BASE + spec.poolPorts - 1] });
  return {
    name: "fuzz-nat-case",
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
    dataplane: spec.generic ? { attach: "generic" } : {},
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

function onesSum(b: Uint8Array, o: number, n: number, acc = 0): number {
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

// ---- running a case -----------------------------------------------------------------

export interface NatObs {
  ev: number;
  kind: NatEventKind;
  flow: number;
  t: number;
  ingress: number;
  input: Uint8Array;
  /** The shim's verdict was a redirect to the worker (else the kernel took it). */
  toWorker: boolean;
  rc: number;
  reason: string | null;
  lookup: string;
  out: Uint8Array | null;
  /** For replies and errors: the outbound frame (as it left) they answer. */
  answers: Uint8Array | null;
}

export interface NatRun {
  spec: NatCaseSpec;
  scn: Scenario;
  obs: NatObs[];
  /** First violation of the session table / index invariants after any packet or expiry. */
  indexFault: string | null;
  /** Live sessions left after expiring everything far in the future (must be 0, index empty). */
  afterExpiry: string | null;
}

interface FlowRun {
  seq: number;
  ack: number;
  sent: number;
  lastOut: Uint8Array | null;
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
    return [{ ...base, icmp: t.v === 4 ? { type: 3, code: 3, quote } : { type: 1, code: 4, quote } }];
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

const view = new PacketView();

export function runNatCase(spec: NatCaseSpec, bugs: Record<string, boolean>): NatRun {
  const scn = parseScenario(natScenarioObject(spec, bugs), "/fuzz/nat-scenario.json", "/fuzz");
  const dp = new Dataplane(scn);
  const maps = new ShimMaps(scn);
  maps.control.armed = true;
  for (const ifc of scn.interfaces) maps.bindings.set(ifc.index, 0, ifc.index, true);
  const shim = new Shim(scn, maps);
  const key = new Uint8Array(SESSION_KEY_LEN);
  const publish = (): void => {
    const s = dp.nat.sessions;
    for (let i = 0; i < s.steerCount; i++) {
      s.steerKey(i, key);
      if (s.steerOp(i) === STEER_ADD) maps.sessions.addKey(key);
      else maps.sessions.removeKey(key);
    }
    s.steerClear();
  };
  const flows: FlowRun[] = spec.flows.map((_, i) => ({ seq: (0x1000_0000 + i * 0x0101_0101) >>> 0, ack: 0x3000_0001, sent: 0, lastOut: null, ipId: 0x100 * (i + 1) }));
  const run: NatRun = { spec, scn, obs: [], indexFault: null, afterExpiry: null };
  let t = 0;
  const buf = new Uint8Array(4096);
  const process = (k: number, ev: NatEventSpec, fs: FrameSpec, ingress: number, answers: Uint8Array | null): NatObs => {
    const frame = buildFrame(fs);
    if (ev.kind === "partial") {
      // CHECKSUM_PARTIAL: the L4 field holds the folded pseudo-header sum, uncomplemented.
      const tp = readTuple(frame)!;
      const len = frame.length - tp.l4;
      const sum = tp.v === 4 ? onesSum(frame, tp.l3 + 12, 8, tp.proto + len) : onesSum(frame, tp.l3 + 8, 32, tp.proto + len);
      const at = tp.l4 + (tp.proto === 6 ? 16 : 6);
      frame[at] = sum >> 8;
      frame[at + 1] = sum & 0xff;
    }
    const off = 64;
    buf.set(frame, off);
    const verdict = shim.run(buf, off, frame.length, ingress, 0, t);
    const o: NatObs = { ev: k, kind: ev.kind, flow: ev.flow, t, ingress, input: frame, toWorker: verdict === V_REDIRECT, rc: 0, reason: null, lookup: "none", out: null, answers };
    if (o.toWorker) {
      dp.nat.csumPartial = ev.kind === "partial";
      const rc = dp.process(buf, off, frame.length, view, ingress, t);
      dp.nat.csumPartial = false;
      o.rc = rc;
      o.lookup = LOOKUP_KIND_NAMES[dp.lookupKind] ?? "?";
      o.reason = dp.reason ? reasonName(dp.reason) : null;
      if (rc === DP_FORWARD || rc === DP_HOLD) o.out = buf.slice(off, off + dp.newLen);
      else if (rc === DP_ICMP_ERROR) o.out = dp.genBuf.slice(0, dp.genLen);
      publish();
    } else o.reason = shim.reason ? reasonName(shim.reason) : null;
    run.obs.push(o);
    run.indexFault ??= indexFault(dp);
    return o;
  };
  spec.events.forEach((ev, k) => {
    if (spec.flows.length === 0) return;
    t += ev.gapUs * 1000;
    const fi = ev.flow % spec.flows.length;
    const f = spec.flows[fi]!;
    const st = flows[fi]!;
    if (ev.kind === "reply" || ev.kind === "icmpErr" || ev.kind === "fragReply") {
      if (st.lastOut === null) return;
      const kind = ev.kind === "fragReply" && f.proto !== "udp" ? "reply" : ev.kind;
      for (const fs of replyTo(st.lastOut, kind, ev.payload, st.ipId++)) process(k, { ...ev, kind }, fs, WAN, st.lastOut);
      return;
    }
    const kind = ev.kind === "dnat" && (f.proto !== "udp" || f.v !== 4) ? "send" : ev.kind === "partial" && (f.proto === "icmp" || !spec.generic) ? "send" : ev.kind;
    const o = process(k, { ...ev, kind }, flowFrame(f, st, kind, ev.payload), LAN, null);
    // Replies answer the flow's last packet that left towards the remote host.
    if (o.out !== null && o.rc !== DP_ICMP_ERROR && (kind === "send" || kind === "fin" || kind === "partial")) st.lastOut = o.out;
  });
  dp.expireSessions(t + 1e13);
  publish();
  const left = dp.nat.sessions.liveIds().length;
  run.afterExpiry = left > 0 ? `${left} sessions live after every timer ran out` : dp.nat.sessions.wire.count > 0 ? `${dp.nat.sessions.wire.count} index entries left after every session expired` : maps.sessions.count > 0 ? `${maps.sessions.count} steering keys left after every session expired` : null;
  return run;
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

export const natCaseArb: fc.Arbitrary<NatCaseSpec> = fc.oneof(
  { weight: 6, arbitrary: generalNatArb },
  { weight: 1, arbitrary: closingReuseArb },
  { weight: 1, arbitrary: poolFragArb },
);

export function describeNatCase(s: NatCaseSpec): string {
  return `${s.events.length} events over ${s.flows.length} flows (${s.flows.map((f) => `${f.proto}/v${f.v} host ${f.host} :${f.sport}`).join(", ")}); ${s.poolPorts ? `pool of ${s.poolPorts} ports` : "interface SNAT"}, wan MTU ${s.wanMtu}${s.coldNhUs ? `, next hop cold for ${s.coldNhUs} µs` : ""}${s.generic ? ", generic XDP" : ""}`;
}

export { DP_FORWARD, DP_HOLD, DP_ICMP_ERROR };

// ---- judges -------------------------------------------------------------------------

const tkey = (t: Tuple): string => `${t.proto}|${t.src}:${t.sport}>${t.dst}:${t.dport}`;
const fwd = (o: NatObs): boolean => o.out !== null && (o.rc === DP_FORWARD || o.rc === DP_HOLD);
const outbound = (o: NatObs): boolean => o.ingress === LAN && fwd(o);

/** Original tuple → translated tuple of every outbound packet that left. */
function translations(run: NatRun): Array<{ o: NatObs; orig: Tuple; trans: Tuple }> {
  const r: Array<{ o: NatObs; orig: Tuple; trans: Tuple }> = [];
  for (const o of run.obs) {
    if (!outbound(o)) continue;
    const orig = readTuple(o.input);
    const trans = readTuple(o.out!);
    if (orig !== null && trans !== null) r.push({ o, orig, trans });
  }
  return r;
}

export type NatJudge = (run: NatRun) => string | null;

export const NAT_JUDGES: Array<{ name: string; doc: string; judge: NatJudge }> = [
  {
    name: "replyTranslatedBack",
    doc: "a reply (or ICMP error, or each fragment of a reply) to a live session reaches the worker, is forwarded and translated back exactly: destination = the original source (address, port / echo id), source = the remote; an ICMP error's quoted source too",
    judge(run) {
      const byOut = new Map<Uint8Array, NatObs>();
      for (const o of run.obs) if (o.out !== null) byOut.set(o.out, o);
      for (const o of run.obs) {
        if (o.answers === null) continue;
        const orig = readTuple(byOut.get(o.answers)!.input)!;
        const what = `${o.kind} (event ${o.ev}) to ${tkey(readTuple(o.answers)!)} (original ${tkey(orig)})`;
        // The shim steers by 5-tuple: a later fragment to a router address carries no ports
        // and is the kernel's (docs/properties.md); to a pool address it reaches the worker.
        if (!o.toWorker && readTuple(o.input)!.fragOff > 0) continue;
        if (!o.toWorker) return `${what} never reached the worker (shim: ${o.reason})`;
        if (!fwd(o)) return `${what} was not forwarded: ${o.rc === DP_ICMP_ERROR ? "answered with an ICMP error" : `ended ${o.reason}`} (lookup ${o.lookup})`;
        const t = readTuple(o.out!)!;
        if (t.dst !== orig.src) return `${what} forwarded to ${t.dst}, not to ${orig.src}`;
        if (t.src !== orig.dst) return `${what} forwarded from ${t.src}, not from ${orig.dst}`;
        if (o.kind === "icmpErr") {
          const q = readTuple(o.out!, t.l4 + 8);
          if (q === null || q.src !== orig.src || q.sport !== orig.sport || q.dst !== orig.dst) return `${what}: quoted tuple ${q ? tkey(q) : "?"} is not the original`;
          if (q.v === 4 && onesSum(o.out!, q.l3, (o.out![q.l3]! & 15) * 4) !== 0xffff) return `${what}: quoted IPv4 header checksum is wrong`;
        } else if (t.proto === 1 || t.proto === 58) {
          if (t.sport !== orig.sport) return `${what} forwarded with echo id ${t.sport}, original ${orig.sport}`;
        } else if (t.fragOff <= 0 && (t.sport !== orig.dport || t.dport !== orig.sport)) return `${what} forwarded with ports ${t.sport} → ${t.dport}, original ${orig.sport} → ${orig.dport}`;
      }
      return null;
    },
  },
  {
    name: "translationUnique",
    doc: "translated tuples are unique across live sessions (no two flows share one, exhaustion is never a reuse) and a flow keeps its translation for its life",
    judge(run) {
      const owner = new Map<string, string>();
      const of = new Map<string, string>();
      for (const { o, orig, trans } of translations(run)) {
        const ok = tkey(orig);
        const tk = tkey(trans);
        const prev = owner.get(tk);
        if (prev !== undefined && prev !== ok) return `flows ${prev} and ${ok} both leave as ${tk} (event ${o.ev})`;
        owner.set(tk, ok);
        const had = of.get(ok);
        if (had !== undefined && had !== tk) return `flow ${ok} left as ${had}, then as ${tk} (event ${o.ev})`;
        of.set(ok, tk);
      }
      return null;
    },
  },
  {
    name: "sourcePortKept",
    doc: "SNAT keeps the source port (ICMP echo id) when it is in range and the resulting reply tuple is free; exhaustion is a counted drop (snat_exhausted) only when every port of the range is taken",
    judge(run) {
      const taken = new Set<string>();
      const seen = new Set<string>();
      const pool = run.spec.poolPorts;
      const usedPorts = new Map<string, Set<number>>();
      for (const o of run.obs) {
        if (o.ingress !== LAN || o.kind === "dnat") continue;
        const orig = readTuple(o.input);
        if (orig === null) continue;
        const group = `${orig.proto}|${orig.v}|${orig.dst}:${orig.dport}`;
        if (o.reason === "snat_exhausted") {
          const n = usedPorts.get(group)?.size ?? 0;
          if (orig.v === 4 && pool > 0 && n < pool) return `event ${o.ev} (${tkey(orig)}) dropped snat_exhausted with ${n} of ${pool} ports in use`;
          if (pool === 0 || orig.v === 6) return `event ${o.ev} (${tkey(orig)}) dropped snat_exhausted with the whole port range available`;
          continue;
        }
        if (!outbound(o)) continue;
        const trans = readTuple(o.out!)!;
        const ok = tkey(orig);
        if (!seen.has(ok)) {
          seen.add(ok);
          const inRange = orig.v === 6 || pool === 0 ? true : orig.sport >= POOL_BASE && orig.sport < POOL_BASE + pool;
          const wanted = `${trans.proto}|${trans.src}:${orig.sport}>${trans.dst}:${trans.dport}`;
          if (inRange && !taken.has(wanted) && trans.sport !== orig.sport) return `flow ${ok} got port ${trans.sport} although ${orig.sport} was free`;
        }
        taken.add(tkey(trans));
        if (!usedPorts.has(group)) usedPorts.set(group, new Set());
        usedPorts.get(group)!.add(trans.sport);
      }
      return null;
    },
  },
  {
    name: "reverseIndexClean",
    doc: "session table dump after every packet: each live session's original and reply tuples are indexed to it and to nothing else, no entry names a removed session; after every timer ran out, no session, index entry or steering key is left",
    judge: (run) => run.indexFault ?? run.afterExpiry,
  },
  {
    name: "natChecksumsValid",
    doc: "every frame the dataplane sends (translated, reverse-translated, ICMP errors, CHECKSUM_PARTIAL inputs under generic XDP) carries valid IPv4 header and L4 checksums — the inputs all did",
    judge(run) {
      for (const o of run.obs) {
        if (o.out === null) continue;
        const t = readTuple(o.out);
        if (t === null) return `event ${o.ev}: output is not IP`;
        const bad = checksumsOk(o.out, t.l3);
        if (bad !== null) return `event ${o.ev} (${o.kind}, lookup ${o.lookup}): ${bad} of the output is wrong`;
      }
      return null;
    },
  },
  {
    name: "mtuRespected",
    doc: "no frame leaves larger than the egress MTU; an over-MTU packet gets the router's ICMP answer or a counted drop, never a silent loss",
    judge(run) {
      for (const o of run.obs) {
        if (outbound(o)) {
          const t = readTuple(o.out!)!;
          const ipLen = o.out!.length - t.l3;
          if (ipLen > run.spec.wanMtu) return `event ${o.ev}: a ${ipLen}-byte IP packet left on wan (MTU ${run.spec.wanMtu})`;
        }
        if (o.kind === "big" && o.toWorker && o.rc !== DP_ICMP_ERROR && !fwd(o) && o.reason === null) return `event ${o.ev}: over-MTU packet lost without a reason`;
      }
      return null;
    },
  },
];
