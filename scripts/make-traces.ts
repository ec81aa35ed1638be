// Writes the captures of the bundled cases under traces/. The captures are committed;
// this script documents exactly how each was made and re-creates it byte for byte:
//   node dist/scripts/make-traces.js
import { writeFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { buildFrame, type FrameSpec } from "../sim/packet/build.js";
import { PcapngWriter, memorySink } from "../capture/encode.js";
import { LINKTYPE_ETHERNET } from "../sim/packet/linktypes.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const EPOCH = 1_700_000_000_000_000_000n; // 2023-11-14T22:13:20Z, any fixed instant

export const LAN_MAC = "02:00:00:00:01:01";
export const WAN_MAC = "02:00:00:00:02:01";
export const LAN_HOST_MAC = "02:00:00:00:01:0a";
export const WAN_GW_MAC = "02:00:00:00:02:02";

interface Pkt {
  t: number; // ns from the first packet
  iface: "lan" | "wan";
  frame: Uint8Array;
}

function writeCase(dir: string, file: string, pkts: Pkt[]): void {
  const sink = memorySink();
  const w = new PcapngWriter(sink);
  const ids = { lan: w.addInterface("lan", LINKTYPE_ETHERNET), wan: w.addInterface("wan", LINKTYPE_ETHERNET) };
  for (const p of pkts) w.writePacket(ids[p.iface], EPOCH + BigInt(p.t), p.frame, 0, p.frame.length);
  w.close();
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, file), sink.bytes());
}

function payload(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

/** lan hosts 198.18.1.10.. talking to servers beyond the wan gateway, with replies. */
function fromLan(i: number, spec: Omit<FrameSpec, "eth" | "ip"> & { ip?: Partial<FrameSpec["ip"]> }, host: number, server: string): Uint8Array {
  return buildFrame({ ...spec, eth: { src: LAN_HOST_MAC, dst: LAN_MAC }, ip: { version: 4, src: `198.18.1.${10 + host}`, dst: server, ttl: 64, id: 0x1000 + i, df: true, ...spec.ip } });
}
function fromWan(i: number, spec: Omit<FrameSpec, "eth" | "ip"> & { ip?: Partial<FrameSpec["ip"]> }, host: number, server: string): Uint8Array {
  return buildFrame({ ...spec, eth: { src: WAN_GW_MAC, dst: WAN_MAC }, ip: { version: 4, src: server, dst: `198.18.1.${10 + host}`, ttl: 57, id: 0x2000 + i, df: true, ...spec.ip } });
}

/**
 * routed-basic: 8 lan hosts each with a UDP flow to a server beyond the wan gateway
 * (one 1000-byte datagram every 40 µs per host, answered by a 200-byte reply), 10 ms
 * long; one datagram with TTL 1 and one with DF set that exceeds the wan MTU (1400).
 */
export function routedBasic(): Pkt[] {
  const pkts: Pkt[] = [];
  let i = 0;
  for (let step = 0; step < 250; step++) {
    const host = step % 8;
    const t = step * 40_000;
    const server = `198.19.200.${1 + host}`;
    const sport = 40000 + host;
    const ttl = step === 100 ? 1 : 64;
    const size = step === 150 ? 1440 : 1000;
    pkts.push({ t, iface: "lan", frame: fromLan(i++, { udp: { sport, dport: 443 }, payload: payload(size, step), ip: { ttl } }, host, server) });
    pkts.push({ t: t + 15_000, iface: "wan", frame: fromWan(i++, { udp: { sport: 443, dport: sport }, payload: payload(200, step) }, host, server) });
  }
  return pkts;
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && path.resolve(process.argv[1]) === self) {
  writeCase(path.join(ROOT, "traces/examples/routed-basic"), "input.pcapng", routedBasic());
  process.stderr.write("wrote traces/examples/routed-basic/input.pcapng\n");
}
