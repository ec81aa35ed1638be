// The XDP shim model (mirror of bpf/): one verdict per packet — redirect to an XSKMAP
// slot, pass to the kernel, fallback, drop or abort — with a reason from sim/reasons.ts,
// and the metadata block (sim/xdp/abi.ts) written for the worker. The order of checks is
// the real program's: parse → not IP → control (armed, ABI, heartbeat) → local address
// (session map / DNAT) → binding (present, ready, strict) → bpf_redirect_map(XDP_PASS).
// Bug switches of CATALOGUE A that live in the shim are applied here.
import type { Scenario } from "../scenario/types.js";
import { PacketView, decode } from "../packet/view.js";
import { LINKTYPE_ETHERNET } from "../packet/linktypes.js";
import { R } from "../reasons.js";
import { ControlMap, BindingsMap, SessionSteeringMap, LocalAddrs } from "./maps.js";
import {
  META_MAGIC,
  META_SIZE,
  META_VERSION,
  META_F_FRAGMENT,
  META_F_LOCAL_DST,
  META_F_SESSION_HIT,
  MO_CFGGEN,
  MO_DPORT,
  MO_DST,
  MO_FIBGEN,
  MO_FLAGS,
  MO_IFINDEX,
  MO_IPVER,
  MO_L3,
  MO_L4,
  MO_MAGIC,
  MO_PROTO,
  MO_QUEUE,
  MO_REASON,
  MO_SPORT,
  MO_SRC,
  MO_VERSION,
  DRIFT_SHIFT,
  DRIFT_INSERT_AT,
  wr16,
  wr32,
} from "./abi.js";

export const V_REDIRECT = 1;
export const V_PASS = 2;
export const V_DROP = 3;
export const V_ABORTED = 4;
export const V_FALLBACK = 5;
export const VERDICT_NAMES: readonly string[] = ["none", "redirect", "pass", "drop", "aborted", "fallback"];

// bpf_redirect_map flags → action for an empty slot (xsk_map_redirect / __bpf_xdp_redirect_map).
export const XDP_ABORTED = 0;
export const XDP_DROP = 1;
export const XDP_PASS = 2;

/** Everything the shim reads: the maps of one attached program. */
export class ShimMaps {
  readonly control = new ControlMap();
  readonly bindings: BindingsMap;
  readonly sessions: SessionSteeringMap;
  readonly local: LocalAddrs;

  constructor(scn: Scenario) {
    let maxQ = 1;
    for (const ifc of scn.interfaces) maxQ = Math.max(maxQ, ifc.queues);
    this.bindings = new BindingsMap(scn.interfaces.length, maxQ);
    this.sessions = new SessionSteeringMap(65536);
    const addrs: Array<{ bytes: Uint8Array }> = [];
    for (const ifc of scn.interfaces) for (const a of ifc.addrs) addrs.push(a);
    this.local = new LocalAddrs(addrs);
    this.control.abiVersion = META_VERSION;
    this.control.heartbeatTimeoutNs = scn.dataplane.heartbeatTimeoutNs;
    this.control.strict = scn.dataplane.strict;
  }
}

/**
 * Runs the shim's decision for one frame. The caller then performs the redirect (the
 * XSKMAP lookup is the caller's, since it needs the socket objects). Results are left in
 * fields, no allocation per packet.
 */
export class Shim {
  readonly view = new PacketView();
  /** Metadata block for the frame just decided (valid when verdict is redirect). */
  readonly meta = new Uint8Array(META_SIZE + DRIFT_SHIFT);
  /** meta's first META_SIZE bytes (what the kernel copies into the headroom), as one reusable view. */
  readonly metaBlock = this.meta.subarray(0, META_SIZE);
  verdict = 0;
  reason = 0;
  slot = -1;
  private readonly abiDrift: boolean;
  private readonly fallbackDrops: boolean;
  private readonly missingBindingPasses: boolean;
  private readonly ignoreSessionMap: boolean;
  private readonly dnat: Scenario["nat"]["dnat"];
  private readonly ifindexOf: Int32Array;

  constructor(
    scn: Scenario,
    readonly maps: ShimMaps,
  ) {
    this.abiDrift = scn.bugs.abiDrift;
    this.fallbackDrops = scn.bugs.fallbackDrops;
    this.missingBindingPasses = scn.bugs.missingBindingPasses;
    this.ignoreSessionMap = scn.bugs.ignoreSessionMap;
    this.dnat = scn.nat.dnat;
    this.ifindexOf = Int32Array.from(scn.interfaces.map((i) => i.ifindex));
  }

  /** Decides the verdict for buf[off, off+len) arriving on (iface, queue) at nowNs. */
  run(buf: Uint8Array, off: number, len: number, iface: number, queue: number, nowNs: number): number {
    const v = this.view;
    const c = this.maps.control;
    this.slot = -1;
    if (decode(v, buf, off, len, LINKTYPE_ETHERNET) !== 0) return this.set(V_PASS, R.parse_error);
    if (v.ipVersion !== 4 && v.ipVersion !== 6) return this.set(V_PASS, R.not_ip);
    if (!c.armed) return this.set(V_PASS, R.not_armed);
    if (c.abiVersion !== META_VERSION) return this.set(V_PASS, R.abi_mismatch);
    if (c.heartbeatTimeoutNs > 0 && nowNs - c.heartbeatNs > c.heartbeatTimeoutNs) return this.set(V_PASS, R.heartbeat_stale);
    let flags = 0;
    if (v.isFragment === 1) flags |= META_F_FRAGMENT;
    const sport = v.srcPort >= 0 ? v.srcPort : v.icmpId >= 0 ? v.icmpId : 0;
    const dport = v.dstPort >= 0 ? v.dstPort : 0;
    if (this.maps.local.has(buf, v.dstOff, v.addrLen)) {
      flags |= META_F_LOCAL_DST;
      const hit = !this.ignoreSessionMap && this.maps.sessions.has(v.ipProto, buf, v.srcOff, v.dstOff, v.addrLen, sport, dport);
      if (hit || (!this.ignoreSessionMap && this.quotesSteeredFlow(buf))) flags |= META_F_SESSION_HIT;
      else if (!this.dnatMatches(buf, iface, v, dport)) return this.set(V_PASS, R.local_delivery);
    }
    const b = this.maps.bindings;
    const k = b.key(iface, queue);
    const present = queue < b.maxQueues && b.present[k] === 1;
    if (!present || b.ready[k] !== 1) {
      const why = present ? R.binding_not_ready : R.binding_missing;
      if (c.strict && !this.missingBindingPasses) return this.set(V_DROP, R.strict_no_binding);
      // The legacy program takes the packet (a tail call that ends in XDP_PASS). With
      // `fallbackDrops` the tail call fails and the code after it drops.
      if (this.fallbackDrops) return this.set(V_DROP, R.fallback_failed);
      return this.set(V_FALLBACK, why);
    }
    this.slot = b.slot[k]!;
    this.writeMeta(buf, iface, queue, flags, sport, dport);
    return this.set(V_REDIRECT, 0);
  }

  private set(verdict: number, reason: number): number {
    this.verdict = verdict;
    this.reason = reason;
    return verdict;
  }

  /**
   * An ICMP/ICMPv6 error to a router address whose quoted packet, swapped, is a published
   * steering key: the error is about a packet the worker translated (traceroute through
   * SNAT), so the worker must see it to translate it back. Quoted ICMP echo keeps its
   * identifier as the source port both ways, like the session keys.
   */
  private quotesSteeredFlow(buf: Uint8Array): boolean {
    const v = this.view;
    const t = v.icmpType;
    const err = v.ipProto === 1 ? t === 3 || t === 4 || t === 5 || t === 11 || t === 12 : v.ipProto === 58 ? t >= 1 && t <= 4 : false;
    const q = v.inner;
    if (!err || q === null || q.ipVersion !== v.ipVersion || this.maps.sessions.count === 0) return false;
    const echo = q.icmpId >= 0;
    const qs = q.srcPort >= 0 ? q.srcPort : echo ? q.icmpId : 0;
    const qd = q.dstPort >= 0 ? q.dstPort : 0;
    return this.maps.sessions.has(q.ipProto, buf, q.dstOff, q.srcOff, q.addrLen, echo ? qs : qd, echo ? 0 : qs);
  }

  private dnatMatches(buf: Uint8Array, iface: number, v: PacketView, dport: number): boolean {
    for (const r of this.dnat) {
      if (r.ingress !== iface) continue;
      if (r.proto !== 0 && r.proto !== v.ipProto) continue;
      if (r.dst.bytes.length !== v.addrLen) continue;
      let eq = true;
      for (let j = 0; j < v.addrLen; j++) if (r.dst.bytes[j] !== buf[v.dstOff + j]) eq = false;
      if (!eq) continue;
      if (r.port !== null && r.port !== dport) continue;
      return true;
    }
    return false;
  }

  private writeMeta(buf: Uint8Array, iface: number, queue: number, flags: number, sport: number, dport: number): void {
    const m = this.meta;
    const v = this.view;
    const c = this.maps.control;
    m.fill(0);
    wr32(m, MO_MAGIC, META_MAGIC);
    wr16(m, MO_VERSION, META_VERSION);
    wr16(m, MO_FLAGS, flags);
    wr32(m, MO_IFINDEX, this.ifindexOf[iface]!);
    wr32(m, MO_QUEUE, queue);
    wr16(m, MO_L3, v.l3Off - v.l2Off);
    wr16(m, MO_L4, v.l4Off >= 0 ? v.l4Off - v.l2Off : 0);
    m[MO_IPVER] = v.ipVersion;
    m[MO_PROTO] = v.ipProto & 0xff;
    wr16(m, MO_REASON, 0);
    wr32(m, MO_CFGGEN, c.configGen);
    wr32(m, MO_FIBGEN, c.fibGen);
    // abiDrift: the shim's struct has an extra u32 before src_addr (see abi.ts).
    const s = this.abiDrift ? DRIFT_SHIFT : 0;
    if (s) wr32(m, DRIFT_INSERT_AT, 0x0000_0064); // vlan_tci-like value
    for (let j = 0; j < v.addrLen; j++) {
      m[MO_SRC + s + j] = buf[v.srcOff + j]!;
      m[MO_DST + s + j] = buf[v.dstOff + j]!;
    }
    wr16(m, MO_SPORT + s, sport);
    wr16(m, MO_DPORT + s, dport);
  }
}
