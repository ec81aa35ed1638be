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

export function run(scn: Scenario, inp: InputPackets, wantPath = true): { res: RunResult; sink: MemSink; sim: Sim } {
  const sink = new MemSink(wantPath);
  const sim = new Sim(scn, inp, sink);
  const res = sim.runToEnd();
  return { res, sink, sim };
}
