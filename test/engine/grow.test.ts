// sim/engine/grow.ts: expectations written by hand from the ring layout.
import { describe, expect, it } from "vitest";
import { grown, unrolled } from "../../sim/engine/grow.js";

describe("grow", () => {
  it("grown keeps the type and copies to the front", () => {
    const g = grown(Int32Array.of(-1, 2, 3), 8);
    expect(g).toBeInstanceOf(Int32Array);
    expect(Array.from(g)).toEqual([-1, 2, 3, 0, 0, 0, 0, 0]);
  });

  it("unrolled restarts a full, wrapped ring at 0", () => {
    // ring of 5, head at 3: logical order is a[3], a[4], a[0], a[1], a[2]
    const u = unrolled(Float64Array.of(30, 40, 50, 10, 20), 3, 5, 10);
    expect(u).toBeInstanceOf(Float64Array);
    expect(Array.from(u)).toEqual([10, 20, 30, 40, 50, 0, 0, 0, 0, 0]);
  });

  it("unrolled copies only `count` elements, wrapped or not", () => {
    expect(Array.from(unrolled(Uint8Array.of(1, 2, 3, 4), 1, 2, 6))).toEqual([2, 3, 0, 0, 0, 0]);
    expect(Array.from(unrolled(Uint32Array.of(7, 8, 5, 6), 2, 3, 8))).toEqual([5, 6, 7, 0, 0, 0, 0, 0]);
  });
});
