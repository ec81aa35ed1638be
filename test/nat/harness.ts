// Test harness for the NAT model: frames built by hand with an independent checksum
// (test/dataplane/helpers.ts), a runner, and checkers that judge only observables
// (output bytes, lookup kind, the session table's keys and index).
import { Dataplane, DP_FORWARD, DP_HOLD } from "../../sim/dataplane/dataplane.js";
import { PacketView } from "../../sim/packet/view.js";
import { inetChecksum, ip4, ip6, scenario, MAC_HOST, MAC_LAN } from "../dataplane/helpers.js";

export const LAN = 0, WAN = 1;
const view = new PacketView();

export function natScenario(extra: Record<string, unknown> = {}, bugs: Record<string, boolean> = {}) {
  return scenario({
    nat: { snat: [{ from: "198.18.1.0/24", egress: "wan", to: "interface" }, { from: "2001:2:0:1::/64", egress: "wan", to: "interface" }] },
    bugs,
    ...extra,
  });
}

export interface L4 { proto: "udp" | "tcp" | "icmp"; sport: number; dport: number; flags?: number; seq?: number; ack?: number; payload?: number[]; udpZero?: boolean }

/** IP packet (no Ethernet) with correct checksums, computed independently of sim/. */
export function ipPacket(fam: 4 | 6, src: string, dst: string, l4: L4, o: { ttl?: number; id?: number; frag?: { off: number; more: boolean }; rawL4?: number[] } = {}): number[] {
  const payload = l4.payload ?? [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const sa = fam === 4 ? ip4(src) : ip6(src);
  const da = fam === 4 ? ip4(dst) : ip6(dst);
  const proto = l4.proto === "udp" ? 17 : l4.proto === "tcp" ? 6 : fam === 4 ? 1 : 58;
  let seg: number[];
  if (o.rawL4) seg = o.rawL4;
  else if (l4.proto === "udp") seg = [l4.sport >> 8, l4.sport & 255, l4.dport >> 8, l4.dport & 255, (8 + payload.length) >> 8, (8 + payload.length) & 255, 0, 0, ...payload];
  else if (l4.proto === "tcp") {
    const s = l4.seq ?? 1000, a = l4.ack ?? 0;
    seg = [l4.sport >> 8, l4.sport & 255, l4.dport >> 8, l4.dport & 255, s >>> 24, (s >>> 16) & 255, (s >>> 8) & 255, s & 255, a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255, 0x50, l4.flags ?? 0x02, 0xff, 0xff, 0, 0, 0, 0, ...payload];
  } else {
    // echo request, id = sport, seq = dport
    seg = [fam === 4 ? 8 : 128, 0, 0, 0, l4.sport >> 8, l4.sport & 255, l4.dport >> 8, l4.dport & 255, ...payload];
  }
  if (!o.rawL4) {
    const csOff = l4.proto === "udp" ? 6 : l4.proto === "tcp" ? 16 : 2;
    const pseudo = proto === 1 ? [] : [...sa, ...da, 0, proto, seg.length >> 8, seg.length & 255].concat(fam === 6 ? [0, 0] : []);
    let c = inetChecksum([...pseudo, ...seg]);
    if (proto === 17 && c === 0) c = 0xffff;
    if (!(l4.proto === "udp" && l4.udpZero)) { seg[csOff] = c >> 8; seg[csOff + 1] = c & 255; }
  }
  if (fam === 4) {
    const tot = 20 + seg.length;
    const id = o.id ?? 0x1234;
    const fo = o.frag ? ((o.frag.more ? 0x2000 : 0) | (o.frag.off >> 3)) : 0x4000;
    const h = [0x45, 0, tot >> 8, tot & 255, id >> 8, id & 255, fo >> 8, fo & 255, o.ttl ?? 64, proto, 0, 0, ...sa, ...da];
    const c = inetChecksum(h);
    h[10] = c >> 8; h[11] = c & 255;
    return [...h, ...seg];
  }
  let nh = proto;
  let ext: number[] = [];
  if (o.frag) {
    const id = o.id ?? 0x1234;
    const fo = (o.frag.off & 0xfff8) | (o.frag.more ? 1 : 0);
    ext = [proto, 0, fo >> 8, fo & 255, id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255];
    nh = 44;
  }
  const pl = ext.length + seg.length;
  return [0x60, 0, 0, 0, pl >> 8, pl & 255, nh, o.ttl ?? 64, ...sa, ...da, ...ext, ...seg];
}

export function eth(fam: 4 | 6, ip: number[]): Uint8Array {
  return Uint8Array.from([...MAC_LAN, ...MAC_HOST, ...(fam === 4 ? [0x08, 0x00] : [0x86, 0xdd]), ...ip]);
}

export interface Out { rc: number; out: Uint8Array; kind: number; reason: number }
export function send(dp: Dataplane, frame: Uint8Array, ingress: number, now = 0): Out {
  const buf = new Uint8Array(frame.length + 64);
  buf.set(frame, 32);
  const rc = dp.process(buf, 32, frame.length, view, ingress, now);
  const fwd = rc === DP_FORWARD || rc === DP_HOLD;
  return { rc, out: buf.slice(32, 32 + (fwd ? dp.newLen : frame.length)), kind: dp.lookupKind, reason: dp.reason };
}

export const be16 = (b: Uint8Array | number[], o: number): number => (((b[o] ?? 0) << 8) | (b[o + 1] ?? 0));

/** Verify the IPv4 header and L4 checksums of an Ethernet frame independently. */
export function checksumsValid(f: Uint8Array): boolean {
  const ip = Array.from(f.subarray(14));
  const fam = ip[0]! >> 4;
  let proto: number, l4: number[], sa: number[], da: number[];
  if (fam === 4) {
    const ihl = (ip[0]! & 15) * 4;
    if (inetChecksum(ip.slice(0, ihl)) !== 0) return false;
    proto = ip[9]!;
    const tot = be16(ip, 2);
    if ((be16(ip, 6) & 0x3fff) !== 0) return true; // fragment: L4 not verifiable alone
    l4 = ip.slice(ihl, tot); sa = ip.slice(12, 16); da = ip.slice(16, 20);
  } else {
    proto = ip[6]!;
    if (proto === 44) return true;
    l4 = ip.slice(40, 40 + be16(ip, 4)); sa = ip.slice(8, 24); da = ip.slice(24, 40);
  }
  if (proto === 17 && fam === 4 && be16(l4, 6) === 0) return true;
  const pseudo = proto === 1 ? [] : [...sa, ...da, 0, proto, l4.length >> 8, l4.length & 255].concat(fam === 6 ? [0, 0] : []);
  return inetChecksum([...pseudo, ...l4]) === 0;
}

/** The session table's reverse-NAT invariants (shared with the NAT property suite); the first violation or null. */
export { indexFault as indexViolation } from "../../properties/nat.js";
