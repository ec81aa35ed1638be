// Generated map states and frames for the BPF_PROG_RUN differential: addresses come
// from a small pool so local-address, session and DNAT lookups hit often; frames cover
// IPv4 options and fragments, IPv6 extension headers and fragments, VLAN tags (up to
// one more than the parser allows), ICMP echo and errors, ARP, non-IP, truncation and
// corrupted header bytes, and ICMP/ICMPv6 errors quoting packets (TCP, UDP, echo, other
// protocols, fragments, extension headers; whole, cut in the L4 header or in the IP
// header) together with the steering key each quote stands for, so the session map can
// publish it, a near miss or the unswapped tuple.
import fc from "fast-check";
import { buildArp, buildFrame, buildIpPacket, ethWrap } from "../../sim/packet/build.js";
import { parseIp } from "../../sim/packet/addr.js";
import type { ExtSpec, FrameSpec } from "../../sim/packet/build.js";

export const IF_ADDRS: [string[], string[]] = [
  ["198.18.1.1/24", "2001:2:0:1::1/64"],
  ["198.19.2.1/24", "2001:2:0:2::1/64"],
];
const V4 = ["198.18.1.1", "198.18.1.10", "198.19.2.1", "198.19.2.2"];
const V6 = ["2001:2:0:1::1", "2001:2:0:1::10", "2001:2:0:2::1", "2001:2:0:2::2"];

/** A session-steering key: what the worker would publish (ports host order; echo: id, 0). */
export interface SteerKey {
  proto: number;
  src: Uint8Array;
  dst: Uint8Array;
  sport: number;
  dport: number;
}

/** For an ICMP error frame: the key its quote matches when swapped, and the same tuple unswapped. */
export interface QuoteKeys {
  swapped: SteerKey;
  unswapped: SteerKey;
  /** Swapped addresses, ports 0, and the protocol where the quote's header walk ends
   * (a cut IPv6 extension header's own number): what a quote without L4 bytes looks up. */
  bare: SteerKey;
}

const EXT6 = new Set([0, 43, 44, 51, 60, 135, 139, 140]);

/** The next-header value at which an IPv6 header chain in q stops (cut off, or the upper protocol). */
function chainEnd6(q: Uint8Array): number {
  if (q.length < 40) return -1;
  let nh = q[6]!;
  let off = 40;
  for (let i = 0; i < 8 && EXT6.has(nh); i++) {
    if (off + 8 > q.length) return nh;
    const len = nh === 44 ? 8 : nh === 51 ? (q[off + 1]! + 2) * 4 : (q[off + 1]! + 1) * 8;
    if (off + len > q.length) return nh;
    if (nh === 44 && ((q[off + 2]! << 8) | q[off + 3]!) & 0xfff8) return q[off]!;
    nh = q[off]!;
    off += len;
  }
  return nh;
}

export interface FrameCase {
  frame: Uint8Array;
  quote: QuoteKeys | null;
}

export interface PktCase extends FrameCase {
  iface: number;
  queue: number;
}

const addrBytes = (s: string): Uint8Array => parseIp(s)!.bytes;

const bytes = (max: number) => fc.uint8Array({ maxLength: max });

const vlan = fc.record({ tpid: fc.constantFrom(0x8100, 0x88a8), vid: fc.nat(4095) });

const extHdr: fc.Arbitrary<ExtSpec> = fc.oneof(
    fc.record({ type: fc.constant("hop" as const), data: bytes(10) }),
    fc.record({ type: fc.constant("dst" as const), data: bytes(14) }),
    fc.record({ type: fc.constant("routing" as const), routingType: fc.constant(253), segmentsLeft: fc.constant(0), data: bytes(12) }),
    fc.record({ type: fc.constant("ah" as const), spi: fc.nat(), seq: fc.nat(), icv: fc.constantFrom(new Uint8Array(4), new Uint8Array(12)) }),
    fc.record({ type: fc.constant("frag" as const), offset: fc.constantFrom(0, 0, 8, 1480), more: fc.boolean(), id: fc.nat() }),
);
// Mostly short chains; sometimes longer than the parser's limit of 8.
const ext6: fc.Arbitrary<ExtSpec[]> = fc.oneof({ weight: 5, arbitrary: fc.array(extHdr, { maxLength: 3 }) }, { weight: 1, arbitrary: fc.array(extHdr, { minLength: 7, maxLength: 9 }) });

const ipFrame: fc.Arbitrary<Uint8Array> = fc
  .record({
    version: fc.constantFrom(4 as const, 6 as const),
    kind: fc.constantFrom("tcp", "udp", "echo", "icmp_err", "other"),
    src: fc.nat(3),
    dst: fc.nat(3),
    vlans: fc.oneof(
      { weight: 6, arbitrary: fc.constant([]) },
      { weight: 3, arbitrary: fc.array(vlan, { minLength: 1, maxLength: 2 }) },
      { weight: 1, arbitrary: fc.array(vlan, { minLength: 3, maxLength: 3 }) },
    ),
    options: fc.constantFrom(new Uint8Array(0), new Uint8Array([1, 1, 1, 0]), new Uint8Array([7, 7, 4, 0, 0, 0, 0, 1])),
    frag4: fc.option(fc.record({ offset: fc.constantFrom(0, 8, 1480), more: fc.boolean() }), { freq: 4 }),
    ext: fc.option(ext6, { freq: 2 }),
    sport: fc.constantFrom(1234, 40001, 53, 80),
    dport: fc.constantFrom(80, 8080, 53, 443),
    seq: fc.nat(),
    id: fc.nat(0xffff),
    flowLabel: fc.nat(0xfffff),
    payload: bytes(100),
  })
  .map((r) => {
    const spec: FrameSpec = {
      vlans: r.vlans,
      ip:
        r.version === 4
          ? { version: 4, src: V4[r.src]!, dst: V4[r.dst]!, id: r.id, options: r.options, ...(r.frag4 ? { frag: r.frag4 } : {}) }
          : { version: 6, src: V6[r.src]!, dst: V6[r.dst]!, flowLabel: r.flowLabel, ext: r.ext ?? [] },
      payload: r.payload,
    };
    if (r.kind === "tcp") spec.tcp = { sport: r.sport, dport: r.dport, seq: r.seq, flags: "S" };
    else if (r.kind === "udp") spec.udp = { sport: r.sport, dport: r.dport };
    else if (r.kind === "echo") spec.icmp = { type: r.version === 4 ? 8 : 128, code: 0, id: r.sport, seq: 1 };
    else if (r.kind === "icmp_err") spec.icmp = { type: r.version === 4 ? 11 : 3, code: 0, quote: r.payload.subarray(0, 28) };
    else spec.ip.proto = 253;
    return { frame: buildFrame(spec), quote: null };
  });

// ICMP errors quoting a packet. The quoted packet is what the router sent (or forwarded)
// before the error came back: TCP, UDP, echo request/reply, an ICMP message with an id
// (timestamp) or without one, another protocol, a non-first fragment; IPv4 options or
// IPv6 extension headers (sometimes past the walk limit); cut at any length, often
// inside the 8 L4 bytes the key needs. Rarely the quote is of the other IP version or
// the outer type is not an error.
const quoteFrame: fc.Arbitrary<FrameCase> = fc
  .record({
    version: fc.constantFrom(4 as const, 6 as const),
    otherVersion: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
    type: fc.oneof({ weight: 9, arbitrary: fc.nat(4) }, { weight: 1, arbitrary: fc.constant(-1) }),
    code: fc.nat(3),
    src: fc.nat(3),
    // Mostly to a router address (pool entries 0 and 2), where steering matters.
    dst: fc.constantFrom(0, 2, 0, 2, 1, 3),
    vlans: fc.oneof({ weight: 4, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(vlan, { minLength: 1, maxLength: 2 }) }),
    inner: fc.record({
      kind: fc.constantFrom("tcp", "tcp", "udp", "udp", "echo", "echo_reply", "icmp_id", "icmp_noid", "other", "frag"),
      src: fc.nat(3),
      dst: fc.nat(3),
      sport: fc.constantFrom(1234, 40001, 53, 61000),
      dport: fc.constantFrom(80, 33434, 53, 443),
      id: fc.nat(0xffff),
      options: fc.constantFrom(new Uint8Array(0), new Uint8Array(0), new Uint8Array([1, 1, 1, 0])),
      ext: fc.oneof({ weight: 6, arbitrary: fc.constant([]) }, { weight: 3, arbitrary: fc.array(extHdr, { maxLength: 2 }) }, { weight: 1, arbitrary: fc.array(extHdr, { minLength: 8, maxLength: 9 }) }),
      payload: bytes(40),
    }),
    // null: the whole packet; else a cut: [0] inside the 8 L4 bytes, [1] anywhere.
    cut: fc.option(fc.tuple(fc.boolean(), fc.nat()), { freq: 2 }),
    tail: bytes(8),
  })
  .map((r) => {
    const qv: 4 | 6 = r.otherVersion ? (r.version === 4 ? 6 : 4) : r.version;
    const pool = qv === 4 ? V4 : V6;
    const i = r.inner;
    const spec: FrameSpec = { ip: { version: qv, src: pool[i.src]!, dst: pool[i.dst]!, id: i.id, options: qv === 4 ? i.options : new Uint8Array(0), ext: qv === 6 ? i.ext : [] }, payload: i.payload };
    const echoType = i.kind === "echo" ? (qv === 4 ? 8 : 128) : qv === 4 ? 0 : 129;
    let proto: number;
    let sport = 0;
    let dport = 0;
    let echo = false;
    if (i.kind === "tcp") {
      spec.tcp = { sport: i.sport, dport: i.dport, seq: i.id, flags: "S" };
      proto = 6;
      [sport, dport] = [i.sport, i.dport];
    } else if (i.kind === "udp") {
      spec.udp = { sport: i.sport, dport: i.dport };
      proto = 17;
      [sport, dport] = [i.sport, i.dport];
    } else if (i.kind === "echo" || i.kind === "echo_reply" || i.kind === "icmp_id" || i.kind === "icmp_noid") {
      const type = i.kind === "icmp_id" ? (qv === 4 ? 13 : 128) : i.kind === "icmp_noid" ? (qv === 4 ? 3 : 1) : echoType;
      spec.icmp = { type, code: 0, id: i.sport, seq: 7 };
      proto = qv === 4 ? 1 : 58;
      echo = i.kind !== "icmp_noid";
      sport = echo ? i.sport : 0;
    } else if (i.kind === "frag") {
      spec.ip.frag = { offset: 8, more: true, id: i.id };
      spec.udp = { sport: i.sport, dport: i.dport };
      proto = 17;
    } else {
      spec.ip.proto = 253;
      proto = 253;
    }
    const full = buildIpPacket(spec);
    // Where the quoted L4 header starts: a non-first fragment or another protocol has none.
    const l4Hdr = i.kind === "frag" || i.kind === "other" ? 0 : i.kind === "tcp" ? 20 : 8;
    const l4At = full.length - i.payload.length - l4Hdr;
    let qlen = full.length;
    if (r.cut !== null) qlen = r.cut[0] ? Math.min(full.length, l4At + (r.cut[1] % 8)) : r.cut[1] % (full.length + 1);
    const quote = full.slice(0, qlen);
    const types = r.version === 4 ? [3, 4, 5, 11, 12] : [1, 2, 3, 4];
    const type = r.type < 0 ? (r.version === 4 ? 9 : 135) : types[r.type % types.length]!;
    const opool = r.version === 4 ? V4 : V6;
    const outer: FrameSpec = {
      vlans: r.vlans,
      ip: { version: r.version, src: opool[r.src]!, dst: opool[r.dst]! },
      icmp: { type, code: r.code, quote, ...(type === 2 && r.version === 6 ? { mtu: 1280 } : {}) },
      payload: r.tail,
    };
    const a = addrBytes(pool[i.src]!);
    const b = addrBytes(pool[i.dst]!);
    const keys: QuoteKeys = {
      swapped: echo ? { proto, src: b, dst: a, sport, dport: 0 } : { proto, src: b, dst: a, sport: dport, dport: sport },
      unswapped: { proto, src: a, dst: b, sport, dport: echo ? 0 : dport },
      bare: { proto: qv === 6 ? chainEnd6(quote) & 0xff : proto, src: b, dst: a, sport: 0, dport: 0 },
    };
    return { frame: buildFrame(outer), quote: keys };
  });

const otherFrame: fc.Arbitrary<FrameCase> = fc
  .oneof(
    fc.record({ op: fc.constantFrom(1, 2), t: fc.nat(3) }).map((a) => buildArp({ op: a.op, senderMac: "02:00:00:00:00:09", senderIp: V4[0]!, targetMac: "02:00:00:00:00:0a", targetIp: V4[a.t]! })),
    fc.record({ et: fc.constantFrom(0x88cc, 0x0842, 0x0600, 0x86dd, 0x0800), body: bytes(60) }).map((a) => ethWrap(a.body, a.et)),
  )
  .map((frame) => ({ frame, quote: null }));

/** null 4 times in 5. */
function rarely<T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: a });
}

/** A frame with an optional truncation (never below 14 bytes: BPF_PROG_RUN refuses shorter input) and byte corruption. */
export const frameArb: fc.Arbitrary<FrameCase> = fc
  .tuple(fc.oneof({ weight: 8, arbitrary: ipFrame }, { weight: 4, arbitrary: quoteFrame }, { weight: 1, arbitrary: otherFrame }), rarely(fc.nat()), rarely(fc.tuple(fc.nat(), fc.nat(255))))
  .map(([fcase, cut, flip]) => {
    const f = fcase.frame;
    let out = f;
    if (cut !== null && f.length > 14) out = f.slice(0, 14 + (cut % (f.length - 14)));
    if (flip !== null) {
      out = out.slice();
      const pos = flip[0] % Math.min(out.length, 80);
      out[pos] = flip[1];
    }
    return { frame: out, quote: fcase.quote };
  });

export const pktArb = (queues: number): fc.Arbitrary<PktCase> =>
  fc.record({ iface: fc.nat(1), queue: fc.nat(queues - 1), f: frameArb }).map((r) => ({ iface: r.iface, queue: r.queue, frame: r.f.frame, quote: r.f.quote }));

export interface StateCase {
  armed: boolean;
  abiOk: boolean;
  hb: "off" | "fresh" | "stale";
  strict: boolean;
  fallbackMode: 0 | 1;
  bugs: { fallbackDrops: boolean; missingBindingPasses: boolean; ignoreSessionMap: boolean; abiDrift: boolean };
  configGen: number;
  fibGen: number;
  /** which interface addresses exist (per iface, per pool entry), and which also sit in ifnat_addrs on the C side */
  addrs: [boolean[], boolean[]];
  ifnat: boolean[];
  bindings: Array<{ iface: number; queue: number; slot: number; ready: boolean }>;
  xskSlots: number[];
  /** packets whose tuple is published in the session map (index into packets), optionally with a wrong port */
  sessions: Array<{ pkt: number; wrongPort: boolean }>;
  /**
   * Session map changes between packets: before packet `at`, add or remove the key a
   * packet stands for — its own tuple, or for an ICMP error the quote's key swapped
   * (the steering case), unswapped, or with a wrong port. Removing an absent key is
   * allowed (bpf_map_delete_elem: ENOENT).
   */
  sessOps: Array<{ at: number; remove: boolean; pkt: number; key: "outer" | "quote" | "quote_unswapped" | "quote_wrong_port" | "quote_bare" }>;
  /** DNAT rules derived from a packet's destination */
  dnat: Array<{ pkt: number; anyProto: boolean; port: "exact" | "any" | "wrong"; otherIface: boolean }>;
  packets: PktCase[];
}

const sometimes = fc.constantFrom(false, false, false, true);

export const stateArb = (queues: number): fc.Arbitrary<StateCase> =>
  fc.record({
    armed: fc.constantFrom(true, true, true, true, false),
    abiOk: fc.constantFrom(true, true, true, true, true, true, true, true, true, false),
    hb: fc.constantFrom("off" as const, "fresh" as const, "fresh" as const, "fresh" as const, "stale" as const),
    strict: fc.boolean(),
    fallbackMode: fc.constantFrom(0 as const, 1 as const),
    bugs: fc.record({ fallbackDrops: sometimes, missingBindingPasses: sometimes, ignoreSessionMap: sometimes, abiDrift: sometimes }),
    configGen: fc.nat(),
    fibGen: fc.nat(),
    addrs: fc.tuple(fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }), fc.array(fc.boolean(), { minLength: 2, maxLength: 2 })),
    ifnat: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    bindings: fc.uniqueArray(fc.record({ iface: fc.nat(1), queue: fc.nat(queues - 1), slot: fc.nat(7), ready: fc.constantFrom(true, true, true, false) }), {
      selector: (b) => `${b.iface}/${b.queue}`,
      maxLength: 2 * queues,
    }),
    xskSlots: fc.uniqueArray(fc.nat(7), { minLength: 2, maxLength: 8 }),
    sessions: fc.array(fc.record({ pkt: fc.nat(15), wrongPort: fc.boolean() }), { maxLength: 6 }),
    sessOps: fc.array(
      fc.record({
        at: fc.nat(16),
        remove: fc.constantFrom(false, false, true),
        pkt: fc.nat(15),
        key: fc.constantFrom("outer" as const, "quote" as const, "quote" as const, "quote" as const, "quote_unswapped" as const, "quote_wrong_port" as const, "quote_bare" as const, "quote_bare" as const),
      }),
      { maxLength: 10 },
    ),
    dnat: fc.array(fc.record({ pkt: fc.nat(15), anyProto: fc.boolean(), port: fc.constantFrom("exact" as const, "any" as const, "wrong" as const), otherIface: fc.boolean() }), { maxLength: 4 }),
    packets: fc.array(pktArb(queues), { minLength: 1, maxLength: 16 }),
  });

/**
 * States for the quote-steering run: armed, fresh, every router address local, every
 * (iface, queue) bound and its socket present, shim bugs off except ignoreSessionMap —
 * so an ICMP error's verdict turns on the quote lookup alone — and frames that are
 * mostly ICMP errors with quotes.
 */
export const steeringStateArb = (queues: number): fc.Arbitrary<StateCase> =>
  fc
    .tuple(
      stateArb(queues),
      fc.array(fc.record({ iface: fc.nat(1), queue: fc.nat(queues - 1), f: fc.oneof({ weight: 4, arbitrary: quoteFrame }, { weight: 1, arbitrary: frameArb }) }), { minLength: 1, maxLength: 16 }),
      fc.constantFrom(false, false, false, true),
    )
    .map(([st, pkts, ignore]) => {
      const bindings: StateCase["bindings"] = [];
      for (let i = 0; i < 2; i++) for (let q = 0; q < queues; q++) bindings.push({ iface: i, queue: q, slot: (i * queues + q) % 8, ready: true });
      return {
        ...st,
        armed: true,
        abiOk: true,
        hb: "fresh",
        bugs: { fallbackDrops: false, missingBindingPasses: false, ignoreSessionMap: ignore, abiDrift: false },
        addrs: [
          [true, true],
          [true, true],
        ],
        bindings,
        xskSlots: [0, 1, 2, 3, 4, 5, 6, 7],
        dnat: [],
        packets: pkts.map((r) => ({ iface: r.iface, queue: r.queue, frame: r.f.frame, quote: r.f.quote })),
      };
    });
