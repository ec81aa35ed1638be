import { describe, expect, it } from "vitest";
import { Umem, XDP_PACKET_HEADROOM } from "../../sim/xsk/umem.js";

describe("Umem (aligned chunks)", () => {
  it("address arithmetic: frame base, index, chunk masking, RX data offset", () => {
    const u = new Umem(16, 4096, 128);
    expect(u.size).toBe(65536);
    expect(u.frameAddr(3)).toBe(12288);
    expect(u.frameIndex(12288 + 4095)).toBe(3);
    expect(u.chunkBase(12288 + 700)).toBe(12288);
    expect(XDP_PACKET_HEADROOM).toBe(256);
    expect(u.rxDataAddr(12288)).toBe(12288 + 128 + 256);
    expect(u.rxFrameSize).toBe(4096 - 128 - 256);
  });

  it("TX descriptor validation follows xp_aligned_validate_desc", () => {
    const u = new Umem(4, 2048, 0);
    expect(u.validTxDesc(0, 60, 0)).toBe(true);
    expect(u.validTxDesc(0, 0, 0)).toBe(false); // empty
    expect(u.validTxDesc(2048 - 10, 11, 0)).toBe(false); // crosses the chunk
    expect(u.validTxDesc(2048 - 10, 10, 0)).toBe(true);
    expect(u.validTxDesc(4 * 2048, 60, 0)).toBe(false); // outside
    expect(u.validTxDesc(0, 60, 1)).toBe(true); // XDP_PKT_CONTD
    expect(u.validTxDesc(0, 60, 2)).toBe(false); // unknown option bit
  });

  it("rejects bad geometry", () => {
    expect(() => new Umem(0, 2048, 0)).toThrow(RangeError);
    expect(() => new Umem(4, 3000, 0)).toThrow(RangeError);
    expect(() => new Umem(4, 1024, 0)).toThrow(RangeError);
    expect(() => new Umem(4, 2048, 2048)).toThrow(RangeError);
  });
});
