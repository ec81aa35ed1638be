// Helper for the oracle tests: run tshark over a capture and return one row of field
// values per frame (every occurrence of each field, in protocol-stack order).
import { execFileSync } from "node:child_process";

export const TSHARK_PREFS = [
  "-o", "ip.defragment:FALSE",
  "-o", "ipv6.defragment:FALSE",
  "-o", "tcp.desegment_tcp_streams:FALSE",
  "-o", "ip.check_checksum:TRUE",
  "-o", "tcp.check_checksum:TRUE",
  "-o", "udp.check_checksum:TRUE",
];

export function tsharkFields(file: string, fields: string[]): string[][][] {
  const args = ["-n", "-r", file, ...TSHARK_PREFS, "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"];
  for (const f of fields) args.push("-e", f);
  const out = execFileSync("tshark", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 64 * 1024 * 1024 });
  const rows: string[][][] = [];
  for (const line of out.split("\n")) {
    if (line === "") continue;
    rows.push(line.split("|").map((v) => (v === "" ? [] : v.split(","))));
  }
  return rows;
}

export function hasTshark(): boolean {
  try {
    execFileSync("tshark", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
