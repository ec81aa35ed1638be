// The NAT engine behind the nat.pre / nat.post hooks: session lookup, DNAT for new flows,
// the reverse translation of replies, SNAT (interface or pool) with netfilter's tuple
// choice (nf_nat_core.c get_unique_tuple / nf_nat_l4proto_unique_tuple), session install,
// fragment following and the in-place rewrite with incremental checksums (as Linux's
// nf_nat_ipv4/ipv6_manip_pkt + l4proto manip: a valid checksum stays valid, an invalid one
// stays as wrong). Bug switches of CATALOGUE C, D, D′ live here. docs/nat.md has the policy.
// Hot path: fields and preallocated Uint32Array keys; no allocation per packet.
import type { Scenario, SnatRule, DnatRule } from "../scenario/types.js";
import { R } from "../reasons.js";
import { csumReplace16, fold16, sum16 } from "../packet/checksum.js";
import { Prng } from "../engine/prng.js";
import { KEY_WORDS, invertKey } from "./reverseIndex.js";
import { SessionTable, F_DNAT, F_PUB_FWD, F_PUB_REV, F_SNAT, TCP_CLOSE, TCP_ESTABLISHED, TCP_SYN_SENT, TCP_TIME_WAIT } from "./session.js";
import { FragTable } from "./frag.js";
import { translateIcmpError } from "./icmpError.js";

export const NAT_CONTINUE = 0;
export const NAT_DROP = 1;
export const NAT_KERNEL = 2;

/** Default session capacity (rows); `new NatEngine(scn, { sessions })` overrides. */
export const DEFAULT_SESSIONS = 65536;
/** Linux NF_NAT_MAX_ATTEMPTS. */
export const NAT_MAX_ATTEMPTS = 128;
/** The scenario default port range, read as "no range given" (Linux's port classes apply). */
const DEFAULT_RANGE_LO = 1024;
const DEFAULT_RANGE_HI = 65535;

// lookup kinds (same numbers as dataplane.ts LK_*)
const LK_SESSION_HIT = 1;
const LK_NAT_REVERSE_HIT = 3;
const LK_NEW = 4;

function be16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}
function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
function rd32(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}

/** ICMP types whose bytes 4–5 are an identifier (echo, timestamp, info, address mask). */
export function icmpHasId(fam: number, t: number): boolean {
  if (fam === 6) return t === 128 || t === 129;
  return t === 0 || t === 8 || t === 13 || t === 14 || t === 15 || t === 16 || t === 17 || t === 18;
}
/** Requests that may start an ICMP session (Linux icmp_new / icmpv6_new valid_new). */
function icmpIsRequest(fam: number, t: number): boolean {
  if (fam === 6) return t === 128;
  return t === 8 || t === 13 || t === 15 || t === 17;
}
export function icmpIsError(fam: number, t: number): boolean {
  if (fam === 6) return t >= 1 && t <= 4;
  return t === 3 || t === 4 || t === 5 || t === 11 || t === 12;
}

/** Write the tuple (proto, src, dst, sport, dport) of the bytes at buf into key k[o…]. */
export function packKey(buf: Uint8Array, srcOff: number, dstOff: number, fam: number, proto: number, sport: number, dport: number, k: Uint32Array, o: number): void {
  if (fam === 4) {
    k[o] = rd32(buf, srcOff);
    k[o + 1] = 0;
    k[o + 2] = 0;
    k[o + 3] = 0;
    k[o + 4] = rd32(buf, dstOff);
    k[o + 5] = 0;
    k[o + 6] = 0;
    k[o + 7] = 0;
  } else {
    for (let j = 0; j < 4; j++) {
      k[o + j] = rd32(buf, srcOff + j * 4);
      k[o + 4 + j] = rd32(buf, dstOff + j * 4);
    }
  }
  k[o + 8] = ((sport << 16) | dport) >>> 0;
  k[o + 9] = (fam | (proto << 8)) >>> 0;
}

interface SnatCompiled {
  rule: SnatRule;
  /** Pool addresses as key words (4 per address), or null for "interface". */
  pool: Uint32Array | null;
  poolFam: Uint8Array | null;
  nPool: number;
  specified: boolean;
}

export class NatEngine {
  readonly sessions: SessionTable;
  readonly frags: FragTable;
  private readonly snat: SnatCompiled[];
  private readonly dnat: readonly DnatRule[];
  private readonly prng: Prng;
  private readonly ifAddr4: Uint32Array; // first IPv4 address per interface (0 = none)
  private readonly ifHas4: Uint8Array;
  private readonly ifAddr6: Uint32Array; // first global IPv6 address per interface
  private readonly ifHas6: Uint8Array;
  // bug switches
  readonly bSignFlip: boolean;
  readonly bPartialAsFull: boolean;
  readonly bPortOnlyNoCsum: boolean;
  readonly bStalePorts: boolean;
  readonly bMutatedTuple: boolean;
  readonly bEmbeddedNoSwap: boolean;
  readonly bSnatCollision: boolean;
  readonly bOverwrite: boolean;
  readonly bFragLose: boolean;
  readonly bSessionAfterNeigh: boolean;
  private readonly genericAttach: boolean;

  // per-packet state
  /** The frame's L4 checksum is CHECKSUM_PARTIAL (set by the worker before process(); generic XDP only). */
  csumPartial = false;
  reason = 0;
  lookupKind = 0;
  /** Session of this packet (-1: none), its direction (0 original, 1 reply). */
  sid = -1;
  dir = -1;
  private isNew = false;
  private related = false;
  private dnatRule = -1;
  private fam = 4;
  private proto = -1;
  private l3 = 0;
  private l4Off = 0;
  private l4First = true;
  private l4End = 0;
  private isFrag = false;
  private moreFrags = false;
  private fragId = 0;
  private tcpFlags = -1;
  private icmpType = -1;
  /** Translations applied to this packet (for describeLast). */
  srcChanged = false;
  dstChanged = false;
  /** portsFromStaleFrame: the L4 ports of the last frame this engine rewrote. */
  private staleSport = -1;
  private staleDport = -1;
  /** Counters. */
  snatExhausted = 0;
  tableFull = 0;
  fragNoSession = 0;
  icmpTranslated = 0;

  readonly pk = new Uint32Array(KEY_WORDS); // the packet's tuple as it arrived
  readonly tk = new Uint32Array(KEY_WORDS); // target tuple of the rewrite
  readonly rk = new Uint32Array(KEY_WORDS); // reply candidate
  private readonly fk = new Uint32Array(KEY_WORDS); // fragment key

  constructor(scn: Scenario, opts: { sessions?: number } = {}) {
    const b = scn.bugs;
    this.sessions = new SessionTable(opts.sessions ?? DEFAULT_SESSIONS, {
      noReverseIndex: b.noReverseIndex,
      reverseIndexOverwrite: b.reverseIndexOverwrite,
      rstTearsDown: b.rstTearsDown,
    });
    this.frags = new FragTable(4096);
    this.prng = new Prng(scn.seed).fork(0x4e4154); // "NAT"
    this.dnat = scn.nat.dnat;
    this.snat = scn.nat.snat.map((rule) => {
      let pool: Uint32Array | null = null;
      let poolFam: Uint8Array | null = null;
      let n = 0;
      if (rule.to !== "interface") {
        const words: number[] = [];
        const fams: number[] = [];
        for (const a of rule.to.pool) {
          // a prefix expands to its addresses (capped); v6 prefixes vary only the last 16 bits
          const hostBits = (a.family === 4 ? 32 : 128) - a.prefixLen;
          const count = Math.min(2 ** Math.min(hostBits, 16), 65536);
          for (let i = 0; i < count; i++) {
            const w = new Uint32Array(4);
            if (a.family === 4) w[0] = (rd32(a.bytes, 0) + i) >>> 0;
            else for (let j = 0; j < 4; j++) w[j] = rd32(a.bytes, j * 4) + (j === 3 ? i : 0);
            words.push(...w);
            fams.push(a.family);
          }
        }
        pool = Uint32Array.from(words);
        poolFam = Uint8Array.from(fams);
        n = fams.length;
      }
      const specified = !(rule.portRange[0] === DEFAULT_RANGE_LO && rule.portRange[1] === DEFAULT_RANGE_HI);
      return { rule, pool, poolFam, nPool: n, specified };
    });
    const nIf = scn.interfaces.length;
    this.ifAddr4 = new Uint32Array(nIf);
    this.ifHas4 = new Uint8Array(nIf);
    this.ifAddr6 = new Uint32Array(nIf * 4);
    this.ifHas6 = new Uint8Array(nIf);
    scn.interfaces.forEach((ifc, i) => {
      for (const a of ifc.addrs) {
        if (a.family === 4 && !this.ifHas4[i]) {
          this.ifAddr4[i] = rd32(a.bytes, 0);
          this.ifHas4[i] = 1;
        }
        if (a.family === 6 && !this.ifHas6[i] && !(a.bytes[0] === 0xfe && ((a.bytes[1] as number) & 0xc0) === 0x80)) {
          for (let j = 0; j < 4; j++) this.ifAddr6[i * 4 + j] = rd32(a.bytes, j * 4);
          this.ifHas6[i] = 1;
        }
      }
    });
    this.bSignFlip = b.signFlippedDelta;
    this.bPartialAsFull = b.partialCsumAsFull;
    this.bPortOnlyNoCsum = b.portOnlyNatNoCsum;
    this.bStalePorts = b.portsFromStaleFrame;
    this.bMutatedTuple = b.tupleFromMutatedFrame;
    this.bEmbeddedNoSwap = b.embeddedIcmpNoSwap;
    this.bSnatCollision = b.snatPortCollision;
    this.bOverwrite = b.reverseIndexOverwrite;
    this.bFragLose = b.fragmentsLoseSession;
    this.bSessionAfterNeigh = b.sessionAfterNeighbor;
    this.genericAttach = scn.dataplane.attach === "generic";
  }

  // ---- checksum arithmetic (the one place signFlippedDelta lives) ----

  /** RFC 1624 update of one 16-bit word. */
  cs(check: number, oldW: number, newW: number): number {
    if (this.bSignFlip) return ~fold16(check + (~oldW & 0xffff) + newW) & 0xffff; // HC not complemented
    return csumReplace16(check, oldW, newW);
  }
  /** Update of a CHECKSUM_PARTIAL field (it holds the uncomplemented pseudo-header sum). */
  private csPartial(check: number, oldW: number, newW: number): number {
    return ~this.cs(~check & 0xffff, oldW, newW) & 0xffff;
  }

  // ---- per packet ----

  /** The dataplane's L3/L4 walk of this packet. */
  begin(buf: Uint8Array, l3: number, fam: number, proto: number, l4Off: number, l4First: boolean, l4End: number, isFrag: boolean, moreFrags: boolean, fragId: number): void {
    this.reason = 0;
    this.lookupKind = 0;
    this.sid = -1;
    this.dir = -1;
    this.isNew = false;
    this.related = false;
    this.dnatRule = -1;
    this.srcChanged = false;
    this.dstChanged = false;
    this.fam = fam;
    this.proto = proto;
    this.l3 = l3;
    this.l4Off = l4Off;
    this.l4First = l4First;
    this.l4End = l4End;
    this.isFrag = isFrag;
    this.moreFrags = moreFrags;
    this.fragId = fragId;
    this.tcpFlags = -1;
    this.icmpType = -1;
    const have = l4End - l4Off;
    let sport = 0;
    let dport = 0;
    if (l4First) {
      if ((proto === 6 && have >= 20) || (proto === 17 && have >= 8)) {
        sport = be16(buf, l4Off);
        dport = be16(buf, l4Off + 2);
        if (proto === 6) this.tcpFlags = buf[l4Off + 13] as number;
      } else if ((proto === 1 && fam === 4) || (proto === 58 && fam === 6)) {
        if (have >= 8) {
          this.icmpType = buf[l4Off] as number;
          if (icmpHasId(fam, this.icmpType)) sport = be16(buf, l4Off + 4);
        }
      }
    }
    const srcOff = fam === 4 ? l3 + 12 : l3 + 8;
    packKey(buf, srcOff, srcOff + (fam === 4 ? 4 : 16), fam, proto, sport, dport, this.pk, 0);
  }

  /** L4 header too short to carry what NAT must read (Linux: skb_ensure_writable fails → drop). */
  l4Truncated(): boolean {
    if (!this.l4First) return false;
    const have = this.l4End - this.l4Off;
    return (this.proto === 6 && have < 20) || (this.proto === 17 && have < 8);
  }

  /**
   * nat.pre: fragments, ICMP errors, the session lookup and DNAT. NAT_CONTINUE with the
   * destination side translated, or NAT_DROP / NAT_KERNEL with `reason`.
   */
  pre(buf: Uint8Array, ingressIf: number, localDst: boolean, nowNs: number): number {
    const st = this.sessions;
    // Later fragments follow their first fragment.
    if (this.isFrag && !this.l4First && !this.bFragLose) {
      this.fragKey(buf);
      const v = this.frags.find(this.fk, nowNs);
      const sid = v >>> 1;
      if (v < 0 || !st.isLive(sid) || st.gen[sid] !== this.frags.foundGen) {
        if (localDst) return this.kernel();
        this.fragNoSession++;
        return this.drop(R.fragment_no_session);
      }
      this.sid = sid;
      this.dir = v & 1;
      this.setHitKind();
      this.applyHit(buf, false);
      return NAT_CONTINUE;
    }
    // ICMP errors quoting a flow of a session are translated as related packets.
    if (this.icmpType >= 0 && icmpIsError(this.fam, this.icmpType)) {
      const v = translateIcmpError(this, buf, this.l3, this.fam, this.l4Off, this.l4End, nowNs);
      if (v >= 0) {
        this.related = true;
        this.sid = v >>> 2;
        this.dir = v & 3;
        this.setHitKind();
        this.icmpTranslated++;
        return NAT_CONTINUE;
      }
      // no related session: handled statelessly like the plain router (docs/nat.md)
      this.related = true;
      if (localDst) return this.kernel();
      this.lookupKind = LK_NEW;
      return NAT_CONTINUE;
    }
    const v = st.lookup(this.pk, 0, nowNs);
    if (v >= 0) {
      this.sid = v >>> 2;
      this.dir = v & 3;
      this.setHitKind();
      st.touch(this.sid, this.dir, this.tcpFlags, nowNs);
      this.applyHit(buf, false);
      return NAT_CONTINUE;
    }
    // New flow: DNAT rules of the ingress interface, else local delivery.
    this.lookupKind = LK_NEW;
    this.isNew = true;
    const di = this.matchDnat(buf, ingressIf);
    if (di >= 0) {
      this.dnatRule = di;
      const r = this.dnat[di]!;
      this.tk.set(this.pk);
      if (this.fam === 4) this.tk[4] = rd32(r.to.bytes, 0);
      else for (let j = 0; j < 4; j++) this.tk[4 + j] = rd32(r.to.bytes, j * 4);
      if (r.toPort !== null && (this.proto === 6 || this.proto === 17)) this.tk[8] = (((this.pk[8] as number) & 0xffff0000) | r.toPort) >>> 0;
      this.rewrite(buf, false, true, false);
      return NAT_CONTINUE;
    }
    if (localDst) return this.kernel();
    return NAT_CONTINUE;
  }

  /**
   * Bug replyMissGoesToKernel's broken check, run before the session lookup: the packet is
   * addressed to an address SNAT hands out (an interface rule's egress address, an address
   * of a pool) and matches no DNAT rule, i.e. it looks like a reply to the SNAT address.
   */
  toSnatAddress(buf: Uint8Array, ingressIf: number): boolean {
    const fam = this.fam;
    const pk = this.pk;
    const words = fam === 4 ? 1 : 4;
    let hit = false;
    for (let i = 0; i < this.snat.length && !hit; i++) {
      const c = this.snat[i]!;
      if (c.pool === null) {
        const e = c.rule.egress;
        if (fam === 4) hit = this.ifHas4[e] === 1 && pk[4] === this.ifAddr4[e];
        else if (this.ifHas6[e] === 1) {
          hit = true;
          for (let j = 0; j < 4; j++) if (pk[4 + j] !== this.ifAddr6[e * 4 + j]) hit = false;
        }
        continue;
      }
      for (let a = 0; a < c.nPool && !hit; a++) {
        if (c.poolFam![a] !== fam) continue;
        hit = true;
        for (let j = 0; j < words; j++) if (pk[4 + j] !== c.pool![a * 4 + j]) hit = false;
      }
    }
    return hit && this.matchDnat(buf, ingressIf) < 0;
  }

  /** nat.pre applied a DNAT rule to this packet (a new flow: no session until nat.post). */
  dnatApplied(): boolean {
    return this.dnatRule >= 0;
  }

  /** Fragments of a new flow are not sessions' starters; the caller decides policy. */
  isNewFlow(): boolean {
    return this.isNew;
  }

  /**
   * nat.post (after FIB, TTL, MTU and policy): source side of a hit; for a new flow the
   * validity check, SNAT tuple choice, session install. neighborReady: the next hop is
   * resolved (for bug sessionAfterNeighbor).
   */
  post(buf: Uint8Array, egressIf: number, localSrcOf: (fam: number, k: Uint32Array, o: number) => boolean, neighborReady: boolean, nowNs: number): number {
    if (this.related) return NAT_CONTINUE;
    if (!this.isNew) {
      if (this.sid >= 0) {
        this.applyHit(buf, true);
        this.recordFrag(nowNs);
      }
      return NAT_CONTINUE;
    }
    // Linux's ct state invalid (tcp_new / icmp_new): not a flow start.
    if (this.isFrag && !this.l4First) {
      // bug fragmentsLoseSession: a later fragment is looked up without ports and starts a flow of its own
    } else if (this.proto === 6) {
      const f = this.tcpFlags;
      // tcp_conntracks[0][*][sNO]: RST, SYN-ACK and FIN are invalid; a bare ACK is picked up (nf_conntrack_tcp_loose)
      if (f < 0 || (f & 0x05) !== 0 || (f & 0x12) === 0x12 || (f & 0x12) === 0) return this.drop(R.no_session);
    } else if ((this.proto === 1 && this.fam === 4) || (this.proto === 58 && this.fam === 6)) {
      if (this.icmpType < 0 || !icmpIsRequest(this.fam, this.icmpType)) return this.drop(R.no_session);
    }
    const pk = this.pk;
    const rk = this.rk;
    // reply candidate: from the (possibly DNATed) destination back to the original source
    if (this.dnatRule >= 0) invertKey(this.tk, 0, rk, 0);
    else invertKey(pk, 0, rk, 0);
    const icmp = this.proto === 1 || this.proto === 58;
    // SNAT: the first rule for this egress whose `from` holds the source
    const ri = this.matchSnat(buf, egressIf);
    let specified = false;
    let lo = 0;
    let hi = 0;
    if (ri >= 0) {
      const c = this.snat[ri]!;
      if (!this.snatAddress(c, egressIf, rk)) return this.drop(R.snat_exhausted);
      specified = c.specified;
      lo = c.rule.portRange[0];
      hi = c.rule.portRange[1];
    }
    const origPort = icmp ? (pk[8] as number) >>> 16 : (pk[8] as number) >>> 16;
    // get_unique_tuple: keep the port when in range and the reply tuple is unique
    const inRange = !specified || (origPort >= lo && origPort <= hi);
    let ok = inRange && (this.bSnatCollision || !this.taken(rk, nowNs));
    if (!ok) ok = this.uniquePort(rk, icmp, specified, lo, hi, origPort, nowNs);
    if (!ok) {
      this.snatExhausted++;
      return this.drop(R.snat_exhausted);
    }
    // the translated forward tuple is the inverse of the chosen reply
    invertKey(rk, 0, this.tk, 0);
    let natFlags = 0;
    if (this.tk[0] !== pk[0] || this.tk[1] !== pk[1] || this.tk[2] !== pk[2] || this.tk[3] !== pk[3] || ((this.tk[8] as number) >>> 16) !== ((pk[8] as number) >>> 16)) natFlags |= F_SNAT;
    if (this.dnatRule >= 0) natFlags |= F_DNAT;
    this.rewrite(buf, true, false, true);
    let publish = 0;
    if (localSrcOf(this.fam, rk, 4)) publish |= F_PUB_REV;
    if (localSrcOf(this.fam, pk, 4)) publish |= F_PUB_FWD;
    if (this.bSessionAfterNeigh && !neighborReady) return NAT_CONTINUE; // no session until the neighbour answers
    const tcpInit = this.tcpFlags >= 0 && (this.tcpFlags & 0x02) !== 0 ? TCP_SYN_SENT : TCP_ESTABLISHED;
    let sid: number;
    if (this.bMutatedTuple) {
      // the tuple re-read from the frame after it was rewritten
      this.begin(buf, this.l3, this.fam, this.proto, this.l4Off, this.l4First, this.l4End, this.isFrag, this.moreFrags, this.fragId);
      this.isNew = true;
      sid = this.sessions.install(this.pk, 0, rk, 0, natFlags, publish, egressIf, tcpInit, nowNs);
    } else {
      sid = this.sessions.install(pk, 0, rk, 0, natFlags, publish, egressIf, tcpInit, nowNs);
    }
    if (sid < 0) {
      this.tableFull++;
      return this.drop(R.session_table_full);
    }
    this.sid = sid;
    this.dir = 0;
    this.recordFrag(nowNs);
    return NAT_CONTINUE;
  }

  /** After the rewrite: complete a CHECKSUM_PARTIAL L4 checksum in software (skb_checksum_help's job). */
  finish(buf: Uint8Array): void {
    if (!this.csumPartial || !this.genericAttach || !this.l4First) return;
    const o = this.l4Off;
    const have = this.l4End - o;
    let c = -1;
    if (this.proto === 6 && have >= 20) c = o + 16;
    else if (this.proto === 17 && have >= 8) c = o + 6;
    if (c < 0) return;
    let v = ~fold16(sum16(buf, o, have, 0)) & 0xffff;
    if (this.proto === 17 && v === 0) v = 0xffff;
    put16(buf, c, v);
  }

  // ---- helpers ----

  private drop(reason: number): number {
    this.reason = reason;
    return NAT_DROP;
  }
  private kernel(): number {
    this.reason = R.local_delivery;
    return NAT_KERNEL;
  }

  private setHitKind(): void {
    const fl = this.sessions.flags[this.sid] as number;
    this.lookupKind = this.dir === 1 && (fl & (F_SNAT | F_DNAT)) !== 0 ? LK_NAT_REVERSE_HIT : LK_SESSION_HIT;
  }

  /** Target tuple of a hit: the inverse of the other direction's key. Destination side at pre, source side at post. */
  private applyHit(buf: Uint8Array, srcSide: boolean): void {
    const st = this.sessions;
    invertKey(this.dir === 0 ? st.reply : st.orig, this.sid * KEY_WORDS, this.tk, 0);
    // ICMP ids travel with the initiator's side: its source going out, its destination coming back.
    this.rewrite(buf, srcSide, !srcSide, srcSide ? this.dir === 0 : this.dir === 1);
  }

  private taken(rk: Uint32Array, nowNs: number): boolean {
    const st = this.sessions;
    const v = st.lookup(rk, 0, nowNs);
    if (v < 0) return false;
    if (this.bOverwrite) {
      // bug: a closing session's tuple counts as free
      const s = st.state[v >>> 2] as number;
      if (s === TCP_CLOSE || s === TCP_TIME_WAIT) return false;
    }
    return true;
  }

  /** nf_nat_l4proto_unique_tuple on rk's destination port (ICMP: its id). */
  private uniquePort(rk: Uint32Array, icmp: boolean, specified: boolean, lo: number, hi: number, origPort: number, nowNs: number): boolean {
    let min: number;
    let size: number;
    if (icmp) {
      if (specified) {
        min = lo;
        size = hi - lo + 1;
      } else {
        min = 0;
        size = 65536;
      }
    } else if (this.proto === 6 || this.proto === 17) {
      if (specified) {
        min = lo;
        size = hi - lo + 1;
      } else if (origPort < 512) {
        min = 1;
        size = 511;
      } else if (origPort < 1024) {
        min = 600;
        size = 1023 - 600 + 1;
      } else {
        min = 1024;
        size = 65535 - 1024 + 1;
      }
    } else return false; // no per-protocol part to vary
    let off = this.prng.nextU32() & 0xffff;
    let attempts = Math.min(size, NAT_MAX_ATTEMPTS);
    for (;;) {
      for (let i = 0; i < attempts; i++, off = (off + 1) & 0xffff) {
        const port = min + (off % size);
        if (icmp) rk[8] = (port << 16) >>> 0;
        else rk[8] = (((rk[8] as number) & 0xffff0000) | port) >>> 0;
        if (!this.taken(rk, nowNs)) return true;
      }
      if (attempts >= size || attempts < 16) return false;
      attempts >>>= 1;
      off = this.prng.nextU32() & 0xffff;
    }
  }

  /** Put the rule's translated source address into rk's destination. False: no address of the family. */
  private snatAddress(c: SnatCompiled, egressIf: number, rk: Uint32Array): boolean {
    if (c.pool === null) {
      if (this.fam === 4) {
        if (!this.ifHas4[egressIf]) return false;
        rk[4] = this.ifAddr4[egressIf] as number;
        rk[5] = 0;
        rk[6] = 0;
        rk[7] = 0;
      } else {
        if (!this.ifHas6[egressIf]) return false;
        for (let j = 0; j < 4; j++) rk[4 + j] = this.ifAddr6[egressIf * 4 + j] as number;
      }
      return true;
    }
    // pool: a hash of (source, destination) picks the address, as find_best_ips_proto
    // spreads by jhash (the model's hash differs: compare by uniqueness, docs/nat.md)
    let n = 0;
    for (let i = 0; i < c.nPool; i++) if (c.poolFam![i] === this.fam) n++;
    if (n === 0) return false;
    let h = 0x12345;
    for (let j = 0; j < 8; j++) h = Math.imul(h ^ (this.pk[j] as number), 0x01000193);
    let pick = ((h >>> 0) % n) as number;
    for (let i = 0; i < c.nPool; i++) {
      if (c.poolFam![i] !== this.fam) continue;
      if (pick-- === 0) {
        for (let j = 0; j < 4; j++) rk[4 + j] = c.pool![i * 4 + j] as number;
        return true;
      }
    }
    return false;
  }

  private matchSnat(buf: Uint8Array, egressIf: number): number {
    const srcOff = this.fam === 4 ? this.l3 + 12 : this.l3 + 8;
    for (let i = 0; i < this.snat.length; i++) {
      const r = this.snat[i]!.rule;
      if (r.egress !== egressIf) continue;
      if (r.from !== null) {
        if (r.from.family !== this.fam) continue;
        if (!prefixHas(r.from.bytes, r.from.prefixLen, buf, srcOff)) continue;
      } else if (r.to !== "interface") {
        // a pool rule without `from` applies to its own family only
        let any = false;
        for (const a of r.to.pool) if (a.family === this.fam) any = true;
        if (!any) continue;
      }
      return i;
    }
    return -1;
  }

  private matchDnat(buf: Uint8Array, ingressIf: number): number {
    const dstOff = this.fam === 4 ? this.l3 + 16 : this.l3 + 24;
    const alen = this.fam === 4 ? 4 : 16;
    const dport = (this.pk[8] as number) & 0xffff;
    for (let i = 0; i < this.dnat.length; i++) {
      const r = this.dnat[i]!;
      if (r.ingress !== ingressIf || r.dst.family !== this.fam) continue;
      if (r.proto !== 0 && r.proto !== this.proto) continue;
      let eq = true;
      for (let j = 0; j < alen; j++) if (r.dst.bytes[j] !== buf[dstOff + j]) eq = false;
      if (!eq) continue;
      if (r.port !== null && (!this.l4First || r.port !== dport)) continue;
      return i;
    }
    return -1;
  }

  private fragKey(buf: Uint8Array): void {
    const k = this.fk;
    const srcOff = this.fam === 4 ? this.l3 + 12 : this.l3 + 8;
    packKey(buf, srcOff, srcOff + (this.fam === 4 ? 4 : 16), this.fam, this.proto, 0, 0, k, 0);
    k[8] = this.fragId >>> 0;
    k[9] = ((k[9] as number) | 0x10000) >>> 0;
  }

  /** A first fragment of a session's packet: later fragments follow it (key taken before the rewrite). */
  private recordFrag(nowNs: number): void {
    if (!this.isFrag || !this.l4First || !this.moreFrags || this.sid < 0) return;
    // the key of the fragments as they arrive: the packet's own tuple before translation
    const k = this.fk;
    for (let j = 0; j < 8; j++) k[j] = this.pk[j] as number;
    k[8] = this.fragId >>> 0;
    k[9] = ((this.pk[9] as number) | 0x10000) >>> 0;
    this.frags.record(k, this.sid * 2 + this.dir, this.sessions.gen[this.sid] as number, nowNs);
  }

  /**
   * Rewrite the frame's source side (addresses, port) and/or destination side to the
   * target tuple tk, with every checksum updated incrementally. icmpId: also set the ICMP
   * identifier to tk's sport.
   */
  private rewrite(buf: Uint8Array, doSrc: boolean, doDst: boolean, icmpId: boolean): void {
    const fam = this.fam;
    const l3 = this.l3;
    const alen = fam === 4 ? 4 : 16;
    const srcOff = fam === 4 ? l3 + 12 : l3 + 8;
    const proto = this.proto;
    const o4 = this.l4Off;
    const have = this.l4First ? this.l4End - o4 : 0;
    let ipc = fam === 4 ? be16(buf, l3 + 10) : 0;
    let l4c = -1;
    let pseudo = false;
    if (have > 0) {
      if (proto === 6 && have >= 18) {
        l4c = o4 + 16;
        pseudo = true;
      } else if (proto === 17 && have >= 8) {
        l4c = o4 + 6;
        pseudo = true;
      } else if (proto === 1 && fam === 4 && have >= 8) l4c = o4 + 2;
      else if (proto === 58 && fam === 6 && have >= 8) {
        l4c = o4 + 2;
        pseudo = true;
      }
    }
    let lc = l4c >= 0 ? be16(buf, l4c) : 0;
    const udpNone = proto === 17 && lc === 0;
    const partial = this.csumPartial && this.genericAttach && (proto === 6 || proto === 17) && !this.bPartialAsFull;
    const tk = this.tk;
    let addrChanged = false;
    for (let side = 0; side < 2; side++) {
      if (side === 0 ? !doSrc : !doDst) continue;
      const off = srcOff + side * alen;
      const kw = side * 4;
      for (let w = 0; w < alen / 2; w++) {
        const word = tk[kw + (w >>> 1)] as number;
        const nv = (w & 1) === 0 ? word >>> 16 : word & 0xffff;
        const ov = be16(buf, off + w * 2);
        if (ov === nv) continue;
        addrChanged = true;
        if (fam === 4) ipc = this.cs(ipc, ov, nv);
        if (l4c >= 0 && pseudo && !udpNone) lc = partial ? this.csPartial(lc, ov, nv) : this.cs(lc, ov, nv);
        put16(buf, off + w * 2, nv);
      }
      if (side === 0) this.srcChanged = this.srcChanged || addrChanged;
      else this.dstChanged = this.dstChanged || addrChanged;
    }
    if (have >= 4 && (proto === 6 || proto === 17)) {
      for (let side = 0; side < 2; side++) {
        if (side === 0 ? !doSrc : !doDst) continue;
        const po = o4 + side * 2;
        const p = tk[8] as number;
        let nv = side === 0 ? p >>> 16 : p & 0xffff;
        if (this.bStalePorts) {
          const s = side === 0 ? this.staleSport : this.staleDport;
          if (s >= 0) nv = s;
        }
        const ov = be16(buf, po);
        if (ov === nv) continue;
        if (side === 0) this.srcChanged = true;
        else this.dstChanged = true;
        const skip = udpNone || partial || (this.bPortOnlyNoCsum && !addrChanged);
        if (l4c >= 0 && !skip) lc = this.cs(lc, ov, nv);
        put16(buf, po, nv);
      }
    } else if (icmpId && l4c >= 0 && icmpHasId(fam, buf[o4] as number)) {
      const nv = (tk[8] as number) >>> 16;
      const ov = be16(buf, o4 + 4);
      if (ov !== nv) {
        if (!(this.bPortOnlyNoCsum && !addrChanged)) lc = this.cs(lc, ov, nv);
        put16(buf, o4 + 4, nv);
        this.srcChanged = true;
      }
    }
    if (fam === 4) put16(buf, l3 + 10, ipc);
    if (l4c >= 0) {
      if (proto === 17 && !udpNone && lc === 0) lc = 0xffff; // CSUM_MANGLED_0
      put16(buf, l4c, lc);
    }
    if (have >= 4 && (proto === 6 || proto === 17)) {
      this.staleSport = be16(buf, o4);
      this.staleDport = be16(buf, o4 + 2);
    }
  }
}

function prefixHas(prefix: Uint8Array, len: number, buf: Uint8Array, off: number): boolean {
  let i = 0;
  for (; len >= 8; i++, len -= 8) if (prefix[i] !== buf[off + i]) return false;
  if (len === 0) return true;
  const m = (0xff << (8 - len)) & 0xff;
  return (((prefix[i] as number) ^ (buf[off + i] as number)) & m) === 0;
}
