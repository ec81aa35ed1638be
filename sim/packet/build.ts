// Frame builder for generators and tests (cold path: plain arrays and allocation are
// fine here). Produces Ethernet frames with correct lengths and checksums, plus
// wrappers into the other link types the decoder reads (SLL, SLL2, raw IP).
import { parseIp, parseMac } from "./addr.js";
import { ipv4HeaderChecksum, pseudoHeaderSum, sum16, fold16 } from "./checksum.js";

export interface VlanSpec {
  tpid?: number;
  vid: number;
  pcp?: number;
  dei?: boolean;
}
export interface ExtSpec {
  type: "hop" | "dst" | "routing" | "frag" | "ah";
  /** Option bytes (hop/dst, padded with PadN to a multiple of 8) or type-specific data (routing, after the 4 fixed bytes). */
  data?: Uint8Array;
  routingType?: number;
  segmentsLeft?: number;
  /** frag */
  offset?: number;
  more?: boolean;
  id?: number;
  /** ah */
  spi?: number;
  seq?: number;
  icv?: Uint8Array;
}
export interface FrameSpec {
  eth?: { src?: string; dst?: string };
  vlans?: VlanSpec[];
  ip: {
    version: 4 | 6;
    src: string;
    dst: string;
    ttl?: number;
    id?: number;
    tos?: number;
    df?: boolean;
    flowLabel?: number;
    /** IPv4 options, padded with zeros (EOL) to a multiple of 4. */
    options?: Uint8Array;
    ext?: ExtSpec[];
    /** IPv4 fragment fields; for IPv6 a fragment header is appended to `ext` unless one is there. A non-zero offset means no L4 header is written. */
    frag?: { offset: number; more: boolean; id?: number };
    /** Protocol number when no tcp/udp/icmp is given. */
    proto?: number;
  };
  tcp?: { sport: number; dport: number; seq?: number; ack?: number; flags?: number | string; window?: number; urg?: number; options?: Uint8Array };
  udp?: { sport: number; dport: number };
  icmp?: { type: number; code: number; id?: number; seq?: number; quote?: Uint8Array; mtu?: number };
  payload?: Uint8Array;
  badChecksum?: boolean;
}

const FLAG_LETTERS = "FSRPAUEC";

/** "SA", "PA", "F" … → the TCP flags byte (F S R P A U E C, LSB first). */
export function tcpFlagsFromString(s: string): number {
  let f = 0;
  for (const ch of s.toUpperCase()) {
    const i = FLAG_LETTERS.indexOf(ch);
    if (i < 0) throw new Error(`unknown TCP flag letter ${JSON.stringify(ch)}`);
    f |= 1 << i;
  }
  return f;
}

function ipBytes(s: string, family: 4 | 6): Uint8Array {
  const a = parseIp(s);
  if (!a || a.family !== family) throw new Error(`not an IPv${family} address: ${JSON.stringify(s)}`);
  return a.bytes;
}
function macBytes(s: string | undefined, dflt: string): Uint8Array {
  const m = parseMac(s ?? dflt);
  if (!m) throw new Error(`not a MAC address: ${JSON.stringify(s)}`);
  return m;
}

function put16(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >>> 8) & 0xff;
  b[i + 1] = v & 0xff;
}
function put32(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >>> 24) & 0xff;
  b[i + 1] = (v >>> 16) & 0xff;
  b[i + 2] = (v >>> 8) & 0xff;
  b[i + 3] = v & 0xff;
}
function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Options padded to a multiple of 8 together with the 2-byte header (Pad1 / PadN). */
function optsPadded(data: Uint8Array): Uint8Array {
  const total = Math.ceil((2 + data.length) / 8) * 8;
  const body = new Uint8Array(total - 2);
  body.set(data, 0);
  const pad = body.length - data.length;
  if (pad === 1) body[data.length] = 0;
  else if (pad >= 2) {
    body[data.length] = 1;
    body[data.length + 1] = pad - 2;
  }
  return body;
}

const EXT_NUM: Record<ExtSpec["type"], number> = { hop: 0, routing: 43, frag: 44, dst: 60, ah: 51 };

function buildExt(e: ExtSpec, next: number): Uint8Array {
  switch (e.type) {
    case "hop":
    case "dst": {
      const body = optsPadded(e.data ?? new Uint8Array(0));
      const h = new Uint8Array(2 + body.length);
      h[0] = next;
      h[1] = h.length / 8 - 1;
      h.set(body, 2);
      return h;
    }
    case "routing": {
      const data = e.data ?? new Uint8Array(4);
      const total = Math.ceil((4 + data.length) / 8) * 8;
      const h = new Uint8Array(total);
      h[0] = next;
      h[1] = total / 8 - 1;
      h[2] = e.routingType ?? 0;
      h[3] = e.segmentsLeft ?? 0;
      h.set(data, 4);
      return h;
    }
    case "frag": {
      const h = new Uint8Array(8);
      h[0] = next;
      put16(h, 2, ((e.offset ?? 0) & 0xfff8) | (e.more ? 1 : 0));
      put32(h, 4, e.id ?? 0);
      return h;
    }
    case "ah": {
      const icv = e.icv ?? new Uint8Array(12);
      const total = 12 + icv.length;
      if (total % 8 !== 0) throw new Error("IPv6 AH length must be a multiple of 8");
      const h = new Uint8Array(total);
      h[0] = next;
      h[1] = total / 4 - 2;
      put32(h, 4, e.spi ?? 0x100);
      put32(h, 8, e.seq ?? 1);
      h.set(icv, 12);
      return h;
    }
  }
}

function isNonFirstFragment(spec: FrameSpec): boolean {
  return (spec.ip.frag?.offset ?? 0) > 0 || (spec.ip.ext ?? []).some((e) => e.type === "frag" && (e.offset ?? 0) > 0);
}

function buildL4(spec: FrameSpec, proto: number): Uint8Array {
  const payload = spec.payload ?? new Uint8Array(0);
  if (isNonFirstFragment(spec)) return payload;
  if (spec.tcp) {
    const t = spec.tcp;
    const opts = t.options ?? new Uint8Array(0);
    const olen = Math.ceil(opts.length / 4) * 4;
    const h = new Uint8Array(20 + olen + payload.length);
    put16(h, 0, t.sport);
    put16(h, 2, t.dport);
    put32(h, 4, t.seq ?? 1);
    put32(h, 8, t.ack ?? 0);
    h[12] = ((20 + olen) / 4) << 4;
    h[13] = typeof t.flags === "string" ? tcpFlagsFromString(t.flags) : (t.flags ?? 0x02);
    put16(h, 14, t.window ?? 65535);
    put16(h, 18, t.urg ?? 0);
    h.set(opts, 20);
    h.set(payload, 20 + olen);
    return h;
  }
  if (spec.udp) {
    const h = new Uint8Array(8 + payload.length);
    put16(h, 0, spec.udp.sport);
    put16(h, 2, spec.udp.dport);
    put16(h, 4, h.length);
    h.set(payload, 8);
    return h;
  }
  if (spec.icmp) {
    const c = spec.icmp;
    const quote = c.quote ?? new Uint8Array(0);
    const h = new Uint8Array(8 + quote.length + payload.length);
    h[0] = c.type;
    h[1] = c.code;
    if (c.id !== undefined) put16(h, 4, c.id);
    if (c.seq !== undefined) put16(h, 6, c.seq);
    if (c.mtu !== undefined) {
      if (proto === 58) put32(h, 4, c.mtu);
      else put16(h, 6, c.mtu);
    }
    h.set(quote, 8);
    h.set(payload, 8 + quote.length);
    return h;
  }
  return payload;
}

function l4Proto(spec: FrameSpec): number {
  if (spec.tcp) return 6;
  if (spec.udp) return 17;
  if (spec.icmp) return spec.ip.version === 4 ? 1 : 58;
  return spec.ip.proto ?? (spec.ip.version === 6 ? 59 : 253);
}

/** The L3 packet (IP header onwards) of a spec, checksums filled in. */
export function buildIpPacket(spec: FrameSpec): Uint8Array {
  const proto = l4Proto(spec);
  const l4 = buildL4(spec, proto);
  let l3hdr: Uint8Array;
  let srcOff: number;
  let addrLen: number;
  if (spec.ip.version === 4) {
    const opts = spec.ip.options ?? new Uint8Array(0);
    const olen = Math.ceil(opts.length / 4) * 4;
    if (olen > 40) throw new Error("IPv4 options longer than 40 bytes");
    const h = new Uint8Array(20 + olen);
    h[0] = 0x40 | ((20 + olen) / 4);
    h[1] = spec.ip.tos ?? 0;
    put16(h, 2, h.length + l4.length);
    put16(h, 4, spec.ip.id ?? spec.ip.frag?.id ?? 1);
    const fo = spec.ip.frag ? (spec.ip.frag.offset >>> 3) & 0x1fff : 0;
    put16(h, 6, (spec.ip.df ? 0x4000 : 0) | (spec.ip.frag?.more ? 0x2000 : 0) | fo);
    h[8] = spec.ip.ttl ?? 64;
    h[9] = proto;
    h.set(ipBytes(spec.ip.src, 4), 12);
    h.set(ipBytes(spec.ip.dst, 4), 16);
    h.set(opts, 20);
    put16(h, 10, ipv4HeaderChecksum(h, 0, h.length));
    l3hdr = h;
    srcOff = 12;
    addrLen = 4;
  } else {
    const exts = [...(spec.ip.ext ?? [])];
    if (spec.ip.frag && !exts.some((e) => e.type === "frag")) {
      exts.push({ type: "frag", offset: spec.ip.frag.offset, more: spec.ip.frag.more, id: spec.ip.frag.id ?? spec.ip.id ?? 1 });
    }
    const extBytes: Uint8Array[] = [];
    for (let i = 0; i < exts.length; i++) {
      const nx = i + 1 < exts.length ? EXT_NUM[(exts[i + 1] as ExtSpec).type] : proto;
      extBytes.push(buildExt(exts[i] as ExtSpec, nx));
    }
    const ext = concat(extBytes);
    const h = new Uint8Array(40 + ext.length);
    const tc = spec.ip.tos ?? 0;
    const fl = spec.ip.flowLabel ?? 0;
    put32(h, 0, ((6 << 28) | (tc << 20) | (fl & 0xfffff)) >>> 0);
    put16(h, 4, ext.length + l4.length);
    h[6] = exts.length > 0 ? EXT_NUM[(exts[0] as ExtSpec).type] : proto;
    h[7] = spec.ip.ttl ?? 64;
    h.set(ipBytes(spec.ip.src, 6), 8);
    h.set(ipBytes(spec.ip.dst, 6), 24);
    h.set(ext, 40);
    l3hdr = h;
    srcOff = 8;
    addrLen = 16;
  }
  const pkt = concat([l3hdr, l4]);
  const l4Off = l3hdr.length;
  const nonFirst = isNonFirstFragment(spec);
  let csumOff = -1;
  if (!nonFirst) {
    if (spec.tcp) csumOff = l4Off + 16;
    else if (spec.udp) csumOff = l4Off + 6;
    else if (spec.icmp) csumOff = l4Off + 2;
  }
  if (csumOff >= 0) {
    let acc = proto === 1 ? 0 : pseudoHeaderSum(pkt, srcOff, srcOff + addrLen, addrLen, proto, l4.length);
    acc = sum16(pkt, l4Off, l4.length, acc);
    let c = ~fold16(acc) & 0xffff;
    if (proto === 17 && c === 0) c = 0xffff;
    if (spec.badChecksum) {
      c ^= 0x5a5a;
      // A UDP checksum of 0 means "none" (IPv4): a deliberately bad one must not become it.
      if (proto === 17 && c === 0) c = 0x5a5b;
    }
    put16(pkt, csumOff, c);
  } else if (spec.badChecksum && spec.ip.version === 4) {
    pkt[10] = (pkt[10] as number) ^ 0x5a;
  }
  return pkt;
}

/** An Ethernet frame (optionally VLAN-tagged) carrying the spec's IP packet. */
export function buildFrame(spec: FrameSpec): Uint8Array {
  const l3 = buildIpPacket(spec);
  return ethWrap(l3, spec.ip.version === 4 ? 0x0800 : 0x86dd, spec.eth, spec.vlans);
}

export function ethWrap(l3: Uint8Array, ethType: number, eth?: { src?: string; dst?: string }, vlans?: VlanSpec[]): Uint8Array {
  const tags = vlans ?? [];
  const h = new Uint8Array(14 + 4 * tags.length);
  h.set(macBytes(eth?.dst, "02:00:00:00:00:02"), 0);
  h.set(macBytes(eth?.src, "02:00:00:00:00:01"), 6);
  let o = 12;
  for (const v of tags) {
    put16(h, o, v.tpid ?? 0x8100);
    put16(h, o + 2, ((v.pcp ?? 0) << 13) | (v.dei ? 0x1000 : 0) | (v.vid & 0xfff));
    o += 4;
  }
  put16(h, o, ethType);
  return concat([h, l3]);
}

export interface ArpSpec {
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac?: string;
  targetIp: string;
  eth?: { src?: string; dst?: string };
  vlans?: VlanSpec[];
}

/** An Ethernet ARP frame (IPv4 over Ethernet). */
export function buildArp(a: ArpSpec): Uint8Array {
  const b = new Uint8Array(28);
  put16(b, 0, 1);
  put16(b, 2, 0x0800);
  b[4] = 6;
  b[5] = 4;
  put16(b, 6, a.op);
  b.set(macBytes(a.senderMac, ""), 8);
  b.set(ipBytes(a.senderIp, 4), 14);
  b.set(macBytes(a.targetMac, "00:00:00:00:00:00"), 18);
  b.set(ipBytes(a.targetIp, 4), 24);
  return ethWrap(b, 0x0806, { src: a.eth?.src ?? a.senderMac, dst: a.eth?.dst ?? (a.op === 1 ? "ff:ff:ff:ff:ff:ff" : a.targetMac) }, a.vlans);
}

export interface CookedOpts {
  /** PACKET_HOST 0, BROADCAST 1, MULTICAST 2, OTHERHOST 3, OUTGOING 4. */
  pktType?: number;
  hatype?: number;
  ifindex?: number;
}

/** Re-encode an Ethernet frame as Linux cooked v1 (what `tcpdump -i any` wrote before SLL2). */
export function wrapSll(frame: Uint8Array, o: CookedOpts = {}): Uint8Array {
  const h = new Uint8Array(16);
  put16(h, 0, o.pktType ?? 0);
  put16(h, 2, o.hatype ?? 1);
  put16(h, 4, 6);
  h.set(frame.subarray(6, 12), 6);
  h[14] = frame[12] as number;
  h[15] = frame[13] as number;
  return concat([h, frame.subarray(14)]);
}

/** Re-encode an Ethernet frame as Linux cooked v2 (SLL2, 20-byte header with ifindex). */
export function wrapSll2(frame: Uint8Array, o: CookedOpts = {}): Uint8Array {
  const h = new Uint8Array(20);
  h[0] = frame[12] as number;
  h[1] = frame[13] as number;
  put32(h, 4, o.ifindex ?? 1);
  put16(h, 8, o.hatype ?? 1);
  h[10] = o.pktType ?? 0;
  h[11] = 6;
  h.set(frame.subarray(6, 12), 12);
  return concat([h, frame.subarray(14)]);
}
