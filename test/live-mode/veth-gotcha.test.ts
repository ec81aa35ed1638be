// The veth "peer without XDP program" gotcha, live. Oracle: drivers/net/veth.c — a
// frame sent with XDP_TX into a veth whose peer has no XDP program and no GRO fails
// with -ENXIO (xdp:xdp_bulk_tx err=-6, xdp_tx_errors); with a program on the peer it
// is delivered. The GRO phase is checked on the sending side only (see docs/live.md).
import { beforeAll, describe, expect, it } from "vitest";
import { vethGotcha } from "../../live/gotchas.js";
import { IS_ROOT, buildHelpers } from "./helpers.js";

const N = 12;

describe.skipIf(!IS_ROOT)("veth XDP_TX into a peer without XDP or GRO (root)", () => {
  beforeAll(() => buildHelpers());

  it("drops every frame, and the dummy XDP program on the peer fixes it", async () => {
    const r = await vethGotcha({ frames: N, path: "xdp_tx" });
    const [noFix, peerXdp, peerGro] = r.phases;
    expect(noFix?.phase).toBe("no-fix");
    expect(noFix?.received).toBe(0);
    expect(noFix?.xdpTxErrors).toBe(N);
    expect(noFix?.tracepointDrops).toBe(N);
    expect(noFix?.errnos).toEqual([-6]);
    expect(noFix?.ndoXmitAdvertised).toBe(false);

    expect(peerXdp?.received).toBe(N);
    expect(peerXdp?.xdpTxErrors).toBe(0);
    expect(peerXdp?.xdpTx).toBe(N);
    expect(peerXdp?.tracepointErrors).toBe(0);
    expect(peerXdp?.ndoXmitAdvertised).toBe(true);

    // GRO on the peer: the kernel accepts the frames (no error, ndo-xmit advertised).
    expect(peerGro?.xdpTxErrors).toBe(0);
    expect(peerGro?.xdpTx).toBe(N);
    expect(peerGro?.tracepointErrors).toBe(0);
    expect(peerGro?.ndoXmitAdvertised).toBe(true);
  }, 60_000);
});
