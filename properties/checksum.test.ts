// Checksum properties (CATALOGUE D, `signFlippedDelta`): the RFC 1624 incremental
// updates the dataplane uses agree with a full recompute after arbitrary rewrites of
// TTL, addresses, ports, TCP sequence and ICMP id — IPv4 header and L4 with its
// pseudo-header, v4 and v6, odd payload lengths — and an invalid checksum keeps exactly
// its error. A locally defined sign-flipped variant shows the property catches that class.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { buildFrame } from "../sim/packet/build.js";
import { PacketView, decode } from "../sim/packet/view.js";
import { parseIp } from "../sim/packet/addr.js";
import {
  csumReplace16,
  csumReplace32,
  csumReplaceBytes,
  fold16,
  ipv4HeaderChecksum,
  l4Checksum,
  udpCsumReplace16,
  udpCsumReplace32,
  udpCsumReplaceBytes,
  verifyIpv4Header,
  verifyL4,
} from "../sim/packet/checksum.js";
import { LINKTYPE_ETHERNET } from "../sim/packet/linktypes.js";
import { frameSpec, v4Addr, v6Addr } from "../test/packet/arbs.js";
import type { L4Kind } from "../test/packet/arbs.js";

interface Impl {
  r16(check: number, o: number, n: number): number;
  r32(check: number, o: number, n: number): number;
  rBytes(check: number, buf: Uint8Array, off: number, old: Uint8Array, oldOff: number, len: number): number;
  u16(check: number, o: number, n: number): number;
  u32(check: number, o: number, n: number): number;
  uBytes(check: number, buf: Uint8Array, off: number, old: Uint8Array, oldOff: number, len: number): number;
}

const LINUX: Impl = { r16: csumReplace16, r32: csumReplace32, rBytes: csumReplaceBytes, u16: udpCsumReplace16, u32: udpCsumReplace32, uBytes: udpCsumReplaceBytes };

// The bug class: the delta applied with the wrong sign, HC' = ~(~HC + m + ~m').
function flipped16(check: number, o: number, n: number): number {
  return ~fold16((~check & 0xffff) + (o & 0xffff) + (~n & 0xffff)) & 0xffff;
}
function flipped32(check: number, o: number, n: number): number {
  return flipped16(flipped16(check, o >>> 16, n >>> 16), o & 0xffff, n & 0xffff);
}
function flippedBytes(check: number, buf: Uint8Array, off: number, old: Uint8Array, oldOff: number, len: number): number {
  let c = check;
  for (let i = 0; i < len; i += 2) c = flipped16(c, ((old[oldOff + i] as number) << 8) | (old[oldOff + i + 1] as number), ((buf[off + i] as number) << 8) | (buf[off + i + 1] as number));
  return c;
}
const udpWrap = (f: (c: number, ...a: never[]) => number) => (c: number, ...a: never[]): number => {
  if (c === 0) return 0;
  const r = f(c, ...a);
  return r === 0 ? 0xffff : r;
};
const SIGN_FLIPPED: Impl = {
  r16: flipped16,
  r32: flipped32,
  rBytes: flippedBytes,
  u16: udpWrap(flipped16 as never),
  u32: udpWrap(flipped32 as never),
  uBytes: udpWrap(flippedBytes as never),
};

type Rewrite =
  | { kind: "ttl"; value: number }
  | { kind: "src" | "dst"; v4: string; v6: string }
  | { kind: "sport" | "dport" | "icmpId"; value: number }
  | { kind: "seq"; value: number };

const rewrite: fc.Arbitrary<Rewrite> = fc.oneof(
  fc.record({ kind: fc.constant("ttl" as const), value: fc.nat(255) }),
  fc.record({ kind: fc.constantFrom("src" as const, "dst" as const), v4: v4Addr, v6: v6Addr }),
  fc.record({ kind: fc.constantFrom("sport" as const, "dport" as const, "icmpId" as const), value: fc.nat(0xffff) }),
  fc.record({ kind: fc.constant("seq" as const), value: fc.nat() }),
);

const g16 = (b: Uint8Array, i: number): number => ((b[i] as number) << 8) | (b[i + 1] as number);
const s16 = (b: Uint8Array, i: number, v: number): void => {
  b[i] = v >>> 8;
  b[i + 1] = v & 0xff;
};
const g32 = (b: Uint8Array, i: number): number => ((g16(b, i) << 16) | g16(b, i + 2)) >>> 0;
const s32 = (b: Uint8Array, i: number, v: number): void => {
  s16(b, i, v >>> 16);
  s16(b, i + 2, v & 0xffff);
};

/** Apply one rewrite in place the way a NAT/router does: the field, then each checksum covering it. */
function apply(b: Uint8Array, v: PacketView, rw: Rewrite, impl: Impl): void {
  const udp = v.ipProto === 17;
  const r16 = udp ? impl.u16 : impl.r16;
  const r32 = udp ? impl.u32 : impl.r32;
  const rB = udp ? impl.uBytes : impl.rBytes;
  const pseudo = v.ipProto === 6 || v.ipProto === 17 || (v.ipProto === 58 && v.ipVersion === 6);
  const l4c = v.l4CsumOff;
  switch (rw.kind) {
    case "ttl": {
      if (v.ipVersion === 6) {
        b[v.ttlOff] = rw.value;
        return;
      }
      const old = g16(b, v.ttlOff);
      b[v.ttlOff] = rw.value;
      s16(b, v.ipCsumOff, impl.r16(g16(b, v.ipCsumOff), old, g16(b, v.ttlOff)));
      return;
    }
    case "src":
    case "dst": {
      const off = rw.kind === "src" ? v.srcOff : v.dstOff;
      if (v.ipVersion === 4) {
        const old = g32(b, off);
        const nw = g32((parseIp(rw.v4) as { bytes: Uint8Array }).bytes, 0);
        s32(b, off, nw);
        s16(b, v.ipCsumOff, impl.r32(g16(b, v.ipCsumOff), old, nw));
        if (pseudo && l4c >= 0) s16(b, l4c, r32(g16(b, l4c), old, nw));
      } else {
        const old = b.slice(off, off + 16);
        b.set((parseIp(rw.v6) as { bytes: Uint8Array }).bytes, off);
        if (pseudo && l4c >= 0) s16(b, l4c, rB(g16(b, l4c), b, off, old, 0, 16));
      }
      return;
    }
    case "sport":
    case "dport": {
      if (v.srcPort < 0) return;
      const off = v.l4Off + (rw.kind === "sport" ? 0 : 2);
      const old = g16(b, off);
      s16(b, off, rw.value);
      s16(b, l4c, r16(g16(b, l4c), old, rw.value));
      return;
    }
    case "icmpId": {
      if (v.icmpId < 0) return;
      const off = v.l4Off + 4;
      const old = g16(b, off);
      s16(b, off, rw.value);
      s16(b, l4c, impl.r16(g16(b, l4c), old, rw.value));
      return;
    }
    case "seq": {
      if (v.ipProto !== 6) return;
      const old = g32(b, v.l4Off + 4);
      s32(b, v.l4Off + 4, rw.value);
      s16(b, l4c, impl.r32(g16(b, l4c), old, rw.value));
      return;
    }
  }
}

/** Equal as one's-complement numbers: 0x0000 and 0xffff both stand for zero (RFC 1624 §3). */
const csumEq = (a: number, b: number): boolean => (a - b) % 0xffff === 0;

function incrementalMatchesFull(impl: Impl, kinds: L4Kind[]) {
  return fc.property(frameSpec(kinds), fc.array(rewrite, { minLength: 1, maxLength: 6 }), (spec, rws) => {
    const b = buildFrame(spec);
    const v = new PacketView();
    if (decode(v, b, 0, b.length, LINKTYPE_ETHERNET) !== 0) throw new Error("built frame did not decode");
    for (const rw of rws) apply(b, v, rw, impl);
    if (v.ipVersion === 4 && !csumEq(g16(b, v.ipCsumOff), ipv4HeaderChecksum(b, v.l3Off, v.ipHdrLen))) return false;
    if (v.l4CsumOff >= 0) {
      const full = l4Checksum(b, v);
      if (!csumEq(g16(b, v.l4CsumOff), full)) return false;
      if (!verifyL4(b, v)) return false;
    }
    return true;
  });
}

describe("incremental checksum update (RFC 1624) == full recompute", () => {
  it("after random rewrites, for IPv4 header and TCP/UDP/ICMP/ICMPv6 over v4 and v6", () => {
    fc.assert(incrementalMatchesFull(LINUX, ["tcp", "udp", "icmp", "none"]), { numRuns: 1500 });
  });

  it("catches a sign-flipped delta (the signFlippedDelta bug class)", () => {
    const r = fc.check(incrementalMatchesFull(SIGN_FLIPPED, ["tcp", "udp", "icmp", "none"]), { numRuns: 1500 });
    expect(r.failed).toBe(true);
  });

  it("an invalid checksum stays invalid by exactly the same amount", () => {
    const prop = fc.property(
      frameSpec(["tcp", "icmp"]),
      fc.array(rewrite, { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 1, max: 0xfffe }),
      fc.integer({ min: 1, max: 0xfffe }),
      (spec, rws, dIp, dL4) => {
        const good = buildFrame(spec);
        const v = new PacketView();
        if (decode(v, good, 0, good.length, LINKTYPE_ETHERNET) !== 0) throw new Error("built frame did not decode");
        const bad = good.slice();
        // Corrupt by adding d in one's complement, so the error is d mod 0xffff.
        if (v.ipVersion === 4) s16(bad, v.ipCsumOff, fold16(g16(bad, v.ipCsumOff) + dIp));
        s16(bad, v.l4CsumOff, fold16(g16(bad, v.l4CsumOff) + dL4));
        for (const rw of rws) {
          apply(good, v, rw, LINUX);
          apply(bad, v, rw, LINUX);
        }
        if (v.ipVersion === 4) {
          if (verifyIpv4Header(bad, v)) return false;
          if ((g16(bad, v.ipCsumOff) - g16(good, v.ipCsumOff) - dIp) % 0xffff !== 0) return false;
        }
        if (verifyL4(bad, v)) return false;
        return (g16(bad, v.l4CsumOff) - g16(good, v.l4CsumOff) - dL4) % 0xffff === 0;
      },
    );
    fc.assert(prop, { numRuns: 1000 });
  });

  it("UDP over IPv4 without a checksum (0) keeps 0; a computed 0 is stored as 0xffff", () => {
    fc.assert(
      fc.property(frameSpec(["udp"]), fc.array(rewrite, { minLength: 1, maxLength: 6 }), (spec, rws) => {
        spec.ip = { ...spec.ip, version: 4, src: "198.18.0.1", dst: "198.18.0.2", ext: [] };
        const b = buildFrame(spec);
        const v = new PacketView();
        decode(v, b, 0, b.length, LINKTYPE_ETHERNET);
        s16(b, v.l4CsumOff, 0);
        for (const rw of rws) apply(b, v, rw, LINUX);
        return g16(b, v.l4CsumOff) === 0 && verifyL4(b, v);
      }),
      { numRuns: 300 },
    );
    // Hand-computed: replacing m=0x0001 by m'=0x0000 under HC=0xfffe gives ~(0x0001+0xfffe+0) = 0, which UDP must send as 0xffff.
    expect(csumReplace16(0xfffe, 0x0001, 0x0000)).toBe(0);
    expect(udpCsumReplace16(0xfffe, 0x0001, 0x0000)).toBe(0xffff);
  });
});
