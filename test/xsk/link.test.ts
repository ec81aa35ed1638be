// Wire timing of the egress model. Expected times are hand-computed: a frame occupies
// (max(len, 60) + 4 FCS + 8 preamble + 12 IFG) bytes of wire time; at 1 Gb/s a byte is 8 ns.
import { describe, expect, it } from "vitest";
import { Link } from "../../sim/xsk/link.js";

function drain(l: Link, now: number): number[][] {
  const out: number[][] = [];
  while (l.popCompletion(now)) out.push([l.tag, l.addr, l.sent, l.wireStart, l.wireEnd, l.due]);
  return out;
}

describe("Link", () => {
  it("serializes back to back at 1 Gb/s (64 B → 704 ns, 1500 B → 12192 ns, 20 B padded → 672 ns)", () => {
    const l = new Link(1e9);
    expect(l.wireNs(64)).toBe(704);
    expect(l.wireNs(1500)).toBe(12192);
    expect(l.wireNs(20)).toBe(672);
    l.enqueue(0, 1, 100, 64);
    l.enqueue(0, 1, 200, 1500);
    l.enqueue(0, 2, 300, 20);
    expect(drain(l, 1000)).toEqual([[1, 100, 1, 0, 704, 704]]);
    expect(drain(l, 1_000_000)).toEqual([
      [1, 200, 1, 704, 12896, 12896],
      [2, 300, 1, 12896, 13568, 13568],
    ]);
    expect(l.framesSent).toBe(3);
  });

  it("an idle wire starts a frame at its enqueue time", () => {
    const l = new Link(1e9);
    l.enqueue(5000, 0, 0, 64);
    expect(l.nextTime()).toBe(5000);
    expect(drain(l, 10_000)).toEqual([[0, 0, 1, 5000, 5704, 5704]]);
  });

  it("completionDelayNs delays the completion, not the wire", () => {
    const l = new Link(1e9);
    l.completionDelayNs = 1000;
    l.enqueue(0, 0, 0, 64);
    expect(drain(l, 1703)).toEqual([]);
    expect(drain(l, 1704)).toEqual([[0, 0, 1, 0, 704, 1704]]);
  });

  it("txStall holds frames not yet started; a frame already on the wire finishes", () => {
    const l = new Link(1e9);
    l.enqueue(0, 0, 0, 64);
    l.enqueue(0, 0, 1, 64);
    l.txStall(100, 5000); // frame 0 started at 0; frame 1 would start at 704
    expect(drain(l, 1_000_000)).toEqual([
      [0, 0, 1, 0, 704, 704],
      [0, 1, 1, 5000, 5704, 5704],
    ]);
  });

  it("a frame whose turn comes while the link is down is dropped but still completes", () => {
    const l = new Link(1e9);
    l.setUp(0, false);
    l.enqueue(10, 0, 7, 64);
    expect(drain(l, 10)).toEqual([[0, 7, 0, 10, 10, 10]]);
    expect(l.framesDropped).toBe(1);
    l.setUp(20, true);
    l.enqueue(20, 0, 8, 64);
    expect(drain(l, 1000)).toEqual([[0, 8, 1, 20, 724, 724]]);
  });

  it("keeps up with many frames (grows past its initial capacity, FIFO)", () => {
    const l = new Link(1e10);
    for (let i = 0; i < 1000; i++) l.enqueue(0, i, i, 1500);
    const got = drain(l, 1e12);
    expect(got.length).toBe(1000);
    expect(got.map((c) => c[0])).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(got[999]![4]).toBe(1000 * 1219); // 1524*8/10 = 1219.2 → 1219 ns each
  });
});
