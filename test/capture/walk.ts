// Test-side structural walk of pcap/pcapng files over a whole Buffer, written apart from
// capture/reader.ts so tests can use it as an independent oracle for record boundaries.
export interface Unit {
  start: number;
  end: number;
  /** true for packet records (pcap records, pcapng EPB/SPB/PB) */
  packet: boolean;
}

export function walkUnits(buf: Buffer): { headerEnd: number; units: Unit[] } {
  const units: Unit[] = [];
  const magic = buf.toString("hex", 0, 4);
  if (magic === "0a0d0d0a") {
    let le = true;
    let at = 0;
    let headerEnd = -1;
    while (at < buf.length) {
      const isShb = buf.toString("hex", at, at + 4) === "0a0d0d0a";
      if (isShb) le = buf.toString("hex", at + 8, at + 12) === "4d3c2b1a";
      const type = le ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
      const len = le ? buf.readUInt32LE(at + 4) : buf.readUInt32BE(at + 4);
      if (headerEnd < 0) headerEnd = at + len;
      units.push({ start: at, end: at + len, packet: type === 2 || type === 3 || type === 6 });
      at += len;
    }
    return { headerEnd, units };
  }
  const le = magic === "d4c3b2a1" || magic === "4d3cb2a1";
  for (let at = 24; at < buf.length; ) {
    const end = at + 16 + (le ? buf.readUInt32LE(at + 8) : buf.readUInt32BE(at + 8));
    units.push({ start: at, end, packet: true });
    at = end;
  }
  return { headerEnd: 24, units };
}
