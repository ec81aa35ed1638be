// The model's prediction for the veth peer rule, against the rule as drivers/net/veth.c
// states it (hand-computed table): only "peer has XDP or GRO" delivers on veth.
import { describe, expect, it } from "vitest";
import { R } from "../../sim/reasons.js";
import { driverProfile } from "../../sim/xsk/driver.js";
import { predictVethXmit } from "../../sim/xsk/vethPeer.js";

describe("predictVethXmit", () => {
  const veth = driverProfile("veth");
  it.each([
    [false, false, 0, 7, -6],
    [true, false, 7, 0, 0],
    [false, true, 7, 0, 0],
    [true, true, 7, 0, 0],
  ])("peer xdp=%s gro=%s → delivered %i, dropped %i, err %i", (x, g, d, dr, e) => {
    const p = predictVethXmit(veth, "xdp_tx", { peerHasXdp: x, peerGro: g }, 7);
    expect([p.delivered, p.dropped, p.err]).toEqual([d, dr, e]);
    expect(p.reason).toBe(dr > 0 ? R.veth_peer_no_xdp : 0);
    expect(p.tracepoint).toBe("xdp:xdp_bulk_tx");
  });
  it("devmap errors show on xdp_devmap_xmit; non-veth drivers have no such rule", () => {
    expect(predictVethXmit(veth, "devmap", { peerHasXdp: false, peerGro: false }, 3).tracepoint).toBe("xdp:xdp_devmap_xmit");
    expect(predictVethXmit(driverProfile("generic"), "xdp_tx", { peerHasXdp: false, peerGro: false }, 3).delivered).toBe(3);
  });
});
