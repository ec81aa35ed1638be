// The C responder (xdplab-pktio reflect / reflect-file) against the model's `reflect`
// (sim/dataplane/responder.ts): the same reply bytes, or no reply, for every frame — a
// hand-written table of the cases reflect distinguishes, with the expected outcome
// written down independently, and a few thousand generated frames with damaged headers.
// Offline: needs the helper built (gcc), not root.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { reflect, reflectIsn } from "../../sim/dataplane/responder.js";
import { buildFrame, ethWrap } from "../../sim/packet/build.js";
import type { FrameSpec } from "../../sim/packet/build.js";
import { reflectOffline } from "../../live/responder.js";
import { buildPktio } from "./helpers.js";

const hex = (u: Uint8Array | null): string | null => (u === null ? null : Buffer.from(u).toString("hex"));

function tsReflect(f: Uint8Array, frameSize = 4096): Uint8Array | null {
  const out = new Uint8Array(frameSize);
  const n = reflect(f, 0, f.length, out);
  return n > 0 ? out.slice(0, n) : null;
}

const V4 = { version: 4 as const, src: "198.18.0.1", dst: "198.19.0.9" };
const V6 = { version: 6 as const, src: "2001:db8::1", dst: "2001:db8:1::9" };
const ETH = { src: "02:00:00:00:01:01", dst: "02:58:4c:ff:00:00" };
const pay = (n: number, seed = 7): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

function frame(s: Omit<FrameSpec, "eth">): Uint8Array {
  return buildFrame({ eth: ETH, ...s });
}

/** UDP over IPv4 with the checksum field cleared ("none"). */
function udpNoCsum(): Uint8Array {
  const f = frame({ ip: V4, udp: { sport: 5353, dport: 53 }, payload: pay(11) });
  f[14 + 20 + 6] = 0;
  f[14 + 20 + 7] = 0;
  return f;
}

/** A frame padded with trailing bytes past the IP length (as a 60-byte minimum frame). */
function padded(f: Uint8Array, to: number): Uint8Array {
  const p = new Uint8Array(Math.max(to, f.length));
  p.set(f);
  p.fill(0xee, f.length);
  return p;
}

/** A UDP request whose reply's checksum computes to 0 (sent as 0xffff): the first two
 *  payload bytes are set to the checksum the reply has with them zero, which makes the
 *  one's-complement sum of the reply 0xffff. */
function udpReplySumsToZero(ip: typeof V4 | typeof V6): Uint8Array {
  const p = pay(10);
  p[0] = 0;
  p[1] = 0;
  const f = frame({ ip, udp: { sport: 4242, dport: 2424 }, payload: p });
  const r = tsReflect(f);
  if (r === null) throw new Error("test frame not answered");
  const l4 = 14 + (ip.version === 4 ? 20 : 40);
  const c0 = ((r[l4 + 6] as number) << 8) | (r[l4 + 7] as number);
  p[0] = c0 >>> 8;
  p[1] = c0 & 0xff;
  const g = frame({ ip, udp: { sport: 4242, dport: 2424 }, payload: p });
  const r2 = tsReflect(g);
  if (r2 === null || r2[l4 + 6] !== 0xff || r2[l4 + 7] !== 0xff) throw new Error("construction of the 0-checksum case failed");
  return g;
}

const ARP = Uint8Array.from([
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 1, 1, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 1, 1, 198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 198, 18, 0, 2,
  ...new Array<number>(18).fill(0),
]);

// [name, frame, answered?, frameSize]
const TABLE: Array<[string, Uint8Array, boolean, number?]> = [
  ["v4 TCP SYN", frame({ ip: V4, tcp: { sport: 40000, dport: 80, seq: 1000, flags: "S" } }), true],
  ["v4 TCP SYN with options and data", frame({ ip: V4, tcp: { sport: 1, dport: 2, seq: 0xfffffff0, flags: "S", options: Uint8Array.of(2, 4, 5, 0xb4) }, payload: pay(30) }), true],
  ["v4 TCP SYN+FIN", frame({ ip: V4, tcp: { sport: 1, dport: 2, seq: 5, flags: "SF" } }), true],
  ["v4 TCP SYN-ACK", frame({ ip: V4, tcp: { sport: 80, dport: 40000, seq: 1, ack: 2, flags: "SA" } }), false],
  ["v4 TCP bare ACK", frame({ ip: V4, tcp: { sport: 1, dport: 2, seq: 1, ack: 2, flags: "A" } }), false],
  ["v4 TCP bare ACK padded to 60", padded(frame({ ip: V4, tcp: { sport: 1, dport: 2, seq: 1, ack: 2, flags: "A" } }), 60), false],
  ["v4 TCP data", frame({ ip: V4, tcp: { sport: 40000, dport: 80, seq: 0xffffff00, ack: 77, flags: "PA" }, payload: pay(700) }), true],
  ["v4 TCP data, odd length, DF, TOS, options", frame({ ip: { ...V4, df: true, tos: 0x2e, options: Uint8Array.of(1, 1, 1, 0), id: 0xbeef }, tcp: { sport: 3, dport: 4, seq: 9, ack: 10, flags: "A" }, payload: pay(13) }), true],
  ["v4 TCP FIN", frame({ ip: V4, tcp: { sport: 40000, dport: 80, seq: 5, ack: 6, flags: "FA" } }), true],
  ["v4 TCP FIN with data", frame({ ip: V4, tcp: { sport: 40000, dport: 80, seq: 5, ack: 6, flags: "FPA" }, payload: pay(9) }), true],
  ["v4 TCP RST", frame({ ip: V4, tcp: { sport: 40000, dport: 80, seq: 5, flags: "R" } }), false],
  ["v4 TCP RST+ACK with data", frame({ ip: V4, tcp: { sport: 40000, dport: 80, seq: 5, ack: 1, flags: "RA" }, payload: pay(4) }), false],
  ["v6 TCP SYN", frame({ ip: V6, tcp: { sport: 40000, dport: 443, seq: 0, flags: "S" } }), true],
  ["v6 TCP data", frame({ ip: V6, tcp: { sport: 40000, dport: 443, seq: 1, ack: 2, flags: "PA" }, payload: pay(1200) }), true],
  ["v6 TCP FIN", frame({ ip: V6, tcp: { sport: 40000, dport: 443, seq: 1, ack: 2, flags: "FA" } }), true],
  ["v6 TCP RST", frame({ ip: V6, tcp: { sport: 40000, dport: 443, seq: 1, flags: "R" } }), false],
  ["v4 UDP", frame({ ip: V4, udp: { sport: 5353, dport: 53 }, payload: pay(40) }), true],
  ["v4 UDP odd payload", frame({ ip: V4, udp: { sport: 1, dport: 2 }, payload: pay(3) }), true],
  ["v4 UDP empty payload, padded to 60", padded(frame({ ip: V4, udp: { sport: 1, dport: 2 } }), 60), true],
  ["v4 UDP without checksum", udpNoCsum(), true],
  ["v4 UDP whose reply checksum computes to 0", udpReplySumsToZero(V4), true],
  ["v6 UDP whose reply checksum computes to 0", udpReplySumsToZero(V6), true],
  ["v6 UDP", frame({ ip: V6, udp: { sport: 5353, dport: 53 }, payload: pay(57) }), true],
  ["v4 ICMP echo request", frame({ ip: V4, icmp: { type: 8, code: 0, id: 0x1234, seq: 1 }, payload: pay(56) }), true],
  ["v4 ICMP echo request, code 1", frame({ ip: V4, icmp: { type: 8, code: 1, id: 1, seq: 1 }, payload: pay(8) }), false],
  ["v4 ICMP echo reply", frame({ ip: V4, icmp: { type: 0, code: 0, id: 1, seq: 1 } }), false],
  ["v4 ICMP port unreachable", frame({ ip: V4, icmp: { type: 3, code: 3, quote: pay(28) } }), false],
  ["v6 ICMPv6 echo request", frame({ ip: V6, icmp: { type: 128, code: 0, id: 9, seq: 2 }, payload: pay(33) }), true],
  ["v6 ICMPv6 type 8 (v4's echo)", frame({ ip: V6, icmp: { type: 8, code: 0, id: 9, seq: 2 } }), false],
  ["v6 ICMPv6 neighbour solicitation", frame({ ip: V6, icmp: { type: 135, code: 0 }, payload: pay(20) }), false],
  ["v4 first fragment (MF)", frame({ ip: { ...V4, frag: { offset: 0, more: true } }, udp: { sport: 1, dport: 2 }, payload: pay(64) }), false],
  ["v4 later fragment", frame({ ip: { ...V4, frag: { offset: 64, more: false } }, payload: pay(16) }), false],
  ["v6 with hop-by-hop header", frame({ ip: { ...V6, ext: [{ type: "hop" }] }, udp: { sport: 1, dport: 2 }, payload: pay(8) }), false],
  ["v4 GRE (other protocol)", frame({ ip: { ...V4, proto: 47 }, payload: pay(24) }), false],
  ["802.1Q-tagged v4 TCP SYN", buildFrame({ eth: ETH, vlans: [{ vid: 100 }], ip: V4, tcp: { sport: 1, dport: 2, seq: 3, flags: "S" } }), false],
  ["ARP request", ARP, false],
  ["v4 IP length beyond the frame", frame({ ip: V4, udp: { sport: 1, dport: 2 }, payload: pay(40) }).slice(0, 60), false],
  ["frame shorter than Ethernet + 20", frame({ ip: V4, udp: { sport: 1, dport: 2 } }).slice(0, 33), false],
  ["v4 UDP 1472 B payload, reply fits 2048", frame({ ip: V4, udp: { sport: 1, dport: 2 }, payload: pay(1472) }), true, 2048],
  ["v4 UDP 3000 B payload, reply over 2048", frame({ ip: V4, udp: { sport: 1, dport: 2 }, payload: pay(3000) }), false, 2048],
  ["v6 UDP 8000 B payload, 16384 buffer", frame({ ip: V6, udp: { sport: 1, dport: 2 }, payload: pay(8000) }), true, 16384],
  ["ethertype 0x0800 carrying IPv6", ethWrap(frame({ ip: V6, udp: { sport: 1, dport: 2 } }).slice(14), 0x0800, ETH), false],
];

describe("C reflect (xdplab-pktio reflect-file) = model reflect", () => {
  beforeAll(() => buildPktio());

  it("gives the same reply, or none, on every case of the table", async () => {
    const sizes = [...new Set(TABLE.map((r) => r[3] ?? 4096))];
    for (const size of sizes) {
      const rows = TABLE.filter((r) => (r[3] ?? 4096) === size);
      const c = await reflectOffline(rows.map((r) => r[1]), size);
      rows.forEach(([name, f, answered], i) => {
        const ts = tsReflect(f, size);
        // The table's own expectation, so a case that both sides get wrong the same way shows too.
        expect({ name, answered: ts !== null }).toEqual({ name, answered });
        expect({ name, reply: hex(c[i] ?? null) }).toEqual({ name, reply: hex(ts) });
      });
    }
  });

  it("a SYN's reply carries the model's ISN and acknowledges the SYN", async () => {
    const seq = 0x89abcdef;
    const f = frame({ ip: V4, tcp: { sport: 40000, dport: 80, seq, flags: "S" } });
    const [r] = await reflectOffline([f]);
    expect(r).not.toBeNull();
    const v = new DataView((r as Uint8Array).buffer, (r as Uint8Array).byteOffset);
    expect(v.getUint32(14 + 20 + 4)).toBe(reflectIsn(seq));
    expect(v.getUint32(14 + 20 + 8)).toBe((seq + 1) >>> 0);
    expect(v.getUint8(14 + 20 + 13)).toBe(0x12);
  });

  it("agrees on 3000 generated frames with damaged headers, truncation and padding", async () => {
    const arb = fc.record({
      v6: fc.boolean(),
      kind: fc.constantFrom("tcp", "udp", "icmp", "other"),
      flags: fc.oneof(fc.constantFrom(0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x03), fc.integer({ min: 0, max: 255 })),
      seq: fc.integer({ min: 0, max: 0xffffffff }),
      ack: fc.integer({ min: 0, max: 0xffffffff }),
      icmpType: fc.constantFrom(0, 3, 8, 11, 128, 129, 135),
      icmpCode: fc.constantFrom(0, 0, 0, 1),
      payload: fc.uint8Array({ maxLength: 80 }),
      df: fc.boolean(),
      opts: fc.constantFrom(0, 0, 4, 8),
      frag: fc.constantFrom(null, null, null, { offset: 0, more: true }, { offset: 8, more: false }),
      noCsum: fc.boolean(),
      pokes: fc.array(fc.record({ at: fc.integer({ min: 0, max: 80 }), v: fc.integer({ min: 0, max: 255 }) }), { maxLength: 3 }),
      cut: fc.constantFrom(0, 0, 0, 1, 7, 30),
      pad: fc.constantFrom(0, 0, 4, 30),
    });
    const frames = fc.sample(arb, { seed: 0x7e57, numRuns: 3000 }).map((g) => {
      const ip = g.v6 ? { ...V6 } : { ...V4, df: g.df, id: g.seq & 0xffff, options: new Uint8Array(g.opts).fill(1) };
      const spec: FrameSpec = { eth: ETH, ip: g.frag ? { ...ip, frag: g.frag } : ip, payload: g.payload };
      if (g.kind === "tcp") spec.tcp = { sport: 1000 + (g.seq & 0xff), dport: 80, seq: g.seq, ack: g.ack, flags: g.flags };
      else if (g.kind === "udp") spec.udp = { sport: 53, dport: g.ack & 0xffff };
      else if (g.kind === "icmp") spec.icmp = { type: g.icmpType, code: g.icmpCode, id: 1, seq: 2 };
      else spec.ip.proto = g.seq & 0xff;
      let f = buildFrame(spec);
      const l4 = 14 + (g.v6 ? 40 : 20 + g.opts);
      if (g.kind === "udp" && g.noCsum && !g.v6 && f.length >= l4 + 8) f.fill(0, l4 + 6, l4 + 8);
      for (const p of g.pokes) if (p.at < f.length) f[p.at] = p.v;
      if (g.cut > 0) f = f.slice(0, Math.max(0, f.length - g.cut));
      if (g.pad > 0) f = padded(f, f.length + g.pad);
      return f;
    });
    const c = await reflectOffline(frames);
    let answered = 0;
    const diffs: number[] = [];
    frames.forEach((f, i) => {
      const ts = tsReflect(f);
      if (ts !== null) answered++;
      if (hex(ts) !== hex(c[i] ?? null)) diffs.push(i);
    });
    expect(diffs.slice(0, 10).map((i) => ({ i, frame: hex(frames[i] ?? null), c: hex(c[i] ?? null), ts: hex(tsReflect(frames[i] as Uint8Array)) }))).toEqual([]);
    // Not vacuous: a good share is answered, and a good share is not.
    expect(answered).toBeGreaterThan(250);
    expect(answered).toBeLessThan(2750);
  });

  it("bad input to reflect-file: a clear error, exit 2", async () => {
    const { execFileSync } = await import("node:child_process");
    const { pktioPath } = await import("../../live/pktio.js");
    let err: { status?: number; stderr?: Buffer } = {};
    try {
      execFileSync(pktioPath(), ["reflect-file", "--in", "/nonexistent/in.pcap", "--out", "/dev/null"], { stdio: "pipe" });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.status).toBe(2);
    expect(String(err.stderr)).toMatch(/cannot open \/nonexistent\/in\.pcap/);
  });
});
