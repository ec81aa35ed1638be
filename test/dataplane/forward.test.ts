// The router's decisions and rewrites, with expected bytes computed by hand in the test
// (helpers.ts builds frames and checksums independently of sim/).
import { describe, expect, test } from "vitest";
import { PacketView } from "../../sim/packet/view.js";
import { R } from "../../sim/reasons.js";
import { Dataplane, DP_DROP, DP_FORWARD, DP_HOLD, DP_ICMP_ERROR, DP_KERNEL, LK_DENIED, LK_NEW } from "../../sim/dataplane/dataplane.js";
import { MAC_GW, MAC_HOST, MAC_LAN, MAC_WAN, be16, frame4, frame6, hex, inetChecksum, ip4, ip6, scenario } from "./helpers.js";

const view = new PacketView();
const LAN = 0, WAN = 1;

function run(dp: Dataplane, f: Uint8Array, ingress = LAN, now = 0): { rc: number; out: Uint8Array } {
  const buf = new Uint8Array(f.length + 64);
  buf.set(f, 32);
  const rc = dp.process(buf, 32, f.length, view, ingress, now);
  return { rc, out: buf.subarray(32, 32 + (rc === DP_FORWARD || rc === DP_HOLD ? dp.newLen : f.length)) };
}

describe("IPv4 forwarding rewrite", () => {
  test("MACs, TTL-1, checksum as a full recompute, everything else untouched", () => {
    const dp = new Dataplane(scenario());
    const f = frame4({ ttl: 64 });
    const { rc, out } = run(dp, f);
    expect(rc).toBe(DP_FORWARD);
    expect(dp.egressIf).toBe(WAN);
    expect(dp.lookupKind).toBe(LK_NEW);
    const exp = Array.from(f);
    exp.splice(0, 12, ...MAC_GW, ...MAC_WAN);
    exp[14 + 8] = 63;
    exp[24] = 0; exp[25] = 0;
    const c = inetChecksum(exp.slice(14, 34));
    exp[24] = c >> 8; exp[25] = c & 0xff;
    expect(hex(out)).toBe(hex(exp));
    expect(dp.describeLast()).toEqual({ lookup: "new", nat: null, fib: { egress: "wan", nexthop: "198.19.2.2" } });
  });

  test("Ethernet padding is trimmed to the IP total length", () => {
    const dp = new Dataplane(scenario());
    const f = frame4({ pad: 10 });
    const { rc } = run(dp, f);
    expect(rc).toBe(DP_FORWARD);
    expect(dp.newLen).toBe(f.length - 10);
  });

  test("VLAN: VID 0 priority tag stripped and forwarded; a non-zero VID dropped", () => {
    const dp = new Dataplane(scenario());
    const plain = run(dp, frame4({})).out.slice();
    const tagged = run(dp, frame4({ vlans: [0x6000] })); // PCP 3, VID 0
    expect(tagged.rc).toBe(DP_FORWARD);
    expect(dp.newLen).toBe(plain.length);
    expect(hex(tagged.out)).toBe(hex(plain));
    expect(run(dp, frame4({ vlans: [5] })).rc).toBe(DP_DROP);
    expect(dp.reason).toBe(R.vlan_unknown);
  });

  test("bad IPv4 header checksum and truncation are dropped", () => {
    const dp = new Dataplane(scenario());
    expect(run(dp, frame4({ badCsum: true })).rc).toBe(DP_DROP);
    expect(dp.reason).toBe(R.ip_csum_bad);
    expect(run(dp, frame4({}).subarray(0, 40)).rc).toBe(DP_DROP);
    expect(dp.reason).toBe(R.malformed);
  });

  test("connected route: next hop is the destination itself", () => {
    const dp = new Dataplane(scenario());
    const { rc, out } = run(dp, frame4({ src: "198.19.2.2", dst: "198.18.1.10" }), WAN);
    expect(rc).toBe(DP_FORWARD);
    expect(Array.from(out.subarray(0, 12))).toEqual([...MAC_HOST, ...MAC_LAN]);
    expect(dp.describeLast().fib).toEqual({ egress: "lan", nexthop: "198.18.1.10" });
  });
});

describe("IPv6 forwarding rewrite", () => {
  test("MACs and hop limit - 1, L4 untouched", () => {
    const dp = new Dataplane(scenario());
    const f = frame6({ hop: 2 });
    const { rc, out } = run(dp, f);
    expect(rc).toBe(DP_FORWARD);
    const exp = Array.from(f);
    exp.splice(0, 12, ...MAC_GW, ...MAC_WAN);
    exp[14 + 7] = 1;
    expect(hex(out)).toBe(hex(exp));
    expect(dp.describeLast().fib).toEqual({ egress: "wan", nexthop: "2001:2:0:2::2" });
  });
});

describe("local delivery and martians", () => {
  const cases: [string, Uint8Array, number, number][] = [
    ["v4 to a router address", frame4({ dst: "198.19.2.1" }), DP_KERNEL, R.local_delivery],
    ["v4 directed broadcast of a connected subnet", frame4({ dst: "198.18.1.255" }), DP_KERNEL, R.local_delivery],
    ["v4 limited broadcast", frame4({ dst: "255.255.255.255" }), DP_KERNEL, R.local_delivery],
    ["v6 to a router address", frame6({ dst: "2001:2:0:1::1" }), DP_KERNEL, R.local_delivery],
    ["v6 to link-scope multicast (NDP)", frame6({ src: "fe80::1", dst: "ff02::1:ff00:1" }), DP_KERNEL, R.local_delivery],
    ["v4 loopback source", frame4({ src: "127.0.0.1" }), DP_DROP, R.martian],
    ["v4 multicast source", frame4({ src: "224.0.0.9" }), DP_DROP, R.martian],
    ["v4 0/8 source", frame4({ src: "0.1.2.3" }), DP_DROP, R.martian],
    ["v4 own address as source", frame4({ src: "198.18.1.1" }), DP_DROP, R.martian],
    ["v4 multicast destination", frame4({ dst: "239.1.1.1" }), DP_DROP, R.martian],
    ["v4 loopback destination", frame4({ dst: "127.0.0.2" }), DP_DROP, R.martian],
    ["v4 0/8 destination", frame4({ dst: "0.0.0.7" }), DP_DROP, R.martian],
    ["v6 loopback source", frame6({ src: "::1" }), DP_DROP, R.martian],
    ["v6 multicast source", frame6({ src: "ff0e::1" }), DP_DROP, R.martian],
    ["v6 unspecified source forwarded", frame6({ src: "::" }), DP_DROP, R.martian],
    ["v6 loopback destination", frame6({ dst: "::1" }), DP_DROP, R.martian],
    ["v6 global multicast destination", frame6({ dst: "ff0e::1" }), DP_DROP, R.martian],
    ["not IP (ARP)", Uint8Array.from([...MAC_LAN, ...MAC_HOST, 0x08, 0x06, ...Array(28).fill(0)]), DP_KERNEL, R.not_ip],
  ];
  for (const [name, f, rc, reason] of cases) {
    test(name, () => {
      const dp = new Dataplane(scenario());
      expect(run(dp, f).rc).toBe(rc);
      expect(dp.reason).toBe(reason);
      expect(dp.genLen).toBe(0);
    });
  }
});

describe("policy: first match, then the default", () => {
  const permit2000 = { action: "permit", proto: "udp", dport: 2000 };
  const denyUdp = { action: "deny", proto: "udp" };
  test("an earlier permit wins over a later deny", () => {
    const dp = new Dataplane(scenario({ policy: [permit2000, denyUdp] }));
    expect(run(dp, frame4({})).rc).toBe(DP_FORWARD);
  });
  test("an earlier deny wins over a later permit", () => {
    const dp = new Dataplane(scenario({ policy: [denyUdp, permit2000] }));
    expect(run(dp, frame4({})).rc).toBe(DP_DROP);
    expect(dp.reason).toBe(R.policy_deny);
    expect(dp.lookupKind).toBe(LK_DENIED);
  });
  test("no match: default permit, or the scenario's default deny", () => {
    const rules = [{ action: "deny", proto: "tcp" }, { action: "permit", src: "198.18.9.0/24" }];
    expect(run(new Dataplane(scenario({ policy: rules })), frame4({})).rc).toBe(DP_FORWARD);
    const dp = new Dataplane(scenario({ policy: { default: "deny", rules: [...rules, { action: "permit", proto: "udp", dport: [2001, 3000] }] } }));
    expect(run(dp, frame4({})).rc).toBe(DP_DROP);
    expect(dp.reason).toBe(R.policy_deny);
  });
  test("port rules do not match non-first fragments; ingress/egress rules", () => {
    const dp = new Dataplane(scenario({ policy: [{ action: "deny", proto: "udp", dport: 2000 }] }));
    // A non-first fragment never reaches the port rule: without its first fragment it has
    // no session to follow (fragment policy, docs/nat.md).
    expect(run(dp, frame4({ fragOff: 100 })).rc).toBe(DP_DROP);
    expect(dp.reason).toBe(R.fragment_no_session);
    expect(run(dp, frame6({})).rc).toBe(DP_DROP);
    const dp2 = new Dataplane(scenario({ policy: [{ action: "deny", ingress: "wan" }, { action: "deny", egress: "lan", dst: "198.18.1.0/24" }] }));
    expect(run(dp2, frame4({})).rc).toBe(DP_FORWARD);
    expect(run(dp2, frame4({ src: "198.19.2.2", dst: "198.18.1.10" }), WAN).rc).toBe(DP_DROP);
  });
  test("TTL expiry is answered before the FORWARD policy, as in Linux", () => {
    const dp = new Dataplane(scenario({ policy: [denyUdp] }));
    expect(run(dp, frame4({ ttl: 1 })).rc).toBe(DP_ICMP_ERROR);
    expect(dp.reason).toBe(R.ttl_expired);
  });
});

describe("neighbours: hold, resolve, flush", () => {
  const cold = { neighbors: [{ ip: "198.19.2.2", mac: "02:00:00:00:02:02", iface: "wan", at: "1ms" }] };
  test("a cold neighbour holds the frame until it resolves", () => {
    const dp = new Dataplane(scenario(cold));
    const buf = new Uint8Array(200);
    const f = frame4({});
    buf.set(f, 10);
    expect(dp.process(buf, 10, f.length, view, LAN, 500_000)).toBe(DP_HOLD);
    expect(dp.egressIf).toBe(WAN);
    expect(dp.nexthopFamily).toBe(4);
    expect(Array.from(dp.nexthop.subarray(0, 4))).toEqual(ip4("198.19.2.2"));
    expect(Array.from(buf.subarray(16, 22))).toEqual(MAC_WAN);
    expect(buf[10 + 14 + 8]).toBe(63);
    const nh = dp.nexthop.slice();
    expect(dp.neighborKnown(WAN, nh, 4, 999_999)).toBe(false);
    expect(dp.completeHold(buf, 10, WAN, nh, 4)).toBe(false);
    expect(dp.neighborKnown(WAN, nh, 4, 1_000_000)).toBe(true);
    expect(dp.completeHold(buf, 10, WAN, nh, 4)).toBe(true);
    expect(Array.from(buf.subarray(10, 16))).toEqual(MAC_GW);
    expect(dp.process(buf.fill(0).subarray(0), 0, 0, view, LAN, 0)).toBe(DP_DROP);
    buf.set(frame4({}), 0);
    expect(dp.process(buf, 0, f.length, view, LAN, 2_000_000)).toBe(DP_FORWARD);
  });
  test("a destination with no neighbour entry holds (and never resolves)", () => {
    const dp = new Dataplane(scenario());
    expect(run(dp, frame4({ src: "198.19.2.2", dst: "198.18.1.77" }), WAN).rc).toBe(DP_HOLD);
    expect(dp.neighborKnown(LAN, dp.nexthop, 4, 1e15)).toBe(false);
  });
  test("flushNeighbors makes the interface's entries unresolved until the given time", () => {
    const dp = new Dataplane(scenario());
    dp.flushNeighbors(WAN, 5000);
    expect(run(dp, frame4({}), LAN, 4999).rc).toBe(DP_HOLD);
    expect(run(dp, frame4({}), LAN, 5000).rc).toBe(DP_FORWARD);
    expect(run(dp, frame4({ src: "198.19.2.2", dst: "198.18.1.10" }), WAN, 0).rc).toBe(DP_FORWARD); // lan untouched
    dp.flushNeighbors(WAN); // default: lastNow + 1 ms
    expect(run(dp, frame4({}), LAN, 500_000).rc).toBe(DP_HOLD);
    expect(run(dp, frame4({}), LAN, 1_000_000).rc).toBe(DP_FORWARD);
  });
});

/** Check an IPv4 ICMP error in genBuf field by field against the original frame. */
function expectIcmp4(dp: Dataplane, orig: Uint8Array, type: number, code: number, info: number, quoteLen: number, src: string, dstMac: number[], srcMac: number[]) {
  const g = dp.genBuf.subarray(0, dp.genLen);
  expect(dp.genLen).toBe(14 + 20 + 8 + quoteLen);
  expect(Array.from(g.subarray(0, 14))).toEqual([...dstMac, ...srcMac, 0x08, 0x00]);
  const ip = g.subarray(14, 34);
  expect(ip[0]).toBe(0x45);
  expect(ip[1]).toBe(0xc0 | (orig[15]! & 0x1e));
  expect(be16(ip, 2)).toBe(20 + 8 + quoteLen);
  expect(be16(ip, 6)).toBe(0); // DF clear, no fragment
  expect(ip[8]).toBe(64);
  expect(ip[9]).toBe(1);
  expect(inetChecksum(ip)).toBe(0);
  expect(Array.from(ip.subarray(12, 16))).toEqual(ip4(src));
  expect(Array.from(ip.subarray(16, 20))).toEqual(Array.from(orig.subarray(26, 30)));
  const ic = g.subarray(34);
  expect([ic[0], ic[1]]).toEqual([type, code]);
  expect(inetChecksum(ic)).toBe(0);
  expect(be16(ic, 4)).toBe(info >>> 16);
  expect(be16(ic, 6)).toBe(info & 0xffff);
  expect(hex(ic.subarray(8))).toBe(hex(orig.subarray(14, 14 + quoteLen)));
}

describe("ICMPv4 errors", () => {
  test("time exceeded: routed back with its own MACs, source = the lan address", () => {
    const dp = new Dataplane(scenario());
    const f = frame4({ ttl: 1, tos: 0xb9 });
    expect(run(dp, f).rc).toBe(DP_ICMP_ERROR);
    expect(dp.reason).toBe(R.ttl_expired);
    expect(dp.genEgressIf).toBe(LAN);
    expectIcmp4(dp, f, 11, 0, 0, f.length - 14, "198.18.1.1", MAC_HOST, MAC_LAN);
  });
  test("quote truncated so that the error is 576 bytes", () => {
    const dp = new Dataplane(scenario());
    const f = frame4({ ttl: 0, payload: Array.from({ length: 1000 }, (_, i) => i & 0xff) });
    expect(run(dp, f).rc).toBe(DP_ICMP_ERROR);
    expect(dp.genLen - 14).toBe(576);
    expectIcmp4(dp, f, 11, 0, 0, 576 - 28, "198.18.1.1", MAC_HOST, MAC_LAN);
  });
  test("fragmentation needed carries the egress MTU; DF clear is a counted drop", () => {
    const dp = new Dataplane(scenario());
    const payload = Array.from({ length: 1400 - 28 + 1 }, (_, i) => (i * 7) & 0xff); // 1401-byte packet, wan MTU 1400
    const f = frame4({ payload });
    expect(run(dp, f).rc).toBe(DP_ICMP_ERROR);
    expect(dp.reason).toBe(R.mtu_exceeded);
    expectIcmp4(dp, f, 3, 4, 1400, 548, "198.18.1.1", MAC_HOST, MAC_LAN);
    expect(run(dp, frame4({ payload, df: false })).rc).toBe(DP_DROP);
    expect(dp.reason).toBe(R.mtu_exceeded_df_clear);
    expect(dp.genLen).toBe(0);
    expect(run(dp, frame4({ payload: payload.slice(1) })).rc).toBe(DP_FORWARD); // exactly the MTU
  });
  test("no route: net unreachable", () => {
    const dp = new Dataplane(scenario({ routes: [] }));
    const f = frame4({ dst: "203.0.113.9" });
    expect(run(dp, f).rc).toBe(DP_ICMP_ERROR);
    expect(dp.reason).toBe(R.no_route);
    expectIcmp4(dp, f, 3, 0, 0, f.length - 14, "198.18.1.1", MAC_HOST, MAC_LAN);
  });
  test("sender without a neighbour entry on the ingress link: its frame's source MAC", () => {
    const dp = new Dataplane(scenario());
    const f = frame4({ ttl: 1, src: "198.18.1.99" });
    expect(run(dp, f).rc).toBe(DP_ICMP_ERROR);
    expect(Array.from(dp.genBuf.subarray(0, 6))).toEqual(MAC_HOST);
  });
  test("never for ICMP errors, non-first fragments, or with icmpErrors off; yes for echo", () => {
    const dp = new Dataplane(scenario());
    const icmpErr = [3, 1, 0, 0, 0, 0, 0, 0, 0x45, 0, 0, 28];
    expect(run(dp, frame4({ ttl: 1, proto: 1, l4: icmpErr })).rc).toBe(DP_DROP);
    expect(dp.reason).toBe(R.ttl_expired);
    expect(run(dp, frame4({ ttl: 1, proto: 1, l4: [200, 0, 0, 0, 0, 0, 0, 0] })).rc).toBe(DP_DROP); // unknown type = error
    expect(run(dp, frame4({ ttl: 1, fragOff: 185 })).rc).toBe(DP_DROP);
    expect(run(dp, frame4({ ttl: 1, proto: 1, l4: [8, 0, 0xf7, 0xfe, 0, 1, 0, 0] })).rc).toBe(DP_ICMP_ERROR);
    const off = new Dataplane(scenario({ dataplane: { icmpErrors: false } }));
    expect(run(off, frame4({ ttl: 1 })).rc).toBe(DP_DROP);
    expect(off.reason).toBe(R.ttl_expired);
    expect(off.genLen).toBe(0);
  });
});

function expectIcmp6(dp: Dataplane, orig: Uint8Array, type: number, code: number, info: number, quoteLen: number, src: string) {
  const g = dp.genBuf.subarray(0, dp.genLen);
  expect(dp.genLen).toBe(14 + 40 + 8 + quoteLen);
  expect(Array.from(g.subarray(0, 14))).toEqual([...MAC_HOST, ...MAC_LAN, 0x86, 0xdd]);
  expect(g[14]! >> 4).toBe(6);
  expect(be16(g, 18)).toBe(8 + quoteLen);
  expect([g[20], g[21]]).toEqual([58, 64]);
  expect(Array.from(g.subarray(22, 38))).toEqual(ip6(src));
  expect(Array.from(g.subarray(38, 54))).toEqual(Array.from(orig.subarray(22, 38)));
  const ic = g.subarray(54);
  expect([ic[0], ic[1]]).toEqual([type, code]);
  const pseudo = [...g.subarray(22, 54), 0, 0, (8 + quoteLen) >> 8, (8 + quoteLen) & 0xff, 0, 0, 0, 58];
  expect(inetChecksum([...pseudo, ...ic])).toBe(0);
  expect(be16(ic, 4) * 65536 + be16(ic, 6)).toBe(info);
  expect(hex(ic.subarray(8))).toBe(hex(orig.subarray(14, 14 + quoteLen)));
}

describe("ICMPv6 errors", () => {
  test("time exceeded (type 3), source = the lan global address", () => {
    const dp = new Dataplane(scenario());
    const f = frame6({ hop: 1 });
    expect(run(dp, f).rc).toBe(DP_ICMP_ERROR);
    expect(dp.reason).toBe(R.ttl_expired);
    expectIcmp6(dp, f, 3, 0, 0, f.length - 14, "2001:2:0:1::1");
  });
  test("packet too big carries the MTU; quote limited to 1280 bytes total", () => {
    const dp = new Dataplane(scenario());
    const l4 = Array.from({ length: 1500 - 40 }, (_, i) => (i * 3) & 0xff);
    const f = frame6({ l4, nh: 59 });
    expect(run(dp, f).rc).toBe(DP_ICMP_ERROR);
    expect(dp.reason).toBe(R.mtu_exceeded);
    expect(dp.genLen - 14).toBe(1280);
    expectIcmp6(dp, f, 2, 0, 1400, 1232, "2001:2:0:1::1");
  });
  test("no route: destination unreachable code 0; never for ICMPv6 errors", () => {
    const dp = new Dataplane(scenario({ routes: [] }));
    const f = frame6({ dst: "2001:db8::1" });
    expect(run(dp, f).rc).toBe(DP_ICMP_ERROR);
    expectIcmp6(dp, f, 1, 0, 0, f.length - 14, "2001:2:0:1::1");
    const dp2 = new Dataplane(scenario());
    expect(run(dp2, frame6({ hop: 1, nh: 58, l4: [1, 0, 0, 0, 0, 0, 0, 0] })).rc).toBe(DP_DROP);
    expect(run(dp2, frame6({ hop: 1, nh: 58, l4: [128, 0, 0, 0, 0, 0, 0, 0] })).rc).toBe(DP_ICMP_ERROR);
  });
});
