// A generated property case: a readable spec (scenario shape, flows, packets, faults) and
// the two things built from it — the scenario JSON a user could save and the Ethernet
// frames of its input. The same spec builds the in-memory run of a campaign and the files
// of a saved counterexample, so both replay the same thing. Cold path (plain objects).
import { parseScenario } from "../sim/scenario/parse.js";
import { InputPackets } from "../sim/scenario/packets.js";
import { rxQueueFor } from "../sim/scenario/queue.js";
import { buildFrame } from "../sim/packet/build.js";
import type { FrameSpec } from "../sim/packet/build.js";
import type { Scenario } from "../sim/scenario/types.js";

export type FaultKindSpec = "tx_stall" | "completion_delay" | "worker_pause" | "link_cycle" | "fill_starve" | "bindings_zeroed" | "generation_bump";

export interface ShapeSpec {
  /** log2 of each ring size; `oddRx` > 0 replaces the RX ring by that non-power-of-two size. */
  rxLog: number;
  txLog: number;
  fillLog: number;
  compLog: number;
  oddRx: number;
  extraFrames: number;
  batch: number;
  maxPendingTx: number;
  txBudget: number;
  zerocopy: boolean;
  lanQueues: 1 | 2;
  strict: boolean;
  linkMbps: number;
}

export interface FlowSpec {
  proto: "udp" | "tcp" | "icmp";
  v: 4 | 6;
  /** out: lan host → remote; in: wan remote → lan host; local: lan host → the router. */
  dir: "out" | "in" | "local" | "hairpin";
  host: number;
  remote: number;
  sport: number;
  dport: number;
  vlan: boolean;
  ttl: number;
}

export interface PacketSpec {
  flow: number;
  gapNs: number;
  payload: number;
  fin: boolean;
  /** Sent this many times (a burst or a stream of the same flow). */
  repeat: number;
  /** Spacing of the repeats: 0 = back to back (a burst), else a paced stream. */
  everyNs?: number;
}

export interface FaultSpec {
  kind: FaultKindSpec;
  atUs: number;
  forUs: number;
  iface: "lan" | "wan" | null;
}

export interface CaseSpec {
  shape: ShapeSpec;
  flows: FlowSpec[];
  packets: PacketSpec[];
  faults: FaultSpec[];
}

/** What the judges learn from the case beyond the scenario and frames: when probes start. */
export interface CaseMeta {
  probeFromNs: number;
}

export const LAN_MAC = "02:00:00:00:01:01";
export const WAN_MAC = "02:00:00:00:02:01";
export const GW_MAC = "02:00:00:00:02:02";
const hostMac = (h: number): string => `02:00:00:00:01:${(0x10 + h).toString(16)}`;
const remoteMac = GW_MAC;
const host4 = (h: number): string => `198.18.1.${10 + h}`;
const host6 = (h: number): string => `2001:2:0:1::${(0x10 + h).toString(16)}`;
const remote4 = (r: number): string => `198.51.100.${7 + r}`;
const remote6 = (r: number): string => `2001:db8::${(7 + r).toString(16)}`;
export const PROBE_PORT = 9;
/**
 * Quiet time after the last generated packet and the end of every fault before probes.
 * Longer than TX_SETTLE_NS (registry.ts) so descriptors left on the TX ring without a
 * kick stay untouched past that bound before a probe's kick would rescue them.
 */
export const SETTLE_NS = 2_000_000;
const PROBE_GAP_NS = 50_000;

export function faultEndNs(spec: CaseSpec): number {
  let end = 0;
  for (const f of spec.faults) end = Math.max(end, (f.atUs + f.forUs) * 1000);
  return end;
}

/** The scenario as a user would write it (JSON); `bugs` is set by the runner, never by the generator. */
export function scenarioObject(spec: CaseSpec, bugs: Record<string, boolean>, name = "fuzz-case"): Record<string, unknown> {
  const s = spec.shape;
  const rings = { rx: s.oddRx > 0 ? s.oddRx : 1 << s.rxLog, tx: 1 << s.txLog, fill: 1 << s.fillLog, comp: 1 << s.compLog };
  const neighbors: object[] = [
    { ip: "198.19.2.2", mac: GW_MAC, iface: "wan" },
    { ip: "2001:2:0:2::2", mac: GW_MAC, iface: "wan" },
  ];
  for (let h = 0; h < 4; h++) neighbors.push({ ip: host4(h), mac: hostMac(h), iface: "lan" }, { ip: host6(h), mac: hostMac(h), iface: "lan" });
  const faults = spec.faults.map((f) => {
    const o: Record<string, unknown> = { at: `${f.atUs}us`, kind: f.kind };
    if (f.kind !== "generation_bump" && f.kind !== "bindings_zeroed") o["for"] = `${f.forUs}us`;
    else if (f.kind === "bindings_zeroed") o["for"] = `${f.forUs}us`;
    if (f.kind === "completion_delay") o["delay"] = `${Math.max(1, Math.floor(f.forUs / 4))}us`;
    if (f.iface !== null) o["iface"] = f.iface;
    return o;
  });
  const bps = s.linkMbps * 1e6;
  return {
    name,
    seed: 1,
    interfaces: [
      { name: "lan", mac: LAN_MAC, addrs: ["198.18.1.1/24", "2001:2:0:1::1/64"], queues: s.lanQueues },
      { name: "wan", mac: WAN_MAC, addrs: ["198.19.2.1/24", "2001:2:0:2::1/64"] },
    ],
    neighbors,
    routes: [
      { prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" },
      { prefix: "::/0", via: "2001:2:0:2::2", iface: "wan" },
    ],
    dataplane: {
      rings,
      frames: rings.rx + rings.tx + s.extraFrames,
      frameSize: 2048,
      headroom: 0,
      batch: s.batch,
      maxPendingTx: s.maxPendingTx,
      txBudget: s.txBudget,
      strict: s.strict,
      ...(s.zerocopy ? { driver: "zerocopy", bindMode: "zerocopy" } : {}),
    },
    timing: { linkBps: { lan: bps, wan: bps }, pollNs: 2000, perPacketNs: 150, seriesNs: "100us", drainNs: "5ms" },
    faults,
    bugs,
  };
}

/** Parses the scenario object; throws the validator's InputError when the shape is refused. */
export function buildScenario(spec: CaseSpec, bugs: Record<string, boolean>): Scenario {
  return parseScenario(scenarioObject(spec, bugs), "/fuzz/scenario.json", "/fuzz");
}

interface FlowState {
  seq: number;
  ack: number;
  sent: number;
}

function frameFor(f: FlowSpec, st: FlowState, payload: number, fin: boolean, ipId: number): FrameSpec {
  const v4 = f.v === 4;
  const inside = v4 ? host4(f.host) : host6(f.host);
  const remote = v4 ? remote4(f.remote) : remote6(f.remote);
  const router = v4 ? "198.18.1.1" : "2001:2:0:1::1";
  const wanIn = f.dir === "in";
  const src = wanIn ? remote : inside;
  const other = v4 ? host4((f.host + 1) % 4) : host6((f.host + 1) % 4);
  const dst = f.dir === "local" ? router : f.dir === "hairpin" ? other : wanIn ? inside : remote;
  const spec: FrameSpec = {
    eth: { src: wanIn ? remoteMac : hostMac(f.host), dst: wanIn ? WAN_MAC : LAN_MAC },
    ip: { version: f.v, src, dst, ttl: f.ttl, id: ipId & 0xffff },
    payload: new Uint8Array(payload).fill(ipId & 0xff),
  };
  if (f.vlan) spec.vlans = [{ vid: 100 }];
  if (f.proto === "udp") spec.udp = { sport: f.sport, dport: f.dport };
  else if (f.proto === "tcp") {
    // A handshake first, then data with sequence numbers that follow the bytes sent.
    const first = st.sent === 0;
    const flags = first ? "S" : fin ? "FA" : payload > 0 ? "PA" : "A";
    spec.tcp = { sport: f.sport, dport: f.dport, seq: st.seq, ack: first ? 0 : st.ack, flags };
    if (first) spec.payload = new Uint8Array(0);
    st.seq = (st.seq + (first ? 1 : (spec.payload?.length ?? 0) + (fin ? 1 : 0))) >>> 0;
  } else spec.icmp = { type: v4 ? 8 : 128, code: 0, id: f.sport, seq: st.sent };
  st.sent++;
  return spec;
}

/** Builds the input frames (generated packets, then liveness probes) and the case meta. */
export function buildInput(spec: CaseSpec, queuesOf: readonly number[]): { input: InputPackets; meta: CaseMeta } {
  const inp = new InputPackets();
  const states: FlowState[] = spec.flows.map((f, i) => ({ seq: (0x1000_0000 + i * 0x0101_0101) >>> 0, ack: 0x2000_0000 + i, sent: 0 }));
  let t = 0;
  let n = 0;
  const push = (fs: FrameSpec, iface: number): void => {
    const b = buildFrame(fs);
    inp.push(b, t, iface, rxQueueFor(b, 0, b.length, queuesOf[iface] ?? 1), n++);
  };
  spec.packets.forEach((p, k) => {
    if (spec.flows.length === 0) return;
    const fi = p.flow % spec.flows.length;
    const f = spec.flows[fi]!;
    if (k > 0) t += p.gapNs;
    for (let r = 0; r < Math.max(1, p.repeat); r++) {
      if (r > 0) t += p.everyNs ?? 0;
      push(frameFor(f, states[fi]!, p.payload, p.fin && r === p.repeat - 1, n), f.dir === "in" ? 1 : 0);
    }
  });
  // Probes: spaced UDP packets both ways after everything quietened, one per source port
  // so the flow hash spreads them over every queue.
  const probeFromNs = Math.max(n > 0 ? t : 0, faultEndNs(spec)) + SETTLE_NS;
  t = probeFromNs;
  for (let k = 0; k < 8; k++) {
    const dir = k < 6 ? "out" : "in";
    const f: FlowSpec = { proto: "udp", v: k % 3 === 2 ? 6 : 4, dir, host: k % 4, remote: 0, sport: 40000 + k, dport: PROBE_PORT, vlan: false, ttl: 64 };
    push(frameFor(f, { seq: 0, ack: 0, sent: 0 }, 32, false, 0x7000 + k), dir === "in" ? 1 : 0);
    t += PROBE_GAP_NS;
  }
  return { input: inp, meta: { probeFromNs } };
}

/** A short human sentence about the case (README and progress lines). */
export function describeCase(spec: CaseSpec): string {
  const f = spec.faults.map((x) => `${x.kind}${x.iface ? `(${x.iface})` : ""} at ${x.atUs}µs for ${x.forUs}µs`).join(", ") || "no fault";
  const s = spec.shape;
  const n = spec.packets.reduce((a, p) => a + Math.max(1, p.repeat), 0);
  return `${n} packets in ${spec.flows.length} flows, ${f}; rings rx ${s.oddRx || 1 << s.rxLog}/tx ${1 << s.txLog}/fill ${1 << s.fillLog}/comp ${1 << s.compLog}, batch ${s.batch}, maxPendingTx ${s.maxPendingTx}${s.zerocopy ? ", zerocopy" : ""}${s.strict ? ", strict" : ""}, lan queues ${s.lanQueues}`;
}
