// Model-based test of the user-side ring views against a plain reference queue. The
// reference restates libxdp's <xdp/xsk.h> contract in terms of array lengths: reserve is
// all-or-nothing against the free space behind the published consumer; peek sees at most
// what the cached producer saw, refreshed only when nothing is cached.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Ring, RingCons, RingProd, ringEntries } from "../../sim/xsk/ring.js";

interface Model {
  size: number;
  submitted: number[]; // published, not yet released (FIFO)
  reserved: number[]; // reserved and written, not yet submitted
  peeked: number; // entries at the head handed to the consumer, not released
  seenByCons: number; // entries (from head) the consumer's cached producer covers
  nextVal: number;
}
interface Real {
  ring: Ring;
  prod: RingProd;
  cons: RingCons;
}

class Reserve implements fc.Command<Model, Real> {
  constructor(readonly n: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const free = m.size - m.submitted.length - m.reserved.length;
    const got = r.prod.reserve(this.n);
    if (free >= this.n) {
      expect(got).toBe(this.n);
      for (let i = 0; i < this.n; i++) {
        r.prod.setAddr(r.prod.idx + i, m.nextVal);
        m.reserved.push(m.nextVal++);
      }
    } else {
      expect(got).toBe(0);
    }
  }
  toString(): string {
    return `reserve(${this.n})`;
  }
}
class Submit implements fc.Command<Model, Real> {
  check(m: Readonly<Model>): boolean {
    return m.reserved.length > 0;
  }
  run(m: Model, r: Real): void {
    r.prod.submit(m.reserved.length);
    m.submitted.push(...m.reserved);
    m.reserved = [];
  }
  toString(): string {
    return "submit";
  }
}
class ProdCancel implements fc.Command<Model, Real> {
  check(m: Readonly<Model>): boolean {
    return m.reserved.length > 0;
  }
  run(m: Model, r: Real): void {
    r.prod.cancel(m.reserved.length);
    m.nextVal -= 0; // values are never reused; fine either way
    m.reserved = [];
  }
  toString(): string {
    return "prodCancel";
  }
}
class Peek implements fc.Command<Model, Real> {
  constructor(readonly n: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    let cached = m.seenByCons - m.peeked;
    if (cached === 0) {
      m.seenByCons = m.submitted.length;
      cached = m.seenByCons - m.peeked;
    }
    const want = Math.min(this.n, cached);
    const got = r.cons.peek(this.n);
    expect(got).toBe(want);
    for (let i = 0; i < got; i++) expect(r.cons.addrAt(r.cons.idx + i)).toBe(m.submitted[m.peeked + i]);
    m.peeked += got;
  }
  toString(): string {
    return `peek(${this.n})`;
  }
}
class Release implements fc.Command<Model, Real> {
  check(m: Readonly<Model>): boolean {
    return m.peeked > 0;
  }
  run(m: Model, r: Real): void {
    const n = m.peeked;
    r.cons.release(n);
    m.submitted.splice(0, n);
    m.seenByCons -= n;
    m.peeked = 0;
  }
  toString(): string {
    return "release";
  }
}
class ConsCancel implements fc.Command<Model, Real> {
  constructor(readonly k: number) {}
  check(m: Readonly<Model>): boolean {
    return m.peeked > 0;
  }
  run(m: Model, r: Real): void {
    const k = Math.min(this.k, m.peeked);
    r.cons.cancel(k);
    m.peeked -= k;
  }
  toString(): string {
    return `consCancel(${this.k})`;
  }
}

function invariants(m: Model, r: Real): void {
  expect(r.ring.level()).toBe(m.submitted.length);
  expect(Array.from(ringEntries(r.ring))).toEqual(m.submitted);
  // CATALOGUE allOrNothingReserve: cached producer − consumer ≤ size
  expect((r.prod.cachedProd - r.ring.consumer) >>> 0).toBeLessThanOrEqual(r.ring.size);
}

describe("Ring / RingProd / RingCons vs a reference queue", () => {
  const sizes = fc.constantFrom(1, 2, 4, 8, 16);
  const cmds = fc.commands(
    [
      fc.integer({ min: 1, max: 20 }).map((n) => new Reserve(n)),
      fc.constant(new Submit()),
      fc.constant(new ProdCancel()),
      fc.integer({ min: 1, max: 20 }).map((n) => new Peek(n)),
      fc.constant(new Release()),
      fc.integer({ min: 1, max: 20 }).map((k) => new ConsCancel(k)),
    ],
    { maxCommands: 200, size: "max" },
  );

  it("matches the reference, including across the 2^32 index wrap", () => {
    fc.assert(
      fc.property(sizes, fc.integer({ min: 0, max: 64 }), cmds, (size, below, cs) => {
        const ring = new Ring(size);
        ring.resetIndices(2 ** 32 - below); // the indices cross 2^32 within the run
        const real: Real = { ring, prod: new RingProd(ring), cons: new RingCons(ring) };
        const model: Model = { size, submitted: [], reserved: [], peeked: 0, seenByCons: 0, nextVal: 1 };
        fc.modelRun(
          () => ({ model, real }),
          [...cs].map((c) => ({
            check: (m: Readonly<Model>) => c.check(m),
            run: (m: Model, r: Real) => {
              c.run(m, r);
              invariants(m, r);
            },
            toString: () => c.toString(),
          })),
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe("Ring basics", () => {
  it.each([0, 3, 6, 1000, 4097, -4, 1.5])("rejects size %d (not a power of two)", (n) => {
    expect(() => new Ring(n)).toThrow(RangeError);
  });

  it("reserve is all-or-nothing: 3 free, reserve(4) gives 0 and reserve(3) gives 3", () => {
    const ring = new Ring(4);
    const p = new RingProd(ring);
    expect(p.reserve(1)).toBe(1);
    p.submit(1);
    expect(p.reserve(4)).toBe(0);
    expect(p.cachedProd).toBe(1); // nothing was taken
    expect(p.reserve(3)).toBe(3);
    expect(p.idx).toBe(1);
    expect(p.reserve(1)).toBe(0);
  });

  it("peek refreshes the cached producer only when nothing is cached (xsk_cons_nb_avail)", () => {
    const ring = new Ring(8);
    const p = new RingProd(ring);
    const c = new RingCons(ring);
    p.reserve(4);
    p.submit(4);
    expect(c.peek(1)).toBe(1);
    p.reserve(2);
    p.submit(2);
    expect(c.peek(20)).toBe(3); // the 3 still cached, not the 2 new ones
    expect(c.peek(20)).toBe(2);
  });

  it("indices wrap at 2^32: level and entries stay right", () => {
    const ring = new Ring(8);
    ring.resetIndices(0xfffffffe);
    const p = new RingProd(ring);
    const c = new RingCons(ring);
    expect(p.reserve(5)).toBe(5);
    for (let i = 0; i < 5; i++) p.setAddr(p.idx + i, 100 + i);
    p.submit(5);
    expect(ring.producer).toBe(3); // 0xfffffffe + 5 − 2^32
    expect(ring.level()).toBe(5);
    expect(Array.from(ringEntries(ring))).toEqual([100, 101, 102, 103, 104]);
    expect(c.peek(8)).toBe(5);
    expect(c.addrAt(c.idx + 4)).toBe(104);
    c.release(5);
    expect(ring.consumer).toBe(3);
    expect(ring.level()).toBe(0);
  });
});
