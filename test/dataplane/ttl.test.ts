// The TTL-decrement checksum step against a full recompute of the decremented header
// (independent RFC 1071 code in helpers.ts), including the 0xfeff → 0x0000 corner.
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { ttlDecrementChecksum } from "../../sim/dataplane/dataplane.js";
import { inetChecksum } from "./helpers.js";

function header(bytes: number[], ttl: number): number[] {
  const h = [0x45, ...bytes.slice(0, 7), ttl, ...bytes.slice(7, 8), 0, 0, ...bytes.slice(8, 16)];
  const c = inetChecksum(h);
  h[10] = c >> 8;
  h[11] = c & 0xff;
  return h;
}

describe("ttlDecrementChecksum", () => {
  test("equals a full recompute for valid headers", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 16, maxLength: 16 }), fc.integer({ min: 2, max: 255 }), (b, ttl) => {
        const h = header(b, ttl);
        const before = (h[10]! << 8) | h[11]!;
        const after = header(b, ttl - 1);
        expect(ttlDecrementChecksum(before)).toBe((after[10]! << 8) | after[11]!);
      }),
      { numRuns: 5000 },
    );
  });

  test("corner: a stored 0xfeff becomes 0x0000 (the full recompute), never 0xffff", () => {
    // Search a header whose checksum is 0xfeff by adjusting one word.
    const h = header([0, 28, 0, 0, 0x40, 0, 17, 0, 10, 0, 0, 1, 10, 0, 0, 2], 9);
    // Search the ID word that makes the checksum exactly 0xfeff.
    let c = -1;
    for (let id = 0; id < 0x10000 && c !== 0xfeff; id++) {
      h[4] = id >> 8; h[5] = id & 0xff; h[10] = 0; h[11] = 0;
      c = inetChecksum(h);
    }
    expect(c).toBe(0xfeff);
    h[10] = c >> 8; h[11] = c & 0xff;
    const dec = h.slice();
    dec[8] = dec[8]! - 1;
    dec[10] = 0; dec[11] = 0;
    expect(inetChecksum(dec)).toBe(0x0000);
    expect(ttlDecrementChecksum(0xfeff)).toBe(0x0000);
  });

  test("end-around carry, and an invalid checksum stays exactly as wrong", () => {
    expect(ttlDecrementChecksum(0xff00)).toBe(0x0001);
    expect(ttlDecrementChecksum(0xffff)).toBe(0x0100);
    expect(ttlDecrementChecksum(0x1234)).toBe(0x1334);
  });
});
