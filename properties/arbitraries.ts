// fast-check generators of property cases that look like real traffic: TCP flows with a
// handshake and consistent sequence numbers, UDP request streams, ICMP echo, IPv4 and
// IPv6, a VLAN tag now and then, sizes from tiny to near-MTU; scenario shapes (ring
// sizes powers of two, batch, maxPendingTx, frames, txBudget, copy or zero-copy) and
// fault schedules of at most three faults. Shrinking goes towards few packets, one flow,
// no fault and the smallest shape, so a counterexample reads in a minute.
import fc from "fast-check";
import type { CaseSpec, FaultSpec, FlowSpec, PacketSpec, ShapeSpec } from "./case.js";

export const shapeArb: fc.Arbitrary<ShapeSpec> = fc.record({
  rxLog: fc.integer({ min: 4, max: 6 }),
  txLog: fc.integer({ min: 4, max: 6 }),
  fillLog: fc.integer({ min: 4, max: 8 }),
  compLog: fc.integer({ min: 4, max: 8 }),
  // Mostly 0; sometimes a size the kernel refuses, which validation must refuse too.
  oddRx: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(24, 48, 100) }),
  extraFrames: fc.integer({ min: 0, max: 96 }),
  batch: fc.constantFrom(8, 16, 32, 64),
  maxPendingTx: fc.integer({ min: 8, max: 64 }),
  txBudget: fc.constantFrom(8, 16, 32),
  zerocopy: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  lanQueues: fc.constantFrom(1 as const, 2 as const),
  strict: fc.boolean(),
  linkMbps: fc.constantFrom(1000, 10000),
});

export const flowArb: fc.Arbitrary<FlowSpec> = fc.record({
  proto: fc.constantFrom("udp" as const, "tcp" as const, "icmp" as const),
  v: fc.constantFrom(4 as const, 6 as const),
  dir: fc.oneof({ weight: 6, arbitrary: fc.constant("out" as const) }, { weight: 3, arbitrary: fc.constant("in" as const) }, { weight: 2, arbitrary: fc.constant("hairpin" as const) }, { weight: 1, arbitrary: fc.constant("local" as const) }),
  host: fc.integer({ min: 0, max: 3 }),
  remote: fc.integer({ min: 0, max: 3 }),
  sport: fc.integer({ min: 1024, max: 65535 }),
  dport: fc.constantFrom(53, 80, 443, 5201, 8080),
  vlan: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  ttl: fc.oneof({ weight: 15, arbitrary: fc.constant(64) }, { weight: 1, arbitrary: fc.constant(1) }),
});

export const packetArb: fc.Arbitrary<PacketSpec> = fc.record({
  flow: fc.nat(7),
  // Bursts (back to back) and gaps, up to 50 µs apart.
  gapNs: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 100, max: 2_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 2_000, max: 50_000 }) }),
  payload: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 64, max: 1400 })),
  fin: fc.oneof({ weight: 15, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  repeat: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 96 }) }),
});

export const faultArb: fc.Arbitrary<FaultSpec> = fc.record({
  kind: fc.constantFrom("tx_stall" as const, "completion_delay" as const, "worker_pause" as const, "link_cycle" as const, "fill_starve" as const, "bindings_zeroed" as const, "generation_bump" as const),
  atUs: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 2000 })),
  forUs: fc.integer({ min: 10, max: 2000 }),
  iface: fc.constantFrom(null, "lan" as const, "wan" as const),
});

/** The general mix: any shape, up to six flows, up to three faults anywhere. */
export const generalCaseArb: fc.Arbitrary<CaseSpec> = fc.record({
  shape: shapeArb,
  flows: fc.array(flowArb, { minLength: 1, maxLength: 6 }),
  packets: fc.array(packetArb, { minLength: 0, maxLength: 60 }),
  faults: fc.array(faultArb, { maxLength: 3 }),
});

// Focused families. The general mix rarely lines a fault up with the traffic or sends a
// long stream, so these bias towards shapes the traces under traces/A and traces/B show
// (a fault inside the traffic span, a long stall with hairpin traffic, a stream paced
// faster than lazy reaping keeps up with, a burst over the kick budget then silence, a
// zero-copy pause that ends while a packet arrives) — every number still drawn at random.
const transitFlowArb = flowArb.map((f): FlowSpec => ({ ...f, dir: f.dir === "local" ? "out" : f.dir, ttl: 64 }));
const smallShapeArb = shapeArb.map((s): ShapeSpec => ({ ...s, oddRx: 0 }));

/** A bindings_zeroed window that covers part of a spaced stream (strict or not). */
export const zeroedWindowArb: fc.Arbitrary<CaseSpec> = fc
  .record({
    shape: smallShapeArb,
    flows: fc.array(transitFlowArb, { minLength: 1, maxLength: 3 }),
    n: fc.integer({ min: 4, max: 40 }),
    every: fc.integer({ min: 2_000, max: 40_000 }),
    atUs: fc.integer({ min: 0, max: 200 }),
    forUs: fc.integer({ min: 20, max: 1_000 }),
    payload: fc.integer({ min: 0, max: 512 }),
  })
  .map(({ shape, flows, n, every, atUs, forUs, payload }) => ({
    shape,
    flows,
    packets: flows.map((_, i): PacketSpec => ({ flow: i, gapNs: i === 0 ? 0 : 500, payload, fin: false, repeat: n, everyNs: every })),
    faults: [{ kind: "bindings_zeroed" as const, atUs, forUs, iface: null }],
  }));

/** A long egress stall on wan while hairpin traffic returns frames from lan (backpressure with frames coming home). */
export const stallHairpinArb: fc.Arbitrary<CaseSpec> = fc
  .record({
    shape: smallShapeArb.map((s): ShapeSpec => ({ ...s, rxLog: 4, txLog: 4, fillLog: 5, compLog: 4, extraFrames: 96, maxPendingTx: Math.min(s.maxPendingTx, 12), zerocopy: false, lanQueues: 1 })),
    hairpin: fc.integer({ min: 12, max: 32 }),
    outs: fc.integer({ min: 30, max: 100 }),
    every: fc.integer({ min: 2_000, max: 20_000 }),
    wanStallUs: fc.integer({ min: 1_000, max: 3_000 }),
    lanStallUs: fc.integer({ min: 50, max: 400 }),
    v: fc.constantFrom(4 as const, 6 as const),
  })
  .map(({ shape, hairpin, outs, every, wanStallUs, lanStallUs, v }) => ({
    shape,
    flows: [
      { proto: "udp" as const, v, dir: "hairpin" as const, host: 1, remote: 0, sport: 6000, dport: 53, vlan: false, ttl: 64 },
      { proto: "udp" as const, v, dir: "out" as const, host: 0, remote: 0, sport: 5000, dport: 53, vlan: false, ttl: 64 },
    ],
    packets: [
      { flow: 0, gapNs: 0, payload: 900, fin: false, repeat: hairpin, everyNs: 1_000 },
      { flow: 1, gapNs: 5_000, payload: 64, fin: false, repeat: outs, everyNs: every },
    ],
    faults: [
      { kind: "tx_stall" as const, atUs: 0, forUs: wanStallUs, iface: "wan" as const },
      { kind: "tx_stall" as const, atUs: 0, forUs: lanStallUs, iface: "lan" as const },
    ],
  }));

/** A steady stream, no fault: the light-load liveness the pacedNoLoss property judges. */
export const streamArb: fc.Arbitrary<CaseSpec> = fc
  .record({
    shape: smallShapeArb.map((s): ShapeSpec => ({ ...s, compLog: Math.min(s.compLog, 5) })),
    flows: fc.array(transitFlowArb, { minLength: 1, maxLength: 2 }),
    n: fc.integer({ min: 40, max: 300 }),
    every: fc.integer({ min: 4_000, max: 20_000 }),
    payload: fc.integer({ min: 0, max: 200 }),
  })
  .map(({ shape, flows, n, every, payload }) => ({ shape, flows, packets: [{ flow: 0, gapNs: 0, payload, fin: false, repeat: n, everyNs: every }], faults: [] }));

/** A burst larger than one kick's budget, then silence (outstanding TX needs a kick of its own). */
export const burstArb: fc.Arbitrary<CaseSpec> = fc
  .record({
    shape: smallShapeArb.map((s): ShapeSpec => ({ ...s, rxLog: 7, txLog: 7, fillLog: 7, compLog: 7, batch: 64, maxPendingTx: 128, lanQueues: 1 })),
    flow: transitFlowArb,
    n: fc.integer({ min: 40, max: 120 }),
    payload: fc.integer({ min: 0, max: 256 }),
  })
  .map(({ shape, flow, n, payload }) => ({ shape, flows: [flow], packets: [{ flow: 0, gapNs: 0, payload, fin: false, repeat: n }], faults: [] }));

/** Zero-copy: the worker pauses while a burst takes every prefetched buffer; one packet lands as the pause ends. */
export const zcPauseArb: fc.Arbitrary<CaseSpec> = fc
  .record({
    shape: smallShapeArb.map((s): ShapeSpec => ({ ...s, zerocopy: true, lanQueues: 1, rxLog: Math.max(s.rxLog, s.fillLog), txLog: 6, fillLog: Math.min(s.fillLog, 6), batch: 64 })),
    flow: transitFlowArb.map((f): FlowSpec => ({ ...f, dir: "out" })),
    pauseUs: fc.integer({ min: 50, max: 200 }),
    extra: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }),
    lateNs: fc.integer({ min: 0, max: 8_000 }),
  })
  .map(({ shape, flow, pauseUs, extra, lateNs }) => {
    const burst = (1 << shape.fillLog) + extra;
    const every = Math.floor((pauseUs * 1000) / (2 * burst));
    const lastAt = (burst - 1) * every;
    return {
      shape,
      flows: [flow],
      packets: [
        { flow: 0, gapNs: 0, payload: 64, fin: false, repeat: burst, everyNs: every },
        { flow: 0, gapNs: pauseUs * 1000 - lastAt + lateNs, payload: 64, fin: false, repeat: 1 },
        { flow: 0, gapNs: 1_000_000, payload: 64, fin: false, repeat: 1 },
      ],
      faults: [{ kind: "worker_pause" as const, atUs: 0, forUs: pauseUs, iface: null }],
    };
  });

export const caseArb: fc.Arbitrary<CaseSpec> = fc.oneof(
  { weight: 6, arbitrary: generalCaseArb },
  { weight: 2, arbitrary: zeroedWindowArb },
  { weight: 3, arbitrary: stallHairpinArb },
  { weight: 3, arbitrary: streamArb },
  { weight: 1, arbitrary: burstArb },
  { weight: 2, arbitrary: zcPauseArb },
);
