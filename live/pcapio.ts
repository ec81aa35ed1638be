// The classic-pcap exchange format between live/ and the xdplab-pktio helper: Ethernet
// frames, nanosecond timestamps. Thin wrappers over capture/ (the one reader/writer).
import { CaptureReader, timestampNs } from "../capture/reader.js";
import { PcapWriter } from "../capture/encode.js";
import { fileSink } from "../capture/file.js";
import { LINKTYPE_ETHERNET } from "../sim/packet/linktypes.js";

export interface PcapFrame {
  /** Absolute time, ns since the Unix epoch. */
  tNs: bigint;
  data: Uint8Array;
}

/** Writes Ethernet frames as a nanosecond classic pcap (timestamps i µs unless given). */
export function writeEthernetPcap(file: string, frames: ReadonlyArray<Uint8Array>, tNs?: ReadonlyArray<bigint>): void {
  const w = new PcapWriter(fileSink(file), LINKTYPE_ETHERNET, { nanos: true });
  frames.forEach((f, i) => w.writePacket(tNs?.[i] ?? BigInt(i) * 1000n, f, 0, f.length));
  w.close();
}

/** Reads a classic pcap or pcapng; a truncated last record is left out (the helper was stopped mid-write). */
export function readEthernetPcap(file: string): PcapFrame[] {
  const r = CaptureReader.open(file);
  const out: PcapFrame[] = [];
  try {
    while (r.next()) out.push({ tNs: timestampNs(r.tsSec, r.tsNsec), data: r.data.slice(r.offset, r.offset + r.caplen) });
  } finally {
    r.close();
  }
  return out;
}
