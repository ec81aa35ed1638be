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

export const caseArb: fc.Arbitrary<CaseSpec> = fc.record({
  shape: shapeArb,
  flows: fc.array(flowArb, { minLength: 1, maxLength: 6 }),
  packets: fc.array(packetArb, { minLength: 0, maxLength: 60 }),
  faults: fc.array(faultArb, { maxLength: 3 }),
});
