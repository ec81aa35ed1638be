// The header-cursor parser behind decode(). One function per header, each taking
// (buf, cursor, view), checking bounds before every read, filling the view and
// returning the next protocol (>= 0) or a negated parse error code (errors.ts) — the
// shape of xdp-tutorial's parsing_helpers.h, so bpf/ can mirror it function by
// function. No allocation: one module-level cursor per nesting level.
import type { PacketView } from "./view.js";
import {
  PE_BAD_IHL,
  PE_BAD_IP6_EXT,
  PE_BAD_IP_LEN,
  PE_BAD_IP_VERSION,
  PE_BAD_TCP_DOFF,
  PE_BAD_UDP_LEN,
  PE_IP6_EXT_LIMIT,
  PE_TRUNC_ARP,
  PE_TRUNC_ETH,
  PE_TRUNC_ICMP,
  PE_TRUNC_IP4,
  PE_TRUNC_IP6,
  PE_TRUNC_IP6_EXT,
  PE_TRUNC_SLL,
  PE_TRUNC_TCP,
  PE_TRUNC_UDP,
  PE_TRUNC_VLAN,
  PE_UNKNOWN_LINKTYPE,
  PE_VLAN_LIMIT,
} from "./errors.js";
import { LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW } from "./linktypes.js";

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
export const ETH_P_IPV6 = 0x86dd;
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_MH = 135;
export const IPPROTO_HIP = 139;
export const IPPROTO_SHIM6 = 140;

/** VLAN tags and IPv6 extension headers are walked in bounded loops (BPF verifier friendly). */
export const VLAN_MAX_DEPTH = 2;
export const IPV6_EXT_MAX = 8;

const ARPHRD_NETLINK = 824;

/** Header cursor: pos is the next unread byte, end the exclusive bound of readable bytes. */
export class HdrCursor {
  pos = 0;
  end = 0;
}

const outerCur = new HdrCursor();
const innerCur = new HdrCursor();

function u16(buf: Uint8Array, i: number): number {
  return ((buf[i] as number) << 8) | (buf[i + 1] as number);
}
function u32(buf: Uint8Array, i: number): number {
  return (((buf[i] as number) << 24) | ((buf[i + 1] as number) << 16) | ((buf[i + 2] as number) << 8) | (buf[i + 3] as number)) >>> 0;
}

export function isVlanTpid(p: number): boolean {
  return p === ETH_P_8021Q || p === ETH_P_8021AD;
}

/** Ethernet II header: returns the EtherType (or 802.3 length). */
export function parseEthhdr(buf: Uint8Array, cur: HdrCursor, view: PacketView): number {
  const p = cur.pos;
  if (p + 14 > cur.end) return -PE_TRUNC_ETH;
  view.l2Off = p;
  view.ethTypeOff = p + 12;
  cur.pos = p + 14;
  return u16(buf, p + 12);
}

/** One 802.1Q/802.1ad tag; `tpid` is the EtherType that announced it. Returns the next EtherType. */
export function parseVlan(buf: Uint8Array, cur: HdrCursor, view: PacketView, tpid: number): number {
  const p = cur.pos;
  if (view.vlanCount >= VLAN_MAX_DEPTH) return -PE_VLAN_LIMIT;
  if (p + 4 > cur.end) return -PE_TRUNC_VLAN;
  const tci = u16(buf, p);
  if (view.vlanCount === 0) {
    view.vlanTpid0 = tpid;
    view.vlanTci0 = tci;
  } else {
    view.vlanTpid1 = tpid;
    view.vlanTci1 = tci;
  }
  view.vlanCount++;
  view.ethTypeOff = p + 2;
  cur.pos = p + 4;
  return u16(buf, p + 2);
}

/** Linux cooked v1 (16 bytes): packet type, ARPHRD, addr len, addr[8], protocol. */
export function parseSllhdr(buf: Uint8Array, cur: HdrCursor, view: PacketView): number {
  const p = cur.pos;
  if (p + 16 > cur.end) return -PE_TRUNC_SLL;
  view.l2Off = p;
  view.sllPktType = u16(buf, p);
  view.sllHatype = u16(buf, p + 2);
  view.sllProto = u16(buf, p + 14);
  view.ethTypeOff = p + 14;
  cur.pos = p + 16;
  return view.sllProto;
}

/** Linux cooked v2 (20 bytes): protocol, reserved, ifindex, ARPHRD, packet type, addr len, addr[8]. */
export function parseSll2hdr(buf: Uint8Array, cur: HdrCursor, view: PacketView): number {
  const p = cur.pos;
  if (p + 20 > cur.end) return -PE_TRUNC_SLL;
  view.l2Off = p;
  view.sllProto = u16(buf, p);
  view.sllIfindex = u32(buf, p + 4);
  view.sllHatype = u16(buf, p + 8);
  view.sllPktType = buf[p + 10] as number;
  view.ethTypeOff = p;
  cur.pos = p + 20;
  return view.sllProto;
}

/** ARP: fixed 8 bytes plus addresses; records the operation and, for IPv4-over-Ethernet, the IP offsets. */
export function parseArphdr(buf: Uint8Array, cur: HdrCursor, view: PacketView): number {
  const p = cur.pos;
  if (p + 8 > cur.end) return -PE_TRUNC_ARP;
  const hlen = buf[p + 4] as number;
  const plen = buf[p + 5] as number;
  const total = 8 + 2 * hlen + 2 * plen;
  if (p + total > cur.end) return -PE_TRUNC_ARP;
  view.arpOp = u16(buf, p + 6);
  if (plen === 4) {
    view.arpSpaOff = p + 8 + hlen;
    view.arpTpaOff = p + 8 + 2 * hlen + plen;
  }
  cur.pos = p + total;
  view.payloadOff = cur.pos;
  return 0;
}

/**
 * IPv4 header with options. Requires the whole header; narrows cur.end to the packet's
 * total length (Ethernet padding is not IP payload). Returns the protocol.
 */
export function parseIphdr(buf: Uint8Array, cur: HdrCursor, view: PacketView): number {
  const p = cur.pos;
  if (p + 20 > cur.end) return -PE_TRUNC_IP4;
  const b0 = buf[p] as number;
  if (b0 >> 4 !== 4) return -PE_BAD_IP_VERSION;
  const hl = (b0 & 0xf) * 4;
  if (hl < 20) return -PE_BAD_IHL;
  if (p + hl > cur.end) return -PE_TRUNC_IP4;
  const tot = u16(buf, p + 2);
  if (tot < hl) return -PE_BAD_IP_LEN;
  const fw = u16(buf, p + 6);
  view.ipVersion = 4;
  view.l3Off = p;
  view.ipHdrLen = hl;
  view.ipTotalLen = tot;
  view.tos = buf[p + 1] as number;
  view.ipId = u16(buf, p + 4);
  view.dontFragment = (fw >> 14) & 1;
  view.moreFrags = (fw >> 13) & 1;
  view.fragOffset = (fw & 0x1fff) * 8;
  view.isFragment = view.moreFrags === 1 || view.fragOffset !== 0 ? 1 : 0;
  view.ttl = buf[p + 8] as number;
  view.ttlOff = p + 8;
  view.ipProto = buf[p + 9] as number;
  view.ipCsumOff = p + 10;
  view.srcOff = p + 12;
  view.dstOff = p + 16;
  view.pseudoDstOff = p + 16;
  view.addrLen = 4;
  view.l4Len = tot - hl;
  if (p + tot < cur.end) cur.end = p + tot;
  cur.pos = p + hl;
  return view.ipProto;
}

/** IPv6 fixed header; narrows cur.end to 40 + payload length. Returns the first next-header value. */
export function parseIp6hdr(buf: Uint8Array, cur: HdrCursor, view: PacketView): number {
  const p = cur.pos;
  if (p + 40 > cur.end) return -PE_TRUNC_IP6;
  const b0 = buf[p] as number;
  if (b0 >> 4 !== 6) return -PE_BAD_IP_VERSION;
  const b1 = buf[p + 1] as number;
  const tot = 40 + u16(buf, p + 4);
  view.ipVersion = 6;
  view.l3Off = p;
  view.ipHdrLen = 40;
  view.ipTotalLen = tot;
  view.tos = ((b0 & 0xf) << 4) | (b1 >> 4);
  view.flowLabel = ((b1 & 0xf) << 16) | u16(buf, p + 2);
  view.ttl = buf[p + 7] as number;
  view.ttlOff = p + 7;
  view.ipProto = buf[p + 6] as number;
  view.srcOff = p + 8;
  view.dstOff = p + 24;
  view.pseudoDstOff = p + 24;
  view.addrLen = 16;
  view.dontFragment = 1;
  view.moreFrags = 0;
  view.fragOffset = 0;
  view.isFragment = 0;
  view.ip6ExtCount = 0;
  view.l4Len = tot - 40;
  if (p + tot < cur.end) cur.end = p + tot;
  cur.pos = p + 40;
  return view.ipProto;
}

function isIp6Ext(nh: number): boolean {
  return (
    nh === IPPROTO_HOPOPTS ||
    nh === IPPROTO_ROUTING ||
    nh === IPPROTO_FRAGMENT ||
    nh === IPPROTO_DSTOPTS ||
    nh === IPPROTO_AH ||
    nh === IPPROTO_MH ||
    nh === IPPROTO_HIP ||
    nh === IPPROTO_SHIM6
  );
}

/**
 * Walk IPv6 extension headers starting with next-header `nh` (at most IPV6_EXT_MAX).
 * Returns the upper-layer protocol. Stops at a non-first fragment's header: what
 * follows belongs to the fragment's data. view.ipProto tracks the walk, so after a
 * truncation error it names the header that was cut off.
 */
export function parseIp6Ext(buf: Uint8Array, cur: HdrCursor, view: PacketView, nh: number): number {
  const ipEnd = view.l3Off + view.ipTotalLen;
  for (let i = 0; i <= IPV6_EXT_MAX; i++) {
    view.ipProto = nh;
    if (!isIp6Ext(nh)) {
      view.ipHdrLen = cur.pos - view.l3Off;
      view.l4Len = view.ipTotalLen - view.ipHdrLen;
      return nh;
    }
    if (i === IPV6_EXT_MAX) return -PE_IP6_EXT_LIMIT;
    // Hop-by-hop options are only valid right after the fixed header (RFC 8200 §4.1).
    if (nh === IPPROTO_HOPOPTS && i !== 0) return -PE_BAD_IP6_EXT;
    const p = cur.pos;
    if (p + 8 > ipEnd) return -PE_BAD_IP6_EXT;
    if (p + 8 > cur.end) return -PE_TRUNC_IP6_EXT;
    const next = buf[p] as number;
    let hlen: number;
    if (nh === IPPROTO_FRAGMENT) {
      hlen = 8;
      const fw = u16(buf, p + 2);
      view.ip6FragOff = p;
      view.fragOffset = fw & 0xfff8;
      view.moreFrags = fw & 1;
      view.ipId = u32(buf, p + 4);
      // An atomic fragment (offset 0, M=0) is processed as a whole packet (RFC 6946).
      view.isFragment = view.fragOffset !== 0 || view.moreFrags === 1 ? 1 : 0;
    } else if (nh === IPPROTO_AH) {
      hlen = ((buf[p + 1] as number) + 2) * 4;
    } else {
      hlen = ((buf[p + 1] as number) + 1) * 8;
    }
    if (p + hlen > ipEnd) return -PE_BAD_IP6_EXT;
    if (p + hlen > cur.end) return -PE_TRUNC_IP6_EXT;
    if (nh === IPPROTO_ROUTING) routingFinalDst(buf, p, hlen, view);
    cur.pos = p + hlen;
    view.ip6ExtCount = i + 1;
    nh = next;
    if (view.fragOffset > 0) {
      view.ipProto = nh;
      view.ipHdrLen = cur.pos - view.l3Off;
      view.l4Len = view.ipTotalLen - view.ipHdrLen;
      return nh;
    }
  }
  return -PE_IP6_EXT_LIMIT;
}

/**
 * A routing header with segments left names the final destination, which the L4
 * pseudo-header uses: the last address for types 0 and 2, segment list[0] for SRH (4).
 */
function routingFinalDst(buf: Uint8Array, p: number, hlen: number, view: PacketView): void {
  const type = buf[p + 2] as number;
  const segLeft = buf[p + 3] as number;
  if (segLeft === 0) return;
  const naddr = (hlen - 8) >> 4;
  if (naddr < 1) return;
  if (type === 0 || type === 2) view.pseudoDstOff = p + 8 + (naddr - 1) * 16;
  else if (type === 4) view.pseudoDstOff = p + 8;
}

/** TCP header with options. */
export function parseTcphdr(buf: Uint8Array, cur: HdrCursor, view: PacketView): number {
  const p = cur.pos;
  if (p + 20 > cur.end) return -PE_TRUNC_TCP;
  const doff = ((buf[p + 12] as number) >> 4) * 4;
  if (doff < 20) return -PE_BAD_TCP_DOFF;
  if (p + doff > cur.end) return -PE_TRUNC_TCP;
  view.l4Off = p;
  view.srcPort = u16(buf, p);
  view.dstPort = u16(buf, p + 2);
  view.tcpSeq = u32(buf, p + 4);
  view.tcpAck = u32(buf, p + 8);
  view.tcpFlags = buf[p + 13] as number;
  view.tcpWindow = u16(buf, p + 14);
  view.l4CsumOff = p + 16;
  cur.pos = p + doff;
  view.payloadOff = cur.pos;
  return 0;
}

export function parseUdphdr(buf: Uint8Array, cur: HdrCursor, view: PacketView): number {
  const p = cur.pos;
  if (p + 8 > cur.end) return -PE_TRUNC_UDP;
  const ulen = u16(buf, p + 4);
  // A first fragment's UDP length covers the whole datagram, not this fragment.
  if (ulen < 8 || (view.isFragment !== 1 && ulen > view.l4Len)) return -PE_BAD_UDP_LEN;
  view.l4Off = p;
  view.srcPort = u16(buf, p);
  view.dstPort = u16(buf, p + 2);
  view.l4CsumOff = p + 6;
  cur.pos = p + 8;
  view.payloadOff = cur.pos;
  return 0;
}

/** ICMPv4 messages that carry an identifier/sequence (echo, timestamp, info, mask). */
function icmp4HasId(t: number): boolean {
  return t === 0 || t === 8 || t === 13 || t === 14 || t === 15 || t === 16 || t === 17 || t === 18;
}
/** ICMPv4 errors that quote the offending packet: unreachable, source quench, redirect, time exceeded, parameter problem. */
export function icmp4IsError(t: number): boolean {
  return t === 3 || t === 4 || t === 5 || t === 11 || t === 12;
}
export function icmp6IsError(t: number): boolean {
  return t === 1 || t === 2 || t === 3 || t === 4;
}

/** ICMP (v4) header, 8 bytes. Returns 1 when the message quotes a packet, else 0. */
export function parseIcmphdr(buf: Uint8Array, cur: HdrCursor, view: PacketView): number {
  const p = cur.pos;
  if (p + 8 > cur.end) return -PE_TRUNC_ICMP;
  const t = buf[p] as number;
  view.l4Off = p;
  view.icmpType = t;
  view.icmpCode = buf[p + 1] as number;
  view.l4CsumOff = p + 2;
  if (icmp4HasId(t)) {
    view.icmpId = u16(buf, p + 4);
    view.icmpSeq = u16(buf, p + 6);
  } else if (t === 3 && view.icmpCode === 4) {
    view.icmpMtu = u16(buf, p + 6);
  }
  cur.pos = p + 8;
  view.payloadOff = cur.pos;
  return icmp4IsError(t) ? 1 : 0;
}

/** ICMPv6 header, 8 bytes. Returns 1 when the message quotes a packet, else 0. */
export function parseIcmp6hdr(buf: Uint8Array, cur: HdrCursor, view: PacketView): number {
  const p = cur.pos;
  if (p + 8 > cur.end) return -PE_TRUNC_ICMP;
  const t = buf[p] as number;
  view.l4Off = p;
  view.icmpType = t;
  view.icmpCode = buf[p + 1] as number;
  view.l4CsumOff = p + 2;
  if (t === 128 || t === 129) {
    view.icmpId = u16(buf, p + 4);
    view.icmpSeq = u16(buf, p + 6);
  } else if (t === 2) {
    view.icmpMtu = u32(buf, p + 4);
  }
  cur.pos = p + 8;
  view.payloadOff = cur.pos;
  return icmp6IsError(t) ? 1 : 0;
}

/**
 * The packet quoted inside an ICMP/ICMPv6 error, parsed as far as the quote goes: the
 * IP header (and v6 extension headers) must be there; of L4, the first 8 bytes give
 * ports (TCP sequence, ICMP id/seq); offsets are set only for bytes present.
 * Returns 0 or a negated error code for the IP header.
 */
export function parseQuoted(buf: Uint8Array, cur: HdrCursor, view: PacketView, version: number): number {
  view.l3Off = cur.pos;
  view.end = cur.end;
  if (cur.pos + 1 > cur.end) return version === 4 ? -PE_TRUNC_IP4 : -PE_TRUNC_IP6;
  const v = (buf[cur.pos] as number) >> 4;
  if (v !== version) return -PE_BAD_IP_VERSION;
  let proto: number;
  if (version === 4) {
    proto = parseIphdr(buf, cur, view);
    if (proto < 0) return proto;
    if (view.fragOffset !== 0) return 0;
  } else {
    proto = parseIp6hdr(buf, cur, view);
    if (proto < 0) return proto;
    proto = parseIp6Ext(buf, cur, view, proto);
    if (proto === -PE_TRUNC_IP6_EXT || proto === -PE_BAD_IP6_EXT) {
      view.ipHdrLen = cur.pos - view.l3Off;
      return 0;
    }
    if (proto < 0) return proto;
    if (view.fragOffset > 0) return 0;
  }
  const p = cur.pos;
  const have = cur.end - p;
  view.l4Off = p;
  if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
    if (have >= 8) {
      view.srcPort = u16(buf, p);
      view.dstPort = u16(buf, p + 2);
    }
    if (proto === IPPROTO_TCP) {
      if (have >= 8) view.tcpSeq = u32(buf, p + 4);
      if (have >= 12) view.tcpAck = u32(buf, p + 8);
      if (have >= 14) view.tcpFlags = buf[p + 13] as number;
      if (have >= 18) view.l4CsumOff = p + 16;
      if (have >= 20) view.payloadOff = p + (((buf[p + 12] as number) >> 4) * 4);
    } else {
      if (have >= 8) {
        view.l4CsumOff = p + 6;
        view.payloadOff = p + 8;
      }
    }
  } else if ((proto === IPPROTO_ICMP && version === 4) || (proto === IPPROTO_ICMPV6 && version === 6)) {
    if (have >= 2) {
      view.icmpType = buf[p] as number;
      view.icmpCode = buf[p + 1] as number;
    }
    if (have >= 4) view.l4CsumOff = p + 2;
    if (have >= 8) {
      const t = view.icmpType;
      if (version === 4 ? icmp4HasId(t) : t === 128 || t === 129) {
        view.icmpId = u16(buf, p + 4);
        view.icmpSeq = u16(buf, p + 6);
      }
      view.payloadOff = p + 8;
    }
  }
  return 0;
}

/** L4 for an outer packet whose IP header (and extension headers) has been walked. */
function parseL4(buf: Uint8Array, cur: HdrCursor, view: PacketView, proto: number): number {
  // Non-first fragments carry no L4 header.
  if (view.fragOffset > 0) {
    view.payloadOff = cur.pos;
    return 0;
  }
  let r: number;
  if (proto === IPPROTO_TCP) r = parseTcphdr(buf, cur, view);
  else if (proto === IPPROTO_UDP) r = parseUdphdr(buf, cur, view);
  else if (proto === IPPROTO_ICMP && view.ipVersion === 4) r = parseIcmphdr(buf, cur, view);
  else if (proto === IPPROTO_ICMPV6 && view.ipVersion === 6) r = parseIcmp6hdr(buf, cur, view);
  else {
    view.l4Off = cur.pos;
    view.payloadOff = cur.pos;
    return 0;
  }
  if (r < 0) return r;
  if (r === 1) {
    const inner = view.innerStore;
    if (inner !== null) {
      inner.reset();
      innerCur.pos = cur.pos;
      innerCur.end = cur.end;
      const e = parseQuoted(buf, innerCur, inner, view.ipVersion);
      if (e < 0) view.innerErr = -e;
      else view.inner = inner;
    }
  }
  return 0;
}

/** decode(): link layer, VLANs, then the network and transport headers. Returns 0 or a positive error code. */
export function parseFrame(view: PacketView, buf: Uint8Array, off: number, len: number, linkType: number): number {
  view.reset();
  view.linkType = linkType;
  let end = off + len;
  if (!(off >= 0)) off = 0;
  if (!(end <= buf.length)) end = buf.length;
  if (!(end >= off)) end = off;
  view.end = end;
  const cur = outerCur;
  cur.pos = off;
  cur.end = end;
  let proto: number;
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      proto = parseEthhdr(buf, cur, view);
      break;
    case LINKTYPE_LINUX_SLL:
      proto = parseSllhdr(buf, cur, view);
      break;
    case LINKTYPE_LINUX_SLL2:
      proto = parseSll2hdr(buf, cur, view);
      break;
    case LINKTYPE_RAW: {
      if (off + 1 > end) return PE_TRUNC_IP4;
      const v = (buf[off] as number) >> 4;
      if (v === 4) proto = ETH_P_IP;
      else if (v === 6) proto = ETH_P_IPV6;
      else return PE_BAD_IP_VERSION;
      break;
    }
    case LINKTYPE_IPV4:
      proto = ETH_P_IP;
      break;
    case LINKTYPE_IPV6:
      proto = ETH_P_IPV6;
      break;
    default:
      return PE_UNKNOWN_LINKTYPE;
  }
  if (proto < 0) return -proto;
  // Cooked netlink captures carry a netlink family, not an EtherType, in the protocol field.
  if (view.sllHatype === ARPHRD_NETLINK) {
    view.l3Off = cur.pos;
    return 0;
  }
  for (let i = 0; i <= VLAN_MAX_DEPTH && isVlanTpid(proto); i++) {
    proto = parseVlan(buf, cur, view, proto);
    if (proto < 0) return -proto;
  }
  view.ethType = proto;
  view.l3Off = cur.pos;
  if (proto === ETH_P_IP) {
    proto = parseIphdr(buf, cur, view);
    if (proto < 0) return -proto;
  } else if (proto === ETH_P_IPV6) {
    proto = parseIp6hdr(buf, cur, view);
    if (proto < 0) return -proto;
    proto = parseIp6Ext(buf, cur, view, proto);
    if (proto < 0) return -proto;
  } else if (proto === ETH_P_ARP) {
    proto = parseArphdr(buf, cur, view);
    return proto < 0 ? -proto : 0;
  } else {
    return 0;
  }
  const r = parseL4(buf, cur, view, proto);
  return r < 0 ? -r : 0;
}
