// LPM against a brute-force reference (scan every route, keep the longest matching
// prefix, then the lowest metric, then the first) over random route sets, v4 and v6.
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { LpmTable } from "../../sim/dataplane/fib.js";

function masked(addr: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(addr.length);
  for (let i = 0; i < addr.length; i++) {
    const bits = Math.max(0, Math.min(8, len - i * 8));
    out[i] = (addr[i] ?? 0) & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}
function contains(prefix: Uint8Array, len: number, a: Uint8Array): boolean {
  const m = masked(a, len);
  return m.every((x, i) => x === masked(prefix, len)[i]);
}
interface R { prefix: Uint8Array; len: number; metric: number }
function brute(routes: R[], a: Uint8Array): number {
  let best = -1;
  routes.forEach((r, i) => {
    if (!contains(r.prefix, r.len, a)) return;
    if (best < 0) { best = i; return; }
    const b = routes[best]!;
    if (r.len > b.len || (r.len === b.len && r.metric < b.metric)) best = i;
  });
  return best;
}

function suite(bytes: 4 | 16) {
  const bits = bytes * 8;
  // Addresses drawn from a small pool of "bases" so that prefixes overlap and nest.
  const addr = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ minLength: bytes, maxLength: bytes })).map(([base, rnd]) => {
    const a = Uint8Array.from(rnd);
    a[0] = 10 + base;
    if (base < 2) a[1] = 0; // more sharing in the high bits
    return a;
  });
  const route = fc.record({ prefix: addr, len: fc.integer({ min: 0, max: bits }), metric: fc.integer({ min: 0, max: 3 }) });
  test(`v${bytes === 4 ? 4 : 6}: lookup equals brute force`, () => {
    fc.assert(
      fc.property(fc.array(route, { maxLength: 40 }), fc.array(addr, { minLength: 1, maxLength: 20 }), (routes, probes) => {
        const t = new LpmTable(bits as 32 | 128);
        t.build(routes.map((r) => r.prefix), routes.map((r) => r.len), routes.map((r) => r.metric), routes.map((_, i) => i));
        // probes: random ones plus each route's own prefix
        for (const p of [...probes, ...routes.map((r) => r.prefix)]) {
          const exp = brute(routes, p);
          const got = t.lookup(p, 0);
          if (exp < 0) expect(got).toBe(-1);
          else {
            // Same prefix and metric are interchangeable only when they are the same route.
            expect(got).toBe(exp);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
}

describe("LpmTable", () => {
  suite(4);
  suite(16);

  test("tie-break: lowest metric, then first in the list", () => {
    const p = Uint8Array.of(10, 0, 0, 0);
    const t = new LpmTable(32);
    t.build([p, p, p, p], [8, 8, 8, 8], [5, 2, 2, 7], [0, 1, 2, 3]);
    expect(t.lookup(Uint8Array.of(10, 1, 2, 3), 0)).toBe(1);
  });

  test("host bits of a prefix are ignored; /0 matches everything; no route is -1", () => {
    const t = new LpmTable(32);
    t.build([Uint8Array.of(192, 168, 1, 77)], [24], [0], [9]);
    expect(t.lookup(Uint8Array.of(192, 168, 1, 1), 0)).toBe(9);
    expect(t.lookup(Uint8Array.of(192, 168, 2, 1), 0)).toBe(-1);
    t.build([Uint8Array.of(0, 0, 0, 0)], [0], [0], [4]);
    expect(t.lookup(Uint8Array.of(1, 2, 3, 4), 0)).toBe(4);
  });

  test("100k routes build and resolve (v4 /24s and v6 /56s)", () => {
    const n = 100_000;
    const p4: Uint8Array[] = [], p6: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      p4.push(Uint8Array.of(10 + (i >> 16), (i >> 8) & 0xff, i & 0xff, 0));
      const a = new Uint8Array(16);
      a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8; a[4] = i >> 16; a[5] = (i >> 8) & 0xff; a[6] = i & 0xff;
      p6.push(a);
    }
    const t4 = new LpmTable(32), t6 = new LpmTable(128);
    const ids = p4.map((_, i) => i);
    t4.build(p4, p4.map(() => 24), p4.map(() => 0), ids);
    t6.build(p6, p6.map(() => 56), p6.map(() => 0), ids);
    for (const i of [0, 1, 777, 65535, 65536, 99_999]) {
      expect(t4.lookup(Uint8Array.of(10 + (i >> 16), (i >> 8) & 0xff, i & 0xff, 200), 0)).toBe(i);
      const a = new Uint8Array(16);
      a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8; a[4] = i >> 16; a[5] = (i >> 8) & 0xff; a[6] = i & 0xff; a[15] = 1;
      expect(t6.lookup(a, 0)).toBe(i);
    }
  });
});
