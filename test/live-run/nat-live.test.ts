// NAT in live runs, the parts that need no kernel: the shim map entries a live run writes
// (byte layout of bpf/xdplab_structs.h, content = the model's ShimMaps/Shim), the causal
// pacing boundaries, and the NAT-invariant identity that pairs an input packet with the
// frame it left as.
import { describe, expect, it } from "vitest";
import path from "node:path";
import { parseScenario } from "../../sim/scenario/parse.js";
import { buildFrame } from "../../sim/packet/build.js";
import { InputPackets } from "../../sim/scenario/packets.js";
import { ShimMaps } from "../../sim/xdp/shim.js";
import { addrKey, causalBoundaries, dnatKey, DNAT_ANY_PORT, MAX_CAUSAL_SEGMENTS, natMapEntries } from "../../live/run.js";
import { frameIdentity, natIdentity } from "../../live/report.js";
import { loadInput, loadScenarioFile } from "../../bin/scenario-file.js";
import { ROOT } from "../cli.js";

const base = (nat: Record<string, unknown>) =>
  parseScenario({
    name: "t",
    interfaces: [{ name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.1.1/24", "2001:2::1/64"] }, { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24"] }],
    nat,
  }, "/tmp/t.json", "/tmp");

const u32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset).getUint32(o, true);

describe("shim map entries for NAT (natMapEntries)", () => {
  it("address keys carry the IP version (4/6) the shim compares, not AF_INET/AF_INET6", () => {
    const k = addrKey(4, Uint8Array.of(198, 18, 1, 1));
    expect(k.length).toBe(20);
    expect(k[0]).toBe(4);
    expect([...k.subarray(4, 8)]).toEqual([198, 18, 1, 1]);
    expect(addrKey(6, new Uint8Array(16).fill(0x20))[0]).toBe(6);
  });
  it("dnat keys: ifindex, host-order port or ANY, proto, family, address at 12", () => {
    const k = dnatKey(7, 6, 4, Uint8Array.of(198, 19, 2, 1), 8080);
    expect(k.length).toBe(28);
    expect([u32(k, 0), u32(k, 4), k[8], k[9]]).toEqual([7, 8080, 6, 4]);
    expect([...k.subarray(12, 16)]).toEqual([198, 19, 2, 1]);
    expect(u32(dnatKey(7, 0, 4, Uint8Array.of(1, 2, 3, 4), null), 4)).toBe(DNAT_ANY_PORT);
  });
  it("local ∪ ifnat is exactly the model's local set; dnat rules keyed by their ingress's real ifindex", () => {
    const s = base({
      snat: [{ from: "198.18.1.0/24", egress: "wan", to: "interface" }],
      dnat: [{ ingress: "wan", proto: "udp", dst: "198.19.2.1", port: 5353, to: "198.18.1.10", toPort: 53 }, { ingress: "lan", proto: "any", dst: "198.18.1.1", to: "198.18.1.10" }],
    });
    const e = natMapEntries(s, [11, 12]);
    const model = new ShimMaps(s).local;
    const keys = [...e.local, ...e.ifnat].map((x) => x.k);
    for (const k of keys) expect(model.has(k, 4, k[0] === 4 ? 4 : 16)).toBe(true);
    for (const ifc of s.interfaces) for (const a of ifc.addrs) expect(keys.some((k) => k[0] === a.family && Buffer.from(k.subarray(4, 4 + a.bytes.length)).equals(Buffer.from(a.bytes)))).toBe(true);
    // interface SNAT: the egress (wan, ifindex 12) addresses, value = that ifindex
    expect(e.ifnat.map((x) => [[...x.k.subarray(4, 8)], u32(x.v, 0)])).toEqual([[[198, 19, 2, 1], 12]]);
    expect(e.dnat.map((x) => [u32(x.k, 0), u32(x.k, 4), x.k[8], u32(x.v, 0)])).toEqual([[12, 5353, 17, 0], [11, DNAT_ANY_PORT, 0, 1]]);
  });
  it("no NAT: no ifnat or dnat entries", () => {
    const e = natMapEntries(base({}), [2, 3]);
    expect([e.ifnat.length, e.dnat.length, e.local.length]).toEqual([0, 0, 3]);
  });
});

describe("causal pacing boundaries", () => {
  const f = (src: string, dst: string, id: number) => buildFrame({ eth: { src: "02:00:00:00:01:0a", dst: "02:00:00:00:01:01" }, ip: { version: 4, src, dst, ttl: 64, id }, udp: { sport: 1000, dport: 53 }, payload: Uint8Array.of(id) });
  const input = (pk: Array<[Uint8Array, number]>) => {
    const p = new InputPackets();
    pk.forEach(([fr, iface], i) => p.push(fr, i * 1000, iface, 0, i));
    return p;
  };
  const nat = base({ snat: [{ from: "198.18.1.0/24", egress: "wan", to: "interface" }] });
  it("cuts before an interface change and before a packet to a router address; not at the start", () => {
    const inp = input([
      [f("198.18.1.10", "198.19.3.3", 1), 0],
      [f("198.18.1.10", "198.19.3.3", 2), 0],
      [f("198.19.3.3", "198.19.2.1", 3), 1], // other interface (and local)
      [f("198.19.3.3", "198.19.2.1", 4), 1], // same interface, to a router address
      [f("198.19.3.3", "198.19.9.9", 5), 1], // same interface, not local
    ]);
    expect(causalBoundaries(nat, inp)).toEqual([2, 3]);
  });
  it("no NAT rules: none", () => {
    expect(causalBoundaries(base({}), input([[f("198.18.1.10", "198.19.3.3", 1), 0], [f("198.19.3.3", "198.19.2.1", 2), 1]]))).toEqual([]);
  });
  it("more than MAX_CAUSAL_SEGMENTS boundaries: none (one paced injection)", () => {
    const pk: Array<[Uint8Array, number]> = [];
    for (let i = 0; i <= MAX_CAUSAL_SEGMENTS + 1; i++) pk.push([f("198.18.1.10", "198.19.3.3", i), i % 2]);
    expect(causalBoundaries(nat, input(pk))).toEqual([]);
  });
  it("the bundled DNAT case: the SYN-ACK on lan waits for the SYN on wan", () => {
    const scn = loadScenarioFile(path.join(ROOT, "traces/C/rstTearsDown-healthy/scenario.json"));
    const { input: inp } = loadInput(scn);
    const cuts = causalBoundaries(scn, inp);
    expect(cuts).toContain(1);
    expect(inp.iface[1]).not.toBe(inp.iface[0]);
  });
});

describe("NAT-invariant identity", () => {
  it("ignores ports (rewritten by NAT), keeps IP ID, seq and payload", () => {
    const a = buildFrame({ eth: { src: "02:00:00:00:01:0a", dst: "02:00:00:00:01:01" }, ip: { version: 4, src: "198.19.3.3", dst: "198.19.2.1", ttl: 64, id: 77 }, tcp: { sport: 40000, dport: 8080, seq: 5 }, payload: Uint8Array.of(9) });
    const b = buildFrame({ eth: { src: "02:00:00:00:02:01", dst: "02:00:00:00:02:02" }, ip: { version: 4, src: "198.19.3.3", dst: "198.18.1.10", ttl: 63, id: 77 }, tcp: { sport: 40000, dport: 80, seq: 5 }, payload: Uint8Array.of(9) });
    const c = buildFrame({ eth: { src: "02:00:00:00:02:01", dst: "02:00:00:00:02:02" }, ip: { version: 4, src: "198.19.3.3", dst: "198.18.1.10", ttl: 63, id: 78 }, tcp: { sport: 40000, dport: 80, seq: 5 }, payload: Uint8Array.of(9) });
    expect(frameIdentity(a)).not.toBe(frameIdentity(b));
    expect(natIdentity(a)).toBe(natIdentity(b));
    expect(natIdentity(c)).not.toBe(natIdentity(a));
  });
  it("ICMP errors: the translated quote does not change it", () => {
    const err = (quoteDst: number) => buildFrame({ eth: { src: "02:00:00:00:01:0a", dst: "02:00:00:00:01:01" }, ip: { version: 4, src: "198.19.3.3", dst: "198.19.2.1", ttl: 64, id: 5 }, icmp: { type: 3, code: 3, quote: Uint8Array.of(0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 198, 19, 2, 1, 198, 19, 3, quoteDst, 0x9c, 0x40, 0, 53, 0, 8, 0, 0) } });
    expect(natIdentity(err(3))).toBe(natIdentity(err(4)));
    expect(frameIdentity(err(3))).not.toBe(frameIdentity(err(4)));
  });
});
