// XSKMAP redirect outcomes, live. Oracle: net/xdp/xsk.c xsk_rcv_check (a socket bound
// to another queue → -EINVAL, xdp:xdp_redirect_err, frame dropped) and
// __bpf_xdp_redirect_map (an empty slot returns the flags' action, XDP_PASS here).
import { beforeAll, describe, expect, it } from "vitest";
import { xskmapErrors } from "../../live/gotchas.js";
import { IS_ROOT, buildHelpers } from "./helpers.js";

const N = 10;

describe.skipIf(!IS_ROOT)("XSKMAP redirect errors (root)", () => {
  beforeAll(() => buildHelpers());

  it("wrong queue drops with redirect_err -22, empty slot reaches the kernel, bound socket receives", async () => {
    const r = await xskmapErrors({ frames: N });
    const byPhase = Object.fromEntries(r.phases.map((p) => [p.phase, p]));
    const wq = byPhase["wrong-queue"];
    expect(wq?.redirectErrors).toBe(N);
    expect(wq?.errnos).toEqual([-22]);
    expect(wq?.socketReceived).toBe(0);
    expect(wq?.kernelSaw).toBe(0);
    const empty = byPhase["empty-slot"];
    expect(empty?.redirectErrors).toBe(0);
    expect(empty?.xskmapEmpty).toBe(N);
    expect(empty?.kernelSaw).toBe(N);
    const bound = byPhase["bound"];
    expect(bound?.socketReceived).toBe(N);
    expect(bound?.redirectErrors).toBe(0);
    expect(bound?.kernelSaw).toBe(0);
    expect(r.phases.every((p) => p.agrees)).toBe(true);
  }, 60_000);
});
