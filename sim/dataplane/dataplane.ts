// The plain-router dataplane: the worker's per-packet decision after parsing, in the
// stage order of DESIGN §2 — lookup → nat.pre → fib → nat.post — with Linux's IPv4/IPv6
// forwarding as the byte-for-byte reference (ip_rcv/ip_route_input/ip_forward/icmp_send and
// their IPv6 twins). It owns the FIB, the neighbour table, policy, the forwarding rewrite
// (MACs, TTL/hop limit, VLAN priority tag) and the ICMP errors a router sends.
// Hot path: numeric results in fields, one preallocated genBuf, no allocation per packet.
// docs/dataplane.md lists every policy choice and every place Linux may differ; the
// stateful part (sessions, NAT, fragments, bug switches C/D/D′) is nat.ts, docs/nat.md.
import type { Scenario, IfaceCfg, PolicyRule } from "../scenario/types.js";
import type { PacketView } from "../packet/view.js";
import { R } from "../reasons.js";
import { sum16, fold16 } from "../packet/checksum.js";
import { formatIp } from "../packet/addr.js";
import { Fib } from "./fib.js";
import { NeighborTable } from "./neigh.js";
import { natPre } from "./natPre.js";
import { natPost } from "./natPost.js";
import { NatEngine } from "./nat.js";
import { translateIcmpError, untranslateNewDnatError } from "./icmpError.js";

export const DP_FORWARD = 1;
export const DP_DROP = 2;
export const DP_HOLD = 3;
export const DP_KERNEL = 4;
/** The original is dropped with `reason`; an ICMP error waits in genBuf[0, genLen) for genEgressIf. */
export const DP_ICMP_ERROR = 5;

// lookupKind values (DESIGN §4.2)
export const LK_NONE = 0;
export const LK_SESSION_HIT = 1;
export const LK_SHARED_HIT = 2;
export const LK_NAT_REVERSE_HIT = 3;
export const LK_NEW = 4;
export const LK_DENIED = 5;
export const LOOKUP_KIND_NAMES: readonly string[] = ["none", "session_hit", "shared_hit", "nat_reverse_hit", "new", "denied"];

/** Linux's sysctl defaults the model follows (net.ipv4.ip_default_ttl, net.ipv6.conf.*.hop_limit). */
export const ICMP_TTL = 64;
/** RFC 1812 4.3.2.3 / Linux icmp_send: an IPv4 error is at most 576 bytes. */
export const ICMP4_MAX_ERROR = 576;
/** RFC 4443 2.4(c) / Linux icmp6_send: an ICMPv6 error is at most the IPv6 minimum MTU. */
export const ICMP6_MAX_ERROR = 1280;
/** Time an interface's neighbours need to re-resolve after neighbor_flush when the caller gives none. */
export const NEIGH_REFLUSH_NS = 1_000_000;
export const GEN_BUF_SIZE = 2048;

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_8021Q = 0x8100;
const ETH_P_8021AD = 0x88a8;
const ETH_HLEN = 14;

function be16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}
function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
/** Byte copy without creating subarray views (no allocation on the hot path). */
function copyBytes(dst: Uint8Array, dOff: number, src: Uint8Array, sOff: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dOff + i] = src[sOff + i] as number;
}
function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/**
 * Linux's ip_decrease_ttl checksum step on the stored (big-endian) header checksum:
 * add 0x0100 with the carry folded by `check >= 0xffff`, which also turns a result of
 * 0xffff into 0x0000 — what a full recompute yields. Returns the new checksum.
 */
export function ttlDecrementChecksum(check: number): number {
  const c = check + 0x0100;
  return (c + (c >= 0xffff ? 1 : 0)) & 0xffff;
}

/** Does the prefix (bytes, len) contain the address at buf[off…]? */
function prefixMatch(prefix: Uint8Array, len: number, buf: Uint8Array, off: number): boolean {
  let i = 0;
  for (; len >= 8; i++, len -= 8) if (prefix[i] !== buf[off + i]) return false;
  if (len === 0) return true;
  const m = (0xff << (8 - len)) & 0xff;
  return (((prefix[i] as number) ^ (buf[off + i] as number)) & m) === 0;
}

/** Number of leading bits two 16-byte addresses share. */
function commonPrefixLen(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): number {
  for (let i = 0; i < 16; i++) {
    const x = ((a[aOff + i] as number) ^ (b[bOff + i] as number)) & 0xff;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return 128;
}

export class Dataplane {
  // results of the last process()
  egressIf = -1;
  newLen = 0;
  reason = 0;
  lookupKind = LK_NONE;
  nexthopFamily = 0;
  readonly nexthop = new Uint8Array(16);
  readonly genBuf = new Uint8Array(GEN_BUF_SIZE);
  genLen = 0;
  genEgressIf = -1;
  /** Route index the last process() used, -1 when it did not reach the FIB. */
  lastRoute = -1;
  /** ICMP type/code of the last generated error (genLen > 0), for path records and tests. */
  genType = -1;
  genCode = -1;

  readonly fib: Fib;
  readonly neigh: NeighborTable;
  private readonly ifaces: readonly IfaceCfg[];
  private readonly policy: readonly PolicyRule[];
  private readonly defaultPermit: boolean;
  private readonly icmpErrors: boolean;
  /** All interface addresses, for local-delivery and martian-source checks. */
  private readonly local4: Uint8Array;
  private readonly n4: number;
  private readonly local6: Uint8Array;
  private readonly n6: number;
  /** Directed-broadcast addresses of the interfaces' IPv4 subnets (prefix < 31). */
  private readonly bcast4: Uint8Array;
  private readonly nb4: number;
  private lastNowNs = 0;
  // scratch of the L4 walk
  private l4Proto = -1;
  private l4Off = -1;
  private l4First = true;
  private l4End = 0;
  private isFrag = false;
  private moreFrags = false;
  private fragId = 0;
  /** Sessions, NAT, fragments (nat.ts). */
  readonly nat: NatEngine;
  private readonly bugIgnoreMtu: boolean;
  private readonly bugReplyMissToKernel: boolean;
  /** Is the address in key words k[o…o+4) one of the router's? (bound once; used by natPost) */
  readonly isLocalKey: (fam: number, k: Uint32Array, o: number) => boolean;
  private readonly keyBytes = new Uint8Array(16);
  /** Latest time seen by process()/neighborKnown(): completeHold resolves against it. */
  private nowSeen = 0;

  constructor(readonly scn: Scenario, opts: { sessions?: number } = {}) {
    this.nat = new NatEngine(scn, opts);
    this.bugIgnoreMtu = scn.bugs.ignoreMtu;
    this.bugReplyMissToKernel = scn.bugs.replyMissGoesToKernel;
    this.isLocalKey = (fam, k, o) => {
      const b = this.keyBytes;
      for (let j = 0; j < 4; j++) {
        const w = k[o + j] as number;
        b[j * 4] = w >>> 24;
        b[j * 4 + 1] = (w >>> 16) & 0xff;
        b[j * 4 + 2] = (w >>> 8) & 0xff;
        b[j * 4 + 3] = w & 0xff;
      }
      return fam === 4 ? this.isLocal4(b, 0) : this.isLocal6(b, 0);
    };
    this.ifaces = scn.interfaces;
    this.fib = new Fib(scn.routes);
    this.neigh = new NeighborTable(scn.neighbors);
    this.policy = scn.policy;
    this.defaultPermit = scn.defaultPolicy !== "deny";
    this.icmpErrors = scn.dataplane.icmpErrors;
    const v4: Uint8Array[] = [];
    const v6: Uint8Array[] = [];
    const bc: Uint8Array[] = [];
    for (const ifc of scn.interfaces) {
      for (const a of ifc.addrs) {
        if (a.family === 4) {
          v4.push(a.bytes);
          if (a.prefixLen < 31) {
            const b = new Uint8Array(4);
            for (let i = 0; i < 4; i++) {
              const hostBits = Math.max(0, Math.min(8, (i + 1) * 8 - a.prefixLen));
              b[i] = (a.bytes[i] as number) | ((1 << hostBits) - 1);
            }
            bc.push(b);
          }
        } else v6.push(a.bytes);
      }
    }
    this.local4 = new Uint8Array(v4.length * 4);
    v4.forEach((b, i) => this.local4.set(b.subarray(0, 4), i * 4));
    this.n4 = v4.length;
    this.local6 = new Uint8Array(v6.length * 16);
    v6.forEach((b, i) => this.local6.set(b.subarray(0, 16), i * 16));
    this.n6 = v6.length;
    this.bcast4 = new Uint8Array(bc.length * 4);
    bc.forEach((b, i) => this.bcast4.set(b, i * 4));
    this.nb4 = bc.length;
  }

  /**
   * Decide one frame buf[off, off+len) received on ingressIf. On DP_FORWARD and DP_HOLD the
   * frame has been rewritten in place and is newLen bytes long (padding trimmed, a VLAN
   * priority tag removed); on DP_HOLD only the destination MAC is missing (completeHold).
   * The view is accepted for the NAT stages; the router reads the few L2/L3 fields it
   * rewrites directly from the bytes so that it never trusts a stale decode.
   */
  process(buf: Uint8Array, off: number, len: number, view: PacketView, ingressIf: number, nowNs: number): number {
    void view;
    this.egressIf = -1;
    this.newLen = len;
    this.reason = 0;
    this.lookupKind = LK_NONE;
    this.nexthopFamily = 0;
    this.genLen = 0;
    this.genEgressIf = -1;
    this.genType = -1;
    this.genCode = -1;
    this.lastRoute = -1;
    this.lastNowNs = nowNs;
    if (nowNs > this.nowSeen) this.nowSeen = nowNs;
    const end = off + len;
    if (len < ETH_HLEN || end > buf.length) return this.drop(R.malformed);

    // L2: VLAN tags. The model's interfaces are untagged; Linux drops a non-zero VID
    // (PACKET_OTHERHOST) and strips a VID-0 priority tag, then looks again (another_round).
    let et = be16(buf, off + 12);
    let l3 = off + ETH_HLEN;
    let tags = 0;
    while (et === ETH_P_8021Q || et === ETH_P_8021AD) {
      if (l3 + 4 > end || tags === 2) return this.drop(R.malformed);
      if ((be16(buf, l3) & 0x0fff) !== 0) return this.drop(R.vlan_unknown);
      et = be16(buf, l3 + 2);
      l3 += 4;
      tags++;
    }
    if (et === ETH_P_IP) return this.forward4(buf, off, end, l3, tags, ingressIf, nowNs);
    if (et === ETH_P_IPV6) return this.forward6(buf, off, end, l3, tags, ingressIf, nowNs);
    this.reason = R.not_ip;
    return DP_KERNEL;
  }

  private drop(reason: number): number {
    this.reason = reason;
    return DP_DROP;
  }

  private forward4(buf: Uint8Array, off: number, end: number, l3: number, tags: number, ingressIf: number, nowNs: number): number {
    // ip_rcv_core's header checks.
    if (l3 + 20 > end) return this.drop(R.malformed);
    const vihl = buf[l3] as number;
    const ihl = (vihl & 0x0f) * 4;
    if (vihl >>> 4 !== 4 || ihl < 20 || l3 + ihl > end) return this.drop(R.malformed);
    const totLen = be16(buf, l3 + 2);
    if (totLen < ihl || l3 + totLen > end) return this.drop(R.malformed);
    if (fold16(sum16(buf, l3, ihl, 0)) !== 0xffff) return this.drop(R.ip_csum_bad);
    const src = l3 + 12;
    const dst = l3 + 16;

    // ip_route_input_slow's martian checks, local and broadcast delivery.
    const s0 = buf[src] as number;
    const d0 = buf[dst] as number;
    // multicast or limited-broadcast source, 0/8, loopback (class E sources are routed, as in Linux)
    if ((s0 >= 224 && s0 < 240) || s0 === 0 || s0 === 127 || (s0 === 255 && buf[src + 1] === 255 && buf[src + 2] === 255 && buf[src + 3] === 255)) {
      return this.drop(R.martian);
    }
    if (d0 === 255 && buf[dst + 1] === 255 && buf[dst + 2] === 255 && buf[dst + 3] === 255) return this.kernel();
    if (d0 === 0 || d0 === 127 || (d0 >= 224 && d0 < 240)) return this.drop(R.martian);
    if (this.isBcast4(buf, dst)) return this.kernel();
    const localDst = this.isLocal4(buf, dst);
    if (this.isLocal4(buf, src) || this.isBcast4(buf, src)) return this.drop(R.martian); // fib_validate_source: RTN_LOCAL/BROADCAST source

    // lookup + nat.pre: sessions, replies translated back, DNAT; else own address → kernel
    this.walkL4v4(buf, l3, ihl, totLen);
    const nat = this.nat;
    nat.begin(buf, l3, 4, this.l4Proto, this.l4Off, this.l4First, this.l4End, this.isFrag, this.moreFrags, this.fragId);
    if (nat.l4Truncated()) return this.drop(R.malformed);
    // bug: a "local" check for replies to the SNAT address before the session lookup
    if (this.bugReplyMissToKernel && nat.toSnatAddress(buf, ingressIf)) return this.kernel();
    this.lookupKind = LK_NEW;
    let rc = natPre(this, buf, ingressIf, localDst, nowNs);
    if (rc !== 0) return rc;

    // fib
    const ri = this.fib.lookup(4, buf, dst);
    if (ri < 0) {
      this.reason = R.no_route;
      return this.icmp4(buf, off, l3, ihl, totLen, 3, 0, 0, ingressIf, nowNs);
    }
    this.lastRoute = ri;
    const route = this.scn.routes[ri]!;
    const egress = route.iface;
    this.egressIf = egress;
    this.nexthopFamily = 4;
    this.nexthop.fill(0);
    if (route.via !== null) copyBytes(this.nexthop, 0, route.via, 0, 4);
    else copyBytes(this.nexthop, 0, buf, dst, 4);

    // ip_forward: TTL first, then the MTU (both before the FORWARD hook and before the decrement).
    const ttl = buf[l3 + 8] as number;
    if (ttl <= 1) {
      this.reason = R.ttl_expired;
      return this.natError(this.icmp4(buf, off, l3, ihl, totLen, 11, 0, 0, ingressIf, nowNs), 4, nowNs);
    }
    const mtu = this.ifaces[egress]!.mtu;
    if (totLen > mtu && !this.bugIgnoreMtu) {
      if ((buf[l3 + 6] as number) & 0x40) {
        this.reason = R.mtu_exceeded;
        return this.natError(this.icmp4(buf, off, l3, ihl, totLen, 3, 4, mtu, ingressIf, nowNs), 4, nowNs);
      }
      return this.drop(R.mtu_exceeded_df_clear);
    }

    // FORWARD-hook policy (it needs the egress interface): new flows only; replies and
    // packets of established sessions are not re-checked.
    if (nat.isNewFlow() && !this.permitted(4, buf, src, dst, ingressIf, egress)) {
      this.lookupKind = LK_DENIED;
      return this.drop(R.policy_deny);
    }
    rc = natPost(this, buf, egress, 4, nowNs);
    if (rc !== 0) return rc;
    nat.finish(buf);

    // Rewrite: TTL and checksum as ip_decrease_ttl.
    buf[l3 + 8] = ttl - 1;
    put16(buf, l3 + 10, ttlDecrementChecksum(be16(buf, l3 + 10)));
    return this.finishL2(buf, off, l3, tags, totLen, egress, 4, nowNs);
  }

  private forward6(buf: Uint8Array, off: number, end: number, l3: number, tags: number, ingressIf: number, nowNs: number): number {
    if (l3 + 40 > end || (buf[l3] as number) >>> 4 !== 6) return this.drop(R.malformed);
    const payLen = be16(buf, l3 + 4);
    // payload length 0 is a jumbogram (RFC 2675), which a 1500-byte world never forwards.
    if (payLen === 0 || l3 + 40 + payLen > end) return this.drop(R.malformed);
    const totLen = 40 + payLen;
    const src = l3 + 8;
    const dst = l3 + 24;

    // ip6_rcv_core: multicast, loopback and v4-mapped sources never enter (the unspecified
    // source is legal towards the router: DAD).
    if (buf[src] === 0xff || this.isV4Mapped6(buf, src) || (this.isLoopOrUnspec6(buf, src) && buf[src + 15] === 1)) return this.drop(R.martian);
    // Link-scope multicast (NDP, MLD) and link-local unicast are for the router's own stack.
    if (buf[dst] === 0xff) {
      const scope = (buf[dst + 1] as number) & 0x0f;
      return scope === 2 ? this.kernel() : this.drop(R.martian);
    }
    if (buf[dst] === 0xfe && ((buf[dst + 1] as number) & 0xc0) === 0x80) return this.kernel();
    if (this.isLoopOrUnspec6(buf, dst) || this.isV4Mapped6(buf, dst)) return this.drop(R.martian);
    const localDst = this.isLocal6(buf, dst);
    // ip6_forward's "security critical" source check: unspecified sources are not
    // forwarded; link-local ones neither (Linux answers ICMPv6 "beyond scope"; see docs).
    if (!localDst && (this.isLoopOrUnspec6(buf, src) || (buf[src] === 0xfe && ((buf[src + 1] as number) & 0xc0) === 0x80))) return this.drop(R.martian);

    this.walkL4v6(buf, l3, totLen);
    const nat = this.nat;
    nat.begin(buf, l3, 6, this.l4Proto, this.l4Off, this.l4First, this.l4End, this.isFrag, this.moreFrags, this.fragId);
    if (nat.l4Truncated()) return this.drop(R.malformed);
    if (this.bugReplyMissToKernel && nat.toSnatAddress(buf, ingressIf)) return this.kernel();
    this.lookupKind = LK_NEW;
    let rc = natPre(this, buf, ingressIf, localDst, nowNs);
    if (rc !== 0) return rc;

    const ri = this.fib.lookup(6, buf, dst);
    if (ri < 0) {
      this.reason = R.no_route;
      return this.icmp6(buf, off, l3, totLen, 1, 0, 0, ingressIf, nowNs);
    }
    this.lastRoute = ri;
    const route = this.scn.routes[ri]!;
    const egress = route.iface;
    this.egressIf = egress;
    this.nexthopFamily = 6;
    if (route.via !== null) copyBytes(this.nexthop, 0, route.via, 0, 16);
    else copyBytes(this.nexthop, 0, buf, dst, 16);

    const hop = buf[l3 + 7] as number;
    if (hop <= 1) {
      this.reason = R.ttl_expired;
      return this.natError(this.icmp6(buf, off, l3, totLen, 3, 0, 0, ingressIf, nowNs), 6, nowNs);
    }
    let mtu = this.ifaces[egress]!.mtu;
    if (mtu < 1280) mtu = 1280; // ip6_forward clamps to IPV6_MIN_MTU
    if (totLen > mtu && !this.bugIgnoreMtu) {
      this.reason = R.mtu_exceeded;
      return this.natError(this.icmp6(buf, off, l3, totLen, 2, 0, mtu, ingressIf, nowNs), 6, nowNs);
    }

    // icmp6() may have re-walked for its own checks: walk again for the policy and NAT.
    this.walkL4v6(buf, l3, totLen);
    if (nat.isNewFlow() && !this.permitted(6, buf, src, dst, ingressIf, egress)) {
      this.lookupKind = LK_DENIED;
      return this.drop(R.policy_deny);
    }
    rc = natPost(this, buf, egress, 6, nowNs);
    if (rc !== 0) return rc;
    nat.finish(buf);

    buf[l3 + 7] = hop - 1;
    return this.finishL2(buf, off, l3, tags, totLen, egress, 6, nowNs);
  }

  /** Remove priority tags and padding, write the MACs; HOLD when the neighbour is unknown. */
  private finishL2(buf: Uint8Array, off: number, l3: number, tags: number, totLen: number, egress: number, family: number, nowNs: number): number {
    if (tags > 0) {
      // Linux forwards the untagged packet: move the IP packet up over the tags.
      buf.copyWithin(off + ETH_HLEN, l3, l3 + totLen);
      put16(buf, off + 12, family === 4 ? ETH_P_IP : ETH_P_IPV6);
    }
    this.newLen = ETH_HLEN + totLen; // ip_rcv trims the Ethernet padding (pskb_trim_rcsum)
    copyBytes(buf, off + 6, this.ifaces[egress]!.mac, 0, 6);
    const e = this.neigh.resolved(egress, family, this.nexthop, 0, nowNs);
    if (e < 0) {
      this.reason = 0;
      return DP_HOLD;
    }
    copyBytes(buf, off, this.neigh.macs, e * 6, 6);
    return DP_FORWARD;
  }

  private kernel(): number {
    this.reason = R.local_delivery;
    return DP_KERNEL;
  }

  /**
   * An error the router generated about a packet whose destination side nat.pre already
   * translated is related to that session: translate its quote back, as netfilter does
   * for locally generated errors at POSTROUTING. A new DNAT flow has no session yet, but
   * Linux gives the error the packet's own conntrack: its quote is translated back too.
   */
  private natError(rc: number, family: number, nowNs: number): number {
    const nat = this.nat;
    if (rc !== DP_ICMP_ERROR || (nat.sid < 0 && !nat.dnatApplied())) return rc;
    const g = this.genBuf;
    const ihl = family === 4 ? 20 : 40;
    const sc = nat.srcChanged;
    const dc = nat.dstChanged;
    if (nat.sid >= 0) translateIcmpError(nat, g, ETH_HLEN, family, ETH_HLEN + ihl, this.genLen, nowNs);
    else untranslateNewDnatError(nat, g, ETH_HLEN, family, ETH_HLEN + ihl, this.genLen, nat.pk);
    nat.srcChanged = sc;
    nat.dstChanged = dc;
    return rc;
  }

  /** Remove sessions whose timers ran out (at most maxScan rows per call); returns how many. */
  expireSessions(nowNs: number, maxScan?: number): number {
    return this.nat.sessions.expire(nowNs, maxScan);
  }

  private isLocal4(buf: Uint8Array, o: number): boolean {
    const l = this.local4;
    for (let i = 0; i < this.n4; i++) {
      const b = i * 4;
      if (l[b] === buf[o] && l[b + 1] === buf[o + 1] && l[b + 2] === buf[o + 2] && l[b + 3] === buf[o + 3]) return true;
    }
    return false;
  }

  private isBcast4(buf: Uint8Array, o: number): boolean {
    const l = this.bcast4;
    for (let i = 0; i < this.nb4; i++) {
      const b = i * 4;
      if (l[b] === buf[o] && l[b + 1] === buf[o + 1] && l[b + 2] === buf[o + 2] && l[b + 3] === buf[o + 3]) return true;
    }
    return false;
  }

  private isLocal6(buf: Uint8Array, o: number): boolean {
    const l = this.local6;
    outer: for (let i = 0; i < this.n6; i++) {
      const b = i * 16;
      for (let j = 0; j < 16; j++) if (l[b + j] !== buf[o + j]) continue outer;
      return true;
    }
    return false;
  }

  private isLoopOrUnspec6(buf: Uint8Array, o: number): boolean {
    for (let j = 0; j < 15; j++) if (buf[o + j] !== 0) return false;
    return (buf[o + 15] as number) <= 1;
  }

  private isV4Mapped6(buf: Uint8Array, o: number): boolean {
    for (let j = 0; j < 10; j++) if (buf[o + j] !== 0) return false;
    return buf[o + 10] === 0xff && buf[o + 11] === 0xff;
  }

  /** L4 protocol and offset of an IPv4 packet; l4First false for non-first fragments. */
  private walkL4v4(buf: Uint8Array, l3: number, ihl: number, totLen: number): void {
    this.l4Proto = buf[l3 + 9] as number;
    this.l4Off = l3 + ihl;
    const fo = be16(buf, l3 + 6);
    this.l4First = (fo & 0x1fff) === 0;
    this.isFrag = (fo & 0x3fff) !== 0;
    this.moreFrags = (fo & 0x2000) !== 0;
    this.fragId = be16(buf, l3 + 4);
    this.l4End = l3 + totLen;
    if (this.l4Off >= l3 + totLen) this.l4First = false;
  }

  /**
   * Skip IPv6 extension headers as ipv6_skip_exthdr does (hop-by-hop, routing, fragment,
   * destination options, AH), bounded; stops at a non-first fragment.
   */
  private walkL4v6(buf: Uint8Array, l3: number, totLen: number): void {
    const end = l3 + totLen;
    this.l4End = end;
    let nh = buf[l3 + 6] as number;
    let o = l3 + 40;
    this.l4First = true;
    this.isFrag = false;
    this.moreFrags = false;
    this.fragId = 0;
    for (let n = 0; n < 8; n++) {
      if (nh === 0 || nh === 43 || nh === 60 || nh === 51 || nh === 44) {
        if (o + 8 > end) break;
        if (nh === 44) {
          this.isFrag = true;
          this.moreFrags = (be16(buf, o + 2) & 1) !== 0;
          this.fragId = (((buf[o + 4] as number) << 24) | ((buf[o + 5] as number) << 16) | ((buf[o + 6] as number) << 8) | (buf[o + 7] as number)) >>> 0;
          const fo = be16(buf, o + 2) & 0xfff8;
          const next = buf[o] as number;
          o += 8;
          nh = next;
          if (fo !== 0) {
            this.l4First = false;
            break;
          }
          continue;
        }
        const hlen = nh === 51 ? ((buf[o + 1] as number) + 2) * 4 : ((buf[o + 1] as number) + 1) * 8;
        nh = buf[o] as number;
        o += hlen;
        continue;
      }
      break;
    }
    this.l4Proto = nh;
    this.l4Off = o;
    if (o >= end) this.l4First = false;
  }

  /** First matching rule of the scenario's policy; the default when none matches. */
  private permitted(family: number, buf: Uint8Array, src: number, dst: number, ingressIf: number, egressIf: number): boolean {
    const rules = this.policy;
    const hasPorts = this.l4First && (this.l4Proto === 6 || this.l4Proto === 17 || this.l4Proto === 132 || this.l4Proto === 33) && this.l4Off + 4 <= this.l4End;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (r.proto !== null && r.proto !== this.l4Proto) continue;
      if (r.ingress !== null && r.ingress !== ingressIf) continue;
      if (r.egress !== null && r.egress !== egressIf) continue;
      if (r.src !== null && (r.src.family !== family || !prefixMatch(r.src.bytes, r.src.prefixLen, buf, src))) continue;
      if (r.dst !== null && (r.dst.family !== family || !prefixMatch(r.dst.bytes, r.dst.prefixLen, buf, dst))) continue;
      if (r.dport !== null) {
        if (!hasPorts) continue;
        const p = be16(buf, this.l4Off + 2);
        if (p < r.dport[0] || p > r.dport[1]) continue;
      }
      return r.action === "permit";
    }
    return this.defaultPermit;
  }

  /**
   * The error's Ethernet header: route back to the original source, pick the next hop's
   * MAC. Returns the egress interface, or -1 (no route back, neighbour unknown).
   * A next hop unknown to the neighbour table on the ingress interface falls back to the
   * original frame's source MAC — the answer Linux's ARP exchange would give.
   */
  private errorL2(family: number, buf: Uint8Array, off: number, srcOff: number, ingressIf: number, nowNs: number): number {
    const ri = this.fib.lookup(family, buf, srcOff);
    if (ri < 0) return -1;
    const route = this.scn.routes[ri]!;
    const g = this.genBuf;
    // The next hop goes to genBuf[14..] temporarily; the IP header overwrites it later.
    const alen = family === 4 ? 4 : 16;
    if (route.via !== null) copyBytes(g, ETH_HLEN, route.via, 0, alen);
    else copyBytes(g, ETH_HLEN, buf, srcOff, alen);
    const e = this.neigh.resolved(route.iface, family, g, ETH_HLEN, nowNs);
    if (e >= 0) copyBytes(g, 0, this.neigh.macs, e * 6, 6);
    else if (route.iface === ingressIf) copyBytes(g, 0, buf, off + 6, 6);
    else return -1;
    copyBytes(g, 6, this.ifaces[route.iface]!.mac, 0, 6);
    put16(g, 12, family === 4 ? ETH_P_IP : ETH_P_IPV6);
    return route.iface;
  }

  /**
   * ICMP error for the IPv4 packet at l3 (Linux __icmp_send). Returns DP_ICMP_ERROR with
   * the error in genBuf, or DP_DROP when none may or can be sent; `reason` is already set.
   */
  private icmp4(buf: Uint8Array, off: number, l3: number, ihl: number, totLen: number, type: number, code: number, info: number, ingressIf: number, nowNs: number): number {
    if (!this.icmpErrors) return DP_DROP;
    if ((be16(buf, l3 + 6) & 0x1fff) !== 0) return DP_DROP; // only the first fragment
    if (buf[l3 + 9] === 1) {
      if (l3 + ihl >= l3 + totLen) return DP_DROP;
      const t = buf[l3 + ihl] as number;
      // icmp_pointers[].error, and "assume any unknown ICMP type is an error" (> NR_ICMP_TYPES)
      if (t > 18 || t === 3 || t === 4 || t === 5 || t === 11 || t === 12) return DP_DROP;
    }
    const src = l3 + 12;
    const eg = this.errorL2(4, buf, off, src, ingressIf, nowNs);
    if (eg < 0) return DP_DROP;
    const g = this.genBuf;
    // inet_select_addr on the error's egress device: the address whose subnet holds the
    // next hop (the connected route's prefsrc), else its first IPv4 address, else any.
    const ip = ETH_HLEN;
    if (!this.selectSrc4(eg, g, ip, g, ip + 12)) return DP_DROP;
    const room = Math.min(this.ifaces[eg]!.mtu, ICMP4_MAX_ERROR) - 20 - 8;
    if (room <= 20) return DP_DROP;
    const quote = Math.min(totLen, room);
    const icmpLen = 8 + quote;
    g[ip] = 0x45;
    g[ip + 1] = 0xc0 | ((buf[l3 + 1] as number) & 0x1e); // IPTOS_PREC_INTERNETCONTROL | RT_TOS(orig)
    put16(g, ip + 2, 20 + icmpLen);
    put16(g, ip + 4, 0); // IP ID: Linux's hashed ident (compare masked)
    put16(g, ip + 6, 0); // DF clear: the ICMP socket uses IP_PMTUDISC_DONT
    g[ip + 8] = ICMP_TTL;
    g[ip + 9] = 1;
    put16(g, ip + 10, 0);
    copyBytes(g, ip + 16, buf, src, 4);
    put16(g, ip + 10, ~fold16(sum16(g, ip, 20, 0)) & 0xffff);
    const ic = ip + 20;
    g[ic] = type;
    g[ic + 1] = code;
    put16(g, ic + 2, 0);
    put32(g, ic + 4, info >>> 0);
    copyBytes(g, ic + 8, buf, l3, quote);
    put16(g, ic + 2, ~fold16(sum16(g, ic, icmpLen, 0)) & 0xffff);
    this.genLen = ETH_HLEN + 20 + icmpLen;
    this.genEgressIf = eg;
    this.genType = type;
    this.genCode = code;
    return DP_ICMP_ERROR;
  }

  /** Writes the error's source address into out[o…]; false when the router has no IPv4 address. */
  private selectSrc4(eg: number, nh: Uint8Array, nhOff: number, out: Uint8Array, o: number): boolean {
    // nh (the next hop) sits at genBuf[14..18) and is read before out is written.
    const addrs = this.ifaces[eg]!.addrs;
    let first: Uint8Array | null = null;
    for (const a of addrs) {
      if (a.family !== 4) continue;
      if (prefixMatch(a.bytes, a.prefixLen, nh, nhOff)) {
        copyBytes(out, o, a.bytes, 0, 4);
        return true;
      }
      if (first === null) first = a.bytes;
    }
    if (first !== null) copyBytes(out, o, first, 0, 4);
    else if (this.n4 > 0) copyBytes(out, o, this.local4, 0, 4);
    else return false;
    return true;
  }

  /** ICMPv6 error for the IPv6 packet at l3 (Linux icmp6_send). */
  private icmp6(buf: Uint8Array, off: number, l3: number, totLen: number, type: number, code: number, info: number, ingressIf: number, nowNs: number): number {
    if (!this.icmpErrors) return DP_DROP;
    const src = l3 + 8;
    // The source must identify one node (not unspecified, not multicast) — RFC 4443 2.4(e).
    if (buf[src] === 0xff) return DP_DROP;
    let allZero = true;
    for (let j = 0; j < 16; j++) if (buf[src + j] !== 0) allZero = false;
    if (allZero) return DP_DROP;
    // is_ineligible: never answer an ICMPv6 error (types < 128), nor when its type is unreadable.
    this.walkL4v6(buf, l3, totLen);
    if (this.l4Proto === 58 && (this.l4Off >= l3 + totLen || (buf[this.l4Off] as number) < 128)) return DP_DROP;
    const eg = this.errorL2(6, buf, off, src, ingressIf, nowNs);
    if (eg < 0) return DP_DROP;
    const g = this.genBuf;
    const ip = ETH_HLEN;
    // Source address selection (RFC 6724 as ipv6_dev_get_saddr): a global address,
    // preferring the given interface (rule 5), then the longest common prefix (rule 8).
    // icmp6_send passes the *input* interface when the route back has no prefsrc (ours
    // never do; kernel commit fac6fce9bdb5 "provide input address for traceroute6").
    const a = this.selectSrc6(ingressIf, buf, src);
    if (a === null) return DP_DROP;
    const quote = Math.min(totLen, ICMP6_MAX_ERROR - 40 - 8);
    const icmpLen = 8 + quote;
    put32(g, ip, 0x60000000); // traffic class 0; flow label: Linux's auto flow label hash (compare masked)
    put16(g, ip + 4, icmpLen);
    g[ip + 6] = 58;
    g[ip + 7] = ICMP_TTL;
    copyBytes(g, ip + 8, a, 0, 16);
    copyBytes(g, ip + 24, buf, src, 16);
    const ic = ip + 40;
    g[ic] = type;
    g[ic + 1] = code;
    put16(g, ic + 2, 0);
    put32(g, ic + 4, info >>> 0);
    copyBytes(g, ic + 8, buf, l3, quote);
    let acc = sum16(g, ip + 8, 32, 0) + icmpLen + 58;
    acc = sum16(g, ic, icmpLen, acc);
    put16(g, ic + 2, ~fold16(acc) & 0xffff);
    this.genLen = ETH_HLEN + 40 + icmpLen;
    this.genEgressIf = eg;
    this.genType = type;
    this.genCode = code;
    return DP_ICMP_ERROR;
  }

  private selectSrc6(eg: number, buf: Uint8Array, dstOff: number): Uint8Array | null {
    let best: Uint8Array | null = null;
    let bestLen = -1;
    for (const a of this.ifaces[eg]!.addrs) {
      if (a.family !== 6 || (a.bytes[0] === 0xfe && ((a.bytes[1] as number) & 0xc0) === 0x80)) continue;
      const l = commonPrefixLen(a.bytes, 0, buf, dstOff);
      if (l > bestLen) {
        best = a.bytes;
        bestLen = l;
      }
    }
    if (best !== null) return best;
    for (const ifc of this.ifaces) {
      for (const a of ifc.addrs) {
        if (a.family !== 6 || (a.bytes[0] === 0xfe && ((a.bytes[1] as number) & 0xc0) === 0x80)) continue;
        const l = commonPrefixLen(a.bytes, 0, buf, dstOff);
        if (l > bestLen) {
          best = a.bytes;
          bestLen = l;
        }
      }
    }
    return best;
  }

  /** After a HOLD: write the destination MAC if the neighbour is now resolved. */
  completeHold(buf: Uint8Array, off: number, egressIf: number, nexthop: Uint8Array, family: number): boolean {
    const e = this.neigh.resolved(egressIf, family, nexthop, 0, this.nowSeen);
    if (e < 0) return false;
    copyBytes(buf, off, this.neigh.macs, e * 6, 6);
    return true;
  }

  neighborKnown(egressIf: number, nexthop: Uint8Array, family: number, nowNs: number): boolean {
    if (nowNs > this.nowSeen) this.nowSeen = nowNs;
    return this.neigh.resolved(egressIf, family, nexthop, 0, nowNs) >= 0;
  }

  /**
   * neighbor_flush: the interface's neighbours become unresolved until resolveAtNs
   * (default: the last process() time plus NEIGH_REFLUSH_NS, standing in for the ARP/ND
   * exchange Linux would start).
   */
  flushNeighbors(iface: number, resolveAtNs: number = this.lastNowNs + NEIGH_REFLUSH_NS): void {
    this.neigh.flush(iface, resolveAtNs);
  }

  describeLast(): { lookup: string; nat: { src?: string; dst?: string } | null; fib: { egress: string; nexthop: string | null } | null } {
    const lookup = LOOKUP_KIND_NAMES[this.lookupKind] ?? "none";
    if (this.lastRoute < 0 || this.egressIf < 0) return { lookup, nat: null, fib: null };
    const natDesc = this.describeNat();
    const egress = this.ifaces[this.egressIf]?.name ?? `#${this.egressIf}`;
    const nexthop = this.nexthopFamily === 0 ? null : formatIp(this.nexthop, 0, this.nexthopFamily === 4 ? 4 : 16);
    return { lookup, nat: natDesc, fib: { egress, nexthop } };
  }

  /** The translated source/destination of the last packet (cold path: path records). */
  private describeNat(): { src?: string; dst?: string } | null {
    const n = this.nat;
    if (n.sid < 0 || (!n.srcChanged && !n.dstChanged)) return null;
    const st = n.sessions;
    const b = n.sid * 10;
    // the packet now carries the inverse of the other direction's key
    const other = n.dir === 0 ? st.reply : st.orig;
    const fam = (other[b + 9] as number) & 0xff;
    const proto = ((other[b + 9] as number) >>> 8) & 0xff;
    const alen = fam === 4 ? 4 : 16;
    const bytes = new Uint8Array(16);
    const fmt = (kw: number, port: number): string => {
      for (let j = 0; j < 4; j++) {
        const w = other[b + kw + j] as number;
        bytes[j * 4] = w >>> 24;
        bytes[j * 4 + 1] = (w >>> 16) & 0xff;
        bytes[j * 4 + 2] = (w >>> 8) & 0xff;
        bytes[j * 4 + 3] = w & 0xff;
      }
      const ip = formatIp(bytes, 0, alen as 4 | 16);
      if (proto !== 6 && proto !== 17) return ip;
      return fam === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
    };
    const p = other[b + 8] as number;
    const out: { src?: string; dst?: string } = {};
    // inverse: the other key's dst is our src, its src our dst
    if (n.srcChanged) out.src = fmt(4, p & 0xffff);
    if (n.dstChanged) out.dst = fmt(0, p >>> 16);
    return out;
  }
}
