// Capture encoders (pcapng and classic pcap) and the in-memory byte sink. Pure: no
// node imports and no clock, so the deterministic model (sim/) can write its output
// captures through memorySink() and hash the bytes. File output lives in file.ts.
//
// Everything is written little-endian. A writer owns one scratch buffer that grows to
// the largest block it has written; a sink must copy (or consume) a chunk during
// write(), because the writer reuses the scratch for the next block.

/** Where encoded bytes go. `chunk` is only valid during the call. */
export interface ByteSink {
  write(chunk: Uint8Array): void;
  close(): void;
}

/** Collects everything written into one buffer; bytes() is the exact output. */
export function memorySink(): ByteSink & { bytes(): Uint8Array } {
  let buf = new Uint8Array(4096);
  let len = 0;
  let closed = false;
  return {
    write(chunk: Uint8Array): void {
      if (closed) throw new Error("memorySink: write after close");
      if (len + chunk.length > buf.length) {
        let cap = buf.length * 2;
        while (cap < len + chunk.length) cap *= 2;
        const next = new Uint8Array(cap);
        next.set(buf.subarray(0, len));
        buf = next;
      }
      buf.set(chunk, len);
      len += chunk.length;
    },
    close(): void {
      closed = true;
    },
    bytes(): Uint8Array {
      return buf.subarray(0, len);
    },
  };
}

const utf8 = new TextEncoder();

/** Growable scratch buffer with a little-endian DataView over it. */
class Scratch {
  buf = new Uint8Array(2048);
  dv = new DataView(this.buf.buffer);
  reserve(n: number): void {
    if (n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < n) cap *= 2;
    this.buf = new Uint8Array(cap);
    this.dv = new DataView(this.buf.buffer);
  }
}

const pad4 = (n: number): number => (n + 3) & ~3;

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_IDB = 1;
const PCAPNG_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_COMMENT = 1;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const DEFAULT_SNAPLEN = 262144;
const NS_PER_SEC = 1_000_000_000n;

/**
 * pcapng writer: one section, interfaces with names and if_tsresol = 9 (ns), packets as
 * Enhanced Packet Blocks with an optional opt_comment.
 */
export class PcapngWriter {
  private readonly sink: ByteSink;
  private readonly s = new Scratch();
  private readonly snaplens: number[] = [];
  private closed = false;

  constructor(sink: ByteSink) {
    this.sink = sink;
    // SHB: type, length, BOM, version 1.0, section length -1 (unknown), no options.
    const dv = this.s.dv;
    dv.setUint32(0, PCAPNG_SHB, true);
    dv.setUint32(4, 28, true);
    dv.setUint32(8, BYTE_ORDER_MAGIC, true);
    dv.setUint16(12, 1, true);
    dv.setUint16(14, 0, true);
    dv.setInt32(16, -1, true);
    dv.setInt32(20, -1, true);
    dv.setUint32(24, 28, true);
    sink.write(this.s.buf.subarray(0, 28));
  }

  /** Adds an interface; returns its id (0, 1, ...), the value writePacket takes. */
  addInterface(name: string, linkType: number, snaplen: number = DEFAULT_SNAPLEN): number {
    this.assertOpen();
    if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) throw new RangeError(`pcapng: link type ${linkType} out of range`);
    const nameBytes = utf8.encode(name);
    const len = 16 + 4 + pad4(nameBytes.length) + 4 + 4 + 4 + 4;
    this.s.reserve(len);
    const { buf, dv } = this.s;
    buf.fill(0, 0, len);
    dv.setUint32(0, PCAPNG_IDB, true);
    dv.setUint32(4, len, true);
    dv.setUint16(8, linkType, true);
    dv.setUint32(12, snaplen >>> 0, true);
    let o = 16;
    dv.setUint16(o, IF_NAME, true);
    dv.setUint16(o + 2, nameBytes.length, true);
    buf.set(nameBytes, o + 4);
    o += 4 + pad4(nameBytes.length);
    dv.setUint16(o, IF_TSRESOL, true);
    dv.setUint16(o + 2, 1, true);
    buf[o + 4] = 9;
    o += 8;
    o += 4; // opt_endofopt (zeros)
    dv.setUint32(o, len, true);
    this.sink.write(buf.subarray(0, len));
    this.snaplens.push(snaplen >>> 0);
    return this.snaplens.length - 1;
  }

  /**
   * Writes one packet: `len` bytes of `data` from `off`, captured at `tsNs` (ns since
   * the epoch). Bytes beyond the interface's snaplen are cut; origLen defaults to len.
   */
  writePacket(ifId: number, tsNs: bigint, data: Uint8Array, off: number, len: number, origLen: number = len, comment: string | null = null): void {
    this.assertOpen();
    const snaplen = this.snaplens[ifId];
    if (snaplen === undefined) throw new RangeError(`pcapng: interface ${ifId} was not added`);
    if (tsNs < 0n) throw new RangeError("pcapng: negative timestamp");
    const caplen = snaplen !== 0 && len > snaplen ? snaplen : len;
    // A comment's UTF-8 form is at most 3 bytes per UTF-16 unit.
    const maxComment = comment === null ? 0 : comment.length * 3;
    this.s.reserve(28 + pad4(caplen) + 8 + pad4(maxComment) + 8);
    const { buf, dv } = this.s;
    dv.setUint32(0, PCAPNG_EPB, true);
    dv.setUint32(8, ifId, true);
    dv.setUint32(12, Number(tsNs >> 32n) >>> 0, true);
    dv.setUint32(16, Number(BigInt.asUintN(32, tsNs)), true);
    dv.setUint32(20, caplen, true);
    dv.setUint32(24, origLen >>> 0, true);
    buf.set(data.subarray(off, off + caplen), 28);
    let o = 28 + caplen;
    while (o & 3) buf[o++] = 0;
    if (comment !== null && comment.length > 0) {
      const n = utf8.encodeInto(comment, buf.subarray(o + 4)).written;
      if (n > 0xffff) throw new RangeError("pcapng: comment longer than 65535 bytes");
      dv.setUint16(o, OPT_COMMENT, true);
      dv.setUint16(o + 2, n, true);
      o += 4 + n;
      while (o & 3) buf[o++] = 0;
      dv.setUint32(o, 0, true); // opt_endofopt
      o += 4;
    }
    const total = o + 4;
    dv.setUint32(4, total, true);
    dv.setUint32(o, total, true);
    this.sink.write(buf.subarray(0, total));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("pcapng: writer is closed");
  }
}

/** Classic pcap writer (little-endian), nanosecond magic a1b23c4d by default. */
export class PcapWriter {
  private readonly sink: ByteSink;
  private readonly s = new Scratch();
  private readonly snaplen: number;
  private readonly nanos: boolean;
  private closed = false;

  constructor(sink: ByteSink, linkType: number, opts: { snaplen?: number; nanos?: boolean } = {}) {
    this.sink = sink;
    this.snaplen = (opts.snaplen ?? DEFAULT_SNAPLEN) >>> 0;
    this.nanos = opts.nanos ?? true;
    const dv = this.s.dv;
    dv.setUint32(0, this.nanos ? 0xa1b23c4d : 0xa1b2c3d4, true);
    dv.setUint16(4, 2, true);
    dv.setUint16(6, 4, true);
    dv.setInt32(8, 0, true);
    dv.setUint32(12, 0, true);
    dv.setUint32(16, this.snaplen, true);
    dv.setUint32(20, linkType >>> 0, true);
    sink.write(this.s.buf.subarray(0, 24));
  }

  /** µs files keep the timestamp truncated to whole microseconds. */
  writePacket(tsNs: bigint, data: Uint8Array, off: number, len: number, origLen: number = len): void {
    if (this.closed) throw new Error("pcap: writer is closed");
    if (tsNs < 0n || tsNs >= (1n << 32n) * NS_PER_SEC) throw new RangeError("pcap: timestamp outside the 32-bit seconds range");
    const caplen = this.snaplen !== 0 && len > this.snaplen ? this.snaplen : len;
    this.s.reserve(16 + caplen);
    const { buf, dv } = this.s;
    const sec = tsNs / NS_PER_SEC;
    const sub = Number(tsNs - sec * NS_PER_SEC);
    dv.setUint32(0, Number(sec), true);
    dv.setUint32(4, this.nanos ? sub : Math.floor(sub / 1000), true);
    dv.setUint32(8, caplen, true);
    dv.setUint32(12, origLen >>> 0, true);
    buf.set(data.subarray(off, off + caplen), 16);
    this.sink.write(buf.subarray(0, 16 + caplen));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink.close();
  }
}
