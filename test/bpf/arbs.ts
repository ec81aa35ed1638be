// Generated map states and frames for the BPF_PROG_RUN differential: addresses come
// from a small pool so local-address, session and DNAT lookups hit often; frames cover
// IPv4 options and fragments, IPv6 extension headers and fragments, VLAN tags (up to
// one more than the parser allows), ICMP echo and errors, ARP, non-IP, truncation and
// corrupted header bytes.
import fc from "fast-check";
import { buildArp, buildFrame, ethWrap } from "../../sim/packet/build.js";
import type { ExtSpec, FrameSpec } from "../../sim/packet/build.js";

export const IF_ADDRS: [string[], string[]] = [
  ["198.18.1.1/24", "2001:2:0:1::1/64"],
  ["198.19.2.1/24", "2001:2:0:2::1/64"],
];
const V4 = ["198.18.1.1", "198.18.1.10", "198.19.2.1", "198.19.2.2"];
const V6 = ["2001:2:0:1::1", "2001:2:0:1::10", "2001:2:0:2::1", "2001:2:0:2::2"];

export interface PktCase {
  iface: number;
  queue: number;
  frame: Uint8Array;
}

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
    return buildFrame(spec);
  });

const otherFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.record({ op: fc.constantFrom(1, 2), t: fc.nat(3) }).map((a) => buildArp({ op: a.op, senderMac: "02:00:00:00:00:09", senderIp: V4[0]!, targetMac: "02:00:00:00:00:0a", targetIp: V4[a.t]! })),
  fc.record({ et: fc.constantFrom(0x88cc, 0x0842, 0x0600, 0x86dd, 0x0800), body: bytes(60) }).map((a) => ethWrap(a.body, a.et)),
);

/** null 4 times in 5. */
function rarely<T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: a });
}

/** A frame with an optional truncation (never below 14 bytes: BPF_PROG_RUN refuses shorter input) and byte corruption. */
export const frameArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.oneof({ weight: 8, arbitrary: ipFrame }, { weight: 1, arbitrary: otherFrame }), rarely(fc.nat()), rarely(fc.tuple(fc.nat(), fc.nat(255))))
  .map(([f, cut, flip]) => {
    let out = f;
    if (cut !== null && f.length > 14) out = f.slice(0, 14 + (cut % (f.length - 14)));
    if (flip !== null) {
      out = out.slice();
      const pos = flip[0] % Math.min(out.length, 80);
      out[pos] = flip[1];
    }
    return out;
  });

export const pktArb = (queues: number): fc.Arbitrary<PktCase> => fc.record({ iface: fc.nat(1), queue: fc.nat(queues - 1), frame: frameArb });

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
    dnat: fc.array(fc.record({ pkt: fc.nat(15), anyProto: fc.boolean(), port: fc.constantFrom("exact" as const, "any" as const, "wrong" as const), otherIface: fc.boolean() }), { maxLength: 4 }),
    packets: fc.array(pktArb(queues), { minLength: 1, maxLength: 16 }),
  });
