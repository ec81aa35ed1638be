// Capture → InputPackets: interface mapping, the incoming-only filter of cooked
// captures, synthesized Ethernet headers, RX queues and backwards timestamps.
// Cooked headers are built byte by byte here (layout from the tcpdump.org LINKTYPE_LINUX_SLL2
// / LINUX_SLL pages), and tshark confirms the layout on a file written from them.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseScenario } from "../../sim/scenario/parse.js";
import { buildInput } from "../../sim/scenario/input.js";
import type { CaptureRecord } from "../../sim/scenario/input.js";
import { InputError } from "../../sim/errors.js";
import { PcapngWriter, PcapWriter, memorySink } from "../../capture/encode.js";
import { loadInput } from "../../bin/scenario-file.js";

const LAN_MAC = [0x02, 0, 0, 0, 1, 1];
const WAN_MAC = [0x02, 0, 0, 0, 2, 1];

function scenario(extra: Record<string, unknown> = {}, queues = 1) {
  return parseScenario(
    {
      interfaces: [
        { name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.1.1/24"], queues },
        { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24"], queues },
      ],
      ...extra,
    },
    "/t/scenario.json",
    "/t",
  );
}

/** IPv4/UDP 198.18.1.10:sport → 198.19.2.2:dport with a 4-byte payload (checksums irrelevant here). */
function ipv4Udp(sport = 40000, dport = 53, src = [198, 18, 1, 10], dst = [198, 19, 2, 2]): number[] {
  const total = 20 + 8 + 4;
  return [
    0x45, 0, 0, total, 0, 1, 0, 0, 64, 17, 0, 0, ...src, ...dst,
    sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, 0, 12, 0, 0,
    0xde, 0xad, 0xbe, 0xef,
  ];
}

/** SLL2: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8). */
function sll2(pktType: number, ifindex: number, l3: number[], srcMac = [0x52, 0x54, 0, 0x12, 0x34, 0x56], proto = 0x0800): number[] {
  return [
    proto >> 8, proto & 0xff, 0, 0,
    (ifindex >>> 24) & 0xff, (ifindex >>> 16) & 0xff, (ifindex >>> 8) & 0xff, ifindex & 0xff,
    0, 1, pktType, 6, ...srcMac, 0, 0,
    ...l3,
  ];
}

/** SLL v1: pkttype(2) hatype(2) halen(2) addr(8) protocol(2). */
function sll1(pktType: number, l3: number[], halen = 6): number[] {
  return [0, pktType, 0, 1, 0, halen, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0, 0, 0x08, 0x00, ...l3];
}

function rec(bytes: number[], linkType: number, index: number, tsNs: bigint | null, ifName: string | null = null, queue: number | null = null): CaptureRecord {
  const data = Uint8Array.from(bytes);
  return { data, offset: 0, caplen: data.length, origLen: data.length, linkType, ifName, tsNs, index, queue };
}

const T0 = 1_700_000_000_000_000_000n;

describe("SLL2 (tcpdump -i any)", () => {
  const scn = scenario({ traffic: { ifindex: { "2": "lan", "3": "wan" } } });
  const l3 = ipv4Udp();
  const records = [
    rec(sll2(0, 2, l3), 276, 0, T0), // host, in on lan
    rec(sll2(4, 3, l3), 276, 1, T0 + 10n), // the forwarded copy going out of wan
    rec(sll2(3, 3, l3), 276, 2, T0 + 20n), // otherhost on wan
    rec(sll2(0, 9, l3), 276, 3, T0 + 30n), // unmapped ifindex
    rec(sll2(1, 2, l3), 276, 4, T0 + 40n), // broadcast on lan
    rec(sll2(5, 2, l3), 276, 5, T0 + 50n), // loopback
    rec(sll2(4, 9, l3), 276, 6, T0 + 60n), // outgoing on an unmapped ifindex
  ];
  const { input, info } = buildInput(scn, records, { file: "/t/any.pcapng", iface: null, classic: false });

  it("keeps incoming copies only and counts the rest by cause", () => {
    expect(Array.from(input.captureIndex.subarray(0, input.count))).toEqual([0, 2, 4]);
    expect(Array.from(input.iface.subarray(0, input.count))).toEqual([0, 1, 0]);
    expect(info.skipped).toEqual({ outgoing: 2, unmapped_ifindex: 1, not_incoming: 1 });
    expect(info.packets).toBe(3);
  });

  it("gives the frame an Ethernet header: dst = ingress MAC, src = SLL address, EtherType = protocol", () => {
    const f0 = Array.from(input.frame(0));
    expect(f0).toEqual([...LAN_MAC, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x08, 0x00, ...l3]);
    expect(Array.from(input.frame(1).subarray(0, 6))).toEqual(WAN_MAC);
    expect(Array.from(input.frame(2).subarray(0, 6))).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(input.origLen[0]).toBe(14 + l3.length);
  });

  it("measures time from the first replayed packet", () => {
    expect(input.epochNs).toBe(T0);
    expect(Array.from(input.tNs.subarray(0, input.count))).toEqual([0, 20, 40]);
  });

  it("drops outgoing copies also when the whole file is put on one interface", () => {
    const r = buildInput(scn, records, { file: "/t/any.pcapng", iface: 1, classic: false });
    expect(Array.from(r.input.captureIndex.subarray(0, r.input.count))).toEqual([0, 2, 3, 4]);
    expect(Array.from(r.input.iface.subarray(0, r.input.count))).toEqual([1, 1, 1, 1]);
  });
});

describe("SLL v1 and raw IP", () => {
  it("SLL v1 has no ifindex: needs an interface, filters outgoing, supplies a MAC for non-6-byte addresses", () => {
    const scn = scenario();
    const recs = [rec(sll1(0, ipv4Udp()), 113, 0, T0), rec(sll1(4, ipv4Udp()), 113, 1, T0 + 1n), rec(sll1(0, ipv4Udp(), 0), 113, 2, T0 + 2n)];
    const none = buildInput(scn, recs, { file: "f", iface: null, classic: false });
    expect(none.input.count).toBe(0);
    expect(none.info.skipped).toEqual({ outgoing: 1, sll_without_ifindex: 2 });
    const on = buildInput(scn, recs, { file: "f", iface: 0, classic: false });
    expect(Array.from(on.input.captureIndex.subarray(0, on.input.count))).toEqual([0, 2]);
    expect(Array.from(on.input.frame(0).subarray(6, 12))).toEqual([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
    // halen 0: the documented fixed source MAC 02:00:5e:00:00:01
    expect(Array.from(on.input.frame(1).subarray(6, 12))).toEqual([0x02, 0x00, 0x5e, 0x00, 0x00, 0x01]);
  });

  it("raw IP (101) picks the EtherType from the version nibble", () => {
    const scn = scenario();
    const v6 = [0x60, 0, 0, 0, 0, 0, 59, 64, ...new Array(32).fill(0)];
    const { input, info } = buildInput(scn, [rec(ipv4Udp(), 101, 0, T0), rec(v6, 101, 1, T0), rec([0x10, 1, 2], 101, 2, T0)], { file: "f", iface: 1, classic: true });
    expect(input.count).toBe(2);
    expect(Array.from(input.frame(0).subarray(0, 14))).toEqual([...WAN_MAC, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01, 0x08, 0x00]);
    expect(Array.from(input.frame(1).subarray(12, 14))).toEqual([0x86, 0xdd]);
    expect(info.skipped).toEqual({ not_ip: 1 });
  });

  it("an undecodable link type is an InputError naming the file and the supported types", () => {
    const scn = scenario();
    let e: unknown;
    try {
      buildInput(scn, [rec([1, 2, 3, 4], 105, 0, T0)], { file: "/t/wifi.pcap", iface: 0, classic: true });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(/\/t\/wifi\.pcap.*105.*EN10MB \(1\).*LINUX_SLL2 \(276\)/);
  });
});

describe("Ethernet mapping", () => {
  const eth = (dst: number[]) => [...dst, 0x02, 0, 0, 0, 9, 9, 0x08, 0x00, ...ipv4Udp()];
  it("pcapng interfaces map by name; other names are skipped", () => {
    const scn = scenario();
    const { input, info } = buildInput(
      scn,
      [rec(eth(LAN_MAC), 1, 0, T0, "wan"), rec(eth(LAN_MAC), 1, 1, T0, "eth7"), rec(eth(LAN_MAC), 1, 2, T0, "lan")],
      { file: "f", iface: null, classic: false },
    );
    expect(Array.from(input.iface.subarray(0, input.count))).toEqual([1, 0]);
    expect(info.skipped).toEqual({ unmapped_interface: 1 });
  });

  it("a classic pcap with several interfaces and no iface is refused", () => {
    expect(() => buildInput(scenario(), [], { file: "/t/x.pcap", iface: null, classic: true })).toThrow(/\/t\/x\.pcap.*traffic\.iface.*--iface/);
  });

  it("macs: supply rewrites the destination MAC, capture keeps it", () => {
    const frame = eth([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
    const keep = buildInput(scenario(), [rec(frame, 1, 0, T0)], { file: "f", iface: 0, classic: true });
    expect(Array.from(keep.input.frame(0))).toEqual(frame);
    const sup = buildInput(scenario({ traffic: { macs: "supply" } }), [rec(frame, 1, 0, T0)], { file: "f", iface: 0, classic: true });
    expect(Array.from(sup.input.frame(0))).toEqual([...LAN_MAC, ...frame.slice(6)]);
  });
});

describe("timestamps", () => {
  it("keeps capture order and clamps a backwards step to the previous time", () => {
    const scn = scenario();
    const f = [...LAN_MAC, 2, 0, 0, 0, 9, 9, 8, 0, ...ipv4Udp()];
    const ts = [T0 + 1000n, T0 + 5000n, T0 + 3000n, T0 + 7000n, T0 + 500n, T0 + 7001n];
    const { input, info } = buildInput(scn, ts.map((t, i) => rec(f, 1, i, t)), { file: "f", iface: 0, classic: true });
    expect(Array.from(input.captureIndex.subarray(0, input.count))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(input.tNs.subarray(0, input.count))).toEqual([0, 4000, 4000, 6000, 6000, 6001]);
    expect(info.clamped).toBe(2);
    expect(input.epochNs).toBe(T0 + 1000n);
  });
});

/** The documented symmetric hash (docs/packet.md), re-implemented here for IPv4 UDP. */
function fnvQueue(proto: number, a: number[], ap: number, b: number[], bp: number, queues: number): number {
  let first = a, second = b, fp = ap, sp = bp;
  const cmp = a.map((x, i) => x - b[i]!).find((d) => d !== 0) ?? ap - bp;
  if (cmp > 0) [first, second, fp, sp] = [b, a, bp, ap];
  let h = 0x811c9dc5;
  const feed = (x: number) => (h = Math.imul(h ^ x, 0x01000193) >>> 0);
  feed(proto);
  first.forEach(feed);
  second.forEach(feed);
  [fp >> 8, fp & 0xff, sp >> 8, sp & 0xff].forEach(feed);
  return h % queues;
}

describe("RX queues", () => {
  const frame = (sport: number, dport: number, src: number[], dst: number[]) => [...LAN_MAC, 2, 0, 0, 0, 9, 9, 8, 0, ...ipv4Udp(sport, dport, src, dst)];
  it("queues: 1 puts everything on queue 0; a recorded queue is used when in range", () => {
    const one = buildInput(scenario(), [rec(frame(1, 2, [1, 1, 1, 1], [2, 2, 2, 2]), 1, 0, T0, null, 3)], { file: "f", iface: 0, classic: true });
    expect(one.input.queue[0]).toBe(0);
    const four = buildInput(scenario({}, 4), [rec(frame(1, 2, [1, 1, 1, 1], [2, 2, 2, 2]), 1, 0, T0, null, 3)], { file: "f", iface: 0, classic: true });
    expect(four.input.queue[0]).toBe(3);
  });

  it("otherwise the symmetric flow hash picks the queue, the same for both directions", () => {
    const a = [198, 18, 1, 10];
    const b = [198, 19, 2, 2];
    const recs = [];
    for (let p = 0; p < 16; p++) {
      recs.push(rec(frame(40000 + p, 53, a, b), 1, 2 * p, T0));
      recs.push(rec(frame(53, 40000 + p, b, a), 1, 2 * p + 1, T0));
    }
    const { input } = buildInput(scenario({}, 4), recs, { file: "f", iface: 0, classic: true });
    const seen = new Set<number>();
    for (let p = 0; p < 16; p++) {
      const want = fnvQueue(17, a, 40000 + p, b, 53, 4);
      expect(input.queue[2 * p]).toBe(want);
      expect(input.queue[2 * p + 1]).toBe(want);
      seen.add(want);
    }
    expect(seen.size).toBeGreaterThan(1);
  });
});

describe("loadInput from a file", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "xdplab-scn-"));

  it("reads an SLL2 pcapng; tshark agrees on the cooked fields we wrote", () => {
    const sink = memorySink();
    const w = new PcapngWriter(sink);
    const id = w.addInterface("any", 276);
    const frames = [sll2(0, 2, ipv4Udp()), sll2(4, 3, ipv4Udp()), sll2(2, 3, ipv4Udp(1, 2, [198, 19, 2, 2], [224, 1, 2, 3]))];
    frames.forEach((f, i) => w.writePacket(id, T0 + BigInt(i) * 1000n, Uint8Array.from(f), 0, f.length));
    w.close();
    const file = path.join(dir, "any.pcapng");
    writeFileSync(file, sink.bytes());
    const ts = spawnSync("tshark", ["-r", file, "-T", "fields", "-e", "sll.pkttype", "-e", "sll.ifindex", "-e", "ip.dst"], { encoding: "utf8" });
    expect(ts.status).toBe(0);
    expect(ts.stdout.trim().split("\n")).toEqual(["0\t2\t198.19.2.2", "4\t3\t198.19.2.2", "2\t3\t224.1.2.3"]);

    const scn = scenario({ traffic: { pcap: file, ifindex: { "2": "lan", "3": "wan" } } });
    const { input, info } = loadInput(scn);
    expect(info.skipped).toEqual({ outgoing: 1 });
    expect(Array.from(input.iface.subarray(0, input.count))).toEqual([0, 1]);
    expect(Array.from(input.tNs.subarray(0, input.count))).toEqual([0, 2000]);
    // multicast packet type: the group's MAC, 01:00:5e + low 23 bits of 224.1.2.3
    expect(Array.from(input.frame(1).subarray(0, 6))).toEqual([0x01, 0x00, 0x5e, 0x01, 0x02, 0x03]);
  });

  it("--iface overrides, and an unknown --iface names the scenario file", () => {
    const sink = memorySink();
    const w = new PcapWriter(sink, 1);
    const f = Uint8Array.from([...LAN_MAC, 2, 0, 0, 0, 9, 9, 8, 0, ...ipv4Udp()]);
    w.writePacket(T0, f, 0, f.length);
    w.close();
    const file = path.join(dir, "one.pcap");
    writeFileSync(file, sink.bytes());
    const scn = scenario();
    expect(loadInput(scn, { pcap: file, iface: "wan" }).input.iface[0]).toBe(1);
    expect(() => loadInput(scn, { pcap: file, iface: "dmz" })).toThrow(/--iface dmz: .*\/t\/scenario\.json/);
  });
});
