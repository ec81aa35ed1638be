// The metadata ABI between the XDP shim and the worker: the block the shim writes in
// front of the frame (bpf_xdp_adjust_meta) and the worker validates. This file is the
// single source of truth: META_FIELDS is a plain data table so the C header for bpf/ and
// native/ can be generated from it (and checked against it) without reading TypeScript
// logic. Append fields at the end, bump META_VERSION, never reorder.
//
// Size: 72 bytes, a multiple of 4 as bpf_xdp_adjust_meta requires. Kernels before the
// 255-byte limit (xdp_metalen_invalid with `metalen > 32`) refuse it: the shim then
// reports meta_no_room. Multi-byte fields are little-endian (host order on the targets
// the lab runs on: x86-64 and arm64), as the C struct would lay them out.

export type MetaType = "u8" | "u16" | "u32" | "bytes";

export interface MetaField {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly type: MetaType;
  readonly doc: string;
}

export const META_MAGIC = 0x3150_4458; // "XDP1" read as little-endian u32
export const META_VERSION = 1;

export const META_FIELDS: readonly MetaField[] = [
  { name: "magic", offset: 0, size: 4, type: "u32", doc: "META_MAGIC; anything else means no or foreign metadata" },
  { name: "version", offset: 4, size: 2, type: "u16", doc: "META_VERSION of the writer" },
  { name: "flags", offset: 6, size: 2, type: "u16", doc: "META_F_* bits" },
  { name: "ingress_ifindex", offset: 8, size: 4, type: "u32", doc: "ifindex the frame arrived on" },
  { name: "rx_queue", offset: 12, size: 4, type: "u32", doc: "RX queue the frame arrived on" },
  { name: "l3_off", offset: 16, size: 2, type: "u16", doc: "offset of the IP header from the frame start" },
  { name: "l4_off", offset: 18, size: 2, type: "u16", doc: "offset of the L4 header from the frame start (0 when absent)" },
  { name: "ip_version", offset: 20, size: 1, type: "u8", doc: "4 or 6" },
  { name: "ip_proto", offset: 21, size: 1, type: "u8", doc: "upper-layer protocol after IPv6 extension headers" },
  { name: "shim_reason", offset: 22, size: 2, type: "u16", doc: "reason code the shim noted (0 = none), from sim/reasons.ts" },
  { name: "config_gen", offset: 24, size: 4, type: "u32", doc: "control map config generation the shim saw" },
  { name: "fib_gen", offset: 28, size: 4, type: "u32", doc: "FIB generation the shim saw" },
  { name: "src_addr", offset: 32, size: 16, type: "bytes", doc: "source address; IPv4 in the first 4 bytes, rest zero" },
  { name: "dst_addr", offset: 48, size: 16, type: "bytes", doc: "destination address; IPv4 in the first 4 bytes, rest zero" },
  { name: "src_port", offset: 64, size: 2, type: "u16", doc: "L4 source port or ICMP echo id (host order)" },
  { name: "dst_port", offset: 66, size: 2, type: "u16", doc: "L4 destination port (host order)" },
  { name: "reserved", offset: 68, size: 4, type: "u32", doc: "zero; keeps the block a multiple of 8" },
];

export const META_SIZE = 72;

/** flags bits */
export const META_F_FRAGMENT = 1; // the frame is an IP fragment
export const META_F_SESSION_HIT = 2; // the shim found the tuple in the session-steering map
export const META_F_LOCAL_DST = 4; // destination is one of the router's addresses

// Offsets as constants for the hot path (checked against the table in tests).
export const MO_MAGIC = 0;
export const MO_VERSION = 4;
export const MO_FLAGS = 6;
export const MO_IFINDEX = 8;
export const MO_QUEUE = 12;
export const MO_L3 = 16;
export const MO_L4 = 18;
export const MO_IPVER = 20;
export const MO_PROTO = 21;
export const MO_REASON = 22;
export const MO_CFGGEN = 24;
export const MO_FIBGEN = 28;
export const MO_SRC = 32;
export const MO_DST = 48;
export const MO_SPORT = 64;
export const MO_DPORT = 66;

export function rd16(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8)) >>> 0;
}
export function rd32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
export function wr16(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}
export function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/** Decoded metadata block; one preallocated object reused (cold-path helpers and tests). */
export class MetaBlock {
  magic = 0;
  version = 0;
  flags = 0;
  ingressIfindex = 0;
  rxQueue = 0;
  l3Off = 0;
  l4Off = 0;
  ipVersion = 0;
  ipProto = 0;
  shimReason = 0;
  readonly src = new Uint8Array(16);
  readonly dst = new Uint8Array(16);
  srcPort = 0;
  dstPort = 0;
  configGen = 0;
  fibGen = 0;
}

/** Writes `m` at buf[off, off+META_SIZE). */
export function encodeMeta(m: MetaBlock, buf: Uint8Array, off: number): void {
  buf.fill(0, off, off + META_SIZE);
  wr32(buf, off + MO_MAGIC, m.magic);
  wr16(buf, off + MO_VERSION, m.version);
  wr16(buf, off + MO_FLAGS, m.flags);
  wr32(buf, off + MO_IFINDEX, m.ingressIfindex);
  wr32(buf, off + MO_QUEUE, m.rxQueue);
  wr16(buf, off + MO_L3, m.l3Off);
  wr16(buf, off + MO_L4, m.l4Off);
  buf[off + MO_IPVER] = m.ipVersion & 0xff;
  buf[off + MO_PROTO] = m.ipProto & 0xff;
  wr16(buf, off + MO_REASON, m.shimReason);
  buf.set(m.src, off + MO_SRC);
  buf.set(m.dst, off + MO_DST);
  wr16(buf, off + MO_SPORT, m.srcPort);
  wr16(buf, off + MO_DPORT, m.dstPort);
  wr32(buf, off + MO_CFGGEN, m.configGen);
  wr32(buf, off + MO_FIBGEN, m.fibGen);
}

/** Reads buf[off, off+META_SIZE) into `m` (returns m). */
export function decodeMeta(buf: Uint8Array, off: number, m: MetaBlock): MetaBlock {
  m.magic = rd32(buf, off + MO_MAGIC);
  m.version = rd16(buf, off + MO_VERSION);
  m.flags = rd16(buf, off + MO_FLAGS);
  m.ingressIfindex = rd32(buf, off + MO_IFINDEX);
  m.rxQueue = rd32(buf, off + MO_QUEUE);
  m.l3Off = rd16(buf, off + MO_L3);
  m.l4Off = rd16(buf, off + MO_L4);
  m.ipVersion = buf[off + MO_IPVER]!;
  m.ipProto = buf[off + MO_PROTO]!;
  m.shimReason = rd16(buf, off + MO_REASON);
  m.src.set(buf.subarray(off + MO_SRC, off + MO_SRC + 16));
  m.dst.set(buf.subarray(off + MO_DST, off + MO_DST + 16));
  m.srcPort = rd16(buf, off + MO_SPORT);
  m.dstPort = rd16(buf, off + MO_DPORT);
  m.configGen = rd32(buf, off + MO_CFGGEN);
  m.fibGen = rd32(buf, off + MO_FIBGEN);
  return m;
}

/**
 * The layout a shim built with the `abiDrift` bug writes: a u32 field (`vlan_tci`) was
 * inserted before `src_addr` on the shim side only, eating `reserved`, and the version
 * was not bumped. Header fields and generations still line up, so the worker accepts the
 * block and reads a tuple shifted by 4 bytes.
 */
export const DRIFT_INSERT_AT = MO_SRC;
export const DRIFT_SHIFT = 4;
