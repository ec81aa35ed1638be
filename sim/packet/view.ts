// PacketView: the decoder's one reusable result object, and decode(), the entry point
// that walks a frame header by header (the per-header functions live in parse.ts and
// mirror bpf/'s C parser one to one). Every field is a number, -1 when absent, so a
// view can be reset and refilled per packet without allocation.
import { parseFrame } from "./parse.js";

export class PacketView {
  linkType = -1;
  l2Off = -1;
  l3Off = -1;
  l4Off = -1;
  payloadOff = -1;
  /** Exclusive end of the captured bytes (off + len). */
  end = -1;

  ethType = -1;
  vlanCount = 0;
  vlanTci0 = -1;
  vlanTci1 = -1;
  vlanTpid0 = -1;
  vlanTpid1 = -1;
  /** Offset of the EtherType/protocol field that holds ethType (rewritten when tags are pushed/popped). */
  ethTypeOff = -1;

  sllPktType = -1;
  sllIfindex = -1;
  sllProto = -1;
  sllHatype = -1;

  /** 4 | 6, or 0 when the frame does not carry IP. */
  ipVersion = 0;
  ipHdrLen = -1;
  ipTotalLen = -1;
  ttl = -1;
  ttlOff = -1;
  ipId = -1;
  fragOffset = -1;
  moreFrags = -1;
  isFragment = -1;
  /** IPv4 DF bit; always 1 for IPv6 (routers never fragment IPv6). */
  dontFragment = -1;
  srcOff = -1;
  dstOff = -1;
  addrLen = -1;
  ipProto = -1;
  ipCsumOff = -1;
  flowLabel = -1;
  tos = -1;
  /** Number of IPv6 extension headers walked. */
  ip6ExtCount = -1;
  /** Offset of the IPv6 fragment header, -1 when none. */
  ip6FragOff = -1;
  /**
   * Offset of the destination address the L4 pseudo-header uses: dstOff, except with an
   * IPv6 routing header that still has segments left — then the final destination in it
   * (RFC 8200 §8.1).
   */
  pseudoDstOff = -1;

  srcPort = -1;
  dstPort = -1;
  tcpFlags = -1;
  tcpSeq = -1;
  tcpAck = -1;
  tcpWindow = -1;
  l4CsumOff = -1;
  /** L4 bytes per the IP header (total length minus IP header and extension headers). */
  l4Len = -1;

  icmpType = -1;
  icmpCode = -1;
  icmpId = -1;
  icmpSeq = -1;
  /** MTU carried by ICMP fragmentation-needed (v4 type 3 code 4) or packet-too-big (v6 type 2). */
  icmpMtu = -1;

  arpOp = -1;
  /** Offsets of the ARP sender/target protocol (IPv4) addresses. */
  arpSpaOff = -1;
  arpTpaOff = -1;

  /** The packet quoted by an ICMP/ICMPv6 error (truncation allowed); null otherwise. */
  inner: PacketView | null = null;
  /** Why the quoted packet could not be parsed (a parse error code), 0 when it was or there is none. */
  innerErr = 0;
  /** Preallocated storage for `inner`; null in an inner view (quotes are not nested). */
  readonly innerStore: PacketView | null;

  constructor(withInner = true) {
    this.innerStore = withInner ? new PacketView(false) : null;
  }

  reset(): void {
    this.linkType = -1;
    this.l2Off = -1;
    this.l3Off = -1;
    this.l4Off = -1;
    this.payloadOff = -1;
    this.end = -1;
    this.ethType = -1;
    this.vlanCount = 0;
    this.vlanTci0 = -1;
    this.vlanTci1 = -1;
    this.vlanTpid0 = -1;
    this.vlanTpid1 = -1;
    this.ethTypeOff = -1;
    this.sllPktType = -1;
    this.sllIfindex = -1;
    this.sllProto = -1;
    this.sllHatype = -1;
    this.ipVersion = 0;
    this.ipHdrLen = -1;
    this.ipTotalLen = -1;
    this.ttl = -1;
    this.ttlOff = -1;
    this.ipId = -1;
    this.fragOffset = -1;
    this.moreFrags = -1;
    this.isFragment = -1;
    this.dontFragment = -1;
    this.srcOff = -1;
    this.dstOff = -1;
    this.addrLen = -1;
    this.ipProto = -1;
    this.ipCsumOff = -1;
    this.flowLabel = -1;
    this.tos = -1;
    this.ip6ExtCount = -1;
    this.ip6FragOff = -1;
    this.pseudoDstOff = -1;
    this.srcPort = -1;
    this.dstPort = -1;
    this.tcpFlags = -1;
    this.tcpSeq = -1;
    this.tcpAck = -1;
    this.tcpWindow = -1;
    this.l4CsumOff = -1;
    this.l4Len = -1;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.icmpId = -1;
    this.icmpSeq = -1;
    this.icmpMtu = -1;
    this.arpOp = -1;
    this.arpSpaOff = -1;
    this.arpTpaOff = -1;
    this.inner = null;
    this.innerErr = 0;
  }
}

/**
 * Decode the frame buf[off, off+len) of the given link type into `view` (reset first).
 * Returns 0, or a parse error code (errors.ts); never throws and never reads outside
 * [off, off+len) (also not outside buf). Non-IP frames (ARP, LLDP, …) decode with
 * ipVersion 0.
 */
export function decode(view: PacketView, buf: Uint8Array, off: number, len: number, linkType: number): number {
  return parseFrame(view, buf, off, len, linkType);
}
