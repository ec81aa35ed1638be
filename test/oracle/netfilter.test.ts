// Linux netfilter as the NAT oracle, byte for byte: the same scenario and the same input
// frames go through the model (Sim) and through a Linux router with nftables built from
// the scenario (LinuxRouterLab.openNetfilter: masquerade, snat to a pool with a port
// range, dnat to addr:port, `ct state invalid drop` in forward). Every frame each
// interface emits must be identical — MACs, TTL/hop limit, translated addresses and
// ports, ICMP echo ids, quoted headers of ICMP errors, every checksum. The far router's
// ICMP errors are sent from the wan side quoting the translated packet, so they are
// forwarded (and compared) unmasked.
//
// The source ports of the byte-compared flows never collide, so Linux keeps them and the
// model must too (docs/nat.md). Collisions (Linux: random port, model: seeded) are
// checked for uniqueness and reachability of the reply, separately on each side. Errors
// the router generates itself are compared with its IPv4 ID / flow label masked. Inputs
// on which the model differs from Linux by design are pinned on both sides in
// "documented divergences" (docs/nat.md).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { LinuxRouterLab, isLinkNoise } from "../../live/linuxRouter.js";
import type { LinuxRouterResult } from "../../live/linuxRouter.js";
import { dutIfindexes, nftRuleset, startAnyCapture } from "../../live/netfilter.js";
import { parseScenario } from "../../sim/scenario/parse.js";
import { InputPackets } from "../../sim/scenario/packets.js";
import { buildFrame, buildIpPacket } from "../../sim/packet/build.js";
import type { FrameSpec } from "../../sim/packet/build.js";
import type { Scenario } from "../../sim/scenario/types.js";
import { Sim } from "../../sim/run.js";
import type { PathRecord, RunSink } from "../../sim/run.js";
import { loadInput } from "../../bin/scenario-file.js";
import { CaptureReader } from "../../capture/reader.js";
import { IS_ROOT, ROOT_REASON, buildPktio } from "../live/helpers.js";

const LAN_MAC = "02:00:00:00:01:01";
const WAN_MAC = "02:00:00:00:02:01";
const H10_MAC = "02:00:00:00:01:0a"; // 198.18.1.10 / 2001:2:0:1::10
const H11_MAC = "02:00:00:00:01:0b"; // 198.18.1.11 / 2001:2:0:1::11
const H200_MAC = "02:00:00:00:01:c8"; // 198.18.1.200: behind the pool rule
const GW_MAC = "02:00:00:00:02:02"; // 198.19.2.2 / 2001:2:0:2::2, the default gateway and the "far router"

const LAN = 0;
const WAN = 1;
const SNAT4 = "198.19.2.1"; // wan's address: masquerade
const POOL = "198.19.2.100"; // the pool of 198.18.1.128/25, ports 20000-20999
const SNAT6 = "2001:2:0:2::1";

function scenarioObject(): Record<string, unknown> {
  return {
    name: "oracle-netfilter",
    seed: 7,
    interfaces: [
      { name: "lan", mac: LAN_MAC, addrs: ["198.18.1.1/24", "2001:2:0:1::1/64"], mtu: 1500 },
      { name: "wan", mac: WAN_MAC, addrs: ["198.19.2.1/24", "2001:2:0:2::1/64"], mtu: 1400 },
    ],
    neighbors: [
      { ip: "198.18.1.10", mac: H10_MAC, iface: "lan" },
      { ip: "2001:2:0:1::10", mac: H10_MAC, iface: "lan" },
      { ip: "198.18.1.11", mac: H11_MAC, iface: "lan" },
      { ip: "2001:2:0:1::11", mac: H11_MAC, iface: "lan" },
      { ip: "198.18.1.200", mac: H200_MAC, iface: "lan" },
      { ip: "198.19.2.2", mac: GW_MAC, iface: "wan" },
      { ip: "2001:2:0:2::2", mac: GW_MAC, iface: "wan" },
    ],
    routes: [
      { prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" },
      { prefix: "::/0", via: "2001:2:0:2::2", iface: "wan" },
    ],
    policy: [{ action: "deny", proto: "udp", dst: "198.19.5.66/32" }],
    nat: {
      snat: [
        { from: "198.18.1.128/25", egress: "wan", to: [POOL], portRange: [20000, 20999] },
        { from: "198.18.1.0/24", egress: "wan", to: "interface" },
        { from: "2001:2:0:1::/64", egress: "wan", to: "interface" },
      ],
      dnat: [
        { ingress: "wan", proto: "tcp", dst: SNAT4, port: 8080, to: "198.18.1.10", toPort: 80 },
        { ingress: "wan", proto: "udp", dst: SNAT6, port: 5353, to: "2001:2:0:1::10", toPort: 53 },
      ],
    },
  };
}

function scenario(extra: Record<string, unknown> = {}): Scenario {
  return parseScenario({ ...scenarioObject(), ...extra }, "/tmp/oracle-netfilter.json", "/tmp");
}

const payload = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff);
const macOf = (host: string): string => (host.endsWith("::11") || host.endsWith(".11") ? H11_MAC : host.endsWith(".200") ? H200_MAC : H10_MAC);
const fromLan = (ip: FrameSpec["ip"], rest: Omit<FrameSpec, "ip" | "eth">): FrameSpec => ({ eth: { src: macOf(ip.src), dst: LAN_MAC }, ip, ...rest });
const fromWan = (ip: FrameSpec["ip"], rest: Omit<FrameSpec, "ip" | "eth">): FrameSpec => ({ eth: { src: GW_MAC, dst: WAN_MAC }, ip, ...rest });

interface Case {
  what: string;
  iface: number;
  spec: FrameSpec;
  /** Interfaces Linux must emit on for this input, worked out by hand. */
  out: number[];
  /** Changes to the built frame (corner cases buildFrame does not make). */
  mutate?: (f: Uint8Array) => void;
}

/**
 * A TCP exchange between an inside address (lan) and an outside one (wan), with real
 * sequence numbers so conntrack's window tracking accepts every segment. `outside` is
 * the address the outside host sees (the translated one for SNAT; the DNAT address).
 */
class Tcp {
  private iseq: number; // next inside sequence number
  private oseq: number;
  id = 0x100;
  constructor(
    readonly v: 4 | 6,
    readonly inside: [string, number],
    readonly remote: [string, number],
    readonly seen: [string, number], // the inside end as the remote host sees it
    iseq: number,
    oseq: number,
  ) {
    this.iseq = iseq;
    this.oseq = oseq;
  }
  /** A segment from the inside host (lan). */
  in(flags: string, data = 0, what = flags): Case {
    const ack = flags.includes("A") ? this.oseq : 0;
    const spec = fromLan(
      { version: this.v, src: this.inside[0], dst: this.remote[0], id: this.id++, df: true },
      { tcp: { sport: this.inside[1], dport: this.remote[1], seq: this.iseq, ack, flags, window: 29200 }, payload: payload(data, this.iseq & 0xff) },
    );
    this.iseq = (this.iseq + data + (flags.includes("S") || flags.includes("F") ? 1 : 0)) >>> 0;
    return { what: `v${this.v} TCP ${this.inside[1]}→${this.remote[1]} ${what} (lan)`, iface: LAN, spec, out: [WAN] };
  }
  /** A segment from the remote host (wan), to the translated/DNAT address. */
  out(flags: string, data = 0, what = flags): Case {
    const ack = flags.includes("A") ? this.iseq : 0;
    const spec = fromWan(
      { version: this.v, src: this.remote[0], dst: this.seen[0], id: this.id++ + 0x4000, df: true },
      { tcp: { sport: this.remote[1], dport: this.seen[1], seq: this.oseq, ack, flags, window: 65160 }, payload: payload(data, this.oseq & 0xff) },
    );
    this.oseq = (this.oseq + data + (flags.includes("S") || flags.includes("F") ? 1 : 0)) >>> 0;
    return { what: `v${this.v} TCP ${this.remote[1]}→${this.seen[1]} ${what} (wan)`, iface: WAN, spec, out: [LAN] };
  }
}

/** The translated packet as the far router saw it (TTL/hop limit 1 unless given), for its ICMP error. */
function farQuote(spec: FrameSpec, src: string, sport: number, tcpHeaderBytes?: number, ttl = 1): Uint8Array {
  const q: FrameSpec = { ...spec, ip: { ...spec.ip, src, ttl } };
  if (q.udp !== undefined) q.udp = { ...q.udp, sport };
  if (q.tcp !== undefined) q.tcp = { ...q.tcp, sport };
  const pkt = buildIpPacket(q);
  if (tcpHeaderBytes === undefined) return pkt;
  const ihl = spec.ip.version === 4 ? 20 : 40;
  return pkt.slice(0, ihl + tcpHeaderBytes);
}

function v4Cases(): Case[] {
  const cases: Case[] = [];
  // TCP through masquerade: handshake, data both ways, FIN both ways.
  const a = new Tcp(4, ["198.18.1.10", 40001], ["198.19.5.5", 443], [SNAT4, 40001], 1_000_000, 7_000_000);
  cases.push(a.in("S", 0, "SYN"), a.out("SA", 0, "SYN-ACK"), a.in("A", 0, "ACK"), a.in("PA", 120, "data"), a.out("PA", 300, "data+ACK"));
  cases.push(a.in("FA", 0, "FIN"), a.out("FA", 0, "FIN-ACK"), a.in("A", 0, "last ACK"));
  // TCP ended by a RST from outside (translated back like any reply).
  const b = new Tcp(4, ["198.18.1.10", 40002], ["198.19.5.5", 443], [SNAT4, 40002], 2_000_000, 9_000_000);
  cases.push(b.in("S", 0, "SYN"), b.out("SA", 0, "SYN-ACK"), b.in("A", 0, "ACK"), b.in("PA", 10, "data"), b.out("R", 0, "RST"));
  // Malformed exchange: a SYN-ACK or FIN with no connection is invalid → dropped, not
  // forwarded untranslated; a bare ACK is picked up (nf_conntrack_tcp_loose=1).
  const c = new Tcp(4, ["198.18.1.10", 40004], ["198.19.5.5", 443], [SNAT4, 40004], 3_000_000, 0);
  cases.push({ ...c.in("SA", 0, "SYN-ACK without a connection → invalid, dropped"), out: [] });
  const d = new Tcp(4, ["198.18.1.10", 40005], ["198.19.5.5", 443], [SNAT4, 40005], 4_000_000, 0);
  cases.push({ ...d.in("FA", 0, "FIN without a connection → invalid, dropped"), out: [] });
  const e = new Tcp(4, ["198.18.1.10", 40006], ["198.19.5.6", 443], [SNAT4, 40006], 5_000_000, 11_000_000);
  cases.push(e.in("A", 0, "bare ACK → loose pickup, translated"), e.out("A", 20, "reply to the picked-up flow"));
  // UDP request/reply.
  const udpReq = fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.53", id: 0x501 }, { udp: { sport: 5353, dport: 53 }, payload: payload(40, 1) });
  cases.push({ what: "v4 UDP request (lan)", iface: LAN, spec: udpReq, out: [WAN] });
  cases.push({ what: "v4 UDP reply (wan)", iface: WAN, out: [LAN], spec: fromWan({ version: 4, src: "198.19.5.53", dst: SNAT4, id: 0x502 }, { udp: { sport: 53, dport: 5353 }, payload: payload(120, 2) }) });
  // ICMP echo: the id is the "port".
  cases.push({ what: "v4 ICMP echo request (lan)", iface: LAN, out: [WAN], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.5", id: 0x601 }, { icmp: { type: 8, code: 0, id: 0x1234, seq: 1 }, payload: payload(56, 3) }) });
  cases.push({ what: "v4 ICMP echo reply (wan)", iface: WAN, out: [LAN], spec: fromWan({ version: 4, src: "198.19.5.5", dst: SNAT4, id: 0x602 }, { icmp: { type: 0, code: 0, id: 0x1234, seq: 1 }, payload: payload(56, 3) }) });
  // Time exceeded through SNAT: the far router's error quotes the translated packet.
  const probe = fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.9", id: 0x701, ttl: 3 }, { udp: { sport: 33434, dport: 33435 }, payload: payload(24, 4) });
  cases.push({ what: "v4 UDP probe TTL 3 (lan)", iface: LAN, spec: probe, out: [WAN] });
  cases.push({
    what: "v4 time exceeded from the far router quoting the SNATed UDP probe (wan)",
    iface: WAN,
    out: [LAN],
    spec: fromWan({ version: 4, src: "198.19.2.2", dst: SNAT4, id: 0x702 }, { icmp: { type: 11, code: 0, quote: farQuote({ ...probe, ip: { ...probe.ip, ttl: 2 } }, SNAT4, 33434) } }),
  });
  const syn = new Tcp(4, ["198.18.1.10", 40003], ["198.19.5.7", 80], [SNAT4, 40003], 6_000_000, 0);
  const synCase = syn.in("S", 0, "SYN TTL 2");
  synCase.spec.ip.ttl = 2;
  cases.push(synCase);
  cases.push({
    what: "v4 time exceeded quoting 8 bytes of the SNATed SYN (wan)",
    iface: WAN,
    out: [LAN],
    spec: fromWan({ version: 4, src: "198.19.2.2", dst: SNAT4, id: 0x703 }, { icmp: { type: 11, code: 0, quote: farQuote({ ...synCase.spec, ip: { ...synCase.spec.ip, ttl: 1 } }, SNAT4, 40003, 8) } }),
  });
  // Pool SNAT with a port range: a source port inside the range is kept.
  cases.push({ what: "v4 UDP from the pool subnet, port in range (lan)", iface: LAN, out: [WAN], spec: fromLan({ version: 4, src: "198.18.1.200", dst: "198.19.5.53", id: 0x801 }, { udp: { sport: 20500, dport: 53 }, payload: payload(30, 5) }) });
  cases.push({ what: "v4 UDP reply to the pool address (wan)", iface: WAN, out: [LAN], spec: fromWan({ version: 4, src: "198.19.5.53", dst: POOL, id: 0x802 }, { udp: { sport: 53, dport: 20500 }, payload: payload(60, 6) }) });
  // DNAT both ways: wan → 198.19.2.1:8080 becomes 198.18.1.10:80; replies restored.
  const f = new Tcp(4, ["198.18.1.10", 80], ["198.19.5.5", 50000], [SNAT4, 8080], 8_000_000, 12_000_000);
  const dn = [f.out("S", 0, "SYN to the DNAT port"), f.in("SA", 0, "SYN-ACK from the DNAT target"), f.out("A", 0, "ACK"), f.in("PA", 200, "data from the target"), f.out("FA", 0, "FIN")];
  cases.push(...dn);
  return cases;
}

function v6Cases(): Case[] {
  const cases: Case[] = [];
  const a = new Tcp(6, ["2001:2:0:1::10", 40001], ["2001:2:0:5::5", 443], [SNAT6, 40001], 1_500_000, 7_500_000);
  cases.push(a.in("S", 0, "SYN"), a.out("SA", 0, "SYN-ACK"), a.in("A", 0, "ACK"), a.in("PA", 100, "data"), a.out("PA", 200, "data+ACK"));
  cases.push(a.in("RA", 0, "RST from inside"));
  cases.push({ what: "v6 UDP request (lan)", iface: LAN, out: [WAN], spec: fromLan({ version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:5::53", flowLabel: 0x12345 }, { udp: { sport: 5353, dport: 53 }, payload: payload(40, 7) }) });
  cases.push({ what: "v6 UDP reply (wan)", iface: WAN, out: [LAN], spec: fromWan({ version: 6, src: "2001:2:0:5::53", dst: SNAT6 }, { udp: { sport: 53, dport: 5353 }, payload: payload(90, 8) }) });
  cases.push({ what: "v6 ICMPv6 echo request (lan)", iface: LAN, out: [WAN], spec: fromLan({ version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:5::5" }, { icmp: { type: 128, code: 0, id: 0x2222, seq: 5 }, payload: payload(56, 9) }) });
  cases.push({ what: "v6 ICMPv6 echo reply (wan)", iface: WAN, out: [LAN], spec: fromWan({ version: 6, src: "2001:2:0:5::5", dst: SNAT6 }, { icmp: { type: 129, code: 0, id: 0x2222, seq: 5 }, payload: payload(56, 9) }) });
  const probe = fromLan({ version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:5::9", ttl: 3 }, { udp: { sport: 33434, dport: 33435 }, payload: payload(24, 10) });
  cases.push({ what: "v6 UDP probe hop limit 3 (lan)", iface: LAN, spec: probe, out: [WAN] });
  cases.push({
    what: "v6 time exceeded from the far router quoting the NAT66 probe (wan)",
    iface: WAN,
    out: [LAN],
    spec: fromWan({ version: 6, src: "2001:2:0:2::2", dst: SNAT6 }, { icmp: { type: 3, code: 0, quote: farQuote(probe, SNAT6, 33434) } }),
  });
  // DNAT66: wan → [2001:2:0:2::1]:5353 becomes [2001:2:0:1::10]:53, reply restored.
  cases.push({ what: "v6 UDP to the DNAT port (wan)", iface: WAN, out: [LAN], spec: fromWan({ version: 6, src: "2001:2:0:5::5", dst: SNAT6 }, { udp: { sport: 6000, dport: 5353 }, payload: payload(33, 11) }) });
  cases.push({ what: "v6 UDP reply from the DNAT target (lan)", iface: LAN, out: [WAN], spec: fromLan({ version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:5::5" }, { udp: { sport: 53, dport: 6000 }, payload: payload(77, 12) }) });
  return cases;
}

/** Checksum corner cases and ICMP errors quoting a whole TCP segment. */
function edgeCases(): Case[] {
  const cases: Case[] = [];
  cases.push({
    what: "v4 UDP with checksum 0 (none) → translated, stays 0 (lan)",
    iface: LAN,
    out: [WAN],
    spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.53", id: 0xa01 }, { udp: { sport: 5400, dport: 53 }, payload: payload(20, 20) }),
    mutate: (f) => {
      f[14 + 26] = 0;
      f[14 + 27] = 0;
    },
  });
  const t = new Tcp(4, ["198.18.1.10", 40301], ["198.19.5.5", 443], [SNAT4, 40301], 100, 200);
  cases.push(t.in("S", 0, "SYN"), t.out("SA", 0, "SYN-ACK"), t.in("A", 0, "ACK"));
  const data = t.in("PA", 50, "data");
  cases.push(data);
  cases.push({
    what: "v4 time exceeded quoting the whole SNATed TCP data segment (wan)",
    iface: WAN,
    out: [LAN],
    spec: fromWan({ version: 4, src: "198.19.2.2", dst: SNAT4, id: 0xa03 }, { icmp: { type: 11, code: 0, quote: farQuote(data.spec, SNAT4, 40301) } }),
  });
  const t6 = new Tcp(6, ["2001:2:0:1::11", 40302], ["2001:2:0:5::5", 443], [SNAT6, 40302], 300, 400);
  cases.push(t6.in("S", 0, "SYN"), t6.out("SA", 0, "SYN-ACK"), t6.in("A", 0, "ACK"));
  const d6 = t6.in("PA", 60, "data");
  cases.push(d6);
  cases.push({
    what: "v6 time exceeded quoting the whole NAT66 TCP data segment (wan)",
    iface: WAN,
    out: [LAN],
    spec: fromWan({ version: 6, src: "2001:2:0:2::2", dst: SNAT6 }, { icmp: { type: 3, code: 0, quote: farQuote(d6.spec, SNAT6, 40302) } }),
  });
  cases.push({
    what: "v6 ICMPv6 echo from a second host (lan)",
    iface: LAN,
    out: [WAN],
    spec: fromLan({ version: 6, src: "2001:2:0:1::11", dst: "2001:2:0:5::5" }, { icmp: { type: 128, code: 0, id: 0x3333, seq: 1 }, payload: payload(8, 22) }),
  });
  // ICMP traceroute through SNAT: the far router's error quotes the echo request, whose
  // identifier plays the port.
  const ping = fromLan({ version: 4, src: "198.18.1.11", dst: "198.19.5.20", id: 0xa06, ttl: 2 }, { icmp: { type: 8, code: 0, id: 0x4444, seq: 3 }, payload: payload(32, 24) });
  cases.push({ what: "v4 echo request TTL 2 from a second host (lan)", iface: LAN, out: [WAN], spec: ping });
  cases.push({ what: "v4 time exceeded quoting the SNATed echo request (wan)", iface: WAN, out: [LAN], spec: fromWan({ version: 4, src: "198.19.2.2", dst: SNAT4, id: 0xa07 }, { icmp: { type: 11, code: 0, quote: farQuote({ ...ping, ip: { ...ping.ip, ttl: 1 } }, SNAT4, 0) } }) });
  const ping6 = fromLan({ version: 6, src: "2001:2:0:1::11", dst: "2001:2:0:5::20", ttl: 2 }, { icmp: { type: 128, code: 0, id: 0x5555, seq: 4 }, payload: payload(32, 25) });
  cases.push({ what: "v6 echo request hop limit 2 (lan)", iface: LAN, out: [WAN], spec: ping6 });
  cases.push({ what: "v6 time exceeded quoting the NAT66 echo request (wan)", iface: WAN, out: [LAN], spec: fromWan({ version: 6, src: "2001:2:0:2::2", dst: SNAT6 }, { icmp: { type: 3, code: 0, quote: farQuote(ping6, SNAT6, 0) } }) });
  // The far host's own port unreachable about the SNATed UDP request.
  const req = fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.21", id: 0xa08 }, { udp: { sport: 5403, dport: 9999 }, payload: payload(12, 26) });
  cases.push({ what: "v4 UDP to a closed port (lan)", iface: LAN, out: [WAN], spec: req });
  cases.push({ what: "v4 port unreachable from the far host (wan)", iface: WAN, out: [LAN], spec: fromWan({ version: 4, src: "198.19.5.21", dst: SNAT4, id: 0xa09 }, { icmp: { type: 3, code: 3, quote: farQuote(req, SNAT4, 5403, undefined, 62) } }) });
  cases.push({ what: "v4 UDP to a destination the policy denies → dropped", iface: LAN, out: [], spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.66", id: 0xa05 }, { udp: { sport: 5402, dport: 53 }, payload: payload(20, 23) }) });
  return cases;
}

/**
 * ICMP errors the router itself generates for NATed flows (compared with the router's
 * own IPv4 ID / IPv6 flow label masked, as in linux-router.test.ts): Linux builds them in
 * the forward path and NATs them at POSTROUTING as related to the connection.
 */
function routerErrorCases(): Case[] {
  const cases: Case[] = [];
  const t = new Tcp(4, ["198.18.1.10", 40501], ["198.19.5.5", 443], [SNAT4, 40501], 500, 600);
  cases.push(t.in("S", 0, "SYN"), t.out("SA", 0, "SYN-ACK"), t.in("A", 0, "ACK"));
  const late = t.in("PA", 30, "data TTL 1 → time exceeded to lan, quote untranslated (SNAT comes after routing)");
  late.spec.ip.ttl = 1;
  late.out = [LAN];
  cases.push(late);
  const back = t.out("PA", 40, "reply TTL 1 → time exceeded to wan, quote back to the translated destination");
  back.spec.ip.ttl = 1;
  back.out = [WAN];
  cases.push(back);
  const big = t.in("PA", 1420, "data over the wan MTU (DF) → fragmentation needed to lan");
  big.out = [LAN];
  cases.push(big);
  const v6 = new Tcp(6, ["2001:2:0:1::10", 40502], ["2001:2:0:5::5", 443], [SNAT6, 40502], 700, 800);
  cases.push(v6.in("S", 0, "SYN"), v6.out("SA", 0, "SYN-ACK"));
  const back6 = v6.in("A", 0, "ACK");
  cases.push(back6);
  const r6 = v6.out("PA", 40, "reply hop limit 1 → time exceeded to wan, quote back to the translated destination");
  r6.spec.ip.ttl = 1;
  r6.out = [WAN];
  cases.push(r6);
  return cases;
}

/**
 * Documented divergences (docs/nat.md, "Divergences from Linux netfilter"): inputs on
 * which Linux and the model differ by design. Each case states both sides; the test
 * checks both, so the documentation stays true.
 */
interface Divergence extends Case {
  /** Interfaces the model emits on. */
  model: number[];
}
function divergences(): Divergence[] {
  const out: Divergence[] = [];
  const bad = fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.5", id: 0xb01 }, { tcp: { sport: 40400, dport: 443, seq: 1, flags: "S", window: 100 } });
  out.push({
    what: "TCP SYN with a bad checksum: Linux invalid (nf_conntrack_checksum) → dropped; the model does not verify L4 checksums → forwarded, still bad",
    iface: LAN,
    spec: bad,
    mutate: (f) => {
      f[14 + 20 + 16] = (f[14 + 20 + 16] ?? 0) ^ 0x55;
    },
    out: [],
    model: [WAN],
  });
  const t = new Tcp(4, ["198.18.1.10", 40401], ["198.19.5.5", 443], [SNAT4, 40401], 100, 200);
  for (const c of [t.in("S"), t.out("SA"), t.in("A")]) out.push({ ...c, model: c.out });
  const ow = t.out("PA", 10, "far outside the window");
  ow.spec.tcp!.seq = 0x40000000;
  out.push({
    ...ow,
    what: "reply segment far outside the TCP window: Linux invalid → not de-NATed → local delivery, the router's stack answers RST out of wan; the model tracks no windows → forwarded",
    out: [WAN],
    model: [LAN],
  });
  out.push({
    what: "a lone first fragment: Linux's conntrack holds it for reassembly; the model forwards the first fragment at once",
    iface: LAN,
    spec: fromLan({ version: 4, src: "198.18.1.10", dst: "198.19.5.53", id: 0xb02, frag: { offset: 0, more: true } }, { udp: { sport: 5401, dport: 53 }, payload: payload(64, 21) }),
    out: [],
    model: [WAN],
  });
  return out;
}

/** Model frames per interface, in emission order. */
class CollectSink implements RunSink {
  wantPath = false;
  byIface: Uint8Array[][];
  constructor(n: number) {
    this.byIface = Array.from({ length: n }, () => []);
  }
  path(_rec: PathRecord): void {}
  frameOut(iface: number, _t: number, buf: Uint8Array, off: number, len: number): void {
    this.byIface[iface]?.push(buf.slice(off, off + len));
  }
  kernel(): void {}
  drop(): void {}
}

const GAP_NS = 200_000;

function runModelInput(scn: Scenario, inp: InputPackets): Uint8Array[][] {
  const sink = new CollectSink(scn.interfaces.length);
  new Sim(scn, inp, sink).runToEnd();
  return sink.byIface;
}

function runModel(scn: Scenario, frames: ReadonlyArray<{ iface: number; frame: Uint8Array }>): Uint8Array[][] {
  const inp = new InputPackets();
  frames.forEach((f, i) => inp.push(f.frame, i * GAP_NS, f.iface, 0, i));
  return runModelInput(scn, inp);
}

const hex = (f: Uint8Array): string => Buffer.from(f).toString("hex");
const plainHex = hex;

/** Hex with the router's own choices in ICMP errors it generates masked: the IPv4 ID (the
 *  header checksum recomputed after, so it is still compared) and the IPv6 flow label. */
function maskedHex(frame: Uint8Array): string {
  const f = Uint8Array.from(frame);
  const type = ((f[12] ?? 0) << 8) | (f[13] ?? 0);
  if (type === 0x0800 && f[14 + 9] === 1 && [3, 11, 12].includes(f[14 + (((f[14] ?? 0) & 15) * 4)] ?? 0)) {
    const ihl = ((f[14] ?? 0) & 15) * 4;
    f[18] = 0;
    f[19] = 0;
    let sum = 0;
    for (let i = 0; i < ihl; i += 2) if (i !== 10) sum += ((f[14 + i] ?? 0) << 8) | (f[15 + i] ?? 0);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    f[24] = (~sum >> 8) & 0xff;
    f[25] = ~sum & 0xff;
  } else if (type === 0x86dd && f[14 + 6] === 58 && (f[14 + 40] ?? 255) < 128) {
    f[15] = (f[15] ?? 0) & 0xf0;
    f[16] = 0;
    f[17] = 0;
  }
  return Buffer.from(f).toString("hex");
}

/** Per interface, every position where the model's frame differs from Linux's. */
function diff(scn: Scenario, linux: LinuxRouterResult, model: Uint8Array[][], label: (input: number | null) => string, mask = false): string {
  const hex = mask ? maskedHex : plainHex;
  const out: string[] = [];
  for (let ifc = 0; ifc < scn.interfaces.length; ifc++) {
    const l = linux.byIface[ifc] ?? [];
    const m = model[ifc] ?? [];
    for (let k = 0; k < Math.max(l.length, m.length); k++) {
      const lf = l[k];
      const mf = m[k];
      if (lf !== undefined && mf !== undefined && hex(lf.frame) === hex(mf)) continue;
      out.push(`${scn.interfaces[ifc]?.name}[${k}] (Linux's frame from input ${lf?.input}: ${label(lf?.input ?? null)})\n  linux ${lf === undefined ? "<none>" : hex(lf.frame)}\n  model ${mf === undefined ? "<none>" : hex(mf)}`);
    }
  }
  return out.join("\n");
}

describe("nftables translation (no root needed)", () => {
  it("turns the scenario's nat and policy into the rules written out by hand", () => {
    const scn = scenario({ policy: { default: "deny", rules: [{ action: "permit", proto: "tcp", dport: [80, 90], ingress: "wan", egress: "lan" }, { action: "deny", src: "198.18.1.128/25" }] } });
    const text = nftRuleset(scn);
    const rules = text.split("\n").map((l) => l.trim());
    expect(rules).toContain('iifname "wan" ip daddr 198.19.2.1 meta l4proto tcp th dport 8080 dnat ip to 198.18.1.10:80');
    expect(rules).toContain('iifname "wan" ip6 daddr 2001:2:0:2:0:0:0:1 meta l4proto udp th dport 5353 dnat ip6 to [2001:2:0:1:0:0:0:10]:53');
    expect(rules).toContain('oifname "wan" ip saddr 198.18.1.128/25 meta l4proto { tcp, udp } snat ip to 198.19.2.100:20000-20999');
    expect(rules).toContain('oifname "wan" ip saddr 198.18.1.128/25 snat ip to 198.19.2.100');
    expect(rules).toContain('oifname "wan" ip saddr 198.18.1.0/24 masquerade');
    expect(rules).toContain('oifname "wan" ip6 saddr 2001:2:0:1:0:0:0:0/64 masquerade');
    const fwd = rules.slice(rules.indexOf("chain forward {") + 2, rules.indexOf("chain forward {") + 7);
    expect(fwd).toEqual([
      "ct state invalid drop",
      "ct state established,related accept",
      'ct state new iifname "wan" oifname "lan" meta l4proto tcp th dport 80-90 accept',
      "ct state new ip saddr 198.18.1.128/25 drop",
      "ct state new drop",
    ]);
    // The pool rule comes before the interface rule, as in the scenario (first match wins).
    expect(rules.findIndex((r) => r.includes("snat ip to"))).toBeLessThan(rules.findIndex((r) => r.includes("ip saddr 198.18.1.0/24 masquerade")));
  });
});

describe.skipIf(!IS_ROOT)(`model vs Linux netfilter, byte for byte (${ROOT_REASON})`, () => {
  beforeAll(() => buildPktio());
  const linuxRuns = new Map<string, { cases: Case[]; inputs: Array<{ iface: number; frame: Uint8Array }>; res: LinuxRouterResult }>();

  for (const [name, make, mask] of [["IPv4", v4Cases, false], ["IPv6", v6Cases, false], ["checksum and quote edges, policy", edgeCases, false], ["errors the router generates", routerErrorCases, true]] as const) {
    it(`${name}: SNAT/DNAT/ICMP errors — same frames out of the same interfaces, in the same order`, async () => {
      const scn = scenario();
      const cases = make();
      const inputs = cases.map((c) => ({ iface: c.iface, frame: buildFrame(c.spec) }));
      cases.forEach((c, i) => c.mutate?.(inputs[i]!.frame));
      const lab = LinuxRouterLab.openNetfilter(scn);
      let res: LinuxRouterResult;
      try {
        res = await lab.run(inputs, { gapUs: 2000, settleMs: 100 });
      } finally {
        lab.close();
      }
      expect(res.sent.map((s) => s.error)).toEqual(inputs.map(() => null));
      expect(res.ignored).toEqual([]);
      // The oracle did what the cases say (worked out by hand), so the comparison below
      // is about bytes, not about which packets Linux chose to forward.
      const got = cases.map((c, i) => `${c.what}: ${JSON.stringify(res.frames.filter((f) => f.input === i).map((f) => f.iface))}`);
      expect(got).toEqual(cases.map((c) => `${c.what}: ${JSON.stringify(c.out)}`));
      // Independently of the model: everything Linux sent out of wan carries a
      // translated source (masquerade, the pool, or the DNAT address restored).
      const srcs = new Set((res.byIface[WAN] ?? []).map((f) => (f.frame[13] === 0x00 ? Array.from(f.frame.subarray(26, 30)).join(".") : Buffer.from(f.frame.subarray(22, 38)).toString("hex"))));
      for (const a of srcs) expect([SNAT4, POOL, "20010002000000020000000000000001"]).toContain(a);
      linuxRuns.set(name, { cases, inputs, res });
      const model = runModel(scn, inputs);
      expect(diff(scn, res, model, (i) => (i === null ? "?" : (cases[i]?.what ?? "?")), mask)).toBe("");
    });
  }

  it("the comparison sees model bugs: with a CATALOGUE switch on, the cases it breaks differ from Linux", () => {
    const run = linuxRuns.get("IPv4");
    if (run === undefined) throw new Error("needs the IPv4 run above");
    const broken = (bugs: Record<string, boolean>): string[] => {
      const scn = scenario({ bugs });
      const model = runModel(scn, run.inputs);
      const bad = new Set<string>();
      for (let ifc = 0; ifc < 2; ifc++) {
        const l = run.res.byIface[ifc] ?? [];
        l.forEach((f, k) => {
          const m = model[ifc]?.[k];
          if (m === undefined || hex(m) !== hex(f.frame)) bad.add(f.input === null ? "?" : (run.cases[f.input]?.what ?? "?"));
        });
      }
      return [...bad];
    };
    // Errors quoting a translated packet are no longer translated back: exactly the two
    // far-router errors differ (the model forwards them to the router… or not at all).
    expect(broken({ embeddedIcmpNoSwap: true })).toEqual(expect.arrayContaining(run.cases.filter((c) => c.what.includes("time exceeded")).map((c) => c.what)));
    // A sign-flipped checksum delta breaks the translated TCP/UDP checksums.
    expect(broken({ signFlippedDelta: true }).length).toBeGreaterThan(5);
  });

  // An error the router generates about a new DNAT flow (no session yet): Linux attaches
  // the original's conntrack to the error (nf_ct_attach in icmp_send) and NATs it at
  // POSTROUTING, so the quote shows the destination the sender used (198.19.2.1:8080), not
  // the post-DNAT one. The model once quoted the latter (natError returned early without a
  // session); it must now match Linux byte for byte.
  const dnatTtl = (() => {
    const dn = new Tcp(4, ["198.18.1.10", 80], ["198.19.5.5", 50001], [SNAT4, 8080], 900, 1000);
    const syn = dn.out("S", 0, "SYN TTL 1 to the DNAT port → time exceeded out of wan");
    syn.spec.ip.ttl = 1;
    return { what: syn.what, inputs: [{ iface: WAN, frame: buildFrame(syn.spec) }], res: null as LinuxRouterResult | null };
  })();
  it("Linux: a time exceeded for a new DNAT flow quotes the destination the sender used", async () => {
    const lab = LinuxRouterLab.openNetfilter(scenario());
    try {
      dnatTtl.res = await lab.run(dnatTtl.inputs, { gapUs: 2000, settleMs: 100 });
    } finally {
      lab.close();
    }
    const l = dnatTtl.res.byIface[WAN] ?? [];
    expect(l.length).toBe(1);
    // Quoted IPv4 destination and TCP destination port: 198.19.2.1:8080, not 198.18.1.10:80.
    expect(hex(l[0]!.frame.subarray(14 + 28 + 16, 14 + 28 + 20))).toBe("c6130201");
    expect(hex(l[0]!.frame.subarray(14 + 28 + 22, 14 + 28 + 24))).toBe("1f90");
  });
  it("the model's error for a new DNAT flow quotes the destination the sender used, byte for byte as Linux", () => {
    const scn = scenario();
    if (dnatTtl.res === null) throw new Error("the Linux run above failed (it says why)");
    expect(diff(scn, dnatTtl.res, runModel(scn, dnatTtl.inputs), () => dnatTtl.what, true)).toBe("");
  });

  it("documented divergences: Linux and the model each do what docs/nat.md says", async () => {
    const scn = scenario();
    const cases = divergences();
    const inputs = cases.map((c) => ({ iface: c.iface, frame: buildFrame(c.spec) }));
    cases.forEach((c, i) => c.mutate?.(inputs[i]!.frame));
    const lab = LinuxRouterLab.openNetfilter(scn);
    let res: LinuxRouterResult;
    try {
      res = await lab.run(inputs, { gapUs: 2000, settleMs: 100 });
    } finally {
      lab.close();
    }
    const got = cases.map((c, i) => `${c.what}: ${JSON.stringify(res.frames.filter((f) => f.input === i).map((f) => f.iface))}`);
    expect(got).toEqual(cases.map((c) => `${c.what}: ${JSON.stringify(c.out)}`));
    // The model, input by input (each alone after the same prefix), so each output is attributed.
    const modelGot = cases.map((c, i) => {
      const before = runModel(scn, inputs.slice(0, i)).map((x) => x.length);
      const after = runModel(scn, inputs.slice(0, i + 1)).map((x) => x.length);
      const ifs: number[] = [];
      after.forEach((n, ifc) => {
        for (let k = before[ifc] ?? 0; k < n; k++) ifs.push(ifc);
      });
      return `${c.what}: ${JSON.stringify(ifs)}`;
    });
    expect(modelGot).toEqual(cases.map((c) => `${c.what}: ${JSON.stringify(c.model)}`));
  });

  it("collisions: two inside hosts with the same source port get unique reply tuples; the first keeps its port", async () => {
    const scn = scenario();
    const syn = (host: string, dst = "198.19.5.5"): { iface: number; frame: Uint8Array } => ({
      iface: LAN,
      frame: buildFrame(fromLan({ version: 4, src: host, dst, id: 0x900 }, { tcp: { sport: 40100, dport: 443, seq: 1000, flags: "S", window: 29200 } })),
    });
    const poolUdp = { iface: LAN, frame: buildFrame(fromLan({ version: 4, src: "198.18.1.200", dst: "198.19.5.53", id: 0x901 }, { udp: { sport: 40000, dport: 53 }, payload: payload(20, 13) })) };
    const first = [syn("198.18.1.10"), syn("198.18.1.11"), poolUdp];
    const sportOf = (f: Uint8Array): number => ((f[14 + 20] ?? 0) << 8) | (f[14 + 21] ?? 0);
    const srcOf = (f: Uint8Array): string => Array.from(f.subarray(14 + 12, 14 + 16)).join(".");
    const synAck = (port: number): { iface: number; frame: Uint8Array } => ({
      iface: WAN,
      frame: buildFrame(fromWan({ version: 4, src: "198.19.5.5", dst: SNAT4, id: 0x902 }, { tcp: { sport: 443, dport: port, seq: 5000, ack: 1001, flags: "SA", window: 65160 } })),
    });
    const check = (wan: Uint8Array[], who: string): number[] => {
      expect(wan.length, who).toBe(3);
      const ports = wan.map(sportOf);
      expect(wan.map(srcOf), who).toEqual([SNAT4, SNAT4, POOL]);
      expect(ports[0], `${who}: the first flow keeps its port`).toBe(40100);
      expect(ports[1], `${who}: the second flow's reply tuple differs`).not.toBe(40100);
      expect(ports[1]! >= 1024 && ports[1]! <= 65535, `${who}: port class ≥ 1024`).toBe(true);
      expect(ports[2]! >= 20000 && ports[2]! <= 20999, `${who}: pool port range`).toBe(true);
      return ports;
    };
    // Linux: learn its ports, then answer both SYNs at the ports it chose.
    const lab = LinuxRouterLab.openNetfilter(scn);
    let linuxLan: Uint8Array[];
    try {
      const r1 = await lab.run(first, { gapUs: 2000, settleMs: 50 });
      const lp = check((r1.byIface[WAN] ?? []).map((f) => f.frame), "linux");
      const r2 = await lab.run([synAck(lp[0]!), synAck(lp[1]!)], { gapUs: 2000, settleMs: 50 });
      linuxLan = (r2.byIface[LAN] ?? []).map((f) => f.frame);
    } finally {
      lab.close();
    }
    // The model: the same, its ports from a first run (deterministic), then the replies.
    const mp = check(runModel(scn, first)[WAN] ?? [], "model");
    const modelLan = runModel(scn, [...first, synAck(mp[0]!), synAck(mp[1]!)])[LAN] ?? [];
    for (const [who, lanOut] of [["linux", linuxLan], ["model", modelLan]] as const) {
      // Each SYN-ACK reaches its own host, at the original port.
      expect(lanOut.map((f) => `${Array.from(f.subarray(14 + 16, 14 + 20)).join(".")}:${((f[14 + 22] ?? 0) << 8) | (f[14 + 23] ?? 0)}`), who).toEqual(["198.18.1.10:40100", "198.18.1.11:40100"]);
    }
  });

  it("a tcpdump -i any capture of the Linux router (SLL2), replayed through traffic.ifindex, gives Linux's forwarded frames", async () => {
    const base = scenario();
    const cases = [...v4Cases().slice(0, 8), ...v6Cases().slice(6, 10)];
    const inputs = cases.map((c) => ({ iface: c.iface, frame: buildFrame(c.spec) }));
    const dir = mkdtempSync(path.join(tmpdir(), "xdplab-nf-"));
    const pcap = path.join(dir, "router-any.pcap");
    const lab = LinuxRouterLab.openNetfilter(base);
    let res: LinuxRouterResult;
    let ifindex: Map<number, number>;
    try {
      ifindex = dutIfindexes(lab.topology.dutNs, base.interfaces.map((i) => i.name));
      const cap = await startAnyCapture(lab.topology.dutNs, pcap);
      try {
        res = await lab.run(inputs, { gapUs: 2000, settleMs: 100 });
      } finally {
        await cap.stop();
      }
    } finally {
      lab.close();
    }
    try {
      // The capture holds each forwarded packet twice (in, then out): LINUX_SLL2 records
      // with packet types 0 (host) and 4 (outgoing).
      const rd = CaptureReader.open(pcap);
      const kinds: number[] = [];
      const incoming: string[] = [];
      const outgoing: string[][] = [[], []];
      while (rd.next()) {
        expect(rd.linkType).toBe(276);
        const pt = rd.data[rd.offset + 10] ?? -1;
        // The router's own MLD/ND chatter (the far-side captures drop it the same way).
        const asEth = Uint8Array.from([...new Uint8Array(12), ...rd.data.subarray(rd.offset, rd.offset + 2), ...rd.data.subarray(rd.offset + 20, rd.offset + rd.caplen)]);
        if (isLinkNoise(asEth)) continue;
        kinds.push(pt);
        const ifi = ((rd.data[rd.offset + 4] ?? 0) << 24) | ((rd.data[rd.offset + 5] ?? 0) << 16) | ((rd.data[rd.offset + 6] ?? 0) << 8) | (rd.data[rd.offset + 7] ?? 0);
        if (pt !== 4) incoming.push(`${pt} ${hex(rd.data.subarray(rd.offset, rd.offset + rd.caplen))}`);
        if (pt === 4) outgoing[ifindex.get(ifi) ?? -1]?.push(hex(rd.data.subarray(rd.offset + 20, rd.offset + rd.caplen)));
      }
      rd.close();
      const forwarded = res.frames.length;
      expect(kinds.filter((k) => k === 0).length, incoming.join("\n")).toBe(inputs.length);
      expect(kinds.filter((k) => k === 4).length).toBe(forwarded);
      const scn = parseScenario({ ...scenarioObject(), traffic: { pcap, ifindex: Object.fromEntries([...ifindex].map(([k, v]) => [String(k), base.interfaces[v]!.name])) } }, path.join(dir, "scenario.json"), dir);
      const { input, info } = loadInput(scn);
      expect(input.count).toBe(inputs.length);
      // Every outgoing copy was left out as such (the router's noise included).
      expect(info.skipped["outgoing"] ?? 0).toBeGreaterThanOrEqual(forwarded);
      // The replayed inputs are the frames that were sent (cooked headers rebuilt).
      for (let i = 0; i < input.count; i++) expect(hex(input.data.subarray(input.off[i]!, input.off[i]! + input.len[i]!)), cases[i]?.what).toBe(hex(inputs[i]!.frame));
      const model = runModelInput(scn, input);
      expect(diff(scn, res, model, (i) => (i === null ? "?" : (cases[i]?.what ?? "?")))).toBe("");
      // And the router's own outgoing copies carry the same L3 bytes as the model's frames.
      for (let ifc = 0; ifc < 2; ifc++) expect((model[ifc] ?? []).map((f) => hex(f.subarray(14))), scn.interfaces[ifc]?.name).toEqual(outgoing[ifc]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
