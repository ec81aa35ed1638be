// The veth "peer without XDP program" gotcha, live, both ways a frame can be sent into
// the peer. Oracle: drivers/net/veth.c (see sim/xsk/vethPeer.ts) —
//  - XDP_TX into a peer with neither an XDP program nor GRO fails with -ENXIO
//    (xdp:xdp_bulk_tx err=-6, xdp_tx_errors); a program on the peer delivers; GRO alone
//    accepts the frames but parks them until an ordinary frame sent into the peer runs
//    its NAPI (the demo sends one from the DUT's stack);
//  - a devmap redirect is refused at enqueue without either (xdp:xdp_redirect_err
//    err=-95), and delivered with a program or with GRO alone.
// Each phase is also compared with the model's prediction (`agrees`).
import { beforeAll, describe, expect, it } from "vitest";
import { vethGotcha } from "../../live/gotchas.js";
import { IS_ROOT, buildHelpers } from "./helpers.js";

const N = 12;

describe.skipIf(!IS_ROOT)("veth XDP_TX / devmap into a peer without XDP or GRO (root)", () => {
  beforeAll(() => buildHelpers());

  it("XDP_TX: every frame dropped; the dummy XDP program fixes it; GRO parks the frames until the peer's NAPI runs", async () => {
    const r = await vethGotcha({ frames: N, path: "xdp_tx" });
    const [noFix, peerXdp, peerGro] = r.phases;
    expect(noFix?.phase).toBe("no-fix");
    expect([noFix?.received, noFix?.receivedAfterKick]).toEqual([0, 0]);
    expect(noFix?.xdpTxErrors).toBe(N);
    expect(noFix?.tracepointDrops).toBe(N);
    expect(noFix?.errnos).toEqual([-6]);
    expect(noFix?.ndoXmitAdvertised).toBe(false);

    expect(peerXdp?.received).toBe(N);
    expect(peerXdp?.xdpTxErrors).toBe(0);
    expect(peerXdp?.xdpTx).toBe(N);
    expect(peerXdp?.tracepointSent).toBe(N);
    expect(peerXdp?.ndoXmitAdvertised).toBe(true);

    expect(peerGro?.phase).toBe("peer-gro");
    expect(peerGro?.xdpTxErrors).toBe(0);
    expect(peerGro?.xdpTx).toBe(N);
    expect(peerGro?.ndoXmitAdvertised).toBe(true);
    expect([peerGro?.received, peerGro?.receivedAfterKick]).toEqual([0, N]);

    expect(r.phases.map((p) => p.agrees)).toEqual([true, true, true]);
  }, 90_000);

  it("devmap: refused at enqueue without a fix (-EOPNOTSUPP); the XDP program and GRO each deliver", async () => {
    const r = await vethGotcha({ frames: N, path: "devmap" });
    const [noFix, peerXdp, peerGro] = r.phases;
    expect(noFix?.received).toBe(0);
    expect(noFix?.tracepointErrors).toBe(N);
    expect(noFix?.errnos).toEqual([-95]);
    expect(noFix?.xdpTxErrors).toBe(0);
    expect(peerXdp?.received).toBe(N);
    expect(peerXdp?.tracepointSent).toBe(N);
    expect(peerGro?.received).toBe(N);
    expect(peerGro?.tracepointSent).toBe(N);
    expect(r.phases.map((p) => p.agrees)).toEqual([true, true, true]);
  }, 90_000);
});
