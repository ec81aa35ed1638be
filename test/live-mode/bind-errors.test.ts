// Bind errors explained in words. Oracle: net/xdp/xsk.c — ring sizes must be powers of
// two (EINVAL at setsockopt), a second socket on a (device, queue) without a shared
// UMEM is refused (EBUSY), veth has no zero-copy support (EOPNOTSUPP).
import { beforeAll, describe, expect, it } from "vitest";
import { BpfHelperError, LabBpf, explainErrno } from "../../live/attach.js";
import { Topology } from "../../live/topology.js";
import { IS_ROOT, buildHelpers } from "./helpers.js";

describe("errno table", () => {
  it("explains the documented bind errors by stage", () => {
    expect(explainErrno("bind", 16)).toMatch(/^EBUSY: .*already bound/);
    expect(explainErrno("bind", 95)).toMatch(/^EOPNOTSUPP: .*zero-copy/);
    expect(explainErrno("umem", 22)).toMatch(/power of two/);
    expect(explainErrno("nowhere", 9999)).toBe("errno 9999");
  });
});

describe.skipIf(!IS_ROOT)("AF_XDP bind errors on veth (root)", () => {
  beforeAll(() => buildHelpers());

  it("EINVAL, EBUSY and EOPNOTSUPP come back with their explanation", async () => {
    const topo = Topology.create({ interfaces: [{ name: "lan", mac: "02:58:4c:00:00:01", mtu: 1500 }], ipForward: false });
    const bpf = new LabBpf(topo);
    try {
      const ns = topo.dutNs;
      const err = async (o: Parameters<LabBpf["startProbe"]>[0]): Promise<BpfHelperError> => {
        try {
          const p = await bpf.startProbe(o);
          await p.stop();
        } catch (e) {
          if (e instanceof BpfHelperError) return e;
          throw e;
        }
        throw new Error("expected a bind error");
      };
      const bad = await err({ netns: ns, ifname: "lan", queue: 0, ms: 2000, ring: 1000 });
      expect(bad.errno).toBe(22);
      expect(bad.message).toMatch(/power of two/);
      const zc = await err({ netns: ns, ifname: "lan", queue: 0, ms: 2000, zerocopy: true });
      expect(zc.errno).toBe(95);
      expect(zc.message).toMatch(/zero-copy/);
      const first = await bpf.startProbe({ netns: ns, ifname: "lan", queue: 0, ms: 10_000 });
      const busy = await err({ netns: ns, ifname: "lan", queue: 0, ms: 2000 });
      expect(busy.errno).toBe(16);
      expect(busy.message).toMatch(/already bound/);
      await first.stop();
    } finally {
      bpf.close();
      topo.destroy();
    }
  }, 30_000);
});
