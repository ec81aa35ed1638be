// Sessions, SNAT/DNAT, reverse NAT, ICMP error translation, fragments and the C/D/D′ bug
// switches. Expected bytes are hand-derived; checksums are verified by an independent
// implementation (test/dataplane/helpers.ts inetChecksum).
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { Dataplane, DP_DROP, DP_FORWARD, DP_HOLD, DP_ICMP_ERROR, DP_KERNEL, LK_NAT_REVERSE_HIT, LK_NEW, LK_SESSION_HIT } from "../../sim/dataplane/dataplane.js";
import { R } from "../../sim/reasons.js";
import { reflect } from "../../sim/dataplane/responder.js";
import { ip4, ip6, inetChecksum } from "../dataplane/helpers.js";
import { LAN, WAN, be16, checksumsValid, eth, indexViolation, ipPacket, natScenario, send } from "./harness.js";
import type { L4 } from "./harness.js";

const S = 1_000_000_000;
const udp = (sport: number, dport: number): L4 => ({ proto: "udp", sport, dport });
const bytesEq = (a: Uint8Array, o: number, b: number[]) => expect(Array.from(a.subarray(o, o + b.length))).toEqual(b);

describe("SNAT (interface) and reverse translation, IPv4", () => {
  test("source address translated, port kept, checksums as a full recompute", () => {
    const dp = new Dataplane(natScenario());
    const r = send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", udp(1000, 2000))), LAN);
    expect(r.rc).toBe(DP_FORWARD);
    expect(r.kind).toBe(LK_NEW);
    bytesEq(r.out, 14 + 12, [...ip4("198.19.2.1"), ...ip4("198.19.3.3")]);
    expect(be16(r.out, 34)).toBe(1000);
    expect(r.out[14 + 8]).toBe(63);
    // expected checksums recomputed by hand over the expected bytes
    const exp = ipPacket(4, "198.19.2.1", "198.19.3.3", udp(1000, 2000), { ttl: 63 });
    expect(Array.from(r.out.subarray(14))).toEqual(exp);
  });

  test("the reply is a nat_reverse_hit and is restored exactly", () => {
    const dp = new Dataplane(natScenario());
    send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", udp(1000, 2000))), LAN);
    const r = send(dp, eth(4, ipPacket(4, "198.19.3.3", "198.19.2.1", udp(2000, 1000))), WAN);
    expect(r.rc).toBe(DP_FORWARD);
    expect(r.kind).toBe(LK_NAT_REVERSE_HIT);
    expect(dp.egressIf).toBe(LAN);
    expect(Array.from(r.out.subarray(14))).toEqual(ipPacket(4, "198.19.3.3", "198.18.1.10", udp(2000, 1000), { ttl: 63 }));
    expect(dp.describeLast().nat).toEqual({ dst: "198.18.1.10:1000" });
  });

  test("UDP checksum 0 stays 0; ICMP echo id kept and echo reply restored", () => {
    const dp = new Dataplane(natScenario());
    const r = send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", { ...udp(5, 6), udpZero: true })), LAN);
    expect(be16(r.out, 14 + 20 + 6)).toBe(0);
    const e = send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", { proto: "icmp", sport: 77, dport: 1 })), LAN);
    expect(e.rc).toBe(DP_FORWARD);
    expect(be16(e.out, 34 + 4)).toBe(77);
    expect(checksumsValid(e.out)).toBe(true);
    const rep = ipPacket(4, "198.19.3.3", "198.19.2.1", { proto: "icmp", sport: 77, dport: 1 });
    rep[20] = 0; rep[22] = 0; rep[23] = 0;
    const c = inetChecksum(rep.slice(20)); rep[22] = c >> 8; rep[23] = c & 255;
    const back = send(dp, eth(4, rep), WAN);
    expect(back.kind).toBe(LK_NAT_REVERSE_HIT);
    bytesEq(back.out, 14 + 16, ip4("198.18.1.10"));
  });

  test("an echo reply or a lone SYN-ACK with no session is invalid: no_session", () => {
    const dp = new Dataplane(natScenario());
    expect(send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", { proto: "tcp", sport: 1, dport: 2, flags: 0x12 })), LAN).reason).toBe(R.no_session);
  });

  test("a reply to the router's address with no session goes to the kernel", () => {
    const dp = new Dataplane(natScenario());
    const r = send(dp, eth(4, ipPacket(4, "198.19.3.3", "198.19.2.1", udp(2000, 1000))), WAN);
    expect(r.rc).toBe(DP_KERNEL);
    expect(r.reason).toBe(R.local_delivery);
  });

  test("TTL expiry consumes no translated port and installs no session", () => {
    const dp = new Dataplane(natScenario());
    expect(send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", udp(1000, 2000), { ttl: 1 })), LAN).rc).toBe(DP_ICMP_ERROR);
    expect(dp.nat.sessions.live).toBe(0);
  });
});

describe("collisions and exhaustion", () => {
  test("second inside host with the same port gets another port (1000 < 1024: class 600–1023); tuples unique", () => {
    const dp = new Dataplane(natScenario());
    send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", udp(1000, 2000))), LAN);
    const b = send(dp, eth(4, ipPacket(4, "198.18.1.11", "198.19.3.3", udp(1000, 2000))), LAN);
    const p = be16(b.out, 34);
    expect(p).not.toBe(1000);
    expect(p >= 600 && p <= 1023).toBe(true);
    expect(checksumsValid(b.out)).toBe(true);
    expect(indexViolation(dp)).toBeNull();
    // the same seed gives the same choice
    const dp2 = new Dataplane(natScenario());
    send(dp2, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", udp(1000, 2000))), LAN);
    expect(be16(send(dp2, eth(4, ipPacket(4, "198.18.1.11", "198.19.3.3", udp(1000, 2000))), LAN).out, 34)).toBe(p);
  });

  test("a low port stays in its class (600–1023)", () => {
    const dp = new Dataplane(natScenario());
    send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", udp(700, 53))), LAN);
    const p = be16(send(dp, eth(4, ipPacket(4, "198.18.1.11", "198.19.3.3", udp(700, 53))), LAN).out, 34);
    expect(p >= 600 && p <= 1023 && p !== 700).toBe(true);
  });

  test("exhaustion is a counted drop, never a reuse", () => {
    const dp = new Dataplane(natScenario({ nat: { snat: [{ from: "198.18.1.0/24", egress: "wan", to: "interface", portRange: [2000, 2001] }] } }));
    const ports = [10, 11, 12].map((h) => send(dp, eth(4, ipPacket(4, `198.18.1.${h}`, "198.19.3.3", udp(2000, 53))), LAN));
    expect(ports.slice(0, 2).map((r) => be16(r.out, 34)).sort()).toEqual([2000, 2001]);
    expect(ports[2]!.rc).toBe(DP_DROP);
    expect(ports[2]!.reason).toBe(R.snat_exhausted);
    expect(dp.nat.snatExhausted).toBe(1);
  });
});

describe("DNAT", () => {
  test("address and port, and the reply's source restored", () => {
    const dp = new Dataplane(natScenario({ nat: { dnat: [{ ingress: "wan", proto: "tcp", dst: "198.19.2.1", port: 8080, to: "198.18.1.10", toPort: 80 }] } }));
    const syn: L4 = { proto: "tcp", sport: 40000, dport: 8080, flags: 0x02, seq: 5 };
    const r = send(dp, eth(4, ipPacket(4, "198.19.3.3", "198.19.2.1", syn)), WAN);
    expect(r.rc).toBe(DP_FORWARD);
    expect(Array.from(r.out.subarray(14))).toEqual(ipPacket(4, "198.19.3.3", "198.18.1.10", { ...syn, dport: 80 }, { ttl: 63 }));
    const sa: L4 = { proto: "tcp", sport: 80, dport: 40000, flags: 0x12, seq: 9, ack: 6 };
    const b = send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", sa)), LAN);
    expect(b.kind).toBe(LK_NAT_REVERSE_HIT);
    expect(Array.from(b.out.subarray(14))).toEqual(ipPacket(4, "198.19.2.1", "198.19.3.3", { ...sa, sport: 8080 }, { ttl: 63 }));
  });
});

describe("TCP closing", () => {
  const flow = (bugs: Record<string, boolean> = {}) => {
    const dp = new Dataplane(natScenario({}, bugs));
    send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", { proto: "tcp", sport: 1000, dport: 80, flags: 0x02 })), LAN, 0);
    send(dp, eth(4, ipPacket(4, "198.19.3.3", "198.19.2.1", { proto: "tcp", sport: 80, dport: 1000, flags: 0x12 })), WAN, 1);
    send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", { proto: "tcp", sport: 1000, dport: 80, flags: 0x10 })), LAN, 2);
    send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", { proto: "tcp", sport: 1000, dport: 80, flags: 0x04 })), LAN, 3);
    return dp;
  };
  const reply = (dp: Dataplane, t: number) => send(dp, eth(4, ipPacket(4, "198.19.3.3", "198.19.2.1", { proto: "tcp", sport: 80, dport: 1000, flags: 0x10, payload: [] })), WAN, t);
  test("a RST starts the 10 s closing timer; replies inside it still match", () => {
    const dp = flow();
    expect(reply(dp, 5 * S).kind).toBe(LK_NAT_REVERSE_HIT);
    expect(dp.expireSessions(3 + 10 * S + 1)).toBe(1);
    expect(reply(dp, 11 * S).rc).toBe(DP_KERNEL);
    expect(indexViolation(dp)).toBeNull();
  });
  test("bug rstTearsDown: the reply right after the RST misses", () => {
    expect(reply(flow({ rstTearsDown: true }), 4).rc).toBe(DP_KERNEL);
  });
});

describe("ICMP errors quoting a translated packet", () => {
  function errCase(fam: 4 | 6, proto: L4["proto"], quoteLen: number, bugs: Record<string, boolean> = {}) {
    const dp = new Dataplane(natScenario({}, bugs));
    const inside = fam === 4 ? "198.18.1.10" : "2001:2:0:1::10";
    const far = fam === 4 ? "198.19.3.3" : "2001:2:0:3::3";
    const rtr = fam === 4 ? "198.19.5.5" : "2001:2:0:5::5";
    const snatA = fam === 4 ? "198.19.2.1" : "2001:2:0:2::1";
    const l4: L4 = { proto, sport: 1000, dport: 2000, flags: 0x02, payload: Array.from({ length: 30 }, (_, i) => i) };
    const f = send(dp, eth(fam, ipPacket(fam, inside, far, l4)), LAN);
    const quoted = Array.from(f.out.subarray(14, 14 + Math.min(quoteLen, f.out.length - 14)));
    const body = [fam === 4 ? 11 : 3, 0, 0, 0, 0, 0, 0, 0, ...quoted];
    let err: number[];
    if (fam === 4) {
      const c = inetChecksum(body); body[2] = c >> 8; body[3] = c & 255;
      err = ipPacket(4, rtr, snatA, udp(0, 0), { rawL4: body });
      err[9] = 1; err[10] = 0; err[11] = 0;
      const hc = inetChecksum(err.slice(0, 20)); err[10] = hc >> 8; err[11] = hc & 255;
    } else {
      const pseudo = [...ip6(rtr), ...ip6(snatA), 0, 0, body.length >> 8, body.length & 255, 0, 0, 0, 58];
      const c = inetChecksum([...pseudo, ...body]); body[2] = c >> 8; body[3] = c & 255;
      err = ipPacket(6, rtr, snatA, udp(0, 0), { rawL4: body });
      err[6] = 58;
    }
    return { r: send(dp, eth(fam, err), WAN), inside, fam, proto, quoteLen, fullQuote: quoteLen >= f.out.length - 14 };
  }
  function check({ r, inside, fam, proto, fullQuote }: ReturnType<typeof errCase>): string | null {
    if (r.rc !== DP_FORWARD) return `not forwarded (rc ${r.rc})`;
    const o = r.out;
    const a = fam === 4 ? ip4(inside) : ip6(inside);
    const dstOff = fam === 4 ? 30 : 38;
    const q = fam === 4 ? 14 + 20 + 8 : 14 + 40 + 8;
    const qsrc = fam === 4 ? q + 12 : q + 8;
    const ql4 = q + (fam === 4 ? 20 : 40);
    if (Array.from(o.subarray(dstOff, dstOff + a.length)).join() !== a.join()) return "outer destination not restored";
    if (Array.from(o.subarray(qsrc, qsrc + a.length)).join() !== a.join()) return "quoted source not restored";
    if (be16(o, ql4 + (proto === "icmp" ? 4 : 0)) !== 1000) return "quoted port not restored";
    // outer checksums
    const ip = Array.from(o.subarray(14));
    if (fam === 4 && inetChecksum(ip.slice(0, 20)) !== 0) return "outer IPv4 checksum";
    const icmp = ip.slice(fam === 4 ? 20 : 40);
    const pseudo = fam === 4 ? [] : [...ip.slice(8, 40), 0, 0, icmp.length >> 8, icmp.length & 255, 0, 0, 0, 58];
    if (inetChecksum([...pseudo, ...icmp]) !== 0) return "ICMP checksum";
    if (fam === 4 && inetChecksum(Array.from(o.subarray(q, q + 20))) !== 0) return "quoted IPv4 header checksum";
    if (fullQuote) {
      const inner = new Uint8Array(14 + o.length - q);
      inner.set(o.subarray(q), 14);
      if (!checksumsValid(inner)) return "quoted L4 checksum";
    }
    return null;
  }
  test.each([[4, "udp"], [4, "tcp"], [4, "icmp"], [6, "udp"], [6, "tcp"], [6, "icmp"]] as const)("IPv%s %s, full quote", (fam, proto) => {
    expect(check(errCase(fam, proto, 2000))).toBeNull();
  });
  test("IPv4 TCP quoted with 8 bytes: checksum field absent, the rest restored", () => {
    const c = errCase(4, "tcp", 28);
    expect(check(c)).toBeNull();
  });
  test("property: any quote length ≥ 8 L4 bytes, v4/v6, UDP/TCP/ICMP", () => {
    fc.assert(fc.property(fc.constantFrom(4 as const, 6 as const), fc.constantFrom("udp" as const, "tcp" as const, "icmp" as const), fc.integer({ min: 8, max: 80 }), (fam, proto, extra) => {
      const c = errCase(fam, proto, (fam === 4 ? 20 : 40) + extra);
      return check(c) === null;
    }), { numRuns: 60 });
  });
  test("bug embeddedIcmpNoSwap: the error is not translated", () => {
    expect(check(errCase(4, "udp", 2000, { embeddedIcmpNoSwap: true }))).not.toBeNull();
  });
  test("bug signFlippedDelta: checksums break", () => {
    expect(check(errCase(4, "udp", 2000, { signFlippedDelta: true }))).not.toBeNull();
  });
});

describe("IPv6 (NAT66)", () => {
  test("SNAT to the wan interface address, UDP checksum valid, reply restored", () => {
    const dp = new Dataplane(natScenario());
    const r = send(dp, eth(6, ipPacket(6, "2001:2:0:1::10", "2001:2:0:3::3", udp(1000, 2000))), LAN);
    expect(Array.from(r.out.subarray(14))).toEqual(ipPacket(6, "2001:2:0:2::1", "2001:2:0:3::3", udp(1000, 2000), { ttl: 63 }));
    const b = send(dp, eth(6, ipPacket(6, "2001:2:0:3::3", "2001:2:0:2::1", udp(2000, 1000))), WAN);
    expect(b.kind).toBe(LK_NAT_REVERSE_HIT);
    expect(Array.from(b.out.subarray(14))).toEqual(ipPacket(6, "2001:2:0:3::3", "2001:2:0:1::10", udp(2000, 1000), { ttl: 63 }));
  });
});

describe("fragments", () => {
  function fragFlow(bugs: Record<string, boolean> = {}) {
    const dp = new Dataplane(natScenario({}, bugs));
    const first = send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", udp(1000, 2000), { frag: { off: 0, more: true }, id: 7 })), LAN);
    const later = send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", udp(0, 0), { frag: { off: 16, more: false }, id: 7, rawL4: [9, 9, 9, 9, 9, 9, 9, 9] })), LAN);
    // reply fragments: first, then a later one
    send(dp, eth(4, ipPacket(4, "198.19.3.3", "198.19.2.1", udp(2000, 1000), { frag: { off: 0, more: true }, id: 99 })), WAN);
    const rlater = send(dp, eth(4, ipPacket(4, "198.19.3.3", "198.19.2.1", udp(0, 0), { frag: { off: 16, more: false }, id: 99, rawL4: [1, 1, 1, 1, 1, 1, 1, 1] })), WAN);
    return { dp, first, later, rlater };
  }
  test("later fragments follow the first, both directions", () => {
    const { first, later, rlater } = fragFlow();
    expect([first.rc, later.rc, rlater.rc]).toEqual([DP_FORWARD, DP_FORWARD, DP_FORWARD]);
    bytesEq(later.out, 26, ip4("198.19.2.1"));
    bytesEq(rlater.out, 30, ip4("198.18.1.10"));
    expect(checksumsValid(rlater.out)).toBe(true);
  });
  test("a later fragment without its first: fragment_no_session", () => {
    const dp = new Dataplane(natScenario());
    const r = send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", udp(0, 0), { frag: { off: 16, more: false }, id: 3, rawL4: [0, 0, 0, 0, 0, 0, 0, 0] })), LAN);
    expect(r.reason).toBe(R.fragment_no_session);
  });
  test("bug fragmentsLoseSession: a fragmented reply's later fragment is not translated", () => {
    const run = (bugs: Record<string, boolean>) => {
      const dp = new Dataplane(natScenario({}, bugs));
      send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", udp(1000, 2000))), LAN);
      send(dp, eth(4, ipPacket(4, "198.19.3.3", "198.19.2.1", udp(2000, 1000), { frag: { off: 0, more: true }, id: 99 })), WAN);
      return send(dp, eth(4, ipPacket(4, "198.19.3.3", "198.19.2.1", udp(0, 0), { frag: { off: 16, more: false }, id: 99, rawL4: [1, 1, 1, 1, 1, 1, 1, 1] })), WAN).rc;
    };
    expect(run({})).toBe(DP_FORWARD);
    expect(run({ fragmentsLoseSession: true })).not.toBe(DP_FORWARD);
  });
});

let lastWhy = "";
function why(s: string): boolean {
  lastWhy = s;
  return false;
}
export function lastViolation(): string {
  return lastWhy;
}

/** Random traffic through SNAT: invariants judged from outputs and the session table. */
function trafficProperty(bugs: Record<string, boolean>, numRuns = 80) {
  const pkt = fc.record({
    host: fc.integer({ min: 10, max: 13 }), port: fc.constantFrom(1000, 1001, 700), dst: fc.integer({ min: 3, max: 4 }),
    proto: fc.constantFrom("udp" as const, "tcp" as const, "icmp" as const), rst: fc.boolean(), dt: fc.integer({ min: 0, max: 3 * S }),
  });
  return fc.property(fc.array(pkt, { minLength: 1, maxLength: 30 }), (pkts) => {
    const dp = new Dataplane(natScenario({}, bugs));
    let t = 0;
    for (const p of pkts) {
      t += p.dt;
      const l4: L4 = { proto: p.proto, sport: p.port, dport: 2000, flags: p.proto === "tcp" && p.rst ? 0x04 : 0x02 };
      const dst = `198.19.3.${p.dst}`;
      // is the original port free (no live session already uses the reply tuple with it)?
      const st = dp.nat.sessions;
      const protoN = p.proto === "udp" ? 17 : p.proto === "tcp" ? 6 : 1;
      const portFree = !st.liveIds().some((s) => {
        const b = s * 10, rk = st.reply;
        return ((rk[b + 9]! >>> 8) & 255) === protoN && rk[b]! === ((198 << 24 | 19 << 16 | 3 << 8 | p.dst) >>> 0) &&
          (protoN === 1 ? (rk[b + 8]! >>> 16) === p.port : (rk[b + 8]! & 0xffff) === p.port && (rk[b + 8]! >>> 16) === 2000);
      });
      const fwd = send(dp, eth(4, ipPacket(4, `198.18.1.${p.host}`, dst, l4)), LAN, t);
      if (fwd.rc !== DP_FORWARD) continue;
      if (!checksumsValid(fwd.out)) return why("fwd csum");
      const sport = be16(fwd.out, 34 + (p.proto === "icmp" ? 4 : 0));
      if (fwd.kind === LK_NEW && portFree && sport !== p.port) return why("port not kept"); // port kept when free
      // the far host answers; the reply must come back restored exactly
      const out = new Uint8Array(256);
      const n = reflect(fwd.out, 0, fwd.out.length, out);
      if (n === 0) continue;
      const back = send(dp, out.slice(0, n), WAN, t + 1);
      if (back.rc !== DP_FORWARD && back.rc !== DP_HOLD) return why(`reply rc ${back.rc} reason ${back.reason}`);
      if (Array.from(back.out.subarray(30, 34)).join() !== ip4(`198.18.1.${p.host}`).join()) return why("reply address");
      const bp = be16(back.out, 34 + (p.proto === "icmp" ? 4 : 2));
      if (bp !== p.port || !checksumsValid(back.out)) return why("reply port/csum");
      if (indexViolation(dp) !== null) return why(indexViolation(dp)!);
    }
    dp.expireSessions(t + 1000 * S);
    return indexViolation(dp) === null && dp.nat.sessions.wire.count === 0;
  });
}

describe("properties over random SNAT traffic", () => {
  test("healthy: unique reply tuples, ports kept when free, replies restored, no dangling index entries", () => {
    const r = fc.check(trafficProperty({}), { numRuns: 100 });
    expect(r.failed ? `${lastWhy} ${JSON.stringify(r.counterexample)}` : "").toBe("");
  });
  test.each(["snatPortCollision", "noReverseIndex", "reverseIndexOverwrite", "replyMissGoesToKernel", "signFlippedDelta", "tupleFromMutatedFrame", "portsFromStaleFrame"])("bug %s is caught", (bug) => {
    expect(fc.check(trafficProperty({ [bug]: true }), { numRuns: 300, seed: 7 }).failed).toBe(true);
  });
});

describe("switches with their own scenario", () => {
  test("portOnlyNatNoCsum: a port-only DNAT leaves a bad checksum", () => {
    const mk = (bugs: Record<string, boolean>) => new Dataplane(natScenario({ nat: { dnat: [{ ingress: "lan", proto: "udp", dst: "198.19.3.3", port: 2000, toPort: 3000, to: "198.19.3.3" }] } }, bugs));
    const f = () => eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", udp(1000, 2000)));
    const ok = send(mk({}), f(), LAN);
    expect(be16(ok.out, 36)).toBe(3000);
    expect(checksumsValid(ok.out)).toBe(true);
    expect(checksumsValid(send(mk({ portOnlyNatNoCsum: true }), f(), LAN).out)).toBe(false);
  });
  test("partialCsumAsFull: a CHECKSUM_PARTIAL frame under generic XDP", () => {
    const run = (bugs: Record<string, boolean>) => {
      const dp = new Dataplane(natScenario({ dataplane: { attach: "generic" } }, bugs));
      const ip = ipPacket(4, "198.18.1.10", "198.19.3.3", udp(1000, 2000));
      // partial: the field holds the uncomplemented pseudo-header sum only
      const c = (~inetChecksum([...ip.slice(12, 20), 0, 17, 0, ip.length - 20]) & 0xffff);
      ip[26] = c >> 8; ip[27] = c & 255;
      dp.nat.csumPartial = true;
      return send(dp, eth(4, ip), LAN).out;
    };
    expect(checksumsValid(run({}))).toBe(true);
    expect(checksumsValid(run({ partialCsumAsFull: true }))).toBe(false);
  });
  test("ignoreMtu: an over-MTU frame is sent instead of answered", () => {
    const big = eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", { ...udp(1, 2), payload: new Array(1450).fill(0) }));
    expect(send(new Dataplane(natScenario()), big, LAN).rc).toBe(DP_ICMP_ERROR);
    expect(send(new Dataplane(natScenario({}, { ignoreMtu: true })), big, LAN).rc).toBe(DP_FORWARD);
  });
  test("sessionAfterNeighbor: the session exists before the neighbour resolves", () => {
    const run = (bugs: Record<string, boolean>) => {
      const dp = new Dataplane(natScenario({}, bugs));
      const f = send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.2.7", { proto: "tcp", sport: 1000, dport: 80, flags: 0x02 })), LAN);
      expect(f.rc).toBe(DP_HOLD);
      return send(dp, eth(4, ipPacket(4, "198.19.2.7", "198.19.2.1", { proto: "tcp", sport: 80, dport: 1000, flags: 0x12 })), WAN);
    };
    expect(run({}).kind).toBe(LK_NAT_REVERSE_HIT);
    expect(run({ sessionAfterNeighbor: true }).rc).toBe(DP_KERNEL);
  });
  test("tupleFromMutatedFrame: the second packet of a flow misses", () => {
    const run = (bugs: Record<string, boolean>) => {
      const dp = new Dataplane(natScenario({}, bugs));
      send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", udp(1000, 2000))), LAN);
      return send(dp, eth(4, ipPacket(4, "198.18.1.10", "198.19.3.3", udp(1000, 2000))), LAN).kind;
    };
    expect(run({})).toBe(LK_SESSION_HIT);
    expect(run({ tupleFromMutatedFrame: true })).toBe(LK_NEW);
  });
});

describe("responder", () => {
  test("TCP SYN → SYN-ACK with ack = seq+1; UDP echoes the payload; checksums valid", () => {
    const syn = eth(4, ipPacket(4, "198.19.2.1", "198.19.3.3", { proto: "tcp", sport: 1000, dport: 80, flags: 0x02, seq: 41, payload: [] }));
    const out = new Uint8Array(200);
    const n = reflect(syn, 0, syn.length, out);
    expect(n).toBe(54);
    const r = out.subarray(0, n);
    bytesEq(r, 26, [...ip4("198.19.3.3"), ...ip4("198.19.2.1")]);
    expect([be16(r, 34), be16(r, 36), r[47]]).toEqual([80, 1000, 0x12]);
    expect((r[42]! << 24 | r[43]! << 16 | r[44]! << 8 | r[45]!) >>> 0).toBe(42);
    expect(checksumsValid(r)).toBe(true);
    const u = eth(6, ipPacket(6, "2001:2:0:2::1", "2001:2:0:3::3", udp(5, 6)));
    const m = reflect(u, 0, u.length, out);
    expect(Array.from(out.subarray(14, m))).toEqual(ipPacket(6, "2001:2:0:3::3", "2001:2:0:2::1", udp(6, 5)));
    const rst = eth(4, ipPacket(4, "198.19.2.1", "198.19.3.3", { proto: "tcp", sport: 1, dport: 2, flags: 0x04 }));
    expect(reflect(rst, 0, rst.length, out)).toBe(0);
  });
});
