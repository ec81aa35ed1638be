import { describe, expect, it } from "vitest";
import { Prng } from "../../sim/engine/prng.js";

// Expected streams come from test/engine/prng_ref.c (plain C uint32 xoshiro128**).
const REF: [number, number[]][] = [
  [0, [3809008728, 1133695204, 53579671, 2891528803, 139681546, 2203266335]],
  [1, [2442144158, 3238099751, 3819917871, 2104621829, 2021136066, 4223536128]],
  [42, [2837322924, 544945897, 479756282, 3500138142, 339756180, 113173290]],
  [4294967295, [835879718, 1921286648, 2356205009, 1885780724, 980451116, 1053911718]],
];

describe("Prng", () => {
  it.each(REF)("seed %d matches the C reference xoshiro128**", (seed, want) => {
    const p = new Prng(seed);
    expect(want.map(() => p.nextU32())).toEqual(want);
  });

  it("is deterministic and seeds give different streams", () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const c = new Prng(8);
    const xa = Array.from({ length: 100 }, () => a.nextU32());
    expect(Array.from({ length: 100 }, () => b.nextU32())).toEqual(xa);
    expect(Array.from({ length: 100 }, () => c.nextU32())).not.toEqual(xa);
  });

  it("seeds differing only above bit 31 differ", () => {
    expect(new Prng(5).nextU32()).not.toBe(new Prng(5 + 2 ** 32).nextU32());
  });

  it("nextInt is within bounds and roughly uniform (chi-square, 10 bins, 100k draws)", () => {
    const p = new Prng(123);
    const bins = new Array<number>(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const x = p.nextInt(10);
      expect(x >= 0 && x < 10 && Number.isInteger(x)).toBe(true);
      bins[x] = (bins[x] ?? 0) + 1;
    }
    const e = n / 10;
    const chi = bins.reduce((s, o) => s + ((o - e) * (o - e)) / e, 0);
    expect(chi).toBeLessThan(27.88); // p = 0.001 for 9 degrees of freedom
  });

  it("nextInt(3) has no modulo bias over 2^32", () => {
    const p = new Prng(9);
    const bins = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) bins[p.nextInt(3)]! += 1;
    for (const b of bins) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });

  it("nextInt rejects bad bounds", () => {
    const p = new Prng(1);
    expect(() => p.nextInt(0)).toThrow(RangeError);
    expect(() => p.nextInt(1.5)).toThrow(RangeError);
    expect(p.nextInt(1)).toBe(0);
  });

  it("nextFloat is in [0,1) with mean near 1/2", () => {
    const p = new Prng(77);
    let sum = 0;
    for (let i = 0; i < 50_000; i++) {
      const f = p.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
      sum += f;
    }
    expect(Math.abs(sum / 50_000 - 0.5)).toBeLessThan(0.01);
  });

  it("fork gives streams independent of each other and deterministic", () => {
    const a = new Prng(3);
    const f1 = a.fork(1);
    const a2 = new Prng(3);
    const g1 = a2.fork(1);
    const s1 = Array.from({ length: 20 }, () => f1.nextU32());
    expect(Array.from({ length: 20 }, () => g1.nextU32())).toEqual(s1);
    const b = new Prng(3);
    const f2 = b.fork(2);
    expect(Array.from({ length: 20 }, () => f2.nextU32())).not.toEqual(s1);
    // the parent keeps going and differs from the child
    expect(Array.from({ length: 20 }, () => a.nextU32())).not.toEqual(s1);
  });
});
