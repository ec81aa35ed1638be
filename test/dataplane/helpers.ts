// Test helpers: a scenario through the real loader, and frames built by hand with an
// independent checksum implementation (not sim/packet's), so expectations do not come
// from the code under test.
import { parseScenario } from "../../sim/scenario/parse.js";
import type { Scenario } from "../../sim/scenario/types.js";

export function scenario(extra: Record<string, unknown> = {}): Scenario {
  return parseScenario(
    {
      name: "dp",
      interfaces: [
        { name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.1.1/24", "2001:2:0:1::1/64"] },
        { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24", "2001:2:0:2::1/64"], mtu: 1400 },
      ],
      neighbors: [
        { ip: "198.19.2.2", mac: "02:00:00:00:02:02", iface: "wan" },
        { ip: "2001:2:0:2::2", mac: "02:00:00:00:02:02", iface: "wan" },
        { ip: "198.18.1.10", mac: "02:00:00:00:01:0a", iface: "lan" },
        { ip: "2001:2:0:1::10", mac: "02:00:00:00:01:0a", iface: "lan" },
      ],
      routes: [
        { prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" },
        { prefix: "::/0", via: "2001:2:0:2::2", iface: "wan" },
      ],
      ...extra,
    },
    "test.json",
    "/tmp",
  );
}

export function ip4(s: string): number[] {
  return s.split(".").map(Number);
}
export function ip6(s: string): number[] {
  const [h, t] = s.includes("::") ? s.split("::") : [s, undefined];
  const hw = h ? h.split(":").filter((x) => x !== "") : [];
  const tw = t !== undefined && t !== "" ? t.split(":") : [];
  const words = [...hw, ...Array(8 - hw.length - tw.length).fill("0"), ...tw].map((w) => parseInt(w, 16));
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** RFC 1071 checksum written independently of sim/packet. */
export function inetChecksum(bytes: number[] | Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += ((bytes[i] ?? 0) << 8) + (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return ~s & 0xffff;
}

export const MAC_LAN = [2, 0, 0, 0, 1, 1];
export const MAC_WAN = [2, 0, 0, 0, 2, 1];
export const MAC_HOST = [2, 0, 0, 0, 1, 0x0a];
export const MAC_GW = [2, 0, 0, 0, 2, 2];

export interface V4Opts { src?: string; dst?: string; ttl?: number; df?: boolean; fragOff?: number; proto?: number; payload?: number[]; tos?: number; id?: number; vlans?: number[]; pad?: number; badCsum?: boolean; l4?: number[] }

/** Ethernet(+VLAN) / IPv4 / UDP 1000→2000 (or `l4` bytes verbatim) frame from MAC_HOST to MAC_LAN. */
export function frame4(o: V4Opts = {}): Uint8Array {
  const payload = o.payload ?? [1, 2, 3, 4, 5, 6, 7, 8];
  const proto = o.proto ?? 17;
  let l4: number[];
  if (o.l4) l4 = o.l4;
  else {
    const ulen = 8 + payload.length;
    l4 = [0x03, 0xe8, 0x07, 0xd0, ulen >> 8, ulen & 0xff, 0, 0, ...payload];
  }
  const tot = 20 + l4.length;
  const fo = ((o.df ?? true) ? 0x4000 : 0) | (o.fragOff ?? 0);
  const id = o.id ?? 0x1234;
  const h = [0x45, o.tos ?? 0, tot >> 8, tot & 0xff, id >> 8, id & 0xff, fo >> 8, fo & 0xff, o.ttl ?? 64, proto, 0, 0, ...ip4(o.src ?? "198.18.1.10"), ...ip4(o.dst ?? "198.19.3.3")];
  const c = inetChecksum(h) ^ (o.badCsum ? 0x5555 : 0);
  h[10] = c >> 8;
  h[11] = c & 0xff;
  const l2 = [...MAC_LAN, ...MAC_HOST];
  for (const v of o.vlans ?? []) l2.push(0x81, 0x00, v >> 8, v & 0xff);
  l2.push(0x08, 0x00);
  return Uint8Array.from([...l2, ...h, ...l4, ...Array(o.pad ?? 0).fill(0)]);
}

export interface V6Opts { src?: string; dst?: string; hop?: number; nh?: number; l4?: number[]; payloadLen?: number }

export function frame6(o: V6Opts = {}): Uint8Array {
  const l4 = o.l4 ?? [0x03, 0xe8, 0x07, 0xd0, 0, 16, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
  const h = [0x60, 0, 0, 0, l4.length >> 8, l4.length & 0xff, o.nh ?? 17, o.hop ?? 64, ...ip6(o.src ?? "2001:2:0:1::10"), ...ip6(o.dst ?? "2001:2:0:3::3")];
  return Uint8Array.from([...MAC_LAN, ...MAC_HOST, 0x86, 0xdd, ...h, ...l4]);
}

export function be16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}
export function hex(b: Uint8Array | number[]): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
