// The veth "peer without XDP program" rule (DESIGN §6, CATALOGUE "Kernel-side
// gotchas"), as drivers/net/veth.c has it on this lab's kernels (6.x with XDP
// features). Frames a veth sends with XDP_TX, or that a devmap redirect hands to it,
// go into the *peer's* XDP ring (veth_xdp_xmit). That ring and its NAPI instance exist
// only while the peer has an XDP program or GRO on. Three outcomes follow:
//
//  - neither: XDP_TX fails with -ENXIO in veth_xdp_xmit; every frame is dropped,
//    counted on the sending device as `xdp_tx_errors` (ethtool -S) and reported by
//    `xdp:xdp_bulk_tx` with err=-6. A devmap redirect is refused earlier, when the frame
//    is enqueued: the target does not advertise NETDEV_XDP_ACT_NDO_XMIT, so
//    `xdp:xdp_redirect_err` reports -EOPNOTSUPP (-95) and nothing reaches the devmap.
//  - an XDP program on the peer: both paths deliver.
//  - GRO only: both paths are accepted (no error, ndo-xmit advertised), but only the
//    devmap path flushes (ndo_xdp_xmit with XDP_XMIT_FLUSH schedules the peer's NAPI).
//    XDP_TX's flush (veth_xdp_flush) schedules the peer's NAPI only when the peer has
//    an XDP program, so the frames stay *parked* in the peer's ring until the peer's
//    NAPI runs for another reason — the next ordinary frame sent into the peer.
//
// The model has no XDP_TX data path yet (the shim's tx_mode demo bypasses the router
// model), so this is the prediction as a pure function; live/gotchas.ts compares a live
// run against it.
import { R } from "../reasons.js";
import type { DriverProfile } from "./driver.js";

export const ENXIO = 6;
export const EOPNOTSUPP = 95;

/** What the receiving side of the veth pair has. */
export interface VethPeerState {
  /** An XDP program (any, e.g. bpf/xdplab_pass.c) is attached to the peer in native mode. */
  peerHasXdp: boolean;
  /** GRO is on for the peer (`ethtool -K peer gro on`). */
  peerGro: boolean;
}

export type VethXmitPath = "xdp_tx" | "devmap";

export interface VethXmitPrediction {
  /** Frames that arrive at the peer right away. */
  delivered: number;
  /** Frames accepted into the peer's ring without a NAPI kick: they arrive with the next ordinary frame sent into the peer. */
  parked: number;
  dropped: number;
  /** R.veth_peer_no_xdp for the drops, 0 when nothing is dropped. */
  reason: number;
  /** Negative errno the tracepoint reports (0 when nothing fails). */
  err: number;
  /** The tracepoint that reports the path's outcome (and its error, if any). */
  tracepoint: "xdp:xdp_bulk_tx" | "xdp:xdp_devmap_xmit" | "xdp:xdp_redirect_err";
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
  const okTracepoint = path === "xdp_tx" ? "xdp:xdp_bulk_tx" : "xdp:xdp_devmap_xmit";
  if (!ok) {
    return {
      delivered: 0,
      parked: 0,
      dropped: frames,
      reason: R.veth_peer_no_xdp,
      err: path === "xdp_tx" ? -ENXIO : -EOPNOTSUPP,
      tracepoint: path === "xdp_tx" ? "xdp:xdp_bulk_tx" : "xdp:xdp_redirect_err",
      ethtoolCounter: path === "xdp_tx" ? "xdp_tx_errors" : "",
      ndoXmitAdvertised: false,
    };
  }
  const parks = profile.vethPeerNeedsXdpOrGro && path === "xdp_tx" && !peer.peerHasXdp;
  return {
    delivered: parks ? 0 : frames,
    parked: parks ? frames : 0,
    dropped: 0,
    reason: 0,
    err: 0,
    tracepoint: okTracepoint,
    ethtoolCounter: "",
    ndoXmitAdvertised: true,
  };
}
