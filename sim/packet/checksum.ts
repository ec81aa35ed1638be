// Internet checksums (RFC 1071): full computation over a frame in place, verification,
// and RFC 1624 incremental updates the dataplane uses when it rewrites addresses, ports
// and TTLs — the same arithmetic as Linux's csum_replace2/4 and inet_proto_csum_replace*,
// so a valid checksum stays valid and an invalid one stays exactly as wrong.
import type { PacketView } from "./view.js";

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;

/** One's-complement partial sum of big-endian 16-bit words; an odd last byte is padded with zero. Not folded. */
export function sum16(buf: Uint8Array, off: number, len: number, acc: number): number {
  let i = off;
  const last = off + len - 1;
  for (; i < last; i += 2) acc += ((buf[i] as number) << 8) | (buf[i + 1] as number);
  if (i === last) acc += (buf[i] as number) << 8;
  return acc;
}

/** Fold a partial sum to 16 bits with end-around carry (not inverted). */
export function fold16(acc: number): number {
  while (acc > 0xffff) acc = (acc % 0x10000) + Math.floor(acc / 0x10000);
  return acc;
}

/** The IPv4 header checksum to store at l3Off+10 (the stored field is ignored). */
export function ipv4HeaderChecksum(buf: Uint8Array, l3Off: number, hdrLen: number): number {
  let acc = sum16(buf, l3Off, 10, 0);
  acc = sum16(buf, l3Off + 12, hdrLen - 12, acc);
  return ~fold16(acc) & 0xffff;
}

/** Partial sum of the TCP/UDP/ICMPv6 pseudo-header (v4: 12 bytes, v6: 40 bytes; l4Len as 32 bits). */
export function pseudoHeaderSum(buf: Uint8Array, srcOff: number, dstOff: number, addrLen: number, proto: number, l4Len: number): number {
  let acc = sum16(buf, srcOff, addrLen, 0);
  acc = sum16(buf, dstOff, addrLen, acc);
  return acc + proto + (l4Len >>> 16) + (l4Len & 0xffff);
}

/** Does the view's L4 protocol carry a checksum this module computes? */
function l4Kind(view: PacketView): number {
  const p = view.ipProto;
  if (p === IPPROTO_TCP || p === IPPROTO_UDP) return p;
  if (p === IPPROTO_ICMP && view.ipVersion === 4) return p;
  if (p === IPPROTO_ICMPV6 && view.ipVersion === 6) return p;
  return -1;
}

/** Checksum state of a frame's L4 header (see l4ChecksumState). */
export const CSUM_GOOD = 0;
export const CSUM_BAD = 1;
/** UDP over IPv4 with checksum 0: the sender computed none. */
export const CSUM_NONE = 2;
/** Not verifiable: no TCP/UDP/ICMP header, a fragment, or bytes missing from the capture. */
export const CSUM_UNVERIFIABLE = 3;

function l4Computable(view: PacketView): boolean {
  return (
    view.l4Off >= 0 &&
    view.l4CsumOff >= 0 &&
    view.isFragment !== 1 &&
    view.l4Len >= 0 &&
    view.l4Off + view.l4Len <= view.end &&
    l4Kind(view) >= 0
  );
}

/**
 * Full recompute of the TCP/UDP/ICMP/ICMPv6 checksum of the decoded packet: the value to
 * store (UDP's computed 0 becomes 0xffff). -1 when it cannot be computed (see CSUM_UNVERIFIABLE).
 */
export function l4Checksum(buf: Uint8Array, view: PacketView): number {
  if (!l4Computable(view)) return -1;
  const kind = l4Kind(view);
  let acc = kind === IPPROTO_ICMP ? 0 : pseudoHeaderSum(buf, view.srcOff, view.pseudoDstOff, view.addrLen, view.ipProto, view.l4Len);
  // The checksum field sits at an even distance from l4Off, so the two ranges stay word-aligned.
  acc = sum16(buf, view.l4Off, view.l4CsumOff - view.l4Off, acc);
  acc = sum16(buf, view.l4CsumOff + 2, view.l4Off + view.l4Len - view.l4CsumOff - 2, acc);
  const c = ~fold16(acc) & 0xffff;
  return kind === IPPROTO_UDP && c === 0 ? 0xffff : c;
}

export function l4ChecksumState(buf: Uint8Array, view: PacketView): number {
  if (!l4Computable(view)) return CSUM_UNVERIFIABLE;
  const kind = l4Kind(view);
  const stored = ((buf[view.l4CsumOff] as number) << 8) | (buf[view.l4CsumOff + 1] as number);
  // RFC 768: zero means "no checksum" over IPv4; over IPv6 it is invalid (RFC 8200 §8.1).
  if (kind === IPPROTO_UDP && stored === 0) return view.ipVersion === 4 ? CSUM_NONE : CSUM_BAD;
  let acc = kind === IPPROTO_ICMP ? 0 : pseudoHeaderSum(buf, view.srcOff, view.pseudoDstOff, view.addrLen, view.ipProto, view.l4Len);
  acc = sum16(buf, view.l4Off, view.l4Len, acc);
  return fold16(acc) === 0xffff ? CSUM_GOOD : CSUM_BAD;
}

/** The IPv4 header checksum is valid (false for non-IPv4 or a header cut off). */
export function verifyIpv4Header(buf: Uint8Array, view: PacketView): boolean {
  if (view.ipVersion !== 4 || view.ipHdrLen < 20 || view.l3Off + view.ipHdrLen > view.end) return false;
  return fold16(sum16(buf, view.l3Off, view.ipHdrLen, 0)) === 0xffff;
}

/** The L4 checksum is valid, or absent where that is allowed (UDP/IPv4 checksum 0). False when unverifiable. */
export function verifyL4(buf: Uint8Array, view: PacketView): boolean {
  const s = l4ChecksumState(buf, view);
  return s === CSUM_GOOD || s === CSUM_NONE;
}

/** RFC 1624 eqn 3: HC' = ~(~HC + ~m + m') for one 16-bit word m → m'. */
export function csumReplace16(check: number, oldVal: number, newVal: number): number {
  const acc = (~check & 0xffff) + (~oldVal & 0xffff) + (newVal & 0xffff);
  return ~fold16(acc) & 0xffff;
}

/** As csumReplace16 for a 32-bit field (an IPv4 address, a TCP sequence number). */
export function csumReplace32(check: number, oldVal32: number, newVal32: number): number {
  const acc =
    (~check & 0xffff) +
    (~(oldVal32 >>> 16) & 0xffff) +
    (~oldVal32 & 0xffff) +
    ((newVal32 >>> 16) & 0xffff) +
    (newVal32 & 0xffff);
  return ~fold16(acc) & 0xffff;
}

/**
 * As csumReplace16 for a field of `len` bytes (an IPv6 address) whose new value is
 * already in buf[off, off+len) and whose old value is oldBytes[oldOff, oldOff+len).
 * The field must start at an even distance from the start of the checksummed data.
 */
export function csumReplaceBytes(check: number, buf: Uint8Array, off: number, oldBytes: Uint8Array, oldOff: number, len: number): number {
  let acc = ~check & 0xffff;
  let i = 0;
  for (; i + 1 < len; i += 2) {
    acc += ~(((oldBytes[oldOff + i] as number) << 8) | (oldBytes[oldOff + i + 1] as number)) & 0xffff;
    acc += ((buf[off + i] as number) << 8) | (buf[off + i + 1] as number);
  }
  if (i < len) {
    acc += ~((oldBytes[oldOff + i] as number) << 8) & 0xffff;
    acc += (buf[off + i] as number) << 8;
  }
  return ~fold16(acc) & 0xffff;
}

/**
 * UDP variants of the replace functions, as Linux's CSUM_MANGLED_0 handling: a zero
 * checksum (none, over IPv4) stays zero, and a result of 0 is stored as 0xffff.
 */
export function udpCsumReplace16(check: number, oldVal: number, newVal: number): number {
  if (check === 0) return 0;
  const c = csumReplace16(check, oldVal, newVal);
  return c === 0 ? 0xffff : c;
}
export function udpCsumReplace32(check: number, oldVal32: number, newVal32: number): number {
  if (check === 0) return 0;
  const c = csumReplace32(check, oldVal32, newVal32);
  return c === 0 ? 0xffff : c;
}
export function udpCsumReplaceBytes(check: number, buf: Uint8Array, off: number, oldBytes: Uint8Array, oldOff: number, len: number): number {
  if (check === 0) return 0;
  const c = csumReplaceBytes(check, buf, off, oldBytes, oldOff, len);
  return c === 0 ? 0xffff : c;
}
