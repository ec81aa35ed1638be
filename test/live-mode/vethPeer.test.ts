// The model's prediction for the veth peer rule, against drivers/net/veth.c as read for
// this kernel (hand-computed table): only "peer has XDP or GRO" accepts frames; with GRO
// alone XDP_TX parks them (no NAPI kick) while a devmap redirect delivers them; without
// either XDP_TX fails in the transmit (-ENXIO) and a devmap redirect at enqueue
// (-EOPNOTSUPP, the target has no ndo-xmit feature).
import { describe, expect, it } from "vitest";
import { R } from "../../sim/reasons.js";
import { driverProfile } from "../../sim/xsk/driver.js";
import { predictVethXmit } from "../../sim/xsk/vethPeer.js";

describe("predictVethXmit", () => {
  const veth = driverProfile("veth");
  it.each([
    // path, peer xdp, peer gro → delivered, parked, dropped, err, tracepoint
    ["xdp_tx", false, false, 0, 0, 7, -6, "xdp:xdp_bulk_tx"],
    ["xdp_tx", true, false, 7, 0, 0, 0, "xdp:xdp_bulk_tx"],
    ["xdp_tx", false, true, 0, 7, 0, 0, "xdp:xdp_bulk_tx"],
    ["xdp_tx", true, true, 7, 0, 0, 0, "xdp:xdp_bulk_tx"],
    ["devmap", false, false, 0, 0, 7, -95, "xdp:xdp_redirect_err"],
    ["devmap", true, false, 7, 0, 0, 0, "xdp:xdp_devmap_xmit"],
    ["devmap", false, true, 7, 0, 0, 0, "xdp:xdp_devmap_xmit"],
    ["devmap", true, true, 7, 0, 0, 0, "xdp:xdp_devmap_xmit"],
  ] as const)("%s, peer xdp=%s gro=%s → delivered %i, parked %i, dropped %i, err %i on %s", (path, x, g, d, pk, dr, e, tp) => {
    const p = predictVethXmit(veth, path, { peerHasXdp: x, peerGro: g }, 7);
    expect([p.delivered, p.parked, p.dropped, p.err, p.tracepoint]).toEqual([d, pk, dr, e, tp]);
    expect(p.reason).toBe(dr > 0 ? R.veth_peer_no_xdp : 0);
    expect(p.ndoXmitAdvertised).toBe(x || g);
    expect(p.ethtoolCounter).toBe(dr > 0 && path === "xdp_tx" ? "xdp_tx_errors" : "");
  });
  it("drivers other than veth have no such rule", () => {
    for (const d of ["generic", "zerocopy"] as const) {
      const p = predictVethXmit(driverProfile(d), "xdp_tx", { peerHasXdp: false, peerGro: false }, 3);
      expect([p.delivered, p.parked, p.dropped]).toEqual([3, 0, 0]);
    }
  });
});
