// Capture reader: classic pcap (µs/ns, either byte order) and pcapng (several sections,
// each with its own byte order), streamed through one reusable window so a file larger
// than memory is never read whole. It owns the file structure only; link-layer frames
// are handed out as offsets into the window and decoded elsewhere (sim/packet).
//
// Damage policy (DESIGN §4.4): a file that ends inside a record yields the complete
// records before it and sets `truncatedAt`; a header or block structure that cannot be
// valid (bad magic, impossible length, trailer mismatch) is an InputError naming the
// byte offset. Lengths are checked against the file size before the window grows, so a
// corrupt length never causes an allocation larger than the file.
import { openSync, readSync, closeSync, fstatSync } from "node:fs";
import { InputError } from "../sim/errors.js";
import { isDecodableLinkType, linkTypeName } from "../sim/packet/linktypes.js";

export interface CaptureInterface {
  id: number;
  linkType: number;
  snaplen: number;
  name: string | null;
  /** ns per timestamp tick; fractional for power-of-2 or sub-ns resolutions */
  tsResolNs: number;
  /** 0-based pcapng section the interface belongs to (always 0 for pcap) */
  section: number;
}

/** Largest captured length accepted in one record; libpcap's own ceiling is 256 KiB. */
export const MAX_RECORD_BYTES = 262144;
/** Largest pcapng block accepted (libpcap refuses blocks above 16 MiB as insane). */
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024;
const DEFAULT_WINDOW = 4 * 1024 * 1024;

const PCAP_HDR = 24;
const PCAP_REC_HDR = 16;
const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const MAGIC_US_SWAPPED = 0xd4c3b2a1;
const MAGIC_NS_SWAPPED = 0x4d3cb2a1;
const SHB = 0x0a0d0d0a;
const BOM = 0x1a2b3c4d;
const BOM_SWAPPED = 0x4d3c2b1a;
const BT_IDB = 1;
const BT_PB = 2;
const BT_SPB = 3;
const BT_EPB = 6;
const OPT_COMMENT = 1;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;
const TWO32 = 4294967296;
/** Above this many ticks per second the limb division below could lose precision. */
const EXACT_UNITS_MAX = 2 ** 36;

const utf8 = new TextDecoder("utf-8");
const hex32 = (v: number): string => (v >>> 0).toString(16).padStart(8, "0");

export class CaptureReader {
  readonly file: string;
  readonly format: "pcap" | "pcapng";
  readonly interfaces: CaptureInterface[] = [];

  // The current record; valid after next() returned true, until the next call.
  data: Uint8Array;
  offset = 0;
  caplen = 0;
  origLen = 0;
  linkType = 0;
  ifId = 0;
  tsSec = 0;
  /** As stored: a damaged ns file can hold values ≥ 1e9 (summaries normalise). */
  tsNsec = 0;
  /** false for Simple Packet Blocks, which carry no timestamp (tsSec = tsNsec = 0) */
  hasTimestamp = true;
  comment: string | null = null;
  index = -1;
  recordOffset = 0;
  truncatedAt: number | null = null;

  private fd: number;
  private readonly size: number;
  private win: Uint8Array;
  private dv: DataView;
  private winStart = 0; // file offset of win[0]
  private winLen = 0; // valid bytes in win
  private pos = 0; // file offset of the next unread record/block
  private le = true;
  private done = false;
  // classic pcap
  private nanos = false;
  // pcapng: the current section's interfaces are interfaces[sectionBase ..]
  private section = -1;
  private sectionBase = 0;
  private ifUnits: number[] = []; // ticks per second, per interface
  private ifOffsetSec: number[] = [];

  private constructor(file: string, fd: number, size: number, windowBytes: number) {
    this.file = file;
    this.fd = fd;
    this.size = size;
    this.win = new Uint8Array(windowBytes);
    this.dv = new DataView(this.win.buffer);
    this.data = this.win;
    this.format = this.readFileHeader();
  }

  /** Opens a capture and reads its header; InputError when it is not a valid one. */
  static open(file: string, opts: { windowBytes?: number } = {}): CaptureReader {
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "";
      throw new InputError(file, null, `cannot open capture (${code === "ENOENT" ? "no such file" : code || String(err)})`);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new InputError(file, null, "expected a capture file, found a directory or special file");
      const windowBytes = Math.max(4096, opts.windowBytes ?? DEFAULT_WINDOW);
      return new CaptureReader(file, fd, st.size, windowBytes);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Bytes of the window buffer (the reader's largest allocation). */
  get windowBytes(): number {
    return this.win.length;
  }

  /** Advances to the next packet record; false at the end (or at a truncation). */
  next(): boolean {
    if (this.done) return false;
    const ok = this.format === "pcap" ? this.nextPcap() : this.nextPcapng();
    if (ok) this.index++;
    else this.finish();
    return ok;
  }

  close(): void {
    this.finish();
  }

  private finish(): void {
    this.done = true;
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  // --- window ------------------------------------------------------------------

  /**
   * Makes bytes [pos, pos + need) of the file addressable at win[pos - winStart]; the
   * caller has checked that they exist (pos + need ≤ size).
   */
  private ensure(pos: number, need: number): number {
    let rel = pos - this.winStart;
    if (rel >= 0 && rel + need <= this.winLen) return rel;
    const keep = rel >= 0 && rel < this.winLen ? this.winLen - rel : 0;
    if (need > this.win.length) {
      let cap = this.win.length * 2;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      if (keep > 0) next.set(this.win.subarray(rel, rel + keep));
      this.win = next;
      this.dv = new DataView(next.buffer);
    } else if (keep > 0 && rel > 0) {
      this.win.copyWithin(0, rel, rel + keep);
    }
    this.winStart = pos;
    this.winLen = keep;
    const want = Math.min(this.win.length, this.size - pos);
    while (this.winLen < want) {
      const n = readSync(this.fd, this.win, this.winLen, want - this.winLen, pos + this.winLen);
      if (n === 0) break; // the file shrank under us: treated as a truncation below
      this.winLen += n;
    }
    rel = 0;
    if (this.winLen < need) throw new InputError(this.file, pos + this.winLen, "file shrank while being read");
    return rel;
  }

  private u32(rel: number): number {
    return this.dv.getUint32(rel, this.le);
  }
  private u16(rel: number): number {
    return this.dv.getUint16(rel, this.le);
  }

  // --- headers -------------------------------------------------------------------

  private readFileHeader(): "pcap" | "pcapng" {
    if (this.size === 0) throw new InputError(this.file, 0, "empty file: expected a pcap or pcapng header, found 0 bytes");
    if (this.size < 4) throw new InputError(this.file, this.size, `file ends inside the magic number (${this.size} bytes)`);
    const r = this.ensure(0, 4);
    const magicLe = this.dv.getUint32(r, true);
    if (magicLe === SHB) {
      this.readShb(0, true);
      return "pcapng";
    }
    let nanos: boolean;
    if (magicLe === MAGIC_US || magicLe === MAGIC_NS) this.le = true;
    else if (magicLe === MAGIC_US_SWAPPED || magicLe === MAGIC_NS_SWAPPED) this.le = false;
    else
      throw new InputError(
        this.file,
        0,
        `expected a pcap magic (a1b2c3d4, a1b23c4d, either byte order) or a pcapng section header (0a0d0d0a), found ${hex32(this.dv.getUint32(r, false))}`,
      );
    nanos = magicLe === MAGIC_NS || magicLe === MAGIC_NS_SWAPPED;
    if (this.size < PCAP_HDR) throw new InputError(this.file, this.size, `file ends inside the 24-byte pcap header (${this.size} bytes)`);
    const h = this.ensure(0, PCAP_HDR);
    const major = this.u16(h + 4);
    if (major !== 2) throw new InputError(this.file, 4, `expected pcap major version 2, found ${major}.${this.u16(h + 6)}`);
    this.nanos = nanos;
    // The top bits of the link-type field carry FCS information (pcap spec
    // LinkType and additional information): the link type is the low 16 bits.
    const linkType = this.u32(h + 20) & 0xffff;
    this.interfaces.push({ id: 0, linkType, snaplen: this.u32(h + 16), name: null, tsResolNs: nanos ? 1 : 1000, section: 0 });
    this.section = 0;
    this.pos = PCAP_HDR;
    return "pcap";
  }

  /** Reads an SHB at `at`; the first one must be complete (else the file has no header). */
  private readShb(at: number, first: boolean): boolean {
    const avail = this.size - at;
    if (avail < 12) {
      if (first) throw new InputError(this.file, this.size, `file ends inside the pcapng section header (${avail} bytes)`);
      this.truncatedAt = at;
      return false;
    }
    let r = this.ensure(at, 12);
    const bom = this.dv.getUint32(r + 8, true);
    if (bom === BOM) this.le = true;
    else if (bom === BOM_SWAPPED) this.le = false;
    else throw new InputError(this.file, at + 8, `expected the pcapng byte-order magic 1a2b3c4d, found ${hex32(this.dv.getUint32(r + 8, false))}`);
    const len = this.u32(r + 4);
    this.checkBlockLength(at, len, 28, "section header block");
    if (len > avail) {
      if (first) throw new InputError(this.file, this.size, `file ends inside the pcapng section header (block of ${len} bytes, ${avail} present)`);
      this.truncatedAt = at;
      return false;
    }
    r = this.ensure(at, len);
    this.checkTrailer(at, r, len);
    const major = this.u16(r + 12);
    if (major !== 1) throw new InputError(this.file, at + 12, `expected pcapng major version 1, found ${major}.${this.u16(r + 14)}`);
    this.section++;
    this.sectionBase = this.interfaces.length;
    this.pos = at + len;
    return true;
  }

  private checkBlockLength(at: number, len: number, min: number, what: string): void {
    if (len < min || len % 4 !== 0 || len > MAX_BLOCK_BYTES)
      throw new InputError(
        this.file,
        at + 4,
        `${what}: expected a block total length that is a multiple of 4, at least ${min} and at most ${MAX_BLOCK_BYTES}, found ${len}`,
      );
  }

  private checkTrailer(at: number, rel: number, len: number): void {
    const trailer = this.u32(rel + len - 4);
    if (trailer !== len)
      throw new InputError(this.file, at + len - 4, `expected the block's trailing total length to equal its header length ${len}, found ${trailer}`);
  }

  // --- classic pcap --------------------------------------------------------------

  private nextPcap(): boolean {
    const at = this.pos;
    const avail = this.size - at;
    if (avail === 0) return false;
    if (avail < PCAP_REC_HDR) {
      this.truncatedAt = at;
      return false;
    }
    let r = this.ensure(at, PCAP_REC_HDR);
    const caplen = this.u32(r + 8);
    if (caplen > MAX_RECORD_BYTES)
      throw new InputError(this.file, at + 8, `expected a record captured length of at most ${MAX_RECORD_BYTES}, found ${caplen}`);
    if (avail < PCAP_REC_HDR + caplen) {
      this.truncatedAt = at;
      return false;
    }
    r = this.ensure(at, PCAP_REC_HDR + caplen);
    this.tsSec = this.u32(r);
    const sub = this.u32(r + 4);
    this.tsNsec = this.nanos ? sub : sub * 1000;
    this.origLen = this.u32(r + 12);
    this.caplen = caplen;
    this.data = this.win;
    this.offset = r + PCAP_REC_HDR;
    this.linkType = this.interfaces[0]!.linkType;
    this.ifId = 0;
    this.recordOffset = at;
    this.pos = at + PCAP_REC_HDR + caplen;
    return true;
  }

  // --- pcapng --------------------------------------------------------------------

  private nextPcapng(): boolean {
    for (;;) {
      const at = this.pos;
      const avail = this.size - at;
      if (avail === 0) return false;
      if (avail < 8) {
        this.truncatedAt = at;
        return false;
      }
      let r = this.ensure(at, 8);
      const typeLe = this.dv.getUint32(r, true);
      if (typeLe === SHB) {
        if (!this.readShb(at, false)) return false;
        continue;
      }
      const type = this.u32(r);
      const len = this.u32(r + 4);
      this.checkBlockLength(at, len, 12, `block of type ${type}`);
      if (len > avail) {
        this.truncatedAt = at;
        return false;
      }
      r = this.ensure(at, len);
      this.checkTrailer(at, r, len);
      this.pos = at + len;
      switch (type) {
        case BT_IDB:
          this.readIdb(at, r, len);
          break;
        case BT_EPB:
        case BT_PB:
          this.readEpb(at, r, len, type === BT_PB);
          return true;
        case BT_SPB:
          this.readSpb(at, r, len);
          return true;
        default:
          break; // name resolution, statistics, custom and unknown blocks
      }
    }
  }

  private readIdb(at: number, r: number, len: number): void {
    if (len < 20) throw new InputError(this.file, at + 4, `interface description block: expected a total length of at least 20, found ${len}`);
    const linkType = this.u16(r + 8);
    const snaplen = this.u32(r + 12);
    let name: string | null = null;
    let units = 1e6;
    let offsetSec = 0;
    const end = r + len - 4;
    for (let o = r + 16; o + 4 <= end; ) {
      const code = this.u16(o);
      const olen = this.u16(o + 2);
      if (code === 0 || o + 4 + olen > end) break; // endofopt, or an option overrunning the block: ignore the rest
      const v = o + 4;
      if (code === IF_NAME) name = utf8.decode(this.win.subarray(v, v + olen));
      else if (code === IF_TSRESOL && olen >= 1) {
        const b = this.win[v]!;
        units = b & 0x80 ? 2 ** (b & 0x7f) : 10 ** b;
      } else if (code === IF_TSOFFSET && olen >= 8) {
        // signed 64-bit seconds, in the section's byte order
        const hiAt = this.le ? v + 4 : v;
        const loAt = this.le ? v : v + 4;
        offsetSec = this.dv.getInt32(hiAt, this.le) * TWO32 + this.u32(loAt);
      }
      o = v + ((olen + 3) & ~3);
    }
    const id = this.interfaces.length;
    this.interfaces.push({ id, linkType, snaplen, name, tsResolNs: 1e9 / units, section: this.section });
    this.ifUnits[id] = units;
    this.ifOffsetSec[id] = offsetSec;
  }

  private interfaceOf(at: number, local: number, what: string): number {
    const id = this.sectionBase + local;
    if (local >= this.interfaces.length - this.sectionBase)
      throw new InputError(
        this.file,
        at + 8,
        `${what}: expected an interface id below ${this.interfaces.length - this.sectionBase} (interfaces described so far in section ${this.section}), found ${local}`,
      );
    return id;
  }

  private readEpb(at: number, r: number, len: number, obsolete: boolean): void {
    const what = obsolete ? "packet block" : "enhanced packet block";
    if (len < 32) throw new InputError(this.file, at + 4, `${what}: expected a total length of at least 32, found ${len}`);
    const id = this.interfaceOf(at, obsolete ? this.u16(r + 8) : this.u32(r + 8), what);
    const caplen = this.u32(r + 20);
    const bodyEnd = r + len - 4;
    if (caplen > MAX_RECORD_BYTES || r + 28 + caplen > bodyEnd)
      throw new InputError(this.file, at + 20, `${what}: expected a captured length that fits the block (at most ${len - 32}), found ${caplen}`);
    this.setTimestamp(id, this.u32(r + 12), this.u32(r + 16));
    this.hasTimestamp = true;
    this.origLen = this.u32(r + 24);
    this.caplen = caplen;
    this.setRecord(at, id, r + 28);
    let comment: string | null = null;
    for (let o = r + 28 + ((caplen + 3) & ~3); o + 4 <= bodyEnd; ) {
      const code = this.u16(o);
      const olen = this.u16(o + 2);
      if (code === 0 || o + 4 + olen > bodyEnd) break;
      if (code === OPT_COMMENT && comment === null) comment = utf8.decode(this.win.subarray(o + 4, o + 4 + olen));
      o += 4 + ((olen + 3) & ~3);
    }
    this.comment = comment;
  }

  private readSpb(at: number, r: number, len: number): void {
    if (len < 16) throw new InputError(this.file, at + 4, `simple packet block: expected a total length of at least 16, found ${len}`);
    // An SPB belongs to the section's first interface and is cut to its snaplen.
    const id = this.interfaceOf(at, 0, "simple packet block");
    const origLen = this.u32(r + 8);
    const snaplen = this.interfaces[id]!.snaplen;
    let caplen = Math.min(origLen, len - 16);
    if (snaplen !== 0 && caplen > snaplen) caplen = snaplen;
    if (caplen > MAX_RECORD_BYTES) caplen = MAX_RECORD_BYTES;
    this.tsSec = 0;
    this.tsNsec = 0;
    this.hasTimestamp = false;
    this.origLen = origLen;
    this.caplen = caplen;
    this.comment = null;
    this.setRecord(at, id, r + 12);
  }

  private setRecord(at: number, id: number, dataRel: number): void {
    this.data = this.win;
    this.offset = dataRel;
    this.ifId = id;
    this.linkType = this.interfaces[id]!.linkType;
    this.recordOffset = at;
  }

  /** ticks = hi·2³² + lo in the interface's units → tsSec/tsNsec, exactly. */
  private setTimestamp(id: number, hi: number, lo: number): void {
    const units = this.ifUnits[id]!;
    if (units > EXACT_UNITS_MAX || !Number.isInteger(units)) {
      this.setTimestampBig(id, hi, lo, units);
      return;
    }
    // Long division in 16-bit limbs: every intermediate stays below 2^53.
    let rem = 0;
    let sec = 0;
    for (let i = 0; i < 4; i++) {
      const limb = i === 0 ? hi >>> 16 : i === 1 ? hi & 0xffff : i === 2 ? lo >>> 16 : lo & 0xffff;
      const cur = rem * 65536 + limb;
      const q = Math.floor(cur / units);
      rem = cur - q * units;
      sec = sec * 65536 + q;
    }
    const nsPerTick = 1e9 / units;
    let nsec: number;
    if (Number.isInteger(nsPerTick)) nsec = rem * nsPerTick;
    else if (rem * 1e9 <= Number.MAX_SAFE_INTEGER) nsec = Math.floor((rem * 1e9) / units);
    else nsec = Number((BigInt(rem) * 1_000_000_000n) / BigInt(units));
    this.tsSec = sec + this.ifOffsetSec[id]!;
    this.tsNsec = nsec;
  }

  /** Cold path for resolutions finer than 2^-36 s (picoseconds and beyond). */
  private setTimestampBig(id: number, hi: number, lo: number, units: number): void {
    const ticks = (BigInt(hi) << 32n) | BigInt(lo);
    const u = BigInt(units);
    const sec = ticks / u;
    this.tsSec = Number(sec) + this.ifOffsetSec[id]!;
    this.tsNsec = Number(((ticks - sec * u) * 1_000_000_000n) / u);
  }
}

// --- summary (cold path) ---------------------------------------------------------

export interface CaptureSummary {
  file: string;
  format: "pcap" | "pcapng";
  packets: number;
  /** link-type name → packet count */
  linkTypes: Record<string, number>;
  interfaces: Array<{ id: number; name: string | null; linkType: string; snaplen: number; packets: number }>;
  /** earliest / latest packet time, ISO-8601 UTC with 9 fractional digits */
  first: string | null;
  last: string | null;
  /** the same instants as decimal ns since the epoch */
  firstNs: string | null;
  lastNs: string | null;
  truncatedAt: number | null;
  /** packets whose link type the packet decoder does not understand */
  undecodable: number;
}

/** ns since the epoch of a (sec, nsec) pair, nsec possibly ≥ 1e9 in damaged files. */
export function timestampNs(sec: number, nsec: number): bigint {
  return BigInt(sec) * 1_000_000_000n + BigInt(nsec);
}

/** ISO-8601 UTC with nanoseconds: 2004-03-27T17:19:39.270128000Z. */
export function formatTimestampNs(ns: bigint): string {
  let sec = ns / 1_000_000_000n;
  let sub = ns - sec * 1_000_000_000n;
  if (sub < 0n) {
    sec -= 1n;
    sub += 1_000_000_000n;
  }
  const ms = Number(sec) * 1000;
  const d = new Date(ms);
  const base = Number.isFinite(d.getTime()) ? d.toISOString().slice(0, 19) : `@${sec}`;
  return `${base}.${sub.toString().padStart(9, "0")}Z`;
}

export function summarizeCapture(file: string): CaptureSummary {
  const rd = CaptureReader.open(file);
  try {
    const perIf: number[] = [];
    const perLt = new Map<number, number>();
    let packets = 0;
    let undecodable = 0;
    let first: bigint | null = null;
    let last: bigint | null = null;
    while (rd.next()) {
      packets++;
      perIf[rd.ifId] = (perIf[rd.ifId] ?? 0) + 1;
      perLt.set(rd.linkType, (perLt.get(rd.linkType) ?? 0) + 1);
      if (!isDecodableLinkType(rd.linkType)) undecodable++;
      if (rd.hasTimestamp) {
        const t = timestampNs(rd.tsSec, rd.tsNsec);
        if (first === null || t < first) first = t;
        if (last === null || t > last) last = t;
      }
    }
    const linkTypes: Record<string, number> = {};
    for (const lt of [...perLt.keys()].sort((a, b) => a - b)) linkTypes[linkTypeName(lt)] = perLt.get(lt)!;
    return {
      file,
      format: rd.format,
      packets,
      linkTypes,
      interfaces: rd.interfaces.map((i) => ({ id: i.id, name: i.name, linkType: linkTypeName(i.linkType), snaplen: i.snaplen, packets: perIf[i.id] ?? 0 })),
      first: first === null ? null : formatTimestampNs(first),
      last: last === null ? null : formatTimestampNs(last),
      firstNs: first === null ? null : first.toString(),
      lastNs: last === null ? null : last.toString(),
      truncatedAt: rd.truncatedAt,
      undecodable,
    };
  } finally {
    rd.close();
  }
}
