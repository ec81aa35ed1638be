// The offline differential with long idle gaps: the native worker takes the Sim's idle
// fast path (NativeWorker.isIdle/skipIdle, nextExpiryLow/skipTimers in C) instead of one
// koffi call per pollNs. A SNAT capture whose packets are hours apart — a UDP flow
// answered in time, then answered again after its session expired in a gap, an ICMP echo
// answered in time, a TCP SYN whose SYN-ACK comes after the gap, and a routed packet on
// its own — with reapEvery 3 and a 1 µs series (so the reap phase of the cycle after a
// gap shows in the ring occupancy). Sixteen unreplied UDP flows expire together after a
// 30 s gap and are answered 0…15 ms after their expiry: the session timer removes their
// block of rows in one 1 ms pass that the expiry cursor (moved by the skipped passes)
// decides, so replies before it are still steered to the worker and later ones are passed
// by the shim — a cursor that the skipped passes did not move shows. Both workers must
// agree on everything (path records, frames, counters, session tables), the poll counter
// must say that billions of polls happened, and the C worker must have been called only
// around the packets.
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { WAN, lanMac, snatScenario, wanMac } from "./snat-scenario.js";
import { InputPackets } from "../../sim/scenario/packets.js";
import { buildFrame } from "../../sim/packet/build.js";
import { Sim } from "../../sim/run.js";
import type { RunSink } from "../../sim/trace/record.js";
import { diffOffline, MemorySink } from "../../live/offline-diff.js";
import { NativeWorker, nativeLibraryPath, nativeWorkerFactory } from "../../live/native.js";

const S = 1_000_000_000;
const H = 3600 * S;
const SRV = "198.18.200.7";

const scenario = (): ReturnType<typeof snatScenario> => snatScenario("idle-diff", 5, 1, { pollNs: 2000, reapEvery: 3, seriesNs: "1us", drainNs: "5ms" });

type L4 = { udp: { sport: number; dport: number } } | { tcp: { sport: number; dport: number; seq: number; flags: string } } | { icmp: { type: number; code: number; id: number; seq: number } };

function input(): InputPackets {
  const inp = new InputPackets();
  let id = 1;
  const out = (t: number, l4: L4): void => {
    inp.push(buildFrame({ eth: lanMac, ip: { version: 4, src: "198.18.1.10", dst: SRV, ttl: 64, id: id++ }, ...l4, payload: new Uint8Array(16) } as never), t, 0, 0, inp.count);
  };
  const back = (t: number, l4: L4): void => {
    inp.push(buildFrame({ eth: wanMac, ip: { version: 4, src: SRV, dst: WAN, ttl: 64, id: id++ }, ...l4, payload: new Uint8Array(16) } as never), t, 1, 0, inp.count);
  };
  out(0, { udp: { sport: 5000, dport: 53 } }); // U: new session
  back(1 * S, { udp: { sport: 53, dport: 5000 } }); // U answered: 120 s
  out(1 * S + 1_000, { icmp: { type: 8, code: 0, id: 9, seq: 1 } }); // echo
  back(2 * S, { icmp: { type: 0, code: 0, id: 9, seq: 1 } }); // answered in time
  out(2 * H, { tcp: { sport: 6000, dport: 80, seq: 1, flags: "S" } }); // after a 2 h gap: U expired meanwhile
  back(2 * H + 500_000, { udp: { sport: 53, dport: 5000 } }); // U's session is gone: to the router
  back(5 * H, { tcp: { sport: 80, dport: 6000, seq: 7, flags: "SA" } }); // SYN_SENT timed out in the gap
  for (let k = 0; k < 16; k++) out(3 * S + k * 1_000, { udp: { sport: 7000 + k, dport: 53 } }); // expire at 33 s + k µs
  for (let k = 0; k < 16; k++) back(33 * S + k * 1_000_000 + 50_000, { udp: { sport: 53, dport: 7000 + k } });
  out(9 * H, { udp: { sport: 5001, dport: 53 } }); // a last flow, alone, after 4 h
  return inp;
}

const built = existsSync(nativeLibraryPath());

describe.skipIf(!built)("offline differential over long idle gaps (native idle fast path)", () => {
  it("agrees with the TS worker and skips the idle polls", () => {
    const r = diffOffline(scenario(), input());
    expect(r.first).toBeNull();
    expect(r.agree).toBe(true);
    // The run did what it claims: the UDP reply after the gap, the late SYN-ACK and the 16
    // replies after their 30 s find no session (expired, by the timer or on lookup) and go
    // to the kernel; the rest is translated.
    expect(r.model.outcomes).toEqual({ forwarded: 6 + 16, to_kernel: 2 + 16, dropped: 0, in_flight: 0 });
    // …and the 16 late replies straddle the timer pass that removed their keys: those
    // before it are steered to the worker, which finds the session expired and looks the
    // packet up as new (then delivers it to the router); the shim passes the others.
    const ms = new MemorySink();
    new Sim(scenario(), input(), ms).runToEnd();
    const late = ms.records.filter((x) => x.id >= 21 && x.id < 37).map((x) => x.shim.verdict);
    expect(late.length).toBe(16);
    const steered = late.filter((v) => v === "redirect").length;
    expect(steered).toBeGreaterThan(0);
    expect(steered).toBeLessThan(16);
    expect(r.lookups.new).toBe(4 + 16 + steered);
    expect(r.lookups.nat_reverse_hit).toBe(2);
    const polls = r.native.counters.worker?.polls ?? 0;
    expect(polls).toBe(r.model.counters.worker?.polls);
    expect(polls).toBeGreaterThan((9 * H) / 2000 - 10); // every pollNs of 9 h was accounted

    // The C worker ran only around the packets: a poll call count, not 1.6e10.
    const sink: RunSink = { wantPath: false, path() {}, frameOut() {}, kernel() {}, drop() {} };
    const sim = new Sim(scenario(), input(), sink, { seed: 5, worker: nativeWorkerFactory(), idleSkip: true });
    try {
      sim.runToEnd();
      const w = sim.worker as NativeWorker;
      expect(w.pollCalls).toBeGreaterThan(0);
      expect(w.pollCalls).toBeLessThan(100_000);
      expect(sim.idleSkipped).toBeGreaterThan(1e10);
    } finally {
      (sim.worker as NativeWorker).close();
    }
  }, 120_000);
});
