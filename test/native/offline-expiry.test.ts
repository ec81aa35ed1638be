// The offline differential across session expiry (issue 6: session tables must agree in
// the TS and the C worker also when sessions time out). A hand-made SNAT capture with
// gaps longer than Linux's conntrack timeouts (docs/nat.md): a UDP flow that expires
// unreplied (30 s) and one that expires after its reply (120 s), an ICMP echo answered
// after its 30 s, a TCP flow closed by RST (CLOSE 10 s) then answered late, and a new
// flow from another lan host reusing a freed source port. Both workers must give the same
// path records, frames, counters and session tables; the run must really expire sessions
// (sessions_expired) and answer late replies without a session, or the test proves
// nothing. (Both workers skip idle polls; test/native/offline-idle.test.ts covers that
// path over hours. pollNs is 50 µs here so that the C worker's polls while sessions are
// live stay few.)
import { describe, expect, it } from "vitest";
import { WAN, lanMac, snatScenario, wanMac } from "./snat-scenario.js";
import { InputPackets } from "../../sim/scenario/packets.js";
import { buildFrame } from "../../sim/packet/build.js";
import { diffOffline } from "../../live/offline-diff.js";

const S = 1_000_000_000;
const SRV = "198.51.100.7";

const scenario = (): ReturnType<typeof snatScenario> => snatScenario("expiry-diff", 3, 2, { pollNs: 50_000, seriesNs: "10s", drainNs: "5ms" });

type L4 = { udp: { sport: number; dport: number } } | { tcp: { sport: number; dport: number; seq: number; flags: string } } | { icmp: { type: number; code: number; id: number; seq: number } };

function input(): InputPackets {
  const inp = new InputPackets();
  let id = 1;
  const out = (t: number, host: string, l4: L4): void => {
    inp.push(buildFrame({ eth: lanMac, ip: { version: 4, src: host, dst: SRV, ttl: 64, id: id++ }, ...l4, payload: new Uint8Array(16) } as never), t, 0, 0, inp.count);
  };
  const back = (t: number, l4: L4): void => {
    inp.push(buildFrame({ eth: wanMac, ip: { version: 4, src: SRV, dst: WAN, ttl: 64, id: id++ }, ...l4, payload: new Uint8Array(16) } as never), t, 1, 0, inp.count);
  };
  out(0, "198.18.1.10", { udp: { sport: 5000, dport: 53 } }); // A: never answered → 30 s
  out(1_000, "198.18.1.10", { udp: { sport: 5001, dport: 53 } }); // B: answered at 1 s → 120 s
  out(2_000, "198.18.1.10", { icmp: { type: 8, code: 0, id: 77, seq: 1 } }); // C: echo, answered after 31 s
  out(3_000, "198.18.1.10", { tcp: { sport: 6000, dport: 80, seq: 100, flags: "S" } }); // D
  back(1 * S, { udp: { sport: 53, dport: 5001 } });
  back(1 * S + 1_000, { tcp: { sport: 80, dport: 6000, seq: 900, flags: "SA" } });
  out(1 * S + 2_000, "198.18.1.10", { tcp: { sport: 6000, dport: 80, seq: 101, flags: "R" } }); // CLOSE: 10 s
  back(12 * S, { tcp: { sport: 80, dport: 6000, seq: 901, flags: "A" } }); // after CLOSE expired
  back(31 * S, { udp: { sport: 53, dport: 5000 } }); // A expired (30 s unreplied)
  back(33 * S, { icmp: { type: 0, code: 0, id: 77, seq: 1 } }); // C expired
  back(60 * S, { udp: { sport: 53, dport: 5001 } }); // B still live (120 s from its last packet, 1 s)
  out(62 * S, "198.18.1.11", { udp: { sport: 5000, dport: 53 } }); // E: another host, A's port is free again
  back(130 * S, { udp: { sport: 53, dport: 5001 } }); // B live: its timer restarted at 60 s
  back(260 * S, { udp: { sport: 53, dport: 5001 } }); // B expired at 250 s
  return inp;
}

describe("offline differential across session expiry", () => {
  it("TS and native workers agree while UDP, ICMP and closed TCP sessions time out", () => {
    const r = diffOffline(scenario(), input());
    expect(r.first).toBeNull();
    expect(r.agree).toBe(true);
    // The run exercised what it claims to.
    // Hand-counted from the timeouts: five flows opened (A, B, C, D, E); replies that find
    // their session — B at 1, 60 and 130 s, D's SYN-ACK — are translated back; the four
    // that come after their session expired (D's ACK at 12 s, A at 31 s, C at 33 s, B at
    // 260 s) are addressed to the router with no session: the shim passes them to the
    // kernel (local_delivery).
    expect(r.lookups).toEqual({ new: 5, nat_reverse_hit: 4, session_hit: 1 });
    expect(r.model.reasons).toEqual({ local_delivery: 4 });
    expect(r.model.outcomes).toEqual({ forwarded: 10, to_kernel: 4, dropped: 0, in_flight: 0 });
  }, 120_000);
});
