// The long-gap fast paths of sim/run.ts — timer passes skipped while no session can
// expire, the series sampler asleep while nothing can happen — must be invisible: a
// sparse NAT run whose sessions time out (Linux's 30 s UDP timeout) between replies
// gives the same sink calls, RunResult and worker counters (sessions expired, steering
// keys withdrawn) as the run with every poll, every timer pass and every sample. Replies
// land 0.5–20 ms after their session's expiry, inside the window in which the rotating
// expiry cursor (4096 rows per 1 ms pass over 65536 rows) has or has not reached the
// row yet, so a cursor that moved differently changes their path. The oracle is the
// model with the fast paths off. Then the series itself: skipped intervals are exactly
// the unchanged ones.
import { describe, it, expect } from "vitest";
import { InputPackets } from "../../sim/scenario/packets.js";
import { Sim } from "../../sim/run.js";
import type { Scenario } from "../../sim/scenario/types.js";
import { LogSink, natScenario, natQuery, natAnswer, scenario, udpInput } from "./helpers.js";

const S = 1_000_000_000;

// coarse polls keep the every-event run affordable over 70 s of virtual time
const natScn = () => natScenario("sparse-nat", { drainNs: "2s", seriesNs: "10ms", pollNs: "100us", timerNs: "1ms" });
const query = (flow: number, k: number) => natQuery(k, 40000 + flow);
const answer = (flow: number, k: number) => natAnswer(k, 40000 + flow);

function go(scn: Scenario, inp: InputPackets, fast: boolean) {
  const sink = new LogSink();
  const sim = new Sim(scn, inp, sink, { idleSkip: fast });
  const res = sim.runToEnd();
  return { sink, sim, res };
}

describe("long gaps: skipped timer passes and samples change nothing", () => {
  it("sessions expiring between sparse replies", () => {
    const inp = new InputPackets();
    let k = 0;
    // flow f: a query at f·1.3 s (its session lives 30 s without a reply), a reply at
    // +30 s + offset (its session may or may not have been reaped by then), then a
    // second query long after.
    const offsetsMs = [0.5, 3, 7, 12, 20, 0.05];
    const events: Array<[number, Uint8Array, number]> = [];
    offsetsMs.forEach((off, f) => {
      const t0 = f * 1.3 * S;
      events.push([t0, query(f, k++), 0]);
      events.push([t0 + 30 * S + off * 1e6, answer(f, k++), 1]);
      events.push([t0 + 60 * S, query(f, k++), 0]);
    });
    events.sort((a, b) => a[0] - b[0]);
    events.forEach(([t, fr, ifc], i) => inp.push(fr, Math.round(t), ifc, 0, i));
    const scn = natScn();
    const fast = go(scn, inp, true);
    const full = go(scn, inp, false);
    expect(full.sim.timerSkipped).toBe(0);
    expect(fast.sink.log).toEqual(full.sink.log);
    expect(fast.res).toEqual(full.res);
    expect(fast.sim.worker.c).toEqual(full.sim.worker.c);
    // the case does what it is meant to: sessions time out, and nearly every pass is skipped
    expect(full.sim.worker.c.sessions_expired).toBeGreaterThan(0);
    // 6 expiries × one sweep of 16 passes, and the 16 after the last queries
    expect(full.sim.timerRuns).toBeGreaterThan(60_000);
    expect(fast.sim.timerRuns).toBeLessThan(150);
    // and the sampler kept only intervals with activity: ≤ a few per input packet
    expect(fast.res.series.t.length).toBeLessThan(inp.count * 4);
  });

  it("a kept sample is exactly a changed interval of the every-interval series", () => {
    // 30 packets in three bursts 20 ms apart, sampled every 100 µs
    const inp = udpInput(30, 10_000);
    // (+1 ns: no arrival on a sample's grid point, where same-time order would matter)
    for (let i = 0; i < 30; i++) inp.tNs[i] = inp.tNs[i]! + 1 + (i < 10 ? 0 : i < 20 ? 20_000_000 : 40_000_000);
    const scn = scenario({ timing: { drainNs: 5_000_000 } });
    const s = go(scn, inp, true).res.series;
    // Oracle: step the unskipped model and record the state at every grid point by hand.
    const sim = new Sim(scn, inp, { wantPath: false, path() {}, frameOut() {}, kernel() {}, drop() {} }, { idleSkip: false });
    const iv = scn.timing.seriesNs;
    const dense: Array<{ t: number; key: string; counts: number }> = [];
    let lastFwd = 0;
    let lastRx = 0;
    let lastDrop = 0;
    let g = iv;
    const snap = (t: number) => {
      const r = sim.result();
      const fwd = r.outcomes.forwarded;
      const drop = r.outcomes.dropped;
      const rx = r.counters["xsk.rx"]!["ok"]!;
      const b = sim.worker.bindings.map((x) => [x.sock.fillRing.level(), x.sock.rxRing.level(), x.sock.txRing.level(), x.sock.compRing.level()].join(","));
      const key = [...b, sim.worker.pendingTxLocal, sim.worker.pendingTxPrepared, sim.worker.pendingFill].join("|");
      dense.push({ t, key, counts: fwd - lastFwd + (drop - lastDrop) + (rx - lastRx) });
      lastFwd = fwd;
      lastRx = rx;
      lastDrop = drop;
    };
    // a sample at g sees every event before g and none after (samples pop after
    // same-time events pushed earlier; at grid points here only polls coincide)
    while (g <= sim.endNs) {
      while (sim.q.peekTime() < g && sim.step()) {
        /* advance */
      }
      snap(g);
      g += iv;
    }
    const kept: number[] = [];
    for (let i = 0; i < dense.length; i++) if (i === 0 || dense[i]!.counts !== 0 || dense[i]!.key !== dense[kept[kept.length - 1]!]!.key) kept.push(i);
    expect(s.t).toEqual(kept.map((i) => dense[i]!.t));
    expect(s.t.length).toBeLessThan(dense.length / 10);
  });
});
