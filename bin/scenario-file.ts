// The I/O side of scenarios: reads a scenario file (JSON, or YAML by extension) and the
// capture it names, and hands both to the pure loaders in sim/scenario/. Errors name
// the file and the field, line or byte offset (DESIGN §4.4, exit 2).
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseDocument } from "yaml";
import { InputError, UsageError } from "../sim/errors.js";
import { CaptureReader, timestampNs } from "../capture/reader.js";
import { parseScenario } from "../sim/scenario/parse.js";
import { InputBuilder } from "../sim/scenario/input.js";
import { generateTraffic } from "../sim/scenario/generator.js";
import type { CaptureRecord, InputInfo, InputPackets } from "../sim/scenario/input.js";
import type { Scenario } from "../sim/scenario/types.js";

/** Parses scenario text; `format` defaults to the file's extension (.yaml/.yml → YAML). */
export function parseScenarioText(text: string, file: string, format?: "json" | "yaml"): Scenario {
  const fmt = format ?? (/\.ya?ml$/i.test(file) ? "yaml" : "json");
  const raw = fmt === "yaml" ? parseYaml(text, file) : parseJson(text, file);
  return parseScenario(raw, file, path.dirname(path.resolve(file)));
}

export function loadScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new InputError(file, null, `cannot read scenario (${code === "ENOENT" ? "no such file" : code})`);
  }
  return parseScenarioText(text, file);
}

function lineCol(text: string, pos: number): string {
  let line = 1;
  let col = 1;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      col = 1;
    } else col++;
  }
  return `line ${line} column ${col}`;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    // V8 says "... at position N" (sometimes with line/column); end of input has none.
    const m = /position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : text.length;
    const byteOff = Buffer.byteLength(text.slice(0, pos), "utf8");
    const what = msg.replace(/\s*\(line \d+ column \d+\)/, "").replace(/ in JSON at position \d+/, "");
    throw new InputError(file, byteOff, `invalid JSON (${lineCol(text, pos)}): ${what}`);
  }
}

function parseYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, merge: false });
  const e = doc.errors[0];
  if (e !== undefined) {
    const pos = e.pos[0];
    throw new InputError(file, Buffer.byteLength(text.slice(0, pos), "utf8"), `invalid YAML (${lineCol(text, pos)}): ${e.message.split("\n")[0]}`);
  }
  return doc.toJS({ maxAliasCount: 100 }) as unknown;
}

/**
 * The scenario's input traffic: the capture (opts.pcap overrides traffic.pcap; opts.iface
 * overrides traffic.iface) or, without one, the flow generator.
 */
export function loadInput(scn: Scenario, opts: { pcap?: string | undefined; iface?: string | undefined } = {}): { input: InputPackets; info: InputInfo } {
  let iface = scn.traffic.iface;
  if (opts.iface !== undefined) {
    const ifc = scn.interfaces.find((i) => i.name === opts.iface);
    if (ifc === undefined) throw new UsageError(`--iface ${opts.iface}: no interface of that name in ${scn.file}; interfaces are ${scn.interfaces.map((i) => i.name).join(", ")}`);
    iface = ifc.index;
  }
  const pcap = opts.pcap !== undefined ? path.resolve(opts.pcap) : scn.traffic.pcap;
  if (pcap === null) {
    if (scn.traffic.generator !== null) return generateTraffic(scn);
    throw new InputError(scn.file, "traffic", "no input: set traffic.pcap or traffic.generator, or pass --pcap FILE");
  }
  const rd = CaptureReader.open(pcap);
  try {
    const b = new InputBuilder(scn, { file: pcap, iface, classic: rd.format === "pcap" });
    const rec: CaptureRecord = { data: rd.data, offset: 0, caplen: 0, origLen: 0, linkType: 0, ifName: null, tsNs: null, index: 0, queue: null };
    // epb_queue is read when the reader exposes it (an optional `queue` field).
    const withQueue = rd as unknown as { queue?: number | null };
    while (rd.next()) {
      rec.data = rd.data;
      rec.offset = rd.offset;
      rec.caplen = rd.caplen;
      rec.origLen = rd.origLen;
      rec.linkType = rd.linkType;
      rec.ifName = rd.interfaces[rd.ifId]?.name ?? null;
      rec.tsNs = rd.hasTimestamp ? timestampNs(rd.tsSec, rd.tsNsec) : null;
      rec.index = rd.index;
      rec.queue = typeof withQueue.queue === "number" ? withQueue.queue : null;
      b.add(rec);
    }
    return b.finish(rd.truncatedAt);
  } finally {
    rd.close();
  }
}
