// Observable behaviour of the shim + worker + simulation loop on small scenarios built in
// code. Expected values are hand-derived from the scenario (ring sizes, packet counts,
// MACs, TTL), not read back from a run.
import { describe, it, expect } from "vitest";
import { scenario, udpInput, run, MemSink, GW_MAC, WAN_MAC } from "./helpers.js";
import { Sim, LOC_FILL, LOC_FREE_TX, LOC_KERNEL_POOL } from "../../sim/run.js";
import { R } from "../../sim/reasons.js";

const mac = (s: string): number[] => s.split(":").map((x) => parseInt(x, 16));
function ipv4HeaderOk(b: Uint8Array, off: number): boolean {
  let s = 0;
  const ihl = (b[off]! & 15) * 4;
  for (let i = 0; i < ihl; i += 2) s += (b[off + i]! << 8) | b[off + i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}

describe("forwarding path", () => {
  it("a routed UDP packet leaves on wan with the next hop's MAC, the wan MAC as source and TTL−1", () => {
    const { res, sink } = run(scenario(), udpInput(3, 10_000, { ttl: 64 }));
    expect(res.outcomes).toEqual({ forwarded: 3, to_kernel: 0, dropped: 0, in_flight: 0 });
    expect(sink.out.map((o) => o.iface)).toEqual([1, 1, 1]);
    const f = sink.out[0]!.bytes;
    expect([...f.subarray(0, 6)]).toEqual(mac(GW_MAC));
    expect([...f.subarray(6, 12)]).toEqual(mac(WAN_MAC));
    expect(f[14 + 8]).toBe(63);
    expect(ipv4HeaderOk(f, 14)).toBe(true);
    const p = sink.paths.find((r) => r.id === 0)!;
    expect(p.fib?.egress).toBe("wan");
    expect(p.shim.verdict).toBe("redirect");
    expect(p.tuple).toEqual({ proto: 17, src: "198.18.1.10:1000", dst: "198.51.100.7:9", from: "metadata" });
  });

  it("every packet gets exactly one path record with one outcome", () => {
    const { res, sink } = run(scenario(), udpInput(40, 1000));
    expect(sink.paths.length).toBe(40);
    expect(new Set(sink.paths.map((p) => p.id)).size).toBe(40);
    const sum = res.outcomes.forwarded + res.outcomes.to_kernel + res.outcomes.dropped + res.outcomes.in_flight;
    expect(sum).toBe(40);
  });
});

describe("xsk.rx", () => {
  it("fill ring exhaustion while the worker is paused: rx_dropped = rx_fill_ring_empty_descs = packets − fill frames", () => {
    // fill ring 64 entries, 128 frames → 64 RX frames; RX ring 128 so it never fills first.
    const scn = scenario({ dataplane: { frames: 256, rings: { rx: 128, tx: 64, fill: 64, comp: 64 } }, faults: [{ at: "0ns", kind: "worker_pause", for: "1ms" }] });
    const { res, sink } = run(scn, udpInput(100, 100));
    const st = res.xdpStatistics[0]!;
    expect(st.rx_dropped).toBe(36);
    expect(st.rx_fill_ring_empty_descs).toBe(36);
    expect(st.rx_ring_full).toBe(0);
    expect(sink.drops.filter((d) => d.reason === R.fill_empty).length).toBe(36);
    expect(res.outcomes.forwarded).toBe(64);
  });

  it("RX ring full counts rx_ring_full only", () => {
    const scn = scenario({ dataplane: { rings: { rx: 16, tx: 64, fill: 64, comp: 64 } }, faults: [{ at: "0ns", kind: "worker_pause", for: "1ms" }] });
    const { res } = run(scn, udpInput(40, 100));
    const st = res.xdpStatistics[0]!;
    expect(st.rx_ring_full).toBe(24);
    expect(st.rx_dropped).toBe(0);
    expect(st.rx_fill_ring_empty_descs).toBe(0);
  });
});

describe("txq", () => {
  it("a tx_stall makes pending TX grow, then it drains and forwarding resumes", () => {
    // wan has 64 TX frames and a 64-entry completion ring: a burst of 150 during the stall
    // cannot all reach the device, so the worker's pending TX queues must fill.
    const scn = scenario({ faults: [{ at: "0ns", kind: "tx_stall", iface: "wan", for: "1ms" }] });
    const inp = udpInput(150, 1000);
    const late = udpInput(1, 0);
    inp.push(late.frame(0), 3_000_000, 0, 0, 150);
    const { res, sink } = run(scn, inp);
    const s = res.series;
    const pend = s.pendingTxPrepared.map((x, i) => x + s.pendingTxLocal[i]!);
    expect(Math.max(...pend)).toBeGreaterThan(0);
    expect(pend[pend.length - 1]).toBe(0);
    expect(res.outcomes.in_flight).toBe(0);
    expect(sink.paths.find((p) => p.id === 150)!.out).toBe("forwarded");
  });

  it("pending_tx_local + pending_tx_prepared never exceeds maxPendingTx; overflow is a counted drop", () => {
    const scn = scenario({ dataplane: { maxPendingTx: 8 }, faults: [{ at: "0ns", kind: "tx_stall", iface: "wan", for: "20ms" }] });
    const inp = udpInput(300, 500);
    const sim = new Sim(scn, inp, new MemSink(false));
    let max = 0;
    while (sim.step()) max = Math.max(max, sim.worker.pendingTxLocal + sim.worker.pendingTxPrepared);
    const res = sim.result();
    expect(max).toBeLessThanOrEqual(8);
    expect(res.reasons["pending_tx_full"] ?? 0).toBeGreaterThan(0);
  });
});

describe("frame conservation", () => {
  it("every frame is in exactly one place at every step, and home at quiescence", () => {
    const scn = scenario({ faults: [{ at: "100us", kind: "tx_stall", iface: "wan", for: "300us" }] });
    const sim = new Sim(scn, udpInput(200, 700, { ttl: 64 }), new MemSink(false));
    let steps = 0;
    do {
      for (const loc of sim.frameLocations()) for (const l of loc) if (l < 0) throw new Error(`frame lost/duplicated at step ${steps}`);
      steps++;
    } while (sim.step());
    for (const loc of sim.frameLocations()) for (const l of loc) expect([LOC_FILL, LOC_KERNEL_POOL, LOC_FREE_TX]).toContain(l);
  });
});

describe("determinism", () => {
  it("two runs with the same seed give the same RunResult JSON and the same output bytes", () => {
    const mk = () => run(scenario({ faults: [{ at: "1ms", kind: "tx_stall", iface: "wan", for: "1ms" }] }), udpInput(200, 20_000));
    const a = mk();
    const b = mk();
    expect(JSON.stringify(a.res)).toBe(JSON.stringify(b.res));
    expect(a.sink.out.length).toBe(b.sink.out.length);
    a.sink.out.forEach((o, i) => expect(Buffer.from(o.bytes).equals(Buffer.from(b.sink.out[i]!.bytes))).toBe(true));
  });
});
