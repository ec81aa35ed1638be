// The offline differential with NAT (issue 6): fast-check-generated scenarios with SNAT
// (interface, small pools, narrow port ranges that force collisions and exhaustion),
// DNAT, replies from the responder, TCP flag sequences, IPv4/IPv6 fragments, ICMP errors
// quoting translated flows, CHECKSUM_PARTIAL on generic attach and every C/D/D′ switch.
// The oracle is the TS model (an independent implementation): path records (lookup, nat),
// frames, counters (steering included), the shim's session map and the session tables
// must agree. A planted difference shows the session-table comparison can fail.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseScenario } from "../../sim/scenario/parse.js";
import { InputPackets } from "../../sim/scenario/packets.js";
import { buildFrame } from "../../sim/packet/build.js";
import type { Scenario } from "../../sim/scenario/types.js";
import { diffOffline } from "../../live/offline-diff.js";

const NAT_BUGS = [
  "tupleFromMutatedFrame", "portsFromStaleFrame", "noReverseIndex", "reverseIndexOverwrite", "replyMissGoesToKernel", "embeddedIcmpNoSwap",
  "rstTearsDown", "sessionAfterNeighbor", "snatPortCollision", "signFlippedDelta", "partialCsumAsFull", "portOnlyNatNoCsum", "fragmentsLoseSession", "ignoreMtu",
] as const;

interface NatCfg {
  snat: "interface" | "pool" | "none";
  portRange: "default" | "narrow";
  dnat: boolean;
  respond: boolean;
  attach: "native" | "generic";
  csumPartial: boolean;
  bugs: string[];
  policyDenyPort: number | null;
  lanNeighborLate: boolean;
}

function natScenario(p: NatCfg): Scenario {
  const range = p.portRange === "narrow" ? { portRange: [40000, 40003] } : {};
  const snat =
    p.snat === "none"
      ? []
      : p.snat === "interface"
        ? [{ egress: "wan", to: "interface", ...range }]
        : [
            { from: "198.18.1.0/24", egress: "wan", to: { pool: ["198.19.2.100/31"] }, ...range },
            { from: "2001:2:0:1::/64", egress: "wan", to: { pool: ["2001:2:0:2::100/127"] }, ...range },
          ];
  const dnat = p.dnat
    ? [
        { ingress: "wan", proto: "udp", dst: "198.19.2.1", port: 8080, to: "198.18.1.10", toPort: 80 },
        { ingress: "wan", proto: "tcp", dst: "198.19.2.1", port: 8080, to: "198.18.1.10", toPort: 80 },
        { ingress: "wan", proto: "udp", dst: "2001:2:0:2::1", port: 8080, to: "2001:2:0:1::10" },
        { ingress: "wan", proto: "icmp", dst: "198.19.2.1", to: "198.18.1.11" },
      ]
    : [];
  return parseScenario(
    {
      name: "gen-nat",
      seed: 7,
      interfaces: [
        { name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.1.1/24", "2001:2:0:1::1/64"], mtu: 1500 },
        { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24", "2001:2:0:2::1/64"], mtu: 1400 },
      ],
      neighbors: [
        { ip: "198.19.2.2", mac: "02:00:00:00:02:02", iface: "wan" },
        { ip: "2001:2:0:2::2", mac: "02:00:00:00:02:02", iface: "wan" },
        { ip: "198.18.1.10", mac: "02:00:00:00:01:0a", iface: "lan", ...(p.lanNeighborLate ? { at: "300us" } : {}) },
        { ip: "198.18.1.11", mac: "02:00:00:00:01:0b", iface: "lan" },
        { ip: "2001:2:0:1::10", mac: "02:00:00:00:01:0a", iface: "lan" },
      ],
      routes: [
        { prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" },
        { prefix: "2001:2:100::/48", via: "2001:2:0:2::2", iface: "wan" },
      ],
      nat: { snat, dnat },
      policy: p.policyDenyPort === null ? [] : [{ action: "deny", proto: "udp", dport: p.policyDenyPort }],
      dataplane: { attach: p.attach, rings: { rx: 64, tx: 64, fill: 64, comp: 64 }, frames: 256, batch: 16, maxPendingTx: 64 },
      timing: { drainNs: 3_000_000, seriesNs: 500_000, respondNs: 20_000, timerNs: 400_000 },
      traffic: { respond: p.respond ? "reflect" : "none", csumPartial: p.csumPartial ? "all" : "none" },
      bugs: Object.fromEntries(p.bugs.map((b) => [b, true])),
    },
    "/tmp/native-nat-gen.json",
    "/tmp",
  );
}

interface Pkt {
  kind: "out" | "in" | "icmpErr" | "frag" | "burst";
  v6: boolean;
  proto: "udp" | "tcp" | "icmp";
  host: number; // lan host 0/1
  sport: number; // index into SPORTS
  dport: number; // index into DPORTS
  tcp: string;
  ttl: number;
  big: boolean;
  gap: number;
  csumOk: boolean;
}

const SPORTS = [40000, 40001, 40002, 1000, 80, 600];
const DPORTS = [53, 80, 8080];
const LAN4 = ["198.18.1.10", "198.18.1.11"];
const LAN6 = ["2001:2:0:1::10", "2001:2:0:1::11"];
const SRV4 = "198.51.100.7";
const SRV6 = "2001:2:100::7";

function l4For(k: Pkt, i: number, sport: number, dport: number): object {
  if (k.proto === "udp") return { udp: { sport, dport } };
  if (k.proto === "tcp") return { tcp: { sport, dport, seq: 1000 + i, flags: k.tcp } };
  return { icmp: { type: k.v6 ? 128 : 8, code: 0, id: sport, seq: i } };
}

function natInput(pkts: Pkt[]): InputPackets {
  const inp = new InputPackets();
  let t = 0;
  const lanMac = { src: "02:00:00:00:01:0a", dst: "02:00:00:00:01:01" };
  const wanMac = { src: "02:00:00:00:02:02", dst: "02:00:00:00:02:01" };
  pkts.forEach((k, i) => {
    t += k.gap;
    const sport = SPORTS[k.sport]!;
    const dport = DPORTS[k.dport]!;
    const lan = (k.v6 ? LAN6 : LAN4)[k.host]!;
    const srv = k.v6 ? SRV6 : SRV4;
    const wanAddr = k.v6 ? "2001:2:0:2::1" : "198.19.2.1";
    const payload = new Uint8Array(k.big ? 1420 : 24).fill(i & 0xff);
    const ipOf = (src: string, dst: string, extra: object = {}): object =>
      k.v6 ? { version: 6, src, dst, hopLimit: k.ttl, ...extra } : { version: 4, src, dst, ttl: k.ttl, id: i + 1, df: !("frag" in extra), ...extra };
    const frames: Array<{ f: Uint8Array; iface: number }> = [];
    if (k.kind === "out") {
      frames.push({ f: buildFrame({ eth: lanMac, ip: ipOf(lan, srv), ...l4For(k, i, sport, dport), payload } as never), iface: 0 });
    } else if (k.kind === "in") {
      // towards the router's wan address: DNAT targets and SNAT replies (ports as kept)
      frames.push({ f: buildFrame({ eth: wanMac, ip: ipOf(srv, wanAddr), ...l4For(k, i, dport, sport), payload } as never), iface: 1 });
    } else if (k.kind === "icmpErr") {
      // an error from beyond the wan quoting a packet the router sent (source = SNAT address)
      const q = buildFrame({ eth: wanMac, ip: k.v6 ? { version: 6, src: wanAddr, dst: srv, hopLimit: 3 } : { version: 4, src: wanAddr, dst: srv, ttl: 1, id: 9 }, ...l4For(k, i, sport, dport), payload: new Uint8Array(8) } as never);
      const quote = q.subarray(14, 14 + (k.v6 ? 40 : 20) + 16);
      if (!k.csumOk) quote[k.v6 ? 41 : 21] = quote[k.v6 ? 41 : 21]! ^ 0x40; // quoted source port changed
      const icmp = k.v6 ? { type: 1, code: 3, quote } : { type: 3, code: 3, quote };
      frames.push({ f: buildFrame({ eth: wanMac, ip: k.v6 ? { version: 6, src: "2001:2:0:2::2", dst: wanAddr, hopLimit: 64 } : { version: 4, src: "198.19.2.2", dst: wanAddr, ttl: 64, id: i + 1 }, icmp, payload: new Uint8Array(0) } as never), iface: 1 });
    } else if (k.kind === "burst") {
      // twelve flows to one server port at once: with a narrow port range SNAT must search and exhausts
      for (let j = 0; j < 12; j++) {
        const src = (k.v6 ? LAN6 : LAN4)[j < 6 ? 0 : 1]!;
        frames.push({ f: buildFrame({ eth: lanMac, ip: ipOf(src, srv), ...l4For({ ...k, tcp: "S" }, i, SPORTS[j % 6]!, dport), payload } as never), iface: 0 });
      }
    } else {
      // a datagram in two fragments from the lan (the later one may be sent first)
      const id = 500 + i;
      const first = buildFrame({ eth: lanMac, ip: ipOf(lan, srv, { frag: { offset: 0, more: true, id } }), udp: { sport, dport }, payload: new Uint8Array(32).fill(1) } as never);
      const second = buildFrame({ eth: lanMac, ip: ipOf(lan, srv, { frag: { offset: 40, more: false, id }, proto: 17 }), payload: new Uint8Array(24).fill(2) } as never);
      if (k.csumOk) frames.push({ f: first, iface: 0 }, { f: second, iface: 0 });
      else frames.push({ f: second, iface: 0 }, { f: first, iface: 0 });
    }
    for (const { f, iface } of frames) {
      if (!k.csumOk && k.kind === "out" && f.length > 40) f[f.length - 1] = f[f.length - 1]! ^ 0x5a; // wrong L4 checksum stays wrong
      inp.push(f, t, iface, 0, i);
      t += 1000;
    }
  });
  return inp;
}

const pktArb: fc.Arbitrary<Pkt> = fc.record({
  kind: fc.constantFrom("out" as const, "out" as const, "out" as const, "in" as const, "icmpErr" as const, "frag" as const, "burst" as const),
  v6: fc.boolean(),
  proto: fc.constantFrom("udp" as const, "tcp" as const, "icmp" as const),
  host: fc.integer({ min: 0, max: 1 }),
  sport: fc.integer({ min: 0, max: SPORTS.length - 1 }),
  dport: fc.integer({ min: 0, max: DPORTS.length - 1 }),
  tcp: fc.constantFrom("S", "S", "A", "PA", "F", "FA", "R", "SA"),
  ttl: fc.oneof(fc.constant(64), fc.constant(64), fc.constant(1)),
  big: fc.boolean(),
  gap: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 10_000, max: 150_000 })),
  csumOk: fc.boolean(),
});

const cfgArb: fc.Arbitrary<NatCfg> = fc.record({
  snat: fc.constantFrom("interface" as const, "pool" as const, "none" as const),
  portRange: fc.constantFrom("default" as const, "narrow" as const),
  dnat: fc.boolean(),
  respond: fc.boolean(),
  attach: fc.constantFrom("native" as const, "generic" as const),
  csumPartial: fc.boolean(),
  bugs: fc.subarray([...NAT_BUGS], { maxLength: 3 }),
  policyDenyPort: fc.option(fc.constantFrom(53, 80), { nil: null }),
  lanNeighborLate: fc.boolean(),
});

describe("offline differential with NAT on generated scenarios", () => {
  it("TS and native workers agree, session tables included", () => {
    // coverage over all runs: the NAT paths the comparison is meant to exercise
    const seen: Record<string, number> = {};
    const tally = (k: string, n = 1): void => {
      seen[k] = (seen[k] ?? 0) + n;
    };
    fc.assert(
      fc.property(cfgArb, fc.array(pktArb, { minLength: 6, maxLength: 60 }), (p, pkts) => {
        const r = diffOffline(natScenario(p), natInput(pkts));
        if (!r.agree) throw new Error(`divergence: ${JSON.stringify(r.first)}`);
        if (r.sessions > 0) tally("sessions");
        tally("translated", r.translated);
        for (const [k, n] of Object.entries(r.lookups)) tally(`lookup:${k}`, n);
        for (const [k, n] of Object.entries(r.model.reasons)) tally(`reason:${k}`, n);
      }),
      { numRuns: Number(process.env.XDPLAB_NATIVE_RUNS ?? 60) },
    );
    if (process.env.XDPLAB_NATIVE_COVERAGE) console.log(seen);
    for (const k of ["sessions", "translated", "lookup:nat_reverse_hit", "lookup:session_hit", "lookup:new", "reason:snat_exhausted", "reason:no_session", "reason:fragment_no_session"]) {
      expect(seen[k] ?? 0, k).toBeGreaterThan(0);
    }
  });

  it("reports a session-table difference (native side with a narrower port range)", () => {
    // Six flows from one source port through SNAT: with ports 40000-40003 the native side
    // must choose other ports (PRNG offsets) and exhausts after four; the model keeps them.
    const base: NatCfg = { snat: "interface", portRange: "default", dnat: false, respond: false, attach: "native", csumPartial: false, bugs: [], policyDenyPort: null, lanNeighborLate: false };
    const pkts: Pkt[] = Array.from({ length: 6 }, (_, i) => ({ kind: "out", v6: false, proto: "udp", host: i % 2, sport: 3, dport: i % 3, tcp: "S", ttl: 64, big: false, gap: 5000, csumOk: true }));
    const r = diffOffline(natScenario(base), natInput(pkts), { nativeScenario: natScenario({ ...base, portRange: "narrow" }) });
    expect(r.agree).toBe(false);
    expect(r.sessions).toBe(6);
  });
});
