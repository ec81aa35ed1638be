// Linux as a plain router, the oracle for the model's fib stage. Expected bytes are
// computed by hand here (RFC 791/1071/8200, and Linux's documented ICMP error format),
// not taken from what the runner printed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LinuxRouterLab, isLinkNoise, runLinuxRouter } from "../../live/linuxRouter.js";
import type { RouterSpec } from "../../live/linuxRouter.js";
import { InputError } from "../../sim/errors.js";
import { IS_ROOT, ROOT_REASON, buildPktio } from "./helpers.js";

const v4 = (s: string): Uint8Array => Uint8Array.from(s.split(".").map(Number));
function v6(s: string): Uint8Array {
  const [head = "", tail = ""] = s.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === "" ? [] : tail.split(":");
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t].map((g) => parseInt(g, 16));
  return Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff]));
}
const mac = (s: string): Uint8Array => Uint8Array.from(s.split(":").map((h) => parseInt(h, 16)));

const LAN_MAC = "02:00:00:00:01:01";
const WAN_MAC = "02:00:00:00:02:01";
const HOST_MAC = "02:00:00:00:01:0a"; // 198.18.1.10 on lan
const GW_MAC = "02:00:00:00:02:02"; // 198.19.2.2 on wan

const SPEC: RouterSpec = {
  file: "linuxRouter.test.ts",
  interfaces: [
    { name: "lan", mac: mac(LAN_MAC), mtu: 1500, addrs: [{ family: 4, bytes: v4("198.18.1.1"), prefixLen: 24 }, { family: 6, bytes: v6("2001:2:0:1::1"), prefixLen: 64 }] },
    { name: "wan", mac: mac(WAN_MAC), mtu: 1500, addrs: [{ family: 4, bytes: v4("198.19.2.1"), prefixLen: 24 }, { family: 6, bytes: v6("2001:2:0:2::1"), prefixLen: 64 }] },
  ],
  neighbors: [
    { family: 4, ip: v4("198.18.1.10"), mac: mac(HOST_MAC), iface: 0, atNs: 0 },
    { family: 4, ip: v4("198.19.2.2"), mac: mac(GW_MAC), iface: 1, atNs: 0 },
    { family: 6, ip: v6("2001:2:0:1::10"), mac: mac(HOST_MAC), iface: 0, atNs: 0 },
    { family: 6, ip: v6("2001:2:0:2::2"), mac: mac(GW_MAC), iface: 1, atNs: 0 },
  ],
  routes: [
    { family: 4, prefix: v4("198.18.1.0"), prefixLen: 24, via: null, iface: 0, metric: 0, connected: true },
    { family: 4, prefix: v4("198.19.2.0"), prefixLen: 24, via: null, iface: 1, metric: 0, connected: true },
    { family: 4, prefix: v4("0.0.0.0"), prefixLen: 0, via: v4("198.19.2.2"), iface: 1, metric: 0, connected: false },
    { family: 6, prefix: v6("::"), prefixLen: 0, via: v6("2001:2:0:2::2"), iface: 1, metric: 0, connected: false },
  ],
};

/** RFC 1071 ones'-complement sum of 16-bit words. */
function csum(parts: Uint8Array[]): number {
  let s = 0;
  for (const p of parts) for (let i = 0; i < p.length; i += 2) s += ((p[i] ?? 0) << 8) | (p[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
const be16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];

function ipv4Header(o: { len: number; id: number; ttl: number; proto: number; src: Uint8Array; dst: Uint8Array; tos?: number; df?: boolean }): Uint8Array {
  const h = Uint8Array.from([0x45, o.tos ?? 0, ...be16(o.len), ...be16(o.id), o.df === true ? 0x40 : 0, 0, o.ttl, o.proto, 0, 0, ...o.src, ...o.dst]);
  h.set(be16(csum([h])), 10);
  return h;
}

function udp4(src: Uint8Array, dst: Uint8Array, sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const len = 8 + payload.length;
  const u = Uint8Array.from([...be16(sport), ...be16(dport), ...be16(len), 0, 0, ...payload]);
  const pseudo = Uint8Array.from([...src, ...dst, 0, 17, ...be16(len)]);
  const padded = u.length % 2 === 0 ? u : Uint8Array.from([...u, 0]);
  u.set(be16(csum([pseudo, padded])), 6);
  return u;
}

const eth = (dst: string, src: string, type: number, body: Uint8Array): Uint8Array => Uint8Array.from([...mac(dst), ...mac(src), ...be16(type), ...body]);
const hex = (u: Uint8Array): string => Buffer.from(u).toString("hex");
const PAYLOAD = new TextEncoder().encode("hello");

function udpFrame(ttl: number): { frame: Uint8Array; ip: Uint8Array; l4: Uint8Array } {
  const src = v4("198.18.1.10");
  const dst = v4("198.19.5.5");
  const l4 = udp4(src, dst, 40000, 53, PAYLOAD);
  const ip = Uint8Array.from([...ipv4Header({ len: 20 + l4.length, id: 0x1234, ttl, proto: 17, src, dst }), ...l4]);
  return { frame: eth(LAN_MAC, HOST_MAC, 0x0800, ip), ip, l4 };
}

describe("Linux router input checks (no root needed)", () => {
  it("refuses interface addresses outside the lab ranges, naming the field", () => {
    const bad: RouterSpec = { ...SPEC, interfaces: [{ name: "lan", mac: mac(LAN_MAC), mtu: 1500, addrs: [{ family: 4, bytes: v4("10.0.0.1"), prefixLen: 24 }] }], neighbors: [], routes: [] };
    expect(() => LinuxRouterLab.open(bad)).toThrowError(InputError);
    expect(() => LinuxRouterLab.open(bad)).toThrowError(/interfaces\[0\]\.addrs\[0\].*198\.18\.0\.0\/15.*10\.0\.0\.1\/24/);
  });
  it("refuses a gateway outside the lab ranges", () => {
    const bad: RouterSpec = { ...SPEC, routes: [{ family: 6, prefix: v6("::"), prefixLen: 0, via: v6("fe80::1"), iface: 1, metric: 0, connected: false }] };
    expect(() => LinuxRouterLab.open(bad)).toThrowError(/routes\[0\]\.via/);
  });
  it("classifies ARP and neighbour discovery as link noise, UDP not", () => {
    const arp = eth("ff:ff:ff:ff:ff:ff", LAN_MAC, 0x0806, new Uint8Array(28));
    const ns = new Uint8Array(14 + 40 + 24);
    ns.set([0x86, 0xdd], 12);
    ns[14 + 6] = 58;
    ns[14 + 40] = 135;
    expect(isLinkNoise(arp)).toBe(true);
    expect(isLinkNoise(ns)).toBe(true);
    expect(isLinkNoise(udpFrame(64).frame)).toBe(false);
  });
});

describe.skipIf(!IS_ROOT)(`Linux as a plain router (${ROOT_REASON})`, () => {
  let lab: LinuxRouterLab;
  beforeAll(() => {
    buildPktio();
    lab = LinuxRouterLab.open(SPEC);
  });
  afterAll(() => lab?.close());

  it("forwards UDP lan→wan with TTL-1, new IP checksum and rewritten MACs", async () => {
    const { frame, l4 } = udpFrame(64);
    const res = await lab.run([{ iface: 0, frame }]);
    const ipOut = Uint8Array.from([...ipv4Header({ len: 20 + l4.length, id: 0x1234, ttl: 63, proto: 17, src: v4("198.18.1.10"), dst: v4("198.19.5.5") }), ...l4]);
    const expected = eth(GW_MAC, WAN_MAC, 0x0800, ipOut);
    expect(res.sent.map((s) => s.error)).toEqual([null]);
    expect(res.byIface[0]).toEqual([]);
    expect(res.byIface[1]?.map((f) => hex(f.frame))).toEqual([hex(expected)]);
    expect(res.byIface[1]?.[0]?.input).toBe(0);
  });

  it("answers TTL=1 with ICMP time exceeded on the lan side, quoting the packet", async () => {
    const { frame, ip } = udpFrame(1);
    const res = await lab.run([{ iface: 0, frame }]);
    expect(res.byIface[1]).toEqual([]);
    expect(res.byIface[0]?.length).toBe(1);
    const out = res.byIface[0]?.[0];
    expect(out?.input).toBe(0);
    const f = out?.frame ?? new Uint8Array(0);
    // Linux quotes the whole offending datagram here (it is far below 576 bytes) and
    // sends the error with TOS 0xc0 (precedence "internetwork control"), TTL 64, no DF;
    // the IP ID is Linux's own choice, so it is taken from the frame.
    const icmp = Uint8Array.from([11, 0, 0, 0, 0, 0, 0, 0, ...ip]);
    icmp.set(be16(csum([icmp])), 2);
    const id = ((f[18] ?? 0) << 8) | (f[19] ?? 0);
    const ipHdr = ipv4Header({ len: 20 + icmp.length, id, ttl: 64, proto: 1, src: v4("198.18.1.1"), dst: v4("198.18.1.10"), tos: 0xc0 });
    expect(hex(f)).toBe(hex(eth(HOST_MAC, LAN_MAC, 0x0800, Uint8Array.from([...ipHdr, ...icmp]))));
  });

  it("forwards IPv6 UDP with hop limit - 1 and the UDP checksum untouched", async () => {
    const src = v6("2001:2:0:1::10");
    const dst = v6("2001:2:0:5::5");
    const len = 8 + PAYLOAD.length;
    const u = Uint8Array.from([...be16(40001), ...be16(53), ...be16(len), 0, 0, ...PAYLOAD]);
    const pseudo = Uint8Array.from([...src, ...dst, 0, 0, ...be16(len), 0, 0, 0, 17]);
    u.set(be16(csum([pseudo, Uint8Array.from([...u, 0])])), 6);
    const ip6 = (hlim: number): Uint8Array => Uint8Array.from([0x60, 0, 0, 0, ...be16(len), 17, hlim, ...src, ...dst, ...u]);
    const res = await lab.run([{ iface: 0, frame: eth(LAN_MAC, HOST_MAC, 0x86dd, ip6(64)) }]);
    expect(res.byIface[0]).toEqual([]);
    expect(res.byIface[1]?.map((f) => hex(f.frame))).toEqual([hex(eth(GW_MAC, WAN_MAC, 0x86dd, ip6(63)))]);
  });

  it("runLinuxRouter builds, runs several inputs in order and tears down", async () => {
    const a = udpFrame(64).frame;
    const b = udpFrame(1).frame;
    const res = await runLinuxRouter(SPEC, [{ iface: 0, frame: a }, { iface: 0, frame: b }, { iface: 0, frame: a }]);
    expect(res.frames.map((f) => [f.iface, f.input])).toEqual([[1, 0], [0, 1], [1, 2]]);
  });
});
