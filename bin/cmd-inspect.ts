// `xdplab inspect <capture> [--json] [--packets]`: what a capture holds — packet count,
// link types, interfaces, time span, truncation — and with --packets one decoded line
// per packet (the decoding itself is sim/packet/describe.ts).
import { parseArgs } from "./args.js";
import { UsageError } from "../sim/errors.js";
import { CaptureReader, formatTimestampNs, summarizeCapture, timestampNs } from "../capture/reader.js";
import type { CaptureSummary } from "../capture/reader.js";

const HELP = `usage: xdplab inspect <capture> [--json] [--packets]

Reads a pcap or pcapng file and prints its packet count, link types, interfaces,
time span and, if the file ends mid-record, the byte offset of the break.
  --packets   one decoded line per packet: index, time, interface, summary
  --json      one JSON object (packets, linkTypes, interfaces, first, last,
              truncatedAt, and with --packets a packetList array)
`;

interface PacketLine {
  i: number;
  t: string | null;
  iface: number;
  ifName: string | null;
  caplen: number;
  len: number;
  comment?: string;
  summary: string;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs("inspect", argv, { json: "flag", packets: "flag", help: "flag" });
  if (args.flags.has("help")) {
    process.stdout.write(HELP);
    return 0;
  }
  if (args.positional.length !== 1) throw new UsageError(`inspect: expected one capture file, found ${args.positional.length} arguments\n${HELP}`);
  const file = args.positional[0]!;
  const json = args.flags.has("json");

  const summary = summarizeCapture(file);
  let packetList: PacketLine[] | null = null;
  if (args.flags.has("packets")) packetList = await listPackets(file, json);

  if (summary.truncatedAt !== null)
    process.stderr.write(`xdplab inspect: warning: ${file} ends mid-record at byte offset ${summary.truncatedAt}; ${summary.packets} complete packets read\n`);
  if (json) {
    const out: CaptureSummary & { packetList?: PacketLine[] } = { ...summary };
    if (packetList !== null) out.packetList = packetList;
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  } else {
    process.stdout.write(renderSummary(summary));
  }
  return 0;
}

/** With text output the lines are printed as they are read; with --json they are collected. */
async function listPackets(file: string, collect: boolean): Promise<PacketLine[] | null> {
  const { describePacket } = await import("../sim/packet/describe.js");
  const list: PacketLine[] = [];
  const rd = CaptureReader.open(file);
  try {
    while (rd.next()) {
      if (!collect && process.stdout.destroyed) break; // the reader of a pipe went away
      const iface = rd.interfaces[rd.ifId]!;
      const t = rd.hasTimestamp ? formatTimestampNs(timestampNs(rd.tsSec, rd.tsNsec)) : null;
      const summary = describePacket(rd.data, rd.offset, rd.caplen, rd.linkType);
      if (collect) {
        const line: PacketLine = { i: rd.index, t, iface: rd.ifId, ifName: iface.name, caplen: rd.caplen, len: rd.origLen, summary };
        if (rd.comment !== null) line.comment = rd.comment;
        list.push(line);
      } else {
        const ifLabel = iface.name ?? `if${rd.ifId}`;
        const note = rd.comment !== null ? `  # ${rd.comment}` : "";
        process.stdout.write(`${String(rd.index).padStart(6)} ${t ?? "-"} ${ifLabel} ${summary}${note}\n`);
      }
    }
  } finally {
    rd.close();
  }
  return collect ? list : null;
}

function renderSummary(s: CaptureSummary): string {
  const lines = [
    `file:        ${s.file}`,
    `format:      ${s.format}`,
    `packets:     ${s.packets}${s.undecodable > 0 ? ` (${s.undecodable} with a link type the decoder does not know)` : ""}`,
    `link types:  ${Object.entries(s.linkTypes).map(([k, v]) => `${k} ${v}`).join(", ") || "-"}`,
    `interfaces:`,
    ...s.interfaces.map((i) => `  ${String(i.id).padStart(3)} ${(i.name ?? "-").padEnd(16)} ${i.linkType.padEnd(12)} snaplen ${i.snaplen}  packets ${i.packets}`),
    `first:       ${s.first ?? "-"}`,
    `last:        ${s.last ?? "-"}`,
    `truncated:   ${s.truncatedAt === null ? "no" : `at byte offset ${s.truncatedAt}`}`,
  ];
  return lines.join("\n") + "\n";
}
