// Cross-check against the npm pcap-parser (an independent implementation, classic µs
// files only): every record of every classic µs file in the corpus must agree in
// lengths, timestamp and bytes.
import { describe, it, expect } from "vitest";
import { createRequire } from "node:module";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { CORPUS, ROOT } from "../cli.js";

const { CaptureReader } = await import(path.join(ROOT, "dist/capture/reader.js"));
const pcapParser = createRequire(import.meta.url)("pcap-parser") as {
  parse(input: string): { on(ev: string, cb: (x: any) => void): void };
};

interface Rec { sec: number; usec: number; caplen: number; origLen: number; bytes: Buffer }

function viaPcapParser(file: string): Promise<Rec[]> {
  return new Promise((resolve, reject) => {
    const recs: Rec[] = [];
    const p = pcapParser.parse(file);
    p.on("packet", (pkt: { header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number }; data: Buffer }) =>
      recs.push({ sec: pkt.header.timestampSeconds, usec: pkt.header.timestampMicroseconds, caplen: pkt.header.capturedLength, origLen: pkt.header.originalLength, bytes: Buffer.from(pkt.data) }),
    );
    p.on("error", reject);
    p.on("end", () => resolve(recs));
  });
}

const classicUs = readdirSync(CORPUS)
  .filter((f) => {
    const m = readFileSync(path.join(CORPUS, f)).toString("hex", 0, 4);
    return m === "d4c3b2a1" || m === "a1b2c3d4";
  })
  .sort();

describe("pcap-parser cross-check", () => {
  it("covers the classic µs files of the corpus", () => {
    expect(classicUs.length).toBe(783);
  });

  it("agrees on every record of every classic µs file", async () => {
    const mismatches: string[] = [];
    let records = 0;
    for (const f of classicUs) {
      const theirs = await viaPcapParser(path.join(CORPUS, f));
      const rd = CaptureReader.open(path.join(CORPUS, f));
      let i = 0;
      while (rd.next()) {
        const t = theirs[i++];
        const ours = Buffer.from(rd.data.buffer, rd.data.byteOffset + rd.offset, rd.caplen);
        if (t === undefined || t.sec !== rd.tsSec || t.usec * 1000 !== rd.tsNsec || t.caplen !== rd.caplen || t.origLen !== rd.origLen || !t.bytes.equals(ours)) {
          mismatches.push(`${f} record ${rd.index}`);
          break;
        }
      }
      rd.close();
      if (i !== theirs.length) mismatches.push(`${f}: pcap-parser ${theirs.length} records, reader ${i}`);
      records += i;
    }
    expect(mismatches).toEqual([]);
    expect(records).toBeGreaterThan(5000);
  });
});
