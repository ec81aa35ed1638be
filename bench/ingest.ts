// Capture ingest benchmark: a 1M-packet classic µs pcap (64–1514-byte mix) read by our
// CaptureReader, by npm pcap-parser, and counted by tshark. Prints records/s, MB/s and
// ratios, best of several runs each. Run: npx tsc -p . && node dist/bench/ingest.js [packets]
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PcapWriter } from "../capture/encode.js";
import { fileSink } from "../capture/file.js";
import { CaptureReader } from "../capture/reader.js";

interface PcapParserStream {
  on(ev: "packet", cb: (p: { data: Uint8Array }) => void): void;
  on(ev: "end", cb: () => void): void;
  on(ev: "error", cb: (e: Error) => void): void;
}
const pcapParser = createRequire(import.meta.url)("pcap-parser") as { parse(file: string): PcapParserStream };

const packets = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(path.join(tmpdir(), "xdplab-bench-ingest-"));
const file = path.join(dir, "ingest.pcap");

function generate(): void {
  // Sizes roughly like a router's mix: many small, some mid, many full-size frames.
  const sizes = [64, 64, 64, 128, 576, 1514, 1514, 590];
  const frame = new Uint8Array(1514);
  for (let i = 0; i < frame.length; i++) frame[i] = (i * 31) & 0xff;
  const w = new PcapWriter(fileSink(file), 1, { nanos: false });
  let x = 0x2545f491;
  let t = 1_700_000_000_000_000_000n;
  for (let i = 0; i < packets; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    t += 1000n;
    w.writePacket(t, frame, 0, sizes[(x >>> 0) & 7]!);
  }
  w.close();
}

function ours(): { n: number; bytes: number } {
  const rd = CaptureReader.open(file);
  let n = 0;
  let bytes = 0;
  let check = 0;
  while (rd.next()) {
    n++;
    bytes += rd.caplen;
    check ^= rd.data[rd.offset + 13]!; // touch the frame like a consumer would
  }
  rd.close();
  if (check === -1) console.log(check);
  return { n, bytes };
}

function theirs(): Promise<{ n: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    let n = 0;
    let bytes = 0;
    const p = pcapParser.parse(file);
    p.on("packet", (pkt) => {
      n++;
      bytes += pkt.data.length;
    });
    p.on("error", reject);
    p.on("end", () => resolve({ n, bytes }));
  });
}

function tshark(): { n: number; bytes: number } {
  const out = execFileSync("sh", ["-c", `tshark -r '${file}' -T fields -e frame.number 2>/dev/null | tail -1`], { encoding: "utf8", maxBuffer: 1 << 20 });
  return { n: Number(out.trim()), bytes: NaN };
}

async function time<T>(fn: () => T | Promise<T>): Promise<{ r: T; s: number }> {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return { r, s: Number(process.hrtime.bigint() - t0) / 1e9 };
}

async function main(): Promise<void> {
  process.stderr.write(`generating ${packets} packets in ${file}\n`);
  generate();
  const size = statSync(file).size;
  const rows: Array<[string, number, number]> = [];
  for (const [name, fn] of [
    ["xdplab CaptureReader", ours],
    ["pcap-parser 0.2.1", theirs],
    ["tshark -r (count)", tshark],
  ] as const) {
    // best of 3 (tshark: 2), so every reader sees a warm page cache and a warm JIT
    let best = Infinity;
    for (let k = 0; k < (fn === tshark ? 2 : 3); k++) {
      const { r, s } = await time(fn as () => Promise<{ n: number; bytes: number }>);
      if (r.n !== packets) throw new Error(`${name} counted ${r.n} packets, expected ${packets}`);
      best = Math.min(best, s);
    }
    rows.push([name, best, packets / best]);
  }
  const base = rows[0]!;
  console.log(`file: ${packets} packets, ${(size / 1e6).toFixed(1)} MB (classic µs pcap)`);
  console.log("| reader | seconds | records/s | MB/s | xdplab is × faster |");
  console.log("|---|---:|---:|---:|---:|");
  for (const [name, s, rps] of rows)
    console.log(`| ${name} | ${s.toFixed(2)} | ${Math.round(rps).toLocaleString("en-US")} | ${(size / 1e6 / s).toFixed(0)} | ${(s / base[1]).toFixed(1)} |`);
  rmSync(dir, { recursive: true, force: true });
}

await main();
