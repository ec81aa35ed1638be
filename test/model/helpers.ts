// Small scenarios and input built in code for the model tests (cold path, plain).
import { parseScenario } from "../../sim/scenario/parse.js";
import { InputPackets } from "../../sim/scenario/packets.js";
import { buildFrame } from "../../sim/packet/build.js";
import type { Scenario } from "../../sim/scenario/types.js";
import { Sim } from "../../sim/run.js";
import type { PathRecord, RunSink, RunResult } from "../../sim/run.js";

export const LAN_MAC = "02:00:00:00:01:01";
export const WAN_MAC = "02:00:00:00:02:01";
export const GW_MAC = "02:00:00:00:02:02";
export const HOST_MAC = "02:00:00:00:01:0a";

export function scenario(over: { dataplane?: object; timing?: object; bugs?: object; faults?: object[]; interfaces?: object[]; neighbors?: object[] } = {}): Scenario {
  const obj = {
    name: "model-test",
    seed: 7,
    interfaces: over.interfaces ?? [
      { name: "lan", mac: LAN_MAC, addrs: ["198.18.1.1/24"] },
      { name: "wan", mac: WAN_MAC, addrs: ["198.19.2.1/24"] },
    ],
    neighbors: over.neighbors ?? [{ ip: "198.19.2.2", mac: GW_MAC, iface: "wan" }],
    routes: [{ prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" }],
    dataplane: { rings: { rx: 64, tx: 64, fill: 64, comp: 64 }, frames: 128, frameSize: 2048, headroom: 0, batch: 16, maxPendingTx: 64, ...(over.dataplane ?? {}) },
    timing: { drainNs: 5_000_000, seriesNs: 100_000, ...(over.timing ?? {}) },
    bugs: over.bugs ?? {},
    faults: over.faults ?? [],
  };
  return parseScenario(obj, "/tmp/model-test.json", "/tmp");
}

/** `n` UDP packets lan → 198.51.100.7, one every `gapNs`, sport = 1000 + i. */
export function udpInput(n: number, gapNs: number, opts: { iface?: number; size?: number; dst?: string; ttl?: number } = {}): InputPackets {
  const inp = new InputPackets();
  for (let i = 0; i < n; i++) {
    const payload = new Uint8Array(Math.max(0, (opts.size ?? 100) - 42)).fill(i & 0xff);
    const f = buildFrame({ eth: { src: HOST_MAC, dst: LAN_MAC }, ip: { version: 4, src: "198.18.1.10", dst: opts.dst ?? "198.51.100.7", ttl: opts.ttl ?? 64, id: i }, udp: { sport: 1000 + i, dport: 9 }, payload });
    inp.push(f, i * gapNs, opts.iface ?? 0, 0, i);
  }
  return inp;
}

export class MemSink implements RunSink {
  wantPath: boolean;
  paths: PathRecord[] = [];
  out: Array<{ iface: number; t: number; id: number; bytes: Uint8Array }> = [];
  kernelPkts: Array<{ id: number; reason: number }> = [];
  drops: Array<{ id: number; reason: number }> = [];
  constructor(wantPath = true) {
    this.wantPath = wantPath;
  }
  path(rec: PathRecord): void {
    this.paths.push(rec);
  }
  frameOut(iface: number, tNs: number, buf: Uint8Array, off: number, len: number, id: number): void {
    this.out.push({ iface, t: tNs, id, bytes: buf.slice(off, off + len) });
  }
  kernel(_iface: number, _t: number, _b: Uint8Array, _o: number, _l: number, id: number, reason: number): void {
    this.kernelPkts.push({ id, reason });
  }
  drop(_iface: number, _t: number, _b: Uint8Array, _o: number, _l: number, id: number, reason: number): void {
    this.drops.push({ id, reason });
  }
}

/** Records every sink call in order, with the bytes it was given (for run-vs-run equality). */
export class LogSink implements RunSink {
  wantPath = true;
  log: string[] = [];
  private hex(b: Uint8Array, o: number, l: number): string {
    return Buffer.from(b.subarray(o, o + l)).toString("hex");
  }
  path(rec: PathRecord): void {
    this.log.push("P" + JSON.stringify(rec));
  }
  frameOut(iface: number, t: number, b: Uint8Array, o: number, l: number, id: number): void {
    this.log.push(`O ${iface} ${t} ${id} ${this.hex(b, o, l)}`);
  }
  kernel(iface: number, t: number, b: Uint8Array, o: number, l: number, id: number, r: number): void {
    this.log.push(`K ${iface} ${t} ${id} ${r} ${this.hex(b, o, l)}`);
  }
  drop(iface: number, t: number, b: Uint8Array, o: number, l: number, id: number, r: number): void {
    this.log.push(`D ${iface} ${t} ${id} ${r} ${this.hex(b, o, l)}`);
  }
}

/** The far server the NAT scenario's inside host talks to. */
export const FAR = "198.51.100.7";

/**
 * lan 198.18.1.0/24 SNATed out of wan 198.19.2.1 (gateway 198.19.2.2), inside host
 * 198.18.1.10. `timing` replaces the whole timing block; traffic and bugs are passed
 * through only when given.
 */
export function natScenario(name: string, timing: object, extra: { traffic?: object; bugs?: object } = {}): Scenario {
  return parseScenario(
    {
      name,
      seed: 1,
      interfaces: [
        { name: "lan", mac: LAN_MAC, addrs: ["198.18.1.1/24"] },
        { name: "wan", mac: WAN_MAC, addrs: ["198.19.2.1/24"] },
      ],
      neighbors: [
        { ip: "198.19.2.2", mac: GW_MAC, iface: "wan" },
        { ip: "198.18.1.10", mac: HOST_MAC, iface: "lan" },
      ],
      routes: [{ prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" }],
      nat: { snat: [{ from: "198.18.1.0/24", egress: "wan", to: "interface" }] },
      dataplane: { rings: { rx: 64, tx: 64, fill: 64, comp: 64 }, frames: 128, frameSize: 2048, headroom: 0, batch: 16, maxPendingTx: 64 },
      timing,
      ...extra,
    },
    `/tmp/${name}.json`,
    "/tmp",
  );
}

/** A DNS-like UDP query from the inside host to FAR:53 (IP id `id`). */
export const natQuery = (id: number, sport = 40000) =>
  buildFrame({ eth: { src: HOST_MAC, dst: LAN_MAC }, ip: { version: 4, src: "198.18.1.10", dst: FAR, ttl: 64, id }, udp: { sport, dport: 53 }, payload: new Uint8Array(20) });
/** FAR's answer to the SNATed query, arriving on wan for 198.19.2.1:`dport`. */
export const natAnswer = (id: number, dport = 40000) =>
  buildFrame({ eth: { src: GW_MAC, dst: WAN_MAC }, ip: { version: 4, src: FAR, dst: "198.19.2.1", ttl: 60, id }, udp: { sport: 53, dport }, payload: new Uint8Array(30) });

export function run(scn: Scenario, inp: InputPackets, wantPath = true): { res: RunResult; sink: MemSink; sim: Sim } {
  const sink = new MemSink(wantPath);
  const sim = new Sim(scn, inp, sink);
  const res = sim.runToEnd();
  return { res, sink, sim };
}
