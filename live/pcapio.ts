// The classic-pcap exchange format between live/ and the xdplab-pktio helper: Ethernet
// frames, nanosecond timestamps. Deliberately tiny; the full capture reader/writer
// (pcapng, SLL, truncation reports) lives in capture/.
import { readFileSync, writeFileSync } from "node:fs";
import { InputError } from "../sim/errors.js";

export interface PcapFrame {
  /** Absolute time, ns since the Unix epoch. */
  tNs: bigint;
  data: Uint8Array;
}

const MAGIC_NS = 0xa1b23c4d;
const MAGIC_US = 0xa1b2c3d4;

/** Writes Ethernet frames as a nanosecond classic pcap (timestamps t0 + i µs unless given). */
export function writeEthernetPcap(file: string, frames: ReadonlyArray<Uint8Array>, tNs?: ReadonlyArray<bigint>): void {
  let size = 24;
  for (const f of frames) size += 16 + f.length;
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, MAGIC_NS, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 262144, true);
  dv.setUint32(20, 1, true);
  let off = 24;
  frames.forEach((f, i) => {
    const t = tNs?.[i] ?? BigInt(i) * 1000n;
    dv.setUint32(off, Number(t / 1_000_000_000n), true);
    dv.setUint32(off + 4, Number(t % 1_000_000_000n), true);
    dv.setUint32(off + 8, f.length, true);
    dv.setUint32(off + 12, f.length, true);
    buf.set(f, off + 16);
    off += 16 + f.length;
  });
  writeFileSync(file, buf);
}

/** Reads a classic pcap (µs or ns, either byte order). A truncated last record is dropped. */
export function readEthernetPcap(file: string): PcapFrame[] {
  const buf = readFileSync(file);
  if (buf.length < 24) throw new InputError(file, 0, `expected a 24-byte pcap header, found ${buf.length} bytes`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const m = dv.getUint32(0, true);
  let le: boolean;
  let ns: boolean;
  if (m === MAGIC_NS || m === MAGIC_US) {
    le = true;
    ns = m === MAGIC_NS;
  } else {
    const mb = dv.getUint32(0, false);
    if (mb !== MAGIC_NS && mb !== MAGIC_US) throw new InputError(file, 0, `expected a classic pcap magic, found 0x${m.toString(16)}`);
    le = false;
    ns = mb === MAGIC_NS;
  }
  const out: PcapFrame[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const incl = dv.getUint32(off + 8, le);
    if (off + 16 + incl > buf.length) break;
    const tNs = BigInt(sec) * 1_000_000_000n + BigInt(frac) * (ns ? 1n : 1000n);
    out.push({ tNs, data: new Uint8Array(buf.subarray(off + 16, off + 16 + incl)) });
    off += 16 + incl;
  }
  return out;
}
