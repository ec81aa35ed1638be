// Worker ↔ shim wiring of the NAT engine: steering keys published and withdrawn, the
// session-timer pass, ICMP errors quoting a translated flow steered to the worker, the
// reflect responder, and the session-steering map's deletion. Expectations are written
// from the scenario (addresses, ports, Linux's 30 s UDP timeout), not from a run.
import { describe, it, expect } from "vitest";
import { InputPackets } from "../../sim/scenario/packets.js";
import { buildFrame } from "../../sim/packet/build.js";
import { SessionSteeringMap } from "../../sim/xdp/maps.js";
import { Sim } from "../../sim/run.js";
import { MemSink, WAN_MAC, GW_MAC, FAR, natScenario, natQuery, natAnswer } from "./helpers.js";

function natScn(extra: { traffic?: object; timing?: object; bugs?: object } = {}) {
  return natScenario("steer", { drainNs: "1ms", seriesNs: "1ms", ...(extra.timing ?? {}) }, { traffic: extra.traffic ?? {}, bugs: extra.bugs ?? {} });
}
const query = (k: number) => natQuery(k);
const answer = (k: number) => natAnswer(0x100 + k);

describe("steering keys", () => {
  it("the reply key is published after the first query and answers reach the worker", () => {
    const inp = new InputPackets();
    inp.push(query(0), 0, 0, 0, 0);
    inp.push(answer(0), 50_000, 1, 0, 1);
    const sink = new MemSink();
    const sim = new Sim(natScn(), inp, sink);
    sim.runToEnd();
    expect(sim.maps.sessions.count).toBe(1);
    const p = sink.paths.find((r) => r.i === 1)!;
    expect(p.shim.verdict).toBe("redirect");
    expect(p.lookup).toBe("nat_reverse_hit");
    expect(p.out).toBe("forwarded");
    expect(p.fib?.egress).toBe("lan");
  });

  it("the timer pass withdraws the key when the UDP session times out (30 s unreplied)", () => {
    const inp = new InputPackets();
    inp.push(query(0), 0, 0, 0, 0);
    // 31 s later the server answers: the session (30 s without a reply) is gone.
    inp.push(answer(0), 31_000_000_000, 1, 0, 1);
    const sink = new MemSink();
    const sim = new Sim(natScn({ timing: { timerNs: "100ms" } }), inp, sink);
    sim.runToEnd();
    expect(sim.worker.c.sessions_expired).toBe(1);
    expect(sim.worker.c.steer_removed).toBe(1);
    expect(sim.maps.sessions.count).toBe(0);
    const p = sink.paths.find((r) => r.i === 1)!;
    expect(p.shim.verdict).toBe("pass");
    expect(p.reason).toBe("local_delivery");
    // the idle fast path skipped the ~15M idle polls of those 31 s
    expect(sim.idleSkipped).toBeGreaterThan(15_000_000);
  });

  it("an ICMP time exceeded quoting the translated query is steered and translated back", () => {
    const inp = new InputPackets();
    inp.push(query(0), 0, 0, 0, 0);
    // A router beyond the gateway quotes the query as it left SNAT: 198.19.2.1:40000 → FAR:53.
    const quoted = buildFrame({ eth: { src: WAN_MAC, dst: GW_MAC }, ip: { version: 4, src: "198.19.2.1", dst: FAR, ttl: 1, id: 0 }, udp: { sport: 40000, dport: 53 }, payload: new Uint8Array(20) }).subarray(14, 14 + 28);
    const err = buildFrame({ eth: { src: GW_MAC, dst: WAN_MAC }, ip: { version: 4, src: "198.19.9.9", dst: "198.19.2.1", ttl: 60, id: 7, df: false }, icmp: { type: 11, code: 0, quote: quoted } });
    inp.push(err, 50_000, 1, 0, 1);
    for (const ignore of [false, true]) {
      const sink = new MemSink();
      new Sim(natScn({ bugs: { ignoreSessionMap: ignore } }), inp, sink).runToEnd();
      const p = sink.paths.find((r) => r.i === 1)!;
      if (ignore) {
        expect(p.out).toBe("to_kernel");
        continue;
      }
      expect(p.shim.verdict).toBe("redirect");
      expect(p.out).toBe("forwarded");
      const o = sink.out.find((x) => x.id === p.id)!;
      // outer destination and quoted source back to the inside host
      expect(Array.from(o.bytes.subarray(30, 34))).toEqual([198, 18, 1, 10]);
      expect(Array.from(o.bytes.subarray(14 + 20 + 8 + 12, 14 + 20 + 8 + 16))).toEqual([198, 18, 1, 10]);
    }
  });
});

describe("responder", () => {
  it("answers each forwarded query once, through SNAT back to the inside host", () => {
    const inp = new InputPackets();
    for (let k = 0; k < 3; k++) inp.push(query(k), k * 100_000, 0, 0, k);
    const sink = new MemSink();
    const sim = new Sim(natScn({ traffic: { respond: "reflect" }, timing: { respondNs: "25us" } }), inp, sink);
    const res = sim.runToEnd();
    const replies = sink.paths.filter((r) => r.origin === "responder");
    expect(replies.length).toBe(3);
    expect(res.outcomes.forwarded).toBe(6);
    for (const r of replies) {
      const cause = sink.paths.find((x) => x.id === r.cause)!;
      expect(cause.origin).toBe("input");
      expect(r.in.iface).toBe("wan");
      expect(r.t).toBe(cause.tx!.done! + 25_000);
      expect(r.lookup).toBe("nat_reverse_hit");
      expect(r.fib?.egress).toBe("lan");
    }
  });
});

describe("SessionSteeringMap.remove", () => {
  it("keeps every other key findable after deletions inside probe runs", () => {
    const m = new SessionSteeringMap(8); // 16 slots: long probe runs
    const key = (i: number) => {
      const k = new Uint8Array(37);
      k[0] = 17;
      k[1] = 10;
      k[4] = i;
      k[36] = i * 7;
      return k;
    };
    const has = (i: number) => {
      const k = key(i);
      return m.has(17, k, 1, 17, 16, (k[33]! << 8) | k[34]!, (k[35]! << 8) | k[36]!);
    };
    for (let i = 0; i < 8; i++) expect(m.addKey(key(i))).toBe(true);
    expect(m.addKey(key(99))).toBe(false); // half full
    const gone = new Set<number>();
    for (const i of [3, 0, 6, 1]) {
      expect(m.removeKey(key(i))).toBe(true);
      gone.add(i);
      for (let j = 0; j < 8; j++) expect(has(j)).toBe(!gone.has(j));
    }
    expect(m.removeKey(key(3))).toBe(false);
    expect(m.count).toBe(4);
  });
});
