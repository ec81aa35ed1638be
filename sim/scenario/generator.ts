// The flow generator (traffic.generator): N flows of UDP/TCP/ICMP from addresses in a
// source prefix to one destination, frame sizes cycled from a list, paced at a fixed
// aggregate rate. Everything random comes from the scenario seed, so the same seed gives
// the same bytes. Cold path: runs once before the model starts.
import { Prng } from "../engine/prng.js";
import { buildFrame } from "../packet/build.js";
import type { FrameSpec } from "../packet/build.js";
import { formatIp, formatMac, maskPrefix, parseCidr } from "./addr.js";
import { InputPackets } from "./packets.js";
import type { InputInfo } from "./input.js";
import { rxQueueFor } from "./queue.js";
import type { Scenario } from "./types.js";

/** Stream tag for the generator's PRNG fork, so other seeded parts keep their own streams. */
const GEN_STREAM = 0x67656e;

interface Flow {
  proto: "udp" | "tcp" | "icmp";
  src: string;
  srcMac: string;
  sport: number; // UDP/TCP source port, or ICMP echo identifier
  flowLabel: number;
  seq: number; // next TCP sequence number / ICMP echo sequence
  sent: number;
}

function randomHost(rng: Prng, prefix: Uint8Array, len: number, avoid: Set<string>): string {
  const hostBits = prefix.length * 8 - len;
  const base = maskPrefix(prefix, len);
  for (let attempt = 0; attempt < 64; attempt++) {
    const b = new Uint8Array(base);
    // Randomize up to the low 32 host bits; wider IPv6 host parts keep their upper bits 0.
    const bits = Math.min(hostBits, 32);
    const r = bits === 32 ? rng.nextU32() : bits === 0 ? 0 : rng.nextInt(2 ** bits);
    for (let i = 0; i < 4; i++) b[b.length - 1 - i] = b[b.length - 1 - i]! | ((r >>> (8 * i)) & 0xff);
    const host = r;
    // Skip the subnet (and IPv4 broadcast) address when the prefix leaves room for hosts.
    if (hostBits >= 2 && (host === 0 || (prefix.length === 4 && host === 2 ** bits - 1))) continue;
    const s = formatIp(b);
    if (!avoid.has(s) || hostBits === 0) return s;
  }
  return formatIp(base);
}

export function generateTraffic(scn: Scenario): { input: InputPackets; info: InputInfo } {
  const g = scn.traffic.generator;
  if (g === null) throw new Error("generateTraffic: the scenario has no traffic.generator");
  const ifc = scn.interfaces[g.iface]!;
  const rng = new Prng(scn.seed).fork(GEN_STREAM);
  const src = parseCidr(g.src)!;
  const own = new Set<string>(ifc.addrs.map((a) => formatIp(a.bytes)));
  own.add(g.dst);

  const flows: Flow[] = [];
  const seen = new Set<string>();
  const kinds = ["udp", "tcp", "icmp"] as const;
  for (let f = 0; f < g.flows; f++) {
    const proto = g.proto === "mix" ? kinds[rng.nextInt(3)]! : g.proto;
    let addr = "";
    let sport = 0;
    for (let attempt = 0; attempt < 16; attempt++) {
      addr = randomHost(rng, src.bytes, src.prefixLen, own);
      sport = proto === "icmp" ? rng.nextInt(65536) : 1024 + rng.nextInt(65536 - 1024);
      if (!seen.has(`${proto} ${addr} ${sport}`)) break;
    }
    seen.add(`${proto} ${addr} ${sport}`);
    const mac = Uint8Array.of(0x02, 0x00, 0x5e, 0x10, (f >> 8) & 0xff, f & 0xff);
    flows.push({ proto, src: addr, srcMac: formatMac(mac), sport, flowLabel: rng.nextInt(1 << 20), seq: proto === "tcp" ? rng.nextU32() : 0, sent: 0 });
  }

  const out = new InputPackets(Math.max(1, g.packets), Math.max(64, g.packets * (Math.max(...g.sizes) + 4)));
  const ifMac = ifc.macText;
  const dstPort = g.dstPort ?? 9;
  for (let k = 0; k < g.packets; k++) {
    const fl = flows[k % flows.length]!;
    const size = g.sizes[k % g.sizes.length]!;
    const l3Hdr = g.family === 4 ? 20 : 40;
    const l4Hdr = fl.proto === "tcp" ? 20 : 8;
    const payload = new Uint8Array(Math.max(0, size - 14 - l3Hdr - l4Hdr));
    // Packet index first, so a frame can be identified whatever NAT does to its headers.
    for (let j = 0; j < payload.length; j++) payload[j] = (k + j) & 0xff;
    if (payload.length >= 4) {
      payload[0] = (k >>> 24) & 0xff;
      payload[1] = (k >>> 16) & 0xff;
      payload[2] = (k >>> 8) & 0xff;
      payload[3] = k & 0xff;
    }
    const spec: FrameSpec = {
      eth: { src: fl.srcMac, dst: ifMac },
      ip: { version: g.family, src: fl.src, dst: g.dst, ttl: 64, id: (k + 1) & 0xffff, flowLabel: fl.flowLabel },
      payload,
    };
    if (fl.proto === "udp") spec.udp = { sport: fl.sport, dport: dstPort };
    else if (fl.proto === "tcp") {
      const syn = fl.sent === 0;
      spec.tcp = { sport: fl.sport, dport: dstPort, seq: fl.seq >>> 0, ack: 0, flags: syn ? "S" : "A", window: 65535 };
      if (syn) spec.payload = new Uint8Array(0);
      fl.seq = (fl.seq + (syn ? 1 : payload.length)) >>> 0;
    } else {
      spec.icmp = { type: g.family === 4 ? 8 : 128, code: 0, id: fl.sport, seq: fl.seq & 0xffff };
      fl.seq++;
    }
    fl.sent++;
    const frame = buildFrame(spec);
    const i = out.push(frame, g.startNs + Math.floor((k * 1e9) / g.pps), g.iface, 0, k);
    out.queue[i] = rxQueueFor(out.data, out.off[i]!, frame.length, ifc.queues);
  }
  out.epochNs = 0n;
  return { input: out, info: { capture: null, packets: out.count, skipped: {}, clamped: 0, untimed: 0, truncatedAt: null } };
}
