// The dual-stack router both oracle suites (Linux as a router, tshark over replay
// outputs) put under test: lan and wan with their MACs, addresses and MTUs, and the inside
// host and default gateway as static neighbours (scenario JSON objects, not parsed), and
// a sink collecting what the model emits.
import type { PathRecord, RunSink } from "../../sim/run.js";

export const LAN_MAC = "02:00:00:00:01:01";
export const WAN_MAC = "02:00:00:00:02:01";
/** 198.18.1.10 / 2001:2:0:1::10 on lan. */
export const HOST_MAC = "02:00:00:00:01:0a";
/** 198.19.2.2 / 2001:2:0:2::2 on wan, the default gateway. */
export const GW_MAC = "02:00:00:00:02:02";

/** lan 1500 bytes, wan 1400: forwarding lan → wan can meet "fragmentation needed". */
export function dualStackInterfaces(): object[] {
  return [
    { name: "lan", mac: LAN_MAC, addrs: ["198.18.1.1/24", "2001:2:0:1::1/64"], mtu: 1500 },
    { name: "wan", mac: WAN_MAC, addrs: ["198.19.2.1/24", "2001:2:0:2::1/64"], mtu: 1400 },
  ];
}

/** The host and the gateway, both families (the model's neighbour table is keyed, so order is free). */
export function dualStackNeighbors(): object[] {
  return [
    { ip: "198.18.1.10", mac: HOST_MAC, iface: "lan" },
    { ip: "2001:2:0:1::10", mac: HOST_MAC, iface: "lan" },
    { ip: "198.19.2.2", mac: GW_MAC, iface: "wan" },
    { ip: "2001:2:0:2::2", mac: GW_MAC, iface: "wan" },
  ];
}

/** Model frames per interface, in emission order. */
export class CollectSink implements RunSink {
  wantPath = false;
  byIface: Uint8Array[][];
  constructor(n: number) {
    this.byIface = Array.from({ length: n }, () => []);
  }
  path(_rec: PathRecord): void {}
  frameOut(iface: number, _t: number, buf: Uint8Array, off: number, len: number): void {
    this.byIface[iface]?.push(buf.slice(off, off + len));
  }
  kernel(): void {}
  drop(): void {}
}
