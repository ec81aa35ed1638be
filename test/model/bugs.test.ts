// Each bug switch of CATALOGUE sections A, B and E shows its symptom in the model, and its
// healthy twin (same scenario, switch off) does not. Assertions are on observables only:
// outcomes, path records, XDP statistics, series, frame locations.
import { describe, it, expect } from "vitest";
import { scenario, udpInput, run, MemSink } from "./helpers.js";
import { Sim, LOC_FILL, LOC_FREE_TX, LOC_KERNEL_POOL } from "../../sim/run.js";
import type { InputPackets } from "../../sim/scenario/packets.js";

type Over = Parameters<typeof scenario>[0];
const twin = (over: Over, bug: string, inp: () => InputPackets) => {
  const healthy = run(scenario(over), inp());
  const buggy = run(scenario({ ...over, bugs: { [bug]: true } }), inp());
  return { healthy, buggy };
};
const onQueue1 = (): InputPackets => {
  const inp = udpInput(5, 10_000);
  inp.queue.fill(1, 0, inp.count);
  return inp;
};
const twoIfaceQueues = { interfaces: [
  { name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.1.1/24"], queues: 2 },
  { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24"] },
] };

describe("A. packets never reach the worker", () => {
  it("fallbackDrops: a packet on an unbound queue goes to the kernel, or is dropped with the bug", () => {
    const over = { dataplane: { strict: false } };
    const { healthy, buggy } = twin(over, "fallbackDrops", onQueue1);
    expect(healthy.res.outcomes.to_kernel).toBe(5);
    expect(buggy.res.outcomes.dropped).toBe(5);
    expect(buggy.res.outcomes.to_kernel).toBe(0);
  });

  it("missingBindingPasses: strict mode keeps packets of a queue without binding out of the kernel", () => {
    const { healthy, buggy } = twin({ dataplane: { strict: true } }, "missingBindingPasses", onQueue1);
    expect(healthy.sink.kernelPkts.length).toBe(0);
    expect(buggy.sink.kernelPkts.length).toBe(5);
  });

  it("staleXskSlot: redirects land on a socket of another queue and are lost as redirect errors", () => {
    const { healthy, buggy } = twin({}, "staleXskSlot", () => udpInput(5, 10_000));
    expect(healthy.res.outcomes.forwarded).toBe(5);
    expect(buggy.res.outcomes.forwarded).toBe(0);
    expect(buggy.sink.paths.every((p) => p.xsk?.rx === "redirect_err")).toBe(true);
  });

  it("abiDrift: the metadata tuple no longer matches the frame", () => {
    const { healthy, buggy } = twin({}, "abiDrift", () => udpInput(5, 10_000));
    expect(healthy.res.outcomes.forwarded).toBe(5);
    expect(buggy.res.outcomes.forwarded).toBe(0);
    const p = buggy.sink.paths[0]!;
    expect(p.tuple?.src).not.toBe("198.18.1.10:1000");
  });

  it("armBeforeBound: armed while sockets are not bound yet loses the first packets", () => {
    const { healthy, buggy } = twin({}, "armBeforeBound", () => udpInput(20, 100_000));
    expect(healthy.res.outcomes.forwarded).toBe(20);
    const early = buggy.sink.paths.filter((p) => p.armed && p.out !== "forwarded");
    expect(early.length).toBeGreaterThan(0);
  });

  it("circularGate: bring-up never arms without traffic, so nothing reaches the worker", () => {
    const { healthy, buggy } = twin({}, "circularGate", () => udpInput(5, 10_000));
    expect(healthy.sink.paths.every((p) => p.armed)).toBe(true);
    expect(buggy.sink.paths.some((p) => p.armed)).toBe(false);
    expect(buggy.res.outcomes.forwarded).toBe(0);
  });
});

describe("B. throughput falls to zero", () => {
  it("noTxKick: descriptors left on the TX ring after a kick's budget are never sent", () => {
    const over = { dataplane: { batch: 64, frames: 256, rings: { rx: 128, tx: 128, fill: 128, comp: 128 } } };
    const { healthy, buggy } = twin(over, "noTxKick", () => udpInput(100, 0));
    expect(healthy.res.outcomes.forwarded).toBe(100);
    expect(buggy.res.outcomes.in_flight).toBeGreaterThan(0);
  });

  it("lazyCompletionReap: TX frames run out and fewer packets get through", () => {
    const { healthy, buggy } = twin({}, "lazyCompletionReap", () => udpInput(400, 1000));
    expect(buggy.res.outcomes.forwarded).toBeLessThan(healthy.res.outcomes.forwarded);
  });

  it("unboundedPendingTx: pending TX grows past maxPendingTx during an egress stall", () => {
    const over = { dataplane: { maxPendingTx: 16 }, faults: [{ at: "0ns", kind: "tx_stall", iface: "wan", for: "2ms" }] };
    const peak = (bug: boolean): number => {
      const sim = new Sim(scenario({ ...over, bugs: bug ? { unboundedPendingTx: true } : {} }), udpInput(300, 500), new MemSink(false));
      let m = 0;
      while (sim.step()) m = Math.max(m, sim.worker.pendingTxLocal + sim.worker.pendingTxPrepared);
      return m;
    };
    expect(peak(false)).toBeLessThanOrEqual(16);
    expect(peak(true)).toBeGreaterThan(16);
  });

  it("leakOnDrop: frames of dropped packets never come home", () => {
    const home = (bug: boolean): boolean => {
      const sim = new Sim(scenario({ bugs: bug ? { leakOnDrop: true } : {} }), udpInput(10, 10_000, { dst: "127.0.0.1" }), new MemSink(false));
      while (sim.step());
      const r = sim.result();
      expect(r.outcomes.dropped).toBe(10);
      return sim.frameLocations().every((l) => [...l].every((x) => x === LOC_FILL || x === LOC_FREE_TX || x === LOC_KERNEL_POOL));
    };
    expect(home(false)).toBe(true);
    expect(home(true)).toBe(false);
  });

  it("allOrNothingReserve: unreleased reservations shrink the TX ring and corrupt descriptors", () => {
    const { healthy, buggy } = twin({}, "allOrNothingReserve", () => udpInput(200, 300));
    expect(healthy.res.xdpStatistics.every((s) => s.tx_invalid_descs === 0)).toBe(true);
    expect(healthy.res.outcomes.forwarded).toBe(200);
    expect(buggy.res.outcomes.forwarded).toBeLessThan(200);
  });

  // skipFillOnBackpressure is shown by traces/B/skipFillOnBackpressure and its healthy twin
  // (run by test/traces/traces.test.ts, which also flips the switch to prove the case can fail).
});

describe("B. zero-copy wakeups", () => {
  const zc = { dataplane: { driver: "zerocopy", bindMode: "zerocopy" } };
  it("wakeTxForRx: after the fill ring ran dry, a kick does not wake RX; the next packet is lost", () => {
    const inp = (): InputPackets => {
      const a = udpInput(80, 100);
      const late = udpInput(1, 0);
      a.push(late.frame(0), 3_000_000, 0, 0, 80);
      return a;
    };
    const over = { ...zc, faults: [{ at: "0ns", kind: "worker_pause", for: "100us" }] };
    const { healthy, buggy } = twin(over, "wakeTxForRx", inp);
    expect(healthy.sink.paths.find((p) => p.id === 80)!.out).toBe("forwarded");
    expect(buggy.sink.paths.find((p) => p.id === 80)!.out).not.toBe("forwarded");
  });

  // lostWakeup: see traces/B/lostWakeup and traces/B/lostWakeup-healthy.

  it("emptyFillAtBind: a zero-copy queue bound with an empty fill ring never receives", () => {
    const { healthy, buggy } = twin(zc, "emptyFillAtBind", () => udpInput(5, 10_000));
    expect(healthy.res.outcomes.forwarded).toBe(5);
    expect(buggy.res.outcomes.forwarded).toBe(0);
  });
});

describe("E. link cycle and rebind", () => {
  const cycle = [{ at: "1ms", kind: "link_cycle", iface: "lan", for: "100us" }];
  const inp = (): InputPackets => {
    const a = udpInput(1, 0);
    const b = udpInput(40, 0);
    for (let i = 0; i < 40; i++) a.push(b.frame(i), 1_100_000 + i * 10_000, 0, 0, i + 1);
    return a;
  };
  it("noRebindAfterCycle (zero-copy): without a rebind the dead socket receives nothing", () => {
    const over = { dataplane: { driver: "zerocopy", bindMode: "zerocopy" }, faults: cycle };
    const { healthy, buggy } = twin(over, "noRebindAfterCycle", inp);
    expect(healthy.sink.paths.find((p) => p.id === 40)!.out).toBe("forwarded");
    expect(buggy.sink.paths.filter((p) => p.id > 20).every((p) => p.out !== "forwarded")).toBe(true);
  });

  it("armedAcrossRebind: packets are redirected to a socket that is not bound yet", () => {
    const { healthy, buggy } = twin({ faults: cycle }, "armedAcrossRebind", inp);
    expect(healthy.sink.paths.some((p) => p.xsk?.rx === "redirect_err")).toBe(false);
    expect(buggy.sink.paths.some((p) => p.armed && p.xsk?.rx === "redirect_err")).toBe(true);
    expect(healthy.sink.paths.find((p) => p.id === 40)!.out).toBe("forwarded");
  });

  it("stopWithoutRebind: a link that did not really cycle leaves the binding stopped", () => {
    const { healthy, buggy } = twin({ faults: cycle }, "stopWithoutRebind", inp);
    expect(healthy.sink.paths.find((p) => p.id === 40)!.out).toBe("forwarded");
    expect(buggy.sink.paths.find((p) => p.id === 40)!.out).not.toBe("forwarded");
  });
});
