// The injection/capture helper: what goes in on a far side comes out byte-identical on
// the DUT side (VLAN tags included, which the kernel strips into metadata on receive),
// in order across several ports, and a capture does not see its own port's sends.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject, startCapture } from "../../live/pktio.js";
import type { Port } from "../../live/pktio.js";
import type { Topology } from "../../live/topology.js";
import { IS_ROOT, ROOT_REASON, twoPortTopology } from "./helpers.js";

/** Deterministic test bytes (xorshift32), independent of anything under test. */
function bytes(seed: number, n: number): Uint8Array {
  let x = seed | 1;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Frame i: unicast MACs, EtherType 0x88b5 (local experimental), every 5th one behind an
 *  802.1Q tag and every 7th behind an 802.1ad tag; sizes spread over 60..1514. */
function frame(i: number): Uint8Array {
  const len = 60 + ((i * 367) % (1514 - 60 + 1));
  const f = bytes(i + 1, len);
  f.set([0x02, 0, 0, 0, 1, 1, 0x02, 0x58, 0x4c, 0xff, 0, 0], 0);
  f[11] = i & 0xff;
  if (i % 5 === 0) f.set([0x81, 0x00, 0x00 | (i & 0x0f), 100 + i, 0x88, 0xb5], 12);
  else if (i % 7 === 0) f.set([0x88, 0xa8, 0x00, 200, 0x88, 0xb5], 12);
  else f.set([0x88, 0xb5], 12);
  return f;
}

const hex = (u: Uint8Array): string => Buffer.from(u).toString("hex");

describe.skipIf(!IS_ROOT)(`xdplab-pktio inject/capture (${ROOT_REASON})`, () => {
  let topo: Topology;
  let dutLan: Port;
  let dutWan: Port;
  let farLan: Port;
  let farWan: Port;

  beforeAll(() => {
    topo = twoPortTopology();
    const [l, w] = topo.ifaces;
    if (l === undefined || w === undefined) throw new Error("topology lost an interface");
    dutLan = { netns: l.dut.netns, ifname: l.dut.name };
    dutWan = { netns: w.dut.netns, ifname: w.dut.name };
    farLan = { netns: l.peer.netns, ifname: l.peer.name };
    farWan = { netns: w.peer.netns, ifname: w.peer.name };
  });
  afterAll(() => topo?.destroy());

  it("100 frames injected on a far side arrive byte-identical and in order", async () => {
    const frames = Array.from({ length: 100 }, (_, i) => frame(i));
    const cap = await startCapture([dutLan, farLan], { timeoutMs: 10_000 });
    const sent = await inject([farLan], frames.map((f) => ({ port: 0, frame: f })), { gapUs: 100 });
    await new Promise((r) => setTimeout(r, 50));
    const [atDut, atFar] = await cap.stop();
    expect(sent.filter((s) => s.error !== null)).toEqual([]);
    expect(sent.map((s) => s.index)).toEqual(frames.map((_, i) => i));
    expect((atDut ?? []).map((f) => hex(f.data))).toEqual(frames.map(hex));
    // direction "in": the far side's capture does not see what the far side sent
    expect(atFar ?? []).toEqual([]);
    // capture timestamps follow the send times
    const ts = (atDut ?? []).map((f) => f.tNs);
    for (let i = 1; i < ts.length; i++) expect((ts[i] ?? 0n) >= (ts[i - 1] ?? 0n)).toBe(true);
  });

  it("keeps the global order across ports of different namespaces", async () => {
    const frames = Array.from({ length: 20 }, (_, i) => ({ port: i % 3 === 0 ? 1 : 0, frame: frame(1000 + i) }));
    const cap = await startCapture([dutLan, dutWan], { timeoutMs: 10_000 });
    const sent = await inject([farLan, farWan], frames, { gapUs: 200 });
    await new Promise((r) => setTimeout(r, 50));
    const [lan, wan] = await cap.stop();
    expect((lan ?? []).map((f) => hex(f.data))).toEqual(frames.filter((f) => f.port === 0).map((f) => hex(f.frame)));
    expect((wan ?? []).map((f) => hex(f.data))).toEqual(frames.filter((f) => f.port === 1).map((f) => hex(f.frame)));
    const t = sent.map((s) => s.tNs ?? 0n);
    for (let i = 1; i < t.length; i++) expect((t[i] ?? 0n) > (t[i - 1] ?? 0n)).toBe(true);
  });

  it("a capture with nothing to see ends at its idle bound", async () => {
    const cap = await startCapture([dutWan], { timeoutMs: 5_000, idleMs: 50 });
    const [wan] = await cap.finished();
    expect(wan).toEqual([]);
  });
});
