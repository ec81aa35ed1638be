// The files of one run (DESIGN §4.3): path.jsonl, one pcapng per egress interface,
// kernel.pcapng, drops.pcapng, series.json, summary.json, report.html. Frames and path
// records stream to disk as the model emits them; every file is hashed so summary.json
// carries one hash of all outputs (same scenario + seed ⇒ same hash).
import { createHash, type Hash } from "node:crypto";
import { mkdirSync, openSync, writeSync, closeSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PcapngWriter, type ByteSink } from "../capture/encode.js";
import { LINKTYPE_ETHERNET } from "../sim/packet/linktypes.js";
import { reasonName } from "../sim/reasons.js";
import type { Scenario } from "../sim/scenario/types.js";
import type { PathRecord, RunSink } from "../sim/trace/record.js";

/** A file sink that hashes what it writes, buffering small writes. */
class HashedFile implements ByteSink {
  private fd: number;
  private buf = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  readonly hash: Hash = createHash("sha256");
  bytes = 0;
  constructor(readonly file: string) {
    this.fd = openSync(file, "w");
  }
  write(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (chunk.length > this.buf.length - this.used) this.flush();
    if (chunk.length >= this.buf.length) {
      writeSync(this.fd, chunk);
      return;
    }
    this.buf.set(chunk, this.used);
    this.used += chunk.length;
  }
  writeString(s: string): void {
    this.write(Buffer.from(s, "utf8"));
  }
  private flush(): void {
    if (this.used > 0) writeSync(this.fd, this.buf, 0, this.used);
    this.used = 0;
  }
  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}

export interface OutputFileInfo {
  file: string;
  bytes: number;
  sha256: string;
}

export class ReplayOutputs implements RunSink {
  readonly wantPath: boolean;
  private readonly pathFile: HashedFile | null;
  private readonly ifaceWriters: Array<{ sink: HashedFile; w: PcapngWriter } | null>;
  private readonly kernelOut: { sink: HashedFile; w: PcapngWriter };
  private readonly dropsOut: { sink: HashedFile; w: PcapngWriter };
  private readonly done: OutputFileInfo[] = [];
  /** first frames of each egress iface kept for `xdplab check` frame assertions */
  readonly framesOut: Map<string, Uint8Array[]> = new Map();
  private readonly keepFrames: number;
  readonly records: PathRecord[] | null;

  constructor(
    readonly dir: string,
    private readonly scn: Scenario,
    private readonly epochNs: bigint,
    opts: { path: boolean; keepRecords?: boolean; keepFrames?: number },
  ) {
    mkdirSync(dir, { recursive: true });
    this.wantPath = opts.path || opts.keepRecords === true;
    this.records = opts.keepRecords ? [] : null;
    this.keepFrames = opts.keepFrames ?? 0;
    this.pathFile = opts.path ? new HashedFile(path.join(dir, "path.jsonl")) : null;
    this.ifaceWriters = scn.interfaces.map(() => null);
    this.kernelOut = this.openPcapng("kernel.pcapng");
    this.dropsOut = this.openPcapng("drops.pcapng");
  }

  private openPcapng(name: string): { sink: HashedFile; w: PcapngWriter } {
    const sink = new HashedFile(path.join(this.dir, name));
    const w = new PcapngWriter(sink);
    for (const ifc of this.scn.interfaces) w.addInterface(ifc.name, LINKTYPE_ETHERNET, 262144);
    return { sink, w };
  }

  private ifaceWriter(iface: number): PcapngWriter {
    let e = this.ifaceWriters[iface];
    if (!e) {
      const ifc = this.scn.interfaces[iface]!;
      const sink = new HashedFile(path.join(this.dir, `${ifc.name}.pcapng`));
      const w = new PcapngWriter(sink);
      w.addInterface(ifc.name, LINKTYPE_ETHERNET, 262144);
      e = { sink, w };
      this.ifaceWriters[iface] = e;
    }
    return e.w;
  }

  path(rec: PathRecord): void {
    if (this.pathFile) this.pathFile.writeString(JSON.stringify(rec) + "\n");
    if (this.records) this.records.push(rec);
  }

  frameOut(iface: number, tNs: number, buf: Uint8Array, off: number, len: number, _id: number): void {
    this.ifaceWriter(iface).writePacket(0, this.epochNs + BigInt(tNs), buf, off, len);
    if (this.keepFrames > 0) {
      const name = this.scn.interfaces[iface]!.name;
      let list = this.framesOut.get(name);
      if (!list) this.framesOut.set(name, (list = []));
      if (list.length < this.keepFrames) list.push(buf.slice(off, off + len));
    }
  }

  kernel(iface: number, tNs: number, buf: Uint8Array, off: number, len: number, _id: number, reason: number): void {
    this.kernelOut.w.writePacket(iface, this.epochNs + BigInt(tNs), buf, off, len, len, reasonName(reason));
  }

  drop(iface: number, tNs: number, buf: Uint8Array, off: number, len: number, _id: number, reason: number): void {
    this.dropsOut.w.writePacket(iface, this.epochNs + BigInt(tNs), buf, off, len, len, reasonName(reason));
  }

  private finish(sink: HashedFile): void {
    sink.close();
    this.done.push({ file: path.basename(sink.file), bytes: sink.bytes, sha256: sink.hash.digest("hex") });
  }

  /** Closes the streamed files; returns their names, sizes and hashes, sorted by name. */
  closeStreams(): OutputFileInfo[] {
    if (this.pathFile) this.finish(this.pathFile);
    for (const e of this.ifaceWriters) {
      if (!e) continue;
      e.w.close();
      this.finish(e.sink);
    }
    this.kernelOut.w.close();
    this.finish(this.kernelOut.sink);
    this.dropsOut.w.close();
    this.finish(this.dropsOut.sink);
    return this.files();
  }

  /** Writes a small whole file (series.json, summary.json, report.html) and records its hash. */
  writeWhole(name: string, text: string): OutputFileInfo {
    const data = Buffer.from(text, "utf8");
    writeFileSync(path.join(this.dir, name), data);
    const info = { file: name, bytes: data.length, sha256: createHash("sha256").update(data).digest("hex") };
    this.done.push(info);
    return info;
  }

  files(): OutputFileInfo[] {
    return [...this.done].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  }
}

/** One hash over a list of output files (name + content hash, in name order). */
export function combinedHash(files: OutputFileInfo[]): string {
  const h = createHash("sha256");
  for (const f of [...files].sort((a, b) => (a.file < b.file ? -1 : 1))) h.update(`${f.file}\0${f.sha256}\n`);
  return h.digest("hex");
}
