// Live-run decisions that need no kernel: which scenarios live mode refuses and why, the
// real-NIC safety checks (never touching a real interface), the packet identity used to
// pair model and live packets (FNV-1a test vectors, hand-built frames), and the report's
// comparison on planted data.
import { describe, expect, it } from "vitest";
import path from "node:path";
import { UsageError } from "../../sim/errors.js";
import { parseScenario } from "../../sim/scenario/parse.js";
import { buildFrame } from "../../sim/packet/build.js";
import { InputPackets } from "../../sim/scenario/packets.js";
import { checkRealNics, HOOK_LABEL, liveHooks, liveRefusal, parseIfaceMap } from "../../live/run.js";
import type { LiveResult, ShimEvent } from "../../live/run.js";
import { compareLive, frameIdentity } from "../../live/report.js";
import type { PathRecord } from "../../sim/trace/record.js";
import { loadScenarioFile } from "../../bin/scenario-file.js";
import { ROOT } from "../cli.js";

const scn = (extra: Record<string, unknown> = {}) =>
  parseScenario({ name: "t", interfaces: [{ name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.1.1/24"] }, { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24"] }], ...extra }, "/tmp/t.json", "/tmp");

describe("liveRefusal", () => {
  it("accepts a plain paced router case", () => {
    expect(liveRefusal(loadScenarioFile(path.join(ROOT, "traces/B/noTxKick-healthy/scenario.json")))).toBeNull();
  });
  it("accepts kernel-uninjectable faults as native-worker hooks, labelled; refuses the others", () => {
    const ts = loadScenarioFile(path.join(ROOT, "traces/examples/routed-basic/scenario.json"));
    expect(liveRefusal(ts)).toBeNull();
    const cd = scn({ faults: [{ at: "1ms", kind: "completion_delay", iface: "wan", for: "2ms", delay: "100us" }] });
    expect(liveRefusal(cd)).toBeNull();
    expect(liveHooks(cd)).toEqual([{ kind: "completion_delay", iface: "wan", queue: null, atNs: 1e6, forNs: 2e6, effect: expect.stringMatching(/reap/), label: HOOK_LABEL }]);
    expect(HOOK_LABEL).toBe("native-worker hook, not a kernel fault");
    expect(liveRefusal(scn({ faults: [{ at: "1ms", kind: "worker_pause", for: "1ms" }] }))).toMatch(/worker_pause is not driven/);
  });
  it("accepts NAT and the responder; refuses several queues on veth, zero-copy on veth", () => {
    expect(liveRefusal(loadScenarioFile(path.join(ROOT, "traces/C/noReverseIndex-healthy/scenario.json")))).toBeNull();
    const mq = scn();
    mq.interfaces[0]!.queues = 2;
    expect(liveRefusal(mq)).toMatch(/2 queues/);
    expect(liveRefusal(mq, true)).toBeNull();
    expect(liveRefusal(scn({ dataplane: { driver: "zerocopy" } }))).toMatch(/zero-copy/);
    const r = scn();
    r.traffic.respond = "reflect";
    expect(liveRefusal(r)).toBeNull(); // where its responders go is decided per run: responderPlan
  });
  it("refuses model-side switches a live run cannot set, accepts shim and worker ones", () => {
    expect(liveRefusal(loadScenarioFile(path.join(ROOT, "traces/A/staleXskSlot/scenario.json")))).toMatch(/staleXskSlot/);
    expect(liveRefusal(loadScenarioFile(path.join(ROOT, "traces/A/abiDrift/scenario.json")))).toBeNull();
  });
});

describe("real NICs: refusal logic only", () => {
  const s = scn();
  it("parses lan=…,wan=… against the scenario", () => {
    expect([...parseIfaceMap("lan=eth1,wan=eth2", s)]).toEqual([["lan", "eth1"], ["wan", "eth2"]]);
    expect(() => parseIfaceMap("lan=eth1", s)).toThrow(/wan is missing/);
    expect(() => parseIfaceMap("lan=eth1,dmz=eth2", s)).toThrow(/no interface of that name/);
    expect(() => parseIfaceMap("lan=eth1,wan=eth1", s)).toThrow(/two scenario interfaces/);
  });
  const map = new Map([["lan", "eth1"], ["wan", "eth2"]]);
  it("needs the explicit confirmation", () => {
    expect(() => checkRealNics(map, { confirmed: false, force: false, defaultRouteDevs: [] })).toThrow(UsageError);
    expect(() => checkRealNics(map, { confirmed: false, force: false, defaultRouteDevs: [] })).toThrow(/--i-understand-this-uses-real-nics/);
  });
  it("refuses the default-route NIC unless forced", () => {
    expect(() => checkRealNics(map, { confirmed: true, force: false, defaultRouteDevs: ["eth2"] })).toThrow(/eth2 carries this machine's default route/);
    expect(() => checkRealNics(map, { confirmed: true, force: true, defaultRouteDevs: ["eth2"] })).not.toThrow();
    expect(() => checkRealNics(map, { confirmed: true, force: false, defaultRouteDevs: ["eth0"] })).not.toThrow();
  });
});

describe("packet identity", () => {
  it("FNV-1a 32 of the payload: published test vectors (\"\" and \"a\")", () => {
    const f = (payload: Uint8Array) => buildFrame({ eth: { src: "02:00:00:00:01:0a", dst: "02:00:00:00:01:01" }, ip: { version: 4, src: "198.18.1.10", dst: "198.19.2.7", ttl: 64, id: 0x1234 }, udp: { sport: 1000, dport: 53 }, payload });
    expect(frameIdentity(f(new Uint8Array(0)))).toBe(`v4/p17/id${0x1234}/fl0/1000-53/s0/h${0x811c9dc5}`);
    expect(frameIdentity(f(Uint8Array.of(0x61)))).toBe(`v4/p17/id${0x1234}/fl0/1000-53/s0/h${0xe40c292c}`);
  });
  it("TCP seq and IPv6 flow label are part of it; TTL and MACs are not", () => {
    const a = buildFrame({ eth: { src: "02:00:00:00:01:0a", dst: "02:00:00:00:01:01" }, ip: { version: 6, src: "2001:2::1", dst: "2001:2:1::1", ttl: 64, flowLabel: 0xabcde }, tcp: { sport: 1, dport: 2, seq: 3000000000 }, payload: new Uint8Array(0) });
    const b = buildFrame({ eth: { src: "02:00:00:00:02:01", dst: "02:00:00:00:02:02" }, ip: { version: 6, src: "2001:2::1", dst: "2001:2:1::1", ttl: 63, flowLabel: 0xabcde }, tcp: { sport: 1, dport: 2, seq: 3000000000 }, payload: new Uint8Array(0) });
    expect(frameIdentity(a)).toBe(`v6/p6/id0/fl${0xabcde}/1-2/s3000000000/h${0x811c9dc5}`);
    expect(frameIdentity(b)).toBe(frameIdentity(a));
  });
});

describe("compareLive on planted data", () => {
  const frame = (id: number) => buildFrame({ eth: { src: "02:00:00:00:01:0a", dst: "02:00:00:00:01:01" }, ip: { version: 4, src: "198.18.1.10", dst: "198.19.2.7", ttl: 64, id }, udp: { sport: 1000, dport: 53 }, payload: Uint8Array.of(1, 2, 3) });
  const out = (id: number) => buildFrame({ eth: { src: "02:00:00:00:02:01", dst: "02:00:00:00:02:02" }, ip: { version: 4, src: "198.18.1.10", dst: "198.19.2.7", ttl: 63, id }, udp: { sport: 1000, dport: 53 }, payload: Uint8Array.of(1, 2, 3) });
  const input = new InputPackets();
  input.push(frame(1), 0, 0, 0, 0);
  input.push(frame(2), 1000, 0, 0, 1);
  const rec = (i: number): PathRecord => ({ id: i, origin: "input", i, t: 0, in: { iface: "lan", queue: 0 }, armed: true, shim: { verdict: "redirect", reason: null, slot: 0 }, fib: { egress: "wan", nexthop: "198.19.2.2" }, out: "forwarded", reason: null });
  const ev = (id: number, verdict = 1, reason = 0): ShimEvent => ({ iface: "lan", tsNs: id, queue: 0, verdict, ipVersion: 4, ipProto: 17, flags: 0, reason, pktLen: 45, ipId: id, flowLabel: 0, srcPort: 1000, dstPort: 53, tcpSeq: 0, payloadHash: Number(frameIdentity(frame(id))!.split("/h")[1]), slot: 0 });
  const live = (events: ShimEvent[], outputs: Uint8Array[]): LiveResult => ({ prefix: "x", paced: true, injected: [], events, eventsLost: 0, outputs: outputs.map((data) => ({ iface: "wan", tNs: 0, data })), shimCounters: { lan: { redirect: events.length } }, xdpStatistics: [], worker: { rx: 2 }, tracepoints: {}, tracepointErrors: [], hooks: [], hookStats: null, wallMs: 0 });
  const model = new Map([["wan", [out(1), out(2)]]]);
  const counters = { worker: { rx: 2 } };
  it("agrees when the live side matches", () => {
    const d = compareLive(input, [rec(0), rec(1)], model, counters, [], live([ev(1), ev(2)], [out(1), out(2)]), ["lan", "wan"]);
    expect(d.divergent).toBe(false);
    expect(d.agree).toBe(2);
  });
  it("reports a packet the kernel passed, a missing output and changed bytes", () => {
    const bad = out(1);
    bad[22] = 1; // TTL: outside the identity, so the pair is still made
    const d = compareLive(input, [rec(0), rec(1)], model, counters, [], live([ev(1), ev(2, 2, 3)], [bad]), ["lan", "wan"]);
    expect(d.divergent).toBe(true);
    expect(d.packetDiffs.map((p) => [p.i, p.model.class, p.live.class])).toEqual([[1, "forwarded", "shim_pass"]]);
    expect(d.outputDiffs.map((o) => [o.problem, o.firstByte])).toEqual([["bytes_differ", 22], ["only_model", undefined]]);
  });
});
