// Damaged captures (DESIGN §4.4): every prefix of a few files, seeded random bit flips,
// and the CLI's exit codes. Expected record counts and break offsets come from the
// test-side walk (walk.ts) over the intact file.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CORPUS, ROOT, xdplab } from "../cli.js";
import { walkUnits } from "./walk.js";

const { CaptureReader } = await import(path.join(ROOT, "dist/capture/reader.js"));
const { InputError } = await import(path.join(ROOT, "dist/sim/errors.js"));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "xdplab-damaged-"));
});

type Outcome = { kind: "ok"; packets: number; truncatedAt: number | null } | { kind: "input"; where: unknown; message: string };

function read(file: string, windowBytes?: number): Outcome & { maxWindow?: number } {
  let rd;
  try {
    rd = CaptureReader.open(file, windowBytes === undefined ? {} : { windowBytes });
    let n = 0;
    let maxWindow = rd.windowBytes;
    while (rd.next()) {
      n++;
      maxWindow = Math.max(maxWindow, rd.windowBytes);
    }
    return { kind: "ok", packets: n, truncatedAt: rd.truncatedAt, maxWindow };
  } catch (err) {
    if (err instanceof InputError) return { kind: "input", where: err.where, message: err.message };
    throw err;
  } finally {
    rd?.close();
  }
}

const SMALL = ["3560_CDP.pcap", "tcp-handshake-nano.pcap", "ahcp.pcapng", "bgp-role.pcapng", "pptp.pcap"];

describe("truncation at every offset", () => {
  for (const name of SMALL) {
    it(name, () => {
      const whole = readFileSync(path.join(CORPUS, name));
      const { headerEnd, units } = walkUnits(whole);
      expect(units.filter((u) => u.packet).length).toBeGreaterThan(1);
      const cut = path.join(dir, `cut-${name}`);
      // a small window forces the streaming path (compaction, refills) on these small files
      for (let c = 0; c < whole.length; c++) {
        writeFileSync(cut, whole.subarray(0, c));
        const got = read(cut, 4096);
        if (c < headerEnd) {
          expect(got.kind, `cut at ${c}`).toBe("input");
          continue;
        }
        const complete = units.filter((u) => u.packet && u.end <= c).length;
        const broken = units.find((u) => u.start < c && u.end > c);
        expect(got, `cut at ${c}`).toMatchObject({ kind: "ok", packets: complete, truncatedAt: broken === undefined ? null : broken.start });
      }
    });
  }
});

describe("random bit flips never crash, hang or blow up memory", () => {
  for (const name of ["3560_CDP.pcap", "ospf3_auth.pcapng", "tcp-handshake-nano.pcap"]) {
    it(name, () => {
      const whole = readFileSync(path.join(CORPUS, name));
      const { units } = walkUnits(whole);
      // flip bits in the file header and in record/block headers, where structure lives
      const headerBytes: number[] = [];
      for (let i = 0; i < Math.min(24, whole.length); i++) headerBytes.push(i);
      for (const u of units) for (let i = u.start; i < Math.min(u.start + 32, u.end); i++) headerBytes.push(i);
      const target = path.join(dir, `flip-${name}`);
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.constantFrom(...headerBytes), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 6 }), (flips) => {
          const b = Buffer.from(whole);
          for (const [at, bit] of flips) b[at]! ^= 1 << bit;
          writeFileSync(target, b);
          const got = read(target);
          if (got.kind === "ok") {
            expect(got.maxWindow!).toBeLessThanOrEqual(4 * 1024 * 1024);
            expect(got.packets).toBeLessThanOrEqual(whole.length / 12);
          } else expect(typeof got.where === "number" || got.where === null).toBe(true);
        }),
        { seed: 20240601, numRuns: 400 },
      );
    });
  }
});

describe("CLI on damaged files", () => {
  it("a mid-record cut: exit 0, truncatedAt in --json, warning naming the offset", () => {
    const whole = readFileSync(path.join(CORPUS, "3560_CDP.pcap"));
    const { units } = walkUnits(whole);
    const second = units[1]!;
    const f = path.join(dir, "mid.pcap");
    writeFileSync(f, whole.subarray(0, second.start + 20));
    const r = xdplab(["inspect", f, "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.packets).toBe(1);
    expect(j.truncatedAt).toBe(second.start);
    expect(r.stderr).toContain(String(second.start));
  });

  it("a bad magic: exit 2 naming file and offset 0, no stack trace", () => {
    const f = path.join(dir, "badmagic.pcap");
    const b = Buffer.from(readFileSync(path.join(CORPUS, "3560_CDP.pcap")));
    b.writeUInt32LE(0xdeadbeef, 0);
    writeFileSync(f, b);
    const r = xdplab(["inspect", f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(f);
    expect(r.stderr).toContain("byte offset 0");
    expect(r.stderr).toContain("deadbeef".match(/../g)!.reverse().join(""));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("an impossible pcapng block length: exit 2 naming the offset of the length field", () => {
    const whole = Buffer.from(readFileSync(path.join(CORPUS, "ospf3_auth.pcapng")));
    const { units } = walkUnits(whole);
    const blk = units[2]!; // a block after the SHB and the IDB
    whole.writeUInt32LE(13, blk.start + 4); // not a multiple of 4
    const f = path.join(dir, "badlen.pcapng");
    writeFileSync(f, whole);
    const r = xdplab(["inspect", f, "--json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(f);
    expect(r.stderr).toContain(`byte offset ${blk.start + 4}`);
    expect(r.stderr).toContain("found 13");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("an empty file and a file shorter than the header: exit 2", () => {
    const e = path.join(dir, "empty.pcap");
    writeFileSync(e, Buffer.alloc(0));
    const r1 = xdplab(["inspect", e]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain("empty");
    const s = path.join(dir, "short.pcap");
    writeFileSync(s, readFileSync(path.join(CORPUS, "3560_CDP.pcap")).subarray(0, 10));
    const r2 = xdplab(["inspect", s]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain("24-byte pcap header");
  });

  it("a missing file: exit 2", () => {
    const r = xdplab(["inspect", path.join(dir, "nope.pcap")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no such file");
  });
});
