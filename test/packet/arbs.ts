// fast-check arbitraries for packet specs, shared by the packet property suites.
import fc from "fast-check";
import type { ExtSpec, FrameSpec } from "../../sim/packet/build.js";

export const v4Addr = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join("."));
export const v6Addr = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((w) => w.map((x) => x.toString(16)).join(":"));
const port = fc.nat(0xffff);
const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });

const vlans = fc.array(
  fc.record({ tpid: fc.constantFrom(0x8100, 0x88a8), vid: fc.nat(4095), pcp: fc.nat(7) }),
  { maxLength: 2 },
);

const ext: fc.Arbitrary<ExtSpec[]> = fc.array(
  fc.oneof(
    fc.record({ type: fc.constant("dst" as const), data: bytes(12) }),
    fc.record({ type: fc.constant("routing" as const), routingType: fc.constant(253), segmentsLeft: fc.constant(0), data: bytes(12) }),
    fc.record({ type: fc.constant("ah" as const), spi: fc.nat(), seq: fc.nat(), icv: fc.constantFrom(new Uint8Array(4), new Uint8Array(12)) }),
  ),
  { maxLength: 3 },
).chain((rest) => fc.boolean().map((hop) => (hop ? [{ type: "hop" as const, data: new Uint8Array([5, 2, 0, 0]) }, ...rest] : rest)));

export type L4Kind = "tcp" | "udp" | "icmp" | "none";

/** A spec with one L4 of the given kinds, IPv4 or IPv6, odd and even payload lengths. */
export function frameSpec(kinds: L4Kind[] = ["tcp", "udp", "icmp", "none"]): fc.Arbitrary<FrameSpec> {
  return fc
    .record({
      version: fc.constantFrom(4 as const, 6 as const),
      kind: fc.constantFrom(...kinds),
      vlans,
      ttl: fc.nat(255),
      id: fc.nat(0xffff),
      tos: fc.nat(255),
      df: fc.boolean(),
      flowLabel: fc.nat(0xfffff),
      options: fc.constantFrom(new Uint8Array(0), new Uint8Array([1, 1, 1, 0]), new Uint8Array([7, 7, 4, 0, 0, 0, 0, 1])),
      ext,
      sport: port,
      dport: port,
      seq: fc.nat(),
      ack: fc.nat(),
      flags: fc.nat(255),
      window: fc.nat(0xffff),
      tcpOptions: fc.constantFrom(new Uint8Array(0), new Uint8Array([2, 4, 5, 0xb4]), new Uint8Array([1, 1, 4, 2, 1, 3, 3, 7])),
      icmpEcho: fc.boolean(),
      icmpId: fc.nat(0xffff),
      icmpSeq: fc.nat(0xffff),
      payload: bytes(41),
      src4: v4Addr,
      dst4: v4Addr,
      src6: v6Addr,
      dst6: v6Addr,
    })
    .map((r): FrameSpec => {
      const spec: FrameSpec = {
        vlans: r.vlans,
        ip:
          r.version === 4
            ? { version: 4, src: r.src4, dst: r.dst4, ttl: r.ttl, id: r.id, tos: r.tos, df: r.df, options: r.options }
            : { version: 6, src: r.src6, dst: r.dst6, ttl: r.ttl, tos: r.tos, flowLabel: r.flowLabel, ext: r.ext },
        payload: r.payload,
      };
      if (r.kind === "tcp") spec.tcp = { sport: r.sport, dport: r.dport, seq: r.seq, ack: r.ack, flags: r.flags, window: r.window, options: r.tcpOptions };
      else if (r.kind === "udp") spec.udp = { sport: r.sport, dport: r.dport };
      else if (r.kind === "icmp") {
        const type = r.version === 4 ? (r.icmpEcho ? 8 : 0) : r.icmpEcho ? 128 : 129;
        spec.icmp = { type, code: 0, id: r.icmpId, seq: r.icmpSeq };
      } else spec.ip.proto = r.version === 4 ? 253 : 253;
      return spec;
    });
}
