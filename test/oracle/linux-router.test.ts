// Linux as a plain router, byte for byte: the same scenario and the same input frames go
// through the model (Sim, a sink collecting frameOut per interface) and through a Linux
// router built in namespaces (live/linuxRouter.ts). Every frame each interface emits
// must be identical. Masked, because Linux chooses them itself (docs/dataplane.md): the
// IPv4 ID of ICMP errors the router generates (header checksum recomputed after the
// mask, so it is still compared) and the IPv6 flow label of ICMPv6 errors.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LinuxRouterLab } from "../../live/linuxRouter.js";
import { parseScenario } from "../../sim/scenario/parse.js";
import { InputPackets } from "../../sim/scenario/packets.js";
import { buildFrame, buildIpPacket } from "../../sim/packet/build.js";
import type { FrameSpec } from "../../sim/packet/build.js";
import type { Scenario } from "../../sim/scenario/types.js";
import { Sim } from "../../sim/run.js";
import { IS_ROOT, ROOT_REASON, buildPktio } from "../live/helpers.js";
import { CollectSink, LAN_MAC, WAN_MAC, HOST_MAC, GW_MAC, dualStackInterfaces, dualStackNeighbors } from "./helpers.js";

// HOST_MAC's host is also the gateway to 198.18.64.0/24 and 2001:2:0:40::/64.
const PEER_MAC = "02:00:00:00:02:14"; // 198.19.2.20 / 2001:2:0:2::20, directly on wan

function scenario(withRoutes = true): Scenario {
  return parseScenario(
    {
      name: "oracle-linux-router",
      seed: 1,
      interfaces: dualStackInterfaces(),
      neighbors: [
        ...dualStackNeighbors(),
        { ip: "198.19.2.20", mac: PEER_MAC, iface: "wan" },
        { ip: "2001:2:0:2::20", mac: PEER_MAC, iface: "wan" },
      ],
      routes: !withRoutes ? [] : [
        { prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" },
        { prefix: "::/0", via: "2001:2:0:2::2", iface: "wan" },
        { prefix: "198.18.64.0/24", via: "198.18.1.10", iface: "lan" },
        { prefix: "2001:2:0:40::/64", via: "2001:2:0:1::10", iface: "lan" },
      ],
    },
    "/tmp/oracle-linux-router.json",
    "/tmp",
  );
}

const LAN = 0;
const WAN = 1;
const payload = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

interface Case {
  what: string;
  iface: number;
  spec: FrameSpec;
  /** Raw frame instead of spec (edge cases buildFrame does not make). */
  raw?: () => Uint8Array;
  /** Interfaces Linux must emit on for this input, by hand from RFC 791/792/8200/4443. */
  out: number[];
}
const fromLan = (ip: FrameSpec["ip"], rest: Omit<FrameSpec, "ip" | "eth">): FrameSpec => ({ eth: { src: HOST_MAC, dst: LAN_MAC }, ip, ...rest });
const fromWan = (ip: FrameSpec["ip"], rest: Omit<FrameSpec, "ip" | "eth">): FrameSpec => ({ eth: { src: GW_MAC, dst: WAN_MAC }, ip, ...rest });

// Few errors per destination, and paced: ICMP rate limits are off in the harness and not
// modelled, but keep the comparison far from them anyway.
const CASES: Case[] = [
  { what: "v4 UDP lan→wan via the default gateway", iface: LAN, out: [WAN], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.5", id: 0x101 }, { udp: { sport: 40000, dport: 53 }, payload: payload(40, 1) }) },
  { what: "v4 UDP wan→lan to a connected host", iface: WAN, out: [LAN], spec: fromWan({ version: 4, src: "198.19.5.5", dst: "198.18.1.10", id: 0x102, ttl: 57 }, { udp: { sport: 53, dport: 40000 }, payload: payload(90, 2) }) },
  { what: "v4 TCP SYN lan→wan", iface: LAN, out: [WAN], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.5", id: 0x103, df: true }, { tcp: { sport: 40001, dport: 443, seq: 1000, flags: "S", window: 64240 } }) },
  { what: "v4 TCP data wan→lan", iface: WAN, out: [LAN], spec: fromWan({ version: 4, src: "198.19.5.5", dst: "198.18.1.10", id: 0x104, df: true }, { tcp: { sport: 443, dport: 40001, seq: 5000, ack: 1001, flags: "PA", window: 501 }, payload: payload(300, 3) }) },
  { what: "v4 ICMP echo request lan→wan", iface: LAN, out: [WAN], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.5", id: 0x105 }, { icmp: { type: 8, code: 0, id: 77, seq: 1 }, payload: payload(56, 4) }) },
  { what: "v4 ICMP echo reply wan→lan", iface: WAN, out: [LAN], spec: fromWan({ version: 4, src: "198.19.5.5", dst: "198.18.1.10", id: 0x106 }, { icmp: { type: 0, code: 0, id: 77, seq: 1 }, payload: payload(56, 4) }) },
  { what: "v4 TTL 2 → forwarded with TTL 1", iface: LAN, out: [WAN], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.6", id: 0x107, ttl: 2 }, { udp: { sport: 40002, dport: 33434 }, payload: payload(20, 5) }) },
  { what: "v4 TTL 1 → time exceeded", iface: LAN, out: [LAN], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.7", id: 0x108, ttl: 1 }, { udp: { sport: 40003, dport: 33435 }, payload: payload(20, 6) }) },
  { what: "v4 TTL 1 from wan, long (quote cut at 576)", iface: WAN, out: [WAN], spec: fromWan({ version: 4, src: "198.19.5.8", dst: "198.18.1.10", id: 0x109, ttl: 1 }, { udp: { sport: 40004, dport: 9 }, payload: payload(1000, 7) }) },
  { what: "v4 DF over the wan MTU → frag needed", iface: LAN, out: [LAN], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.9", id: 0x10a, df: true }, { udp: { sport: 40005, dport: 9 }, payload: payload(1420, 8) }) },
  { what: "v4 exactly the wan MTU, DF → forwarded", iface: LAN, out: [WAN], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.9", id: 0x10b, df: true }, { udp: { sport: 40006, dport: 9 }, payload: payload(1400 - 28, 9) }) },
  { what: "v4 to a connected host on wan", iface: LAN, out: [WAN], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.2.20", id: 0x10c }, { udp: { sport: 40007, dport: 7 }, payload: payload(33, 10) }) },
  { what: "v4 wan→lan via a lan gateway", iface: WAN, out: [LAN], spec: fromWan({ version: 4, src: "198.19.2.20", dst: "198.18.64.9", id: 0x10d, tos: 0x28 }, { udp: { sport: 7, dport: 40007 }, payload: payload(33, 11) }) },
  { what: "v4 TTL 1 with TOS bits set (error TOS)", iface: WAN, out: [WAN], spec: fromWan({ version: 4, src: "198.19.2.20", dst: "198.18.64.9", id: 0x10e, tos: 0xb8, ttl: 1 }, { tcp: { sport: 7, dport: 40007, seq: 1, flags: "S" } }) },
  { what: "v6 UDP lan→wan via the default gateway", iface: LAN, out: [WAN], spec: fromLan({ version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:5::5", flowLabel: 0x12345 }, { udp: { sport: 40000, dport: 53 }, payload: payload(40, 12) }) },
  { what: "v6 UDP wan→lan to a connected host", iface: WAN, out: [LAN], spec: fromWan({ version: 6, src: "2001:2:0:5::5", dst: "2001:2:0:1::10", ttl: 50, tos: 0x20 }, { udp: { sport: 53, dport: 40000 }, payload: payload(90, 13) }) },
  { what: "v6 TCP lan→wan", iface: LAN, out: [WAN], spec: fromLan({ version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:5::5" }, { tcp: { sport: 40001, dport: 443, seq: 99, flags: "S", window: 64800 } }) },
  { what: "v6 TCP wan→lan", iface: WAN, out: [LAN], spec: fromWan({ version: 6, src: "2001:2:0:5::5", dst: "2001:2:0:1::10" }, { tcp: { sport: 443, dport: 40001, seq: 7, ack: 100, flags: "SA", window: 65535 } }) },
  { what: "v6 ICMPv6 echo request lan→wan", iface: LAN, out: [WAN], spec: fromLan({ version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:5::5" }, { icmp: { type: 128, code: 0, id: 5, seq: 9 }, payload: payload(56, 14) }) },
  { what: "v6 ICMPv6 echo reply wan→lan", iface: WAN, out: [LAN], spec: fromWan({ version: 6, src: "2001:2:0:5::5", dst: "2001:2:0:1::10" }, { icmp: { type: 129, code: 0, id: 5, seq: 9 }, payload: payload(56, 14) }) },
  { what: "v6 hop limit 2 → forwarded with 1", iface: LAN, out: [WAN], spec: fromLan({ version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:5::6", ttl: 2 }, { udp: { sport: 40002, dport: 33434 }, payload: payload(20, 15) }) },
  { what: "v6 hop limit 1 → time exceeded", iface: LAN, out: [LAN], spec: fromLan({ version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:5::7", ttl: 1 }, { udp: { sport: 40003, dport: 33435 }, payload: payload(20, 16) }) },
  { what: "v6 hop limit 1 from wan, long (quote cut at 1232)", iface: WAN, out: [WAN], spec: fromWan({ version: 6, src: "2001:2:0:5::8", dst: "2001:2:0:1::10", ttl: 1 }, { udp: { sport: 40004, dport: 9 }, payload: payload(1300, 17) }) },
  { what: "v6 over the wan MTU → packet too big", iface: LAN, out: [LAN], spec: fromLan({ version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:5::9" }, { udp: { sport: 40005, dport: 9 }, payload: payload(1400, 18) }) },
  { what: "v6 exactly the wan MTU → forwarded", iface: LAN, out: [WAN], spec: fromLan({ version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:5::9" }, { udp: { sport: 40006, dport: 9 }, payload: payload(1400 - 48, 19) }) },
  { what: "v6 to a connected host on wan", iface: LAN, out: [WAN], spec: fromLan({ version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:2::20" }, { udp: { sport: 40007, dport: 7 }, payload: payload(33, 20) }) },
  { what: "v6 wan→lan via a lan gateway", iface: WAN, out: [LAN], spec: fromWan({ version: 6, src: "2001:2:0:2::20", dst: "2001:2:0:40::9" }, { udp: { sport: 7, dport: 40007 }, payload: payload(33, 21) }) },
  // Edge cases: checksums carried as they are, padding, tags, options, precedence.
  { what: "v4 bad UDP checksum → forwarded, still bad", iface: LAN, out: [WAN], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.5", id: 0x201 }, { udp: { sport: 40010, dport: 9 }, payload: payload(30, 22) }), raw: () => flip(buildFrame(CASES_BY_ID("v4 bad UDP checksum → forwarded, still bad")), 14 + 20 + 6) },
  { what: "v4 bad IP header checksum → dropped silently", iface: LAN, out: [], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.5", id: 0x202 }, { udp: { sport: 40011, dport: 9 }, payload: payload(30, 23) }), raw: () => flip(buildFrame(CASES_BY_ID("v4 bad IP header checksum → dropped silently")), 14 + 10) },
  { what: "v4 TTL decrement carries from header checksum 0xfeff", iface: LAN, out: [WAN], spec: checksumEdge() },
  { what: "v4 short frame with Ethernet padding → padding trimmed", iface: LAN, out: [WAN], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.5", id: 0x204 }, { udp: { sport: 40012, dport: 9 }, payload: payload(2, 24) }), raw: () => Uint8Array.from([...buildFrame(CASES_BY_ID("v4 short frame with Ethernet padding → padding trimmed")), ...new Uint8Array(16)]) },
  { what: "v4 priority-tagged (VID 0) → forwarded untagged", iface: LAN, out: [WAN], spec: { ...fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.5", id: 0x205 }, { udp: { sport: 40013, dport: 9 }, payload: payload(30, 25) }), vlans: [{ vid: 0, pcp: 5 }] } },
  { what: "v4 with NOP options → forwarded untouched", iface: LAN, out: [WAN], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.5", id: 0x206, options: Uint8Array.from([1, 1, 1, 1]) }, { udp: { sport: 40014, dport: 9 }, payload: payload(30, 26) }) },
  { what: "v4 TTL 1 and over the MTU → time exceeded first", iface: LAN, out: [LAN], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.10", id: 0x207, ttl: 1, df: true }, { udp: { sport: 40015, dport: 9 }, payload: payload(1420, 27) }) },
  { what: "v4 TTL 1 on a time exceeded message → no error about an error", iface: WAN, out: [], spec: fromWan({ version: 4, src: "198.19.5.11", dst: "198.18.1.10", id: 0x208, ttl: 1 }, { icmp: { type: 11, code: 0, quote: buildIpPacket({ ip: { version: 4, src: "198.18.1.10", dst: "198.19.9.9", id: 3 }, udp: { sport: 1, dport: 2 } }) } }) },
  { what: "v4 TTL 1 from wan, source behind the lan gateway → error out of lan", iface: WAN, out: [LAN], spec: fromWan({ version: 4, src: "198.18.64.5", dst: "198.18.1.10", id: 0x209, ttl: 1 }, { udp: { sport: 40016, dport: 9 }, payload: payload(30, 28) }) },
  { what: "v6 hop limit 1 from wan, source behind the lan gateway → error out of lan", iface: WAN, out: [LAN], spec: fromWan({ version: 6, src: "2001:2:0:40::5", dst: "2001:2:0:1::10", ttl: 1 }, { udp: { sport: 40016, dport: 9 }, payload: payload(30, 29) }) },
  { what: "v6 bad UDP checksum → forwarded, still bad", iface: LAN, out: [WAN], spec: fromLan({ version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:5::5" }, { udp: { sport: 40017, dport: 9 }, payload: payload(30, 30) }), raw: () => flip(buildFrame(CASES_BY_ID("v6 bad UDP checksum → forwarded, still bad")), 14 + 40 + 6) },
  { what: "v6 hop limit 1 and over the MTU → time exceeded first", iface: LAN, out: [LAN], spec: fromLan({ version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:5::10", ttl: 1 }, { udp: { sport: 40018, dport: 9 }, payload: payload(1400, 31) }) },
];

function flip(f: Uint8Array, at: number): Uint8Array {
  f[at] = (f[at] ?? 0) ^ 0x5a;
  return f;
}
function CASES_BY_ID(what: string): FrameSpec {
  const c = CASES.find((x) => x.what === what);
  if (c === undefined) throw new Error(`no case ${what}`);
  return c.spec;
}
/** A UDP packet whose IPv4 header checksum is 0xfeff before forwarding: the TTL-1 update
 *  sums to 0xffff, which Linux's ip_decrease_ttl folds to 0x0000 (RFC 1624 corner). */
function checksumEdge(): FrameSpec {
  for (let id = 0; id < 0x10000; id++) {
    const spec = fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.12", id }, { udp: { sport: 40019, dport: 9 }, payload: payload(30, 32) });
    const f = buildFrame(spec);
    if (f[14 + 10] === 0xfe && f[14 + 11] === 0xff) return spec;
  }
  throw new Error("no IP ID gives header checksum 0xfeff");
}

const GAP_NS = 200_000; // the model sees the inputs 200 µs apart: far from any overload

function runModel(scn: Scenario, frames: Array<{ iface: number; frame: Uint8Array }>): Uint8Array[][] {
  const inp = new InputPackets();
  frames.forEach((f, i) => inp.push(f.frame, i * GAP_NS, f.iface, 0, i));
  const sink = new CollectSink(scn.interfaces.length);
  new Sim(scn, inp, sink).runToEnd();
  return sink.byIface;
}

function ipv4HeaderChecksum(f: Uint8Array, off: number, ihl: number): number {
  let s = 0;
  for (let i = 0; i < ihl; i += 2) if (i !== 10) s += ((f[off + i] ?? 0) << 8) | (f[off + i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Hex of the frame with the router's own choices in ICMP errors masked. */
export function masked(frame: Uint8Array): string {
  const f = Uint8Array.from(frame);
  const type = ((f[12] ?? 0) << 8) | (f[13] ?? 0);
  if (type === 0x0800 && f[14 + 9] === 1) {
    const ihl = ((f[14] ?? 0) & 0x0f) * 4;
    const icmpType = f[14 + ihl] ?? 0;
    if (icmpType === 3 || icmpType === 11 || icmpType === 12) {
      f[14 + 4] = 0;
      f[14 + 5] = 0;
      const c = ipv4HeaderChecksum(f, 14, ihl);
      f[14 + 10] = c >> 8;
      f[14 + 11] = c & 0xff;
    }
  } else if (type === 0x86dd && f[14 + 6] === 58 && (f[14 + 40] ?? 255) < 128) {
    f[14 + 1] = (f[14 + 1] ?? 0) & 0xf0;
    f[14 + 2] = 0;
    f[14 + 3] = 0;
  }
  return Buffer.from(f).toString("hex");
}

describe("masking (no root needed)", () => {
  it("masks the IP ID of an ICMP error and keeps its header checksum consistent", () => {
    const err = buildFrame({ ip: { version: 4, src: "198.18.1.1", dst: "198.18.1.10", id: 0x4242 }, icmp: { type: 11, code: 0, quote: new Uint8Array(28) } });
    const zero = buildFrame({ ip: { version: 4, src: "198.18.1.1", dst: "198.18.1.10", id: 0 }, icmp: { type: 11, code: 0, quote: new Uint8Array(28) } });
    expect(masked(err)).toBe(Buffer.from(zero).toString("hex"));
    // An echo request is not an error: its ID is compared.
    const echo = buildFrame({ ip: { version: 4, src: "198.18.1.10", dst: "198.19.5.5", id: 0x4242 }, icmp: { type: 8, code: 0, id: 1, seq: 1 } });
    expect(masked(echo)).toBe(Buffer.from(echo).toString("hex"));
  });
  it("masks the flow label of an ICMPv6 error only", () => {
    const err = buildFrame({ ip: { version: 6, src: "2001:2:0:1::1", dst: "2001:2:0:1::10", flowLabel: 0xabcde }, icmp: { type: 3, code: 0, quote: new Uint8Array(48) } });
    const zero = buildFrame({ ip: { version: 6, src: "2001:2:0:1::1", dst: "2001:2:0:1::10", flowLabel: 0 }, icmp: { type: 3, code: 0, quote: new Uint8Array(48) } });
    expect(masked(err)).toBe(Buffer.from(zero).toString("hex"));
    const echo = buildFrame({ ip: { version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:5::5", flowLabel: 0xabcde }, icmp: { type: 128, code: 0, id: 1, seq: 1 } });
    expect(masked(echo)).toBe(Buffer.from(echo).toString("hex"));
  });
});

describe.skipIf(!IS_ROOT)(`model vs Linux as a plain router, byte for byte (${ROOT_REASON})`, () => {
  const scn = scenario();
  const inputs = CASES.map((c) => ({ iface: c.iface, frame: c.raw !== undefined ? c.raw() : buildFrame(c.spec) }));
  let lab: LinuxRouterLab;
  beforeAll(() => {
    buildPktio();
    lab = LinuxRouterLab.open(scn);
  });
  afterAll(() => lab?.close());

  it("all cases in one paced run: same frames out of the same interfaces, in the same order", async () => {
    const diffs: string[] = [];
    // One run over all inputs (paced 2 ms apart), attributed per input by the harness;
    // the model runs the same sequence.
    const res = await lab.run(inputs, { gapUs: 2000, settleMs: 100 });
    expect(res.sent.map((s) => s.error)).toEqual(inputs.map(() => null));
    expect(res.ignored).toEqual([]);
    const model = runModel(scn, inputs);
    for (let ifc = 0; ifc < scn.interfaces.length; ifc++) {
      const linux = (res.byIface[ifc] ?? []).map((f) => ({ hex: masked(f.frame), input: f.input }));
      const mine = (model[ifc] ?? []).map(masked);
      const n = Math.max(linux.length, mine.length);
      for (let k = 0; k < n; k++) {
        const l = linux[k];
        const m = mine[k];
        if (l?.hex !== m) {
          const what = l?.input !== null && l?.input !== undefined ? CASES[l.input]?.what : "?";
          diffs.push(`${scn.interfaces[ifc]?.name}[${k}] (Linux's frame from input ${l?.input}: ${what})\n  linux ${l?.hex ?? "<none>"}\n  model ${m ?? "<none>"}`);
        }
      }
    }
    expect(diffs.join("\n")).toBe("");
  });

  it("Linux emits each input's output on the interfaces worked out by hand (the cases are what they say)", async () => {
    const res = await lab.run(inputs, { gapUs: 2000, settleMs: 100 });
    const got = inputs.map((_, i) => `${CASES[i]?.what}: ${JSON.stringify(res.frames.filter((f) => f.input === i).map((f) => f.iface))}`);
    expect(got).toEqual(CASES.map((c) => `${c.what}: ${JSON.stringify(c.out)}`));
    expect(res.frames.every((f) => f.input !== null)).toBe(true);
  });
});

// Without routes beyond the connected ones: no route → ICMP net unreachable (3/0, Linux
// ip_error) / ICMPv6 no route to destination (1/0, ip6_pkt_discard), decided before the
// TTL (the route lookup happens in ip_rcv_finish / ip6_rcv_finish, before ip_forward).
// One error per destination: ip_error has its own rate limiter (burst 5).
const NO_ROUTE: Case[] = [
  { what: "v4 no route → net unreachable", iface: LAN, out: [LAN], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.9.9", id: 0x301 }, { udp: { sport: 40020, dport: 9 }, payload: payload(30, 40) }) },
  { what: "v4 no route and TTL 1 → net unreachable, not time exceeded", iface: WAN, out: [WAN], spec: fromWan({ version: 4, src: "198.19.2.20", dst: "198.19.9.10", id: 0x302, ttl: 1 }, { udp: { sport: 40021, dport: 9 }, payload: payload(30, 41) }) },
  { what: "v4 connected destination still forwarded", iface: LAN, out: [WAN], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.2.20", id: 0x303 }, { udp: { sport: 40022, dport: 9 }, payload: payload(30, 42) }) },
  { what: "v6 no route → ICMPv6 no route", iface: LAN, out: [LAN], spec: fromLan({ version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:9::9" }, { udp: { sport: 40020, dport: 9 }, payload: payload(30, 43) }) },
  { what: "v6 no route and hop limit 1 → no route, not time exceeded", iface: WAN, out: [WAN], spec: fromWan({ version: 6, src: "2001:2:0:2::20", dst: "2001:2:0:9::10", ttl: 1 }, { udp: { sport: 40021, dport: 9 }, payload: payload(30, 44) }) },
];

describe.skipIf(!IS_ROOT)(`model vs Linux, connected routes only (${ROOT_REASON})`, () => {
  it("no-route answers are byte-identical and leave by the expected interface", async () => {
    buildPktio();
    const scn = scenario(false);
    const inputs = NO_ROUTE.map((c) => ({ iface: c.iface, frame: buildFrame(c.spec) }));
    const lab = LinuxRouterLab.open(scn);
    let res;
    try {
      res = await lab.run(inputs, { gapUs: 2000, settleMs: 100 });
    } finally {
      lab.close();
    }
    const got = inputs.map((_, i) => `${NO_ROUTE[i]?.what}: ${JSON.stringify(res.frames.filter((f) => f.input === i).map((f) => f.iface))}`);
    expect(got).toEqual(NO_ROUTE.map((c) => `${c.what}: ${JSON.stringify(c.out)}`));
    const model = runModel(scn, inputs);
    for (let ifc = 0; ifc < scn.interfaces.length; ifc++) {
      expect((model[ifc] ?? []).map(masked), scn.interfaces[ifc]?.name).toEqual((res.byIface[ifc] ?? []).map((f) => masked(f.frame)));
    }
  });
});
