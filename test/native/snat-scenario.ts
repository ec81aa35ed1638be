// The two-port interface-SNAT router the offline-differential tests with long gaps share
// (offline-expiry, offline-idle): lan 198.18.1.0/24, wan 198.19.2.1/24 with gateway .2.
import { parseScenario } from "../../sim/scenario/parse.js";
import type { Scenario } from "../../sim/scenario/types.js";

export const lanMac = { src: "02:00:00:00:01:0a", dst: "02:00:00:00:01:01" };
export const wanMac = { src: "02:00:00:00:02:02", dst: "02:00:00:00:02:01" };
export const WAN = "198.19.2.1";

/** `lanHosts`: the lan addresses with a neighbour entry (.10, .11, … get MACs …:0a, :0b, …). */
export function snatScenario(name: string, seed: number, lanHosts: number, timing: Record<string, unknown>): Scenario {
  return parseScenario(
    {
      name,
      seed,
      interfaces: [
        { name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.1.1/24"] },
        { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24"] },
      ],
      neighbors: [
        { ip: "198.19.2.2", mac: "02:00:00:00:02:02", iface: "wan" },
        ...Array.from({ length: lanHosts }, (_, k) => ({ ip: `198.18.1.${10 + k}`, mac: `02:00:00:00:01:${(10 + k).toString(16).padStart(2, "0")}`, iface: "lan" })),
      ],
      routes: [{ prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" }],
      nat: { snat: [{ egress: "wan", to: "interface" }] },
      dataplane: { rings: { rx: 64, tx: 64, fill: 64, comp: 64 }, frames: 256, batch: 16, maxPendingTx: 64 },
      timing,
    },
    `/tmp/${name}.json`,
    "/tmp",
  );
}
