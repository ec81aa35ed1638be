import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { EventQueue } from "../../sim/engine/events.js";

describe("EventQueue", () => {
  it("pops in (time, push order) like a stable sort, under random interleavings", () => {
    const op = fc.oneof(
      fc.record({ push: fc.constant(true), time: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ push: fc.constant(false), time: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const q = new EventQueue(4); // small start: exercises growth
        const ref: { time: number; id: number }[] = [];
        let id = 0;
        for (const o of ops) {
          if (o.push) {
            q.push(o.time, id % 7, id, 1000 - id);
            ref.push({ time: o.time, id });
            id++;
          } else {
            // reference: earliest time, then smallest id (push order)
            let best = -1;
            for (let i = 0; i < ref.length; i++) {
              const r = ref[i]!;
              const b = best < 0 ? undefined : ref[best]!;
              if (b === undefined || r.time < b.time || (r.time === b.time && r.id < b.id)) best = i;
            }
            const ok = q.pop();
            if (best < 0) {
              expect(ok).toBe(false);
              continue;
            }
            const want = ref.splice(best, 1)[0]!;
            expect(ok).toBe(true);
            expect([q.time, q.a, q.b, q.kind]).toEqual([want.time, want.id, 1000 - want.id, want.id % 7]);
          }
          expect(q.size).toBe(ref.length);
          expect(q.peekTime()).toBe(ref.length === 0 ? Infinity : Math.min(...ref.map((r) => r.time)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("keeps fractional-free large ns times exact", () => {
    const q = new EventQueue();
    const t = 2 ** 52 + 1;
    q.push(t, 1, 0, 0);
    q.push(5, 2, 0, 0);
    expect(q.pop() && q.time).toBe(5);
    expect(q.pop() && q.time).toBe(t);
    expect(q.pop()).toBe(false);
  });
});
