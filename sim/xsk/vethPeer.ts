// The veth "peer without XDP program" rule (DESIGN §6, CATALOGUE "Kernel-side
// gotchas"): frames a veth sends with XDP_TX, or that a devmap redirect hands to it,
// land in the *peer's* XDP ring (drivers/net/veth.c veth_xdp_xmit). That ring has a
// NAPI instance only while the peer has an XDP program or GRO on; without one the
// transmit fails with -ENXIO and every frame is dropped, counted on the sending device
// as `xdp_tx_errors` (ethtool -S) and reported by `xdp:xdp_bulk_tx` (XDP_TX) or
// `xdp:xdp_devmap_xmit` (devmap) with err=-6. The same condition decides whether the
// sending veth advertises NETDEV_XDP_ACT_NDO_XMIT in its XDP features.
//
// The model has no XDP_TX data path yet (the shim's tx_mode demo bypasses the router
// model), so this is the prediction as a pure function; live/gotchas.ts compares a live
// run against it.
import { R } from "../reasons.js";
import type { DriverProfile } from "./driver.js";

export const ENXIO = 6;

/** What the receiving side of the veth pair has. */
export interface VethPeerState {
  /** An XDP program (any, e.g. bpf/xdplab_pass.c) is attached to the peer in native mode. */
  peerHasXdp: boolean;
  /** GRO is on for the peer (`ethtool -K peer gro on`). */
  peerGro: boolean;
}

export type VethXmitPath = "xdp_tx" | "devmap";

export interface VethXmitPrediction {
  delivered: number;
  dropped: number;
  /** R.veth_peer_no_xdp for the drops, 0 when nothing is dropped. */
  reason: number;
  /** Negative errno the tracepoint reports (0 when delivered). */
  err: number;
  /** The tracepoint that carries the error. */
  tracepoint: "xdp:xdp_bulk_tx" | "xdp:xdp_devmap_xmit";
  /** ethtool -S counter on the sending veth that counts the drops ("" when none). */
  ethtoolCounter: "xdp_tx_errors" | "";
  /** Does the sending veth advertise NETDEV_XDP_ACT_NDO_XMIT? */
  ndoXmitAdvertised: boolean;
}

/** True when the peer can take frames sent into it with XDP (ndo_xdp_xmit works). */
export function vethPeerAccepts(profile: DriverProfile, peer: VethPeerState): boolean {
  return !profile.vethPeerNeedsXdpOrGro || peer.peerHasXdp || peer.peerGro;
}

/** Prediction for `frames` frames sent into the peer along `path`. */
export function predictVethXmit(profile: DriverProfile, path: VethXmitPath, peer: VethPeerState, frames: number): VethXmitPrediction {
  const ok = vethPeerAccepts(profile, peer);
  return {
    delivered: ok ? frames : 0,
    dropped: ok ? 0 : frames,
    reason: ok ? 0 : R.veth_peer_no_xdp,
    err: ok ? 0 : -ENXIO,
    tracepoint: path === "xdp_tx" ? "xdp:xdp_bulk_tx" : "xdp:xdp_devmap_xmit",
    // veth counts XDP_TX failures per RX queue as xdp_tx_errors; a devmap redirect's
    // failures are counted on the redirecting queue the same way (veth_xdp_xmit returns
    // the error to the caller, which frees the frames and counts them).
    ethtoolCounter: ok || path !== "xdp_tx" ? "" : "xdp_tx_errors",
    ndoXmitAdvertised: ok,
  };
}
