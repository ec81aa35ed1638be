// Writer → reader round trips (fast-check), tshark reading what we write, and a
// hand-built pcapng exercising what our writer never emits: a big-endian second
// section, power-of-2 and power-of-10 if_tsresol, if_tsoffset, SPB, the obsolete
// Packet Block and an unknown block. Expected values there are computed by hand.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT } from "../cli.js";

const { CaptureReader } = await import(path.join(ROOT, "dist/capture/reader.js"));
const { PcapngWriter, PcapWriter, memorySink } = await import(path.join(ROOT, "dist/capture/encode.js"));
const { fileSink } = await import(path.join(ROOT, "dist/capture/file.js"));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "xdplab-rt-"));
});

interface Got { ifId: number; sec: number; nsec: number; bytes: number[]; origLen: number; comment: string | null; linkType: number }
function readAll(file: string): { recs: Got[]; rd: InstanceType<typeof CaptureReader> } {
  const rd = CaptureReader.open(file, { windowBytes: 4096 });
  const recs: Got[] = [];
  while (rd.next())
    recs.push({ ifId: rd.ifId, sec: rd.tsSec, nsec: rd.tsNsec, bytes: [...rd.data.subarray(rd.offset, rd.offset + rd.caplen)], origLen: rd.origLen, comment: rd.comment, linkType: rd.linkType });
  return { recs, rd };
}

const NS = 1_000_000_000n;
// pcapng timestamps go past 2106 (33-bit seconds); classic pcap stops at 32 bits
const arbPacket = (nIf: number, maxSecBits = 33n) =>
  fc.record({
    ifId: fc.integer({ min: 0, max: nIf - 1 }),
    ts: fc.bigInt({ min: 0n, max: (1n << maxSecBits) * NS - 1n }),
    data: fc.uint8Array({ minLength: 0, maxLength: 1600 }),
    extra: fc.integer({ min: 0, max: 100 }),
    comment: fc.option(fc.string({ unit: "grapheme", maxLength: 40 }), { nil: null }),
  });

describe("pcapng writer → reader", () => {
  it("several interfaces, comments, ns timestamps (property)", () => {
    const arb = fc.integer({ min: 1, max: 4 }).chain((nIf) =>
      fc.tuple(fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom(1, 101, 113, 276)), { minLength: nIf, maxLength: nIf }), fc.array(arbPacket(nIf), { maxLength: 30 })),
    );
    let n = 0;
    fc.assert(
      fc.property(arb, ([ifs, pkts]) => {
        const sink = memorySink();
        const w = new PcapngWriter(sink);
        ifs.forEach(([name, lt]) => w.addInterface(name, lt));
        for (const p of pkts) w.writePacket(p.ifId, p.ts, p.data, 0, p.data.length, p.data.length + p.extra, p.comment);
        w.close();
        const f = path.join(dir, `rt${n++ % 4}.pcapng`);
        writeFileSync(f, sink.bytes());
        const { recs, rd } = readAll(f);
        expect(rd.format).toBe("pcapng");
        expect(rd.interfaces.map((i: { name: string; linkType: number; tsResolNs: number }) => [i.name, i.linkType, i.tsResolNs])).toEqual(ifs.map(([nm, lt]) => [nm, lt, 1]));
        expect(recs).toEqual(
          pkts.map((p) => ({
            ifId: p.ifId,
            sec: Number(p.ts / NS),
            nsec: Number(p.ts % NS),
            bytes: [...p.data],
            origLen: p.data.length + p.extra,
            comment: p.comment === null || p.comment === "" ? null : p.comment,
            linkType: ifs[p.ifId]![1],
          })),
        );
        expect(rd.truncatedAt).toBeNull();
      }),
      { seed: 7, numRuns: 150 },
    );
  });
});

describe("classic pcap writer → reader", () => {
  it("ns and µs files (property)", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(arbPacket(1, 32n), { maxLength: 30 }), (nanos, pkts) => {
        const sink = memorySink();
        const w = new PcapWriter(sink, 1, { nanos });
        for (const p of pkts) w.writePacket(p.ts, p.data, 0, p.data.length, p.data.length + p.extra);
        w.close();
        const f = path.join(dir, "rt.pcap");
        writeFileSync(f, sink.bytes());
        const { recs } = readAll(f);
        expect(recs).toEqual(
          pkts.map((p) => {
            const sub = Number(p.ts % NS);
            return { ifId: 0, sec: Number(p.ts / NS), nsec: nanos ? sub : Math.floor(sub / 1000) * 1000, bytes: [...p.data], origLen: p.data.length + p.extra, comment: null, linkType: 1 };
          }),
        );
      }),
      { seed: 11, numRuns: 150 },
    );
  });
});

describe("tshark reads what we write", () => {
  it("pcapng: count, interface names, comments, ns times", () => {
    const f = path.join(dir, "tshark.pcapng");
    const w = new PcapngWriter(fileSink(f));
    const lan = w.addInterface("lan", 1);
    const wan = w.addInterface("wan", 1);
    const frame = new Uint8Array(60);
    frame.set([2, 0, 0, 0, 1, 1, 2, 0, 0, 0, 2, 1, 0x08, 0x00], 0);
    w.writePacket(lan, 1_700_000_000_123_456_789n, frame, 0, 60, 60, "first one");
    w.writePacket(wan, 1_700_000_001_000_000_001n, frame, 0, 60, 60, null);
    w.writePacket(lan, 1_700_000_002_999_999_999n, frame, 0, 42, 60, "drop: fill_empty ✓");
    w.close();
    const out = execFileSync("tshark", ["-r", f, "-T", "fields", "-E", "separator=|", "-e", "frame.interface_name", "-e", "frame.time_epoch", "-e", "frame.cap_len", "-e", "frame.len", "-e", "frame.comment"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    expect(out.trim().split("\n")).toEqual([
      "lan|1700000000.123456789|60|60|first one",
      "wan|1700000001.000000001|60|60|",
      "lan|1700000002.999999999|42|60|drop: fill_empty ✓",
    ]);
  });

  it("classic ns pcap: count and ns times", () => {
    const f = path.join(dir, "tshark.pcap");
    const w = new PcapWriter(fileSink(f), 1);
    const frame = new Uint8Array(64);
    w.writePacket(5_000_000_007n, frame, 0, 64);
    w.writePacket(6_000_000_000n, frame, 0, 64);
    w.close();
    const out = execFileSync("tshark", ["-r", f, "-T", "fields", "-e", "frame.time_epoch"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    expect(out.trim().split("\n")).toEqual(["5.000000007", "6.000000000"]);
  });
});

// --- hand-built pcapng ---------------------------------------------------------

/** One block in the given byte order: type, total length, body (padded), trailer. */
function block(le: boolean, type: number, body: Buffer): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const total = 12 + padded.length;
  const h = Buffer.alloc(8);
  const t = Buffer.alloc(4);
  if (le) (h.writeUInt32LE(type, 0), h.writeUInt32LE(total, 4), t.writeUInt32LE(total, 0));
  else (h.writeUInt32BE(type, 0), h.writeUInt32BE(total, 4), t.writeUInt32BE(total, 0));
  return Buffer.concat([h, padded, t]);
}
function u32(le: boolean, ...v: number[]): Buffer {
  const b = Buffer.alloc(4 * v.length);
  v.forEach((x, i) => (le ? b.writeUInt32LE(x, 4 * i) : b.writeUInt32BE(x, 4 * i)));
  return b;
}
function u16(le: boolean, ...v: number[]): Buffer {
  const b = Buffer.alloc(2 * v.length);
  v.forEach((x, i) => (le ? b.writeUInt16LE(x, 2 * i) : b.writeUInt16BE(x, 2 * i)));
  return b;
}
function opt(le: boolean, code: number, value: Buffer): Buffer {
  return Buffer.concat([u16(le, code, value.length), value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}
const END = (le: boolean) => u16(le, 0, 0);

describe("hand-built multi-section pcapng", () => {
  it("reads sections, byte orders, tsresol forms, tsoffset, SPB, PB and skips unknown blocks", () => {
    const L = true;
    const B = false;
    const shb = (le: boolean) => block(le, 0x0a0d0d0a, Buffer.concat([u32(le, 0x1a2b3c4d), u16(le, 1, 0), u32(le, 0xffffffff, 0xffffffff)]));
    const parts = [
      shb(L),
      // if0: µs default, name "eth0"; if1: tsresol 2^-10 s (0x8a), if_tsoffset 100 s
      block(L, 1, Buffer.concat([u16(L, 1, 0), u32(L, 96), opt(L, 2, Buffer.from("eth0")), END(L)])),
      block(L, 1, Buffer.concat([u16(L, 113, 0), u32(L, 0), opt(L, 9, Buffer.from([0x8a])), opt(L, 14, Buffer.concat([u32(L, 100), u32(L, 0)])), END(L)])),
      // EPB on if1: ticks 3·1024 + 512 → 3.5 s + 100 s offset
      block(L, 6, Buffer.concat([u32(L, 1, 0, 3 * 1024 + 512, 3, 5), Buffer.from([1, 2, 3]), Buffer.alloc(1), opt(L, 1, Buffer.from("hi")), END(L)])),
      block(L, 0x0bad, Buffer.from("unknown block body")),
      // SPB on if0: original 200 bytes, snaplen 96 → 96 captured
      block(L, 3, Buffer.concat([u32(L, 200), Buffer.alloc(96, 0xab)])),
      // section 2, big-endian: if0 with tsresol 10^-9, if_name "be0"
      shb(B),
      block(B, 1, Buffer.concat([u16(B, 276, 0), u32(B, 0), opt(B, 2, Buffer.from("be0")), opt(B, 9, Buffer.from([9])), END(B)])),
      // EPB: ticks = 0x00000001_00000005 ns = 4294967301 ns = 4 s 294967301 ns
      block(B, 6, Buffer.concat([u32(B, 0, 1, 5, 4, 4), Buffer.from([9, 8, 7, 6])])),
      // obsolete Packet Block: if 0, drops 0, ticks 2e9+1 ns
      block(B, 2, Buffer.concat([u16(B, 0, 0), u32(B, 0, 2_000_000_001, 2, 2), Buffer.from([5, 5])])),
    ];
    const f = path.join(dir, "hand.pcapng");
    writeFileSync(f, Buffer.concat(parts));
    const { recs, rd } = readAll(f);
    expect(rd.interfaces).toEqual([
      { id: 0, linkType: 1, snaplen: 96, name: "eth0", tsResolNs: 1000, section: 0 },
      { id: 1, linkType: 113, snaplen: 0, name: null, tsResolNs: 1e9 / 1024, section: 0 },
      { id: 2, linkType: 276, snaplen: 0, name: "be0", tsResolNs: 1, section: 1 },
    ]);
    expect(recs).toEqual([
      { ifId: 1, sec: 103, nsec: 500_000_000, bytes: [1, 2, 3], origLen: 5, comment: "hi", linkType: 113 },
      { ifId: 0, sec: 0, nsec: 0, bytes: new Array(96).fill(0xab), origLen: 200, comment: null, linkType: 1 },
      { ifId: 2, sec: 4, nsec: 294_967_301, bytes: [9, 8, 7, 6], origLen: 4, comment: null, linkType: 276 },
      { ifId: 2, sec: 2, nsec: 1, bytes: [5, 5], origLen: 2, comment: null, linkType: 276 },
    ]);
    expect(rd.truncatedAt).toBeNull();
  });
});
