// One-line, human-readable summary of a frame for `xdplab inspect`, reports and error
// messages (cold path: allocates strings freely).
import { formatIp, formatMac } from "./addr.js";
import { parseErrorName } from "./errors.js";
import { isDecodableLinkType, linkTypeName } from "./linktypes.js";
import { PacketView, decode } from "./view.js";

const scratch = new PacketView();

const ICMP4_NAMES: Record<number, string> = {
  0: "echo-reply",
  3: "unreachable",
  4: "source-quench",
  5: "redirect",
  8: "echo-request",
  11: "time-exceeded",
  12: "param-problem",
  13: "timestamp",
  14: "timestamp-reply",
};
const ICMP6_NAMES: Record<number, string> = {
  1: "unreachable",
  2: "packet-too-big",
  3: "time-exceeded",
  4: "param-problem",
  128: "echo-request",
  129: "echo-reply",
  133: "router-solicit",
  134: "router-advert",
  135: "neighbor-solicit",
  136: "neighbor-advert",
};
const PROTO_NAMES: Record<number, string> = { 1: "ICMP", 2: "IGMP", 6: "TCP", 17: "UDP", 47: "GRE", 50: "ESP", 51: "AH", 58: "ICMP6", 59: "no-next-header", 132: "SCTP" };

export function tcpFlagsString(f: number): string {
  const letters = "FSRPAUEC";
  let s = "";
  for (let i = 0; i < 8; i++) if (f & (1 << i)) s += letters[i];
  return s === "" ? "none" : s;
}

function endpoint(buf: Uint8Array, off: number, v: PacketView, port: number): string {
  const a = formatIp(buf, off, v.addrLen === 16 ? 16 : 4);
  if (port < 0) return a;
  return v.addrLen === 16 ? `[${a}]:${port}` : `${a}:${port}`;
}

function describeIp(buf: Uint8Array, v: PacketView): string {
  let s = `${endpoint(buf, v.srcOff, v, v.srcPort)} > ${endpoint(buf, v.dstOff, v, v.dstPort)} `;
  const proto = v.ipProto;
  s += PROTO_NAMES[proto] ?? `proto ${proto}`;
  if (v.isFragment === 1) s += ` frag id ${v.ipId} off ${v.fragOffset}${v.moreFrags === 1 ? "+" : ""}`;
  if (v.tcpFlags >= 0) s += ` [${tcpFlagsString(v.tcpFlags)}] seq ${v.tcpSeq}`;
  if (v.icmpType >= 0) {
    const names = v.ipVersion === 4 ? ICMP4_NAMES : ICMP6_NAMES;
    s += ` ${names[v.icmpType] ?? `type ${v.icmpType}`} code ${v.icmpCode}`;
    if (v.icmpId >= 0) s += ` id ${v.icmpId} seq ${v.icmpSeq}`;
    if (v.icmpMtu >= 0) s += ` mtu ${v.icmpMtu}`;
    const inner = v.inner;
    if (inner !== null) s += ` (quoting ${describeIp(buf, inner).trim()})`;
  }
  s += ` ttl ${v.ttl}`;
  return s;
}

/** "vlan 10,20 198.18.0.1:1234 > 198.18.0.2:80 TCP [SA] seq 1 ttl 64 len 60", or why it could not be decoded. */
export function describePacket(buf: Uint8Array, off: number, len: number, linkType: number): string {
  if (!isDecodableLinkType(linkType)) return `undecodable (${linkTypeName(linkType)})`;
  const v = scratch;
  const err = decode(v, buf, off, len, linkType);
  if (err !== 0) return `malformed: ${parseErrorName(err)}`;
  let s = "";
  if (v.sllIfindex >= 0) s += `if ${v.sllIfindex} `;
  if (v.vlanCount > 0) s += `vlan ${v.vlanTci0 & 0xfff}${v.vlanCount > 1 ? `,${v.vlanTci1 & 0xfff}` : ""} `;
  if (v.ipVersion !== 0) s += describeIp(buf, v);
  else if (v.arpOp >= 0) {
    if (v.arpSpaOff >= 0) {
      const spa = formatIp(buf, v.arpSpaOff, 4);
      const tpa = formatIp(buf, v.arpTpaOff, 4);
      s += v.arpOp === 1 ? `ARP who-has ${tpa} tell ${spa}` : v.arpOp === 2 ? `ARP reply ${spa} is-at ${formatMac(buf, v.arpSpaOff - 6)}` : `ARP op ${v.arpOp}`;
    } else s += `ARP op ${v.arpOp}`;
  } else s += `ethertype 0x${(v.ethType >= 0 ? v.ethType : 0).toString(16).padStart(4, "0")}`;
  return `${s} len ${len}`;
}
