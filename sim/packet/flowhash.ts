// Symmetric flow hash used to pick a packet's RX queue when the input does not say
// (DESIGN §4.1). Symmetric so that both directions of a flow land on the same queue.
//
// Definition (also in docs/packet.md): the two endpoints (address bytes, port) are put
// in order — the one whose address is smaller byte-wise first, ports breaking a tie —
// and 32-bit FNV-1a runs over: protocol (1 byte), first address, second address, first
// port (2 bytes BE), second port (2 bytes BE). Ports are TCP/UDP ports, the ICMP/ICMPv6
// echo identifier on both sides, and 0 for every fragment (so all fragments of a
// datagram, first included, hash alike — as NIC RSS does with 2-tuples for fragments).
// Non-IP frames hash to 0.
import type { PacketView } from "./view.js";

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnvByte(h: number, b: number): number {
  return Math.imul(h ^ b, FNV_PRIME) >>> 0;
}

export function flowHashSymmetric(buf: Uint8Array, view: PacketView): number {
  if (view.ipVersion === 0 || view.srcOff < 0) return 0;
  const n = view.addrLen;
  let sp = 0;
  let dp = 0;
  if (view.isFragment !== 1) {
    if (view.srcPort >= 0) {
      sp = view.srcPort;
      dp = view.dstPort;
    } else if (view.icmpId >= 0) {
      sp = view.icmpId;
      dp = view.icmpId;
    }
  }
  let cmp = 0;
  for (let i = 0; i < n && cmp === 0; i++) cmp = (buf[view.srcOff + i] as number) - (buf[view.dstOff + i] as number);
  if (cmp === 0) cmp = sp - dp;
  const aOff = cmp <= 0 ? view.srcOff : view.dstOff;
  const bOff = cmp <= 0 ? view.dstOff : view.srcOff;
  const aPort = cmp <= 0 ? sp : dp;
  const bPort = cmp <= 0 ? dp : sp;
  let h = fnvByte(FNV_OFFSET, view.ipProto & 0xff);
  for (let i = 0; i < n; i++) h = fnvByte(h, buf[aOff + i] as number);
  for (let i = 0; i < n; i++) h = fnvByte(h, buf[bOff + i] as number);
  h = fnvByte(h, aPort >>> 8);
  h = fnvByte(h, aPort & 0xff);
  h = fnvByte(h, bPort >>> 8);
  h = fnvByte(h, bPort & 0xff);
  return h;
}
