// EventQueue.reserveSeqs/pushSeq: a time-sorted stream fed one event at a time (the next
// pushed when the previous pops, as Sim feeds input arrivals) must pop in exactly the
// order of the queue that got the whole stream pushed up front. Oracle: that second queue.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { EventQueue } from "../../sim/engine/events.js";

const STREAM = 99;

describe("EventQueue reserved sequence numbers", () => {
  it("a stream fed one at a time pops where pushing it whole would have put it", () => {
    const other = fc.record({ dt: fc.integer({ min: 0, max: 5 }), n: fc.integer({ min: 0, max: 3 }) });
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 60 }),
        fc.array(other, { maxLength: 200 }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        (gaps, pushes, before, nearWrap) => {
          const times: number[] = [];
          let t = 0;
          for (const g of gaps) times.push((t += g));
          const whole = new EventQueue(4);
          const fed = new EventQueue(4);
          if (nearWrap) {
            // start just below 2^32 so the reserved range wraps
            (whole as unknown as { nextSeq: number }).nextSeq = 0xffff_fff0;
            (fed as unknown as { nextSeq: number }).nextSeq = 0xffff_fff0;
          }
          for (let i = 0; i < before; i++) {
            whole.push(i, 1, i, 0);
            fed.push(i, 1, i, 0);
          }
          for (let i = 0; i < times.length; i++) whole.push(times[i]!, STREAM, i, 0);
          const base = fed.reserveSeqs(times.length);
          if (times.length > 0) fed.pushSeq(times[0]!, STREAM, 0, 0, base);
          // Both queues see the same pops and the same later pushes (relative to the popped time).
          let k = 0;
          for (;;) {
            const a = whole.pop();
            const b = fed.pop();
            expect(b).toBe(a);
            if (!a) break;
            expect([fed.time, fed.kind, fed.a]).toEqual([whole.time, whole.kind, whole.a]);
            if (fed.kind === STREAM && fed.a + 1 < times.length) fed.pushSeq(times[fed.a + 1]!, STREAM, fed.a + 1, 0, (base + fed.a + 1) >>> 0);
            const p = pushes[k++];
            if (p !== undefined) {
              for (let j = 0; j < p.n; j++) {
                whole.push(whole.time + p.dt, 2, k * 10 + j, 0);
                fed.push(whole.time + p.dt, 2, k * 10 + j, 0);
              }
            }
          }
          expect(fed.size).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
