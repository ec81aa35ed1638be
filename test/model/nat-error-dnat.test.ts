// Errors the router generates about a new DNAT flow's first packet (no session yet), and
// the scope of bug replyMissGoesToKernel. Oracles: the quote Linux sends back is the
// packet as the sender sent it (icmp_send quotes the received header; the error carries
// the packet's own conntrack and is NATed back at POSTROUTING), so the quoted bytes must
// equal the input's IP bytes; checksums are recomputed here in full; CATALOGUE C scopes
// the bug to replies to an SNAT address. Each scenario is also run on the native worker.
import { describe, expect, it } from "vitest";
import { parseScenario } from "../../sim/scenario/parse.js";
import { InputPackets } from "../../sim/scenario/packets.js";
import { buildFrame } from "../../sim/packet/build.js";
import type { FrameSpec } from "../../sim/packet/build.js";
import type { Scenario } from "../../sim/scenario/types.js";
import { Sim } from "../../sim/run.js";
import { diffOffline } from "../../live/offline-diff.js";
import { MemSink, LAN_MAC, WAN_MAC, GW_MAC, HOST_MAC } from "./helpers.js";

const LAN = 0;
const WAN = 1;

function scn(bugs: Record<string, boolean> = {}): Scenario {
  return parseScenario(
    {
      name: "nat-error-dnat",
      seed: 3,
      interfaces: [
        { name: "lan", mac: LAN_MAC, addrs: ["198.18.1.1/24", "2001:2:0:1::1/64"], mtu: 1400 },
        { name: "wan", mac: WAN_MAC, addrs: ["198.19.2.1/24", "2001:2:0:2::1/64"] },
      ],
      neighbors: [
        { ip: "198.19.2.2", mac: GW_MAC, iface: "wan" },
        { ip: "2001:2:0:2::2", mac: GW_MAC, iface: "wan" },
        { ip: "198.18.1.10", mac: HOST_MAC, iface: "lan" },
        { ip: "198.18.1.200", mac: HOST_MAC, iface: "lan" },
        { ip: "2001:2:0:1::10", mac: HOST_MAC, iface: "lan" },
      ],
      routes: [
        { prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" },
        { prefix: "::/0", via: "2001:2:0:2::2", iface: "wan" },
      ],
      nat: {
        snat: [
          { from: "198.18.1.128/25", egress: "wan", to: { pool: ["198.19.2.100"] } },
          { from: "198.18.1.0/24", egress: "wan", to: "interface" },
        ],
        dnat: [
          { ingress: "wan", proto: "tcp", dst: "198.19.2.1", port: 8080, to: "198.18.1.10", toPort: 80 },
          { ingress: "wan", proto: "udp", dst: "198.19.2.1", port: 5000, to: "198.18.1.10", toPort: 53 },
          { ingress: "wan", proto: "udp", dst: "2001:2:0:2::1", port: 5353, to: "2001:2:0:1::10", toPort: 53 },
        ],
      },
      dataplane: { rings: { rx: 64, tx: 64, fill: 64, comp: 64 }, frames: 128, frameSize: 2048, headroom: 0, batch: 16, maxPendingTx: 64 },
      timing: { drainNs: 5_000_000 },
      bugs,
    },
    "/tmp/nat-error-dnat.json",
    "/tmp",
  );
}

const fromWan = (ip: FrameSpec["ip"], l4: Partial<FrameSpec>, payload = new Uint8Array(0)): Uint8Array =>
  buildFrame({ eth: { src: GW_MAC, dst: WAN_MAC }, ip, ...l4, payload });
const fromLan = (ip: FrameSpec["ip"], l4: Partial<FrameSpec>, payload = new Uint8Array(0)): Uint8Array =>
  buildFrame({ eth: { src: HOST_MAC, dst: LAN_MAC }, ip, ...l4, payload });

function run(s: Scenario, frames: Array<{ iface: number; frame: Uint8Array }>): { sink: MemSink; inp: InputPackets } {
  const inp = new InputPackets();
  frames.forEach((f, i) => inp.push(f.frame, i * 20_000, f.iface, 0, i));
  const sink = new MemSink();
  new Sim(s, inp, sink).runToEnd();
  return { sink, inp };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
/** One's-complement sum of b[o, o+n) (+ acc), folded. */
function csum(b: Uint8Array, o: number, n: number, acc = 0): number {
  for (let i = 0; i < n; i += 2) acc += (b[o + i]! << 8) | (i + 1 < n ? b[o + i + 1]! : 0);
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return acc;
}

describe("an ICMP error about a new DNAT flow's first packet quotes what the sender sent", () => {
  const syn4 = fromWan({ version: 4, src: "198.19.5.5", dst: "198.19.2.1", ttl: 1, id: 0x4242 }, { tcp: { sport: 50001, dport: 8080, seq: 900, flags: "S", window: 1000 } });
  const udp6 = fromWan({ version: 6, src: "2001:db8::5", dst: "2001:2:0:2::1", ttl: 1 }, { udp: { sport: 40001, dport: 5353 } }, new Uint8Array(24).fill(7));
  const big4 = fromWan({ version: 4, src: "198.19.5.5", dst: "198.19.2.1", ttl: 64, id: 0x4343, df: true }, { udp: { sport: 40002, dport: 5000 } }, new Uint8Array(1420).fill(9));

  it("IPv4 TCP, TTL 1: time exceeded out of wan, the quote is the input packet byte for byte", () => {
    const { sink } = run(scn(), [{ iface: WAN, frame: syn4 }]);
    expect(sink.out.length).toBe(1);
    const o = sink.out[0]!;
    expect(o.iface).toBe(WAN);
    const f = o.bytes;
    expect(f[14 + 20]).toBe(11); // time exceeded
    expect(hex(f.subarray(14 + 12, 14 + 16))).toBe("c6130201"); // outer source: the address the sender used
    expect(hex(f.subarray(14 + 16, 14 + 20))).toBe("c6130505");
    const quote = f.subarray(14 + 28);
    expect(hex(quote)).toBe(hex(syn4.subarray(14, 14 + quote.length)));
    expect(quote.length).toBe(40);
    expect(csum(f, 14, 20)).toBe(0xffff); // outer IPv4 header
    expect(csum(f, 34, f.length - 34)).toBe(0xffff); // ICMP message
  });

  it("IPv6 UDP, hop limit 1: time exceeded, the quote is the input packet byte for byte", () => {
    const { sink } = run(scn(), [{ iface: WAN, frame: udp6 }]);
    expect(sink.out.length).toBe(1);
    const f = sink.out[0]!.bytes;
    expect(f[14 + 40]).toBe(3);
    expect(hex(f.subarray(14 + 8, 14 + 24))).toBe("20010002000000020000000000000001");
    const quote = f.subarray(14 + 48);
    expect(hex(quote)).toBe(hex(udp6.subarray(14)));
    // ICMPv6 checksum over the pseudo-header (src, dst, length, next header 58) and the message
    const len = f.length - 54;
    let acc = csum(f, 14 + 8, 32);
    acc = csum(new Uint8Array([0, 0, len >>> 8, len & 0xff, 0, 0, 0, 58]), 0, 8, acc);
    expect(csum(f, 54, len, acc)).toBe(0xffff);
  });

  it("IPv4 UDP over the lan MTU with DF: fragmentation needed, the quote is a prefix of the input packet", () => {
    const { sink } = run(scn(), [{ iface: WAN, frame: big4 }]);
    expect(sink.out.length).toBe(1);
    const f = sink.out[0]!.bytes;
    expect(f[34]).toBe(3);
    expect(f[35]).toBe(4);
    expect((f[34 + 6]! << 8) | f[34 + 7]!).toBe(1400);
    const quote = f.subarray(14 + 28);
    expect(quote.length).toBeGreaterThanOrEqual(28);
    expect(hex(quote)).toBe(hex(big4.subarray(14, 14 + quote.length)));
    expect(csum(f, 14, 20)).toBe(0xffff);
    expect(csum(f, 34, f.length - 34)).toBe(0xffff);
  });

  it("the native worker produces the same errors", () => {
    const inp = new InputPackets();
    [syn4, udp6, big4].forEach((fr, i) => inp.push(fr, i * 20_000, WAN, 0, i));
    const r = diffOffline(scn(), inp);
    expect(r.first).toBeNull();
    expect(r.model.outcomes.dropped).toBe(3); // each packet ends dropped, its error forwarded
  });
});

describe("replyMissGoesToKernel covers replies to an SNAT address only (CATALOGUE C)", () => {
  const dnatSyn = fromWan({ version: 4, src: "198.19.5.5", dst: "198.19.2.1", ttl: 64, id: 1 }, { tcp: { sport: 50002, dport: 8080, seq: 1, flags: "S", window: 1000 } });
  const poolQuery = fromLan({ version: 4, src: "198.18.1.200", dst: "198.51.100.53", ttl: 64, id: 2 }, { udp: { sport: 41000, dport: 53 } }, new Uint8Array(12));
  const poolReply = fromWan({ version: 4, src: "198.51.100.53", dst: "198.19.2.100", ttl: 60, id: 3 }, { udp: { sport: 53, dport: 41000 } }, new Uint8Array(12));
  const frames = [
    { iface: WAN, frame: dnatSyn },
    { iface: LAN, frame: poolQuery },
    { iface: WAN, frame: poolReply },
  ];
  const outcome = (sink: MemSink, i: number): string => {
    const r = sink.paths.find((p) => p.origin === "input" && p.i === i)!;
    return `${r.out}${r.reason ? ":" + r.reason : ""}${r.fib ? "@" + r.fib.egress : ""}`;
  };

  it("healthy: the DNAT flow and the pool reply are forwarded to lan", () => {
    const { sink } = run(scn(), frames);
    expect([0, 1, 2].map((i) => outcome(sink, i))).toEqual(["forwarded@lan", "forwarded@wan", "forwarded@lan"]);
  });

  it("bug on: a new DNAT flow to the router's address is still DNATed; the reply to the pool address goes to the kernel", () => {
    const { sink } = run(scn({ replyMissGoesToKernel: true }), frames);
    expect([0, 1, 2].map((i) => outcome(sink, i))).toEqual(["forwarded@lan", "forwarded@wan", "to_kernel:local_delivery"]);
  });

  it("bug on: the native worker agrees", () => {
    const inp = new InputPackets();
    frames.forEach((f, i) => inp.push(f.frame, i * 20_000, f.iface, 0, i));
    const r = diffOffline(scn({ replyMissGoesToKernel: true }), inp);
    expect(r.first).toBeNull();
    expect(r.model.outcomes.to_kernel).toBe(1);
  });
});
