// Address text forms against hand-written RFC 5952 / RFC 4291 examples, plus a
// checksum worked example from RFC 1071 §3 and describePacket's fixed phrases.
import { describe, expect, it } from "vitest";
import { formatIp, formatMac, parseCidr, parseIp, parseMac } from "../../sim/packet/addr.js";
import { fold16, sum16 } from "../../sim/packet/checksum.js";
import { describePacket } from "../../sim/packet/describe.js";
import { buildFrame } from "../../sim/packet/build.js";

const fmt = (s: string): string => {
  const a = parseIp(s);
  if (!a) throw new Error(`rejected ${s}`);
  return formatIp(a.bytes, 0, a.family === 4 ? 4 : 16);
};

describe("addresses", () => {
  it("formats IPv6 as RFC 5952 says", () => {
    expect(fmt("2001:0db8:0000:0000:0000:0000:0002:0001")).toBe("2001:db8::2:1"); // §4.2.1
    expect(fmt("2001:db8:0:1:1:1:1:1")).toBe("2001:db8:0:1:1:1:1:1"); // §4.2.2: one zero group stays
    expect(fmt("2001:0:0:1:0:0:0:1")).toBe("2001:0:0:1::1"); // §4.2.3: longest run
    expect(fmt("2001:db8:0:0:1:0:0:1")).toBe("2001:db8::1:0:0:1"); // §4.2.3: first of equal runs
    expect(fmt("2001:DB8::ABCD")).toBe("2001:db8::abcd"); // §4.3 lowercase
    expect(fmt("::")).toBe("::");
    expect(fmt("::1")).toBe("::1");
    expect(fmt("1::")).toBe("1::");
    expect(fmt("::ffff:192.0.2.1")).toBe("::ffff:192.0.2.1"); // §5
    expect(fmt("64:ff9b::192.0.2.33")).toBe("64:ff9b::c000:221");
  });
  it("rejects malformed text", () => {
    for (const s of ["1.2.3", "1.2.3.256", "01.2.3.4", "1:2:3:4:5:6:7:8:9", "1::2::3", "::g", "1.2.3.4::", "", "12345::", "1:2:3:4:5:6:7::8:9"]) {
      expect(parseIp(s), s).toBeNull();
    }
    expect(parseIp("1:2:3:4:5:6:7::")).not.toBeNull();
  });
  it("parses CIDR and MACs", () => {
    expect(parseCidr("198.18.0.0/15")).toMatchObject({ family: 4, prefixLen: 15 });
    expect(parseCidr("2001:2::/48")).toMatchObject({ family: 6, prefixLen: 48 });
    expect(parseCidr("10.0.0.1")).toMatchObject({ prefixLen: 32 });
    expect(parseCidr("10.0.0.0/33")).toBeNull();
    expect(parseCidr("10.0.0.0/08")).toBeNull();
    const m = parseMac("02:00:0A:bc:DE:ff") as Uint8Array;
    expect(Array.from(m)).toEqual([2, 0, 10, 0xbc, 0xde, 0xff]);
    expect(formatMac(m, 0)).toBe("02:00:0a:bc:de:ff");
    expect(parseMac("02-00-00-00-00-01")).not.toBeNull();
    expect(parseMac("02:00-00:00:00:01")).toBeNull();
  });
});

describe("checksum arithmetic", () => {
  it("RFC 1071 §3 example: 0001 f203 f4f5 f6f7 sums to ddf2", () => {
    const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(fold16(sum16(b, 0, 8, 0))).toBe(0xddf2);
    // An odd length pads with a zero byte: 0x01 alone is 0x0100.
    expect(sum16(Uint8Array.from([1]), 0, 1, 0)).toBe(0x100);
  });
});

describe("describePacket", () => {
  it("one line per frame", () => {
    const f = buildFrame({ vlans: [{ vid: 10 }], ip: { version: 4, src: "198.18.0.1", dst: "198.18.0.2" }, tcp: { sport: 1234, dport: 80, flags: "SA" } });
    expect(describePacket(f, 0, f.length, 1)).toBe("vlan 10 198.18.0.1:1234 > 198.18.0.2:80 TCP [SA] seq 1 ttl 64 len 58");
    expect(describePacket(f, 0, 20, 1)).toBe("malformed: trunc_ip4");
    expect(describePacket(f, 0, f.length, 147)).toBe("undecodable (LINKTYPE_147)");
  });
});
