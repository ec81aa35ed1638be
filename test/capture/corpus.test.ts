// Every file of the tcpdump regression corpus is read with the right record count and
// earliest/latest timestamps. Oracles: capinfos (one batched run over the corpus) where
// Wireshark knows the link type; for the rest, an independent structural walk written
// here over the whole file with Buffer accessors (not the streaming reader's code).
import { describe, it, expect, beforeAll } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { CORPUS, ROOT } from "../cli.js";

const { CaptureReader, summarizeCapture } = await import(path.join(ROOT, "dist/capture/reader.js"));

const files = readdirSync(CORPUS).filter((f) => !f.endsWith(".md")).sort();

/** Counts records by walking headers: classic pcap record headers, pcapng EPB/SPB/PB blocks. */
function walkCount(buf: Buffer): number {
  const m = buf.toString("hex", 0, 4);
  if (m === "0a0d0d0a") {
    let n = 0;
    let le = true;
    let at = 0;
    while (at < buf.length) {
      if (buf.toString("hex", at, at + 4) === "0a0d0d0a") le = buf.toString("hex", at + 8, at + 12) === "4d3c2b1a";
      const type = le ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
      const len = le ? buf.readUInt32LE(at + 4) : buf.readUInt32BE(at + 4);
      if (type === 2 || type === 3 || type === 6) n++;
      at += len;
    }
    return n;
  }
  const le = m === "d4c3b2a1" || m === "4d3cb2a1";
  let n = 0;
  for (let at = 24; at < buf.length; n++) at += 16 + (le ? buf.readUInt32LE(at + 8) : buf.readUInt32BE(at + 8));
  return n;
}

/** A classic file with a µs field ≥ 1e6 or a ns field ≥ 1e9 in some record header. */
function subsecondOutOfRange(buf: Buffer): boolean {
  const m = buf.toString("hex", 0, 4);
  if (m === "0a0d0d0a") return false;
  const le = m === "d4c3b2a1" || m === "4d3cb2a1";
  const limit = m === "4d3cb2a1" || m === "a1b23c4d" ? 1e9 : 1e6;
  for (let at = 24; at + 16 <= buf.length; at += 16 + (le ? buf.readUInt32LE(at + 8) : buf.readUInt32BE(at + 8)))
    if ((le ? buf.readUInt32LE(at + 4) : buf.readUInt32BE(at + 4)) >= limit) return true;
  return false;
}

interface CapRow { count: number; earliest: string; latest: string }
const capinfos = new Map<string, CapRow>();

beforeAll(() => {
  // One capinfos process for all files: -T table, -r no header, -c count, -a/-e
  // earliest/latest, -S epoch seconds. It exits non-zero for the files it cannot read.
  const r = spawnSync("capinfos", ["-T", "-r", "-E", "-c", "-a", "-e", "-S", ...files], { cwd: CORPUS, encoding: "utf8", maxBuffer: 64 << 20 });
  for (const line of r.stdout.trim().split("\n")) {
    const [f, , count, earliest, latest] = line.split("\t");
    capinfos.set(f!, { count: Number(count), earliest: earliest!, latest: latest! });
  }
  expect(capinfos.size).toBeGreaterThan(800);
});

/** Our ns instant rendered the way capinfos prints it: seconds with as many digits as capinfos gave. */
function asCapinfos(ns: string | null, like: string): string {
  if (ns === null) return "n/a";
  const digits = like.includes(".") ? like.split(".")[1]!.length : 0;
  const n = BigInt(ns);
  const sec = n / 1_000_000_000n;
  const frac = (n % 1_000_000_000n).toString().padStart(9, "0").slice(0, digits);
  return digits > 0 ? `${sec}.${frac}` : `${sec}`;
}

/**
 * Earliest/latest frame.time_epoch as decimal ns, or "invalid" when tshark prints a
 * sub-second field out of range (files whose µs/ns field is ≥ 1e6/1e9: Wireshark
 * wraps those in 32 bits, we keep them as stored, so there is no common truth).
 */
function tsharkSpan(file: string): { min: string; max: string } | "invalid" {
  const out = execFileSync("tshark", ["-r", file, "-T", "fields", "-e", "frame.time_epoch"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  let min: bigint | null = null;
  let max: bigint | null = null;
  for (const line of out.trim().split("\n")) {
    const [sec, frac = ""] = line.split(".");
    if (frac.length > 9) return "invalid";
    const ns = BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, "0"));
    if (min === null || ns < min) min = ns;
    if (max === null || ns > max) max = ns;
  }
  return { min: String(min), max: String(max) };
}

describe("tcpdump corpus", () => {
  it("has the 830 files the README describes", () => {
    expect(files.length).toBe(830);
  });

  it("every file: count and earliest/latest time agree with capinfos, or with a structural walk", () => {
    const mismatches: string[] = [];
    let viaWalk = 0;
    let viaTshark = 0;
    for (const f of files) {
      const s = summarizeCapture(path.join(CORPUS, f));
      if (s.truncatedAt !== null) mismatches.push(`${f}: unexpected truncatedAt ${s.truncatedAt}`);
      const c = capinfos.get(f);
      if (c === undefined) {
        viaWalk++;
        const n = walkCount(readFileSync(path.join(CORPUS, f)));
        if (n !== s.packets) mismatches.push(`${f}: walk ${n}, reader ${s.packets}`);
        continue;
      }
      if (c.count !== s.packets) mismatches.push(`${f}: capinfos ${c.count}, reader ${s.packets}`);
      if (asCapinfos(s.firstNs, c.earliest) === c.earliest && asCapinfos(s.lastNs, c.latest) === c.latest) continue;
      // capinfos's first/last are not always the earliest/latest record (out-of-order
      // files); those files are checked against tshark's per-packet times instead.
      if (subsecondOutOfRange(readFileSync(path.join(CORPUS, f)))) continue;
      const t = tsharkSpan(path.join(CORPUS, f));
      if (t === "invalid") continue;
      if (s.firstNs !== t.min || s.lastNs !== t.max) mismatches.push(`${f}: tshark span ${t.min}..${t.max}, reader ${s.firstNs}..${s.lastNs}`);
      viaTshark++;
    }
    expect(mismatches).toEqual([]);
    expect(viaWalk).toBe(14); // the files whose link types Debian's Wireshark does not know
    expect(viaTshark).toBeLessThan(30);
  });

  it("masks the FCS bits of the classic link-type field", () => {
    // hoobr_juniper3.pcap stores 0x30000084: FCS information above link type 132.
    const f = path.join(CORPUS, "hoobr_juniper3.pcap");
    expect(readFileSync(f).readUInt32LE(20)).toBe(0x30000084);
    const s = summarizeCapture(f);
    expect(s.linkTypes).toEqual({ LINKTYPE_132: 1 });
  });

  it("per-packet timestamps and lengths agree with tshark on a ns pcap and a multi-interface pcapng", () => {
    for (const f of ["tcp-handshake-nano.pcap", "ospf3_auth.pcapng", "OSPFv2_Capture_FINAL.pcapng", "time_2107.pcapng"]) {
      const out = execFileSync("tshark", ["-r", path.join(CORPUS, f), "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.cap_len", "-e", "frame.len"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
      const want = out.trim().split("\n").map((l) => l.split("\t"));
      const rd = CaptureReader.open(path.join(CORPUS, f));
      const got: string[][] = [];
      while (rd.next()) got.push([`${rd.tsSec}.${String(rd.tsNsec).padStart(9, "0")}`, String(rd.caplen), String(rd.origLen)]);
      expect(got).toEqual(want);
    }
  });
});
