// A worker-side bug shown live (issue 7 part 5): traces/live/leakOnDrop runs on the lab's
// veths with the real shim and the native worker with its `leakOnDrop` switch on. Each
// martian drop keeps its RX frame, so once the 32 frames the worker put in the lan fill
// ring are gone the kernel finds the fill ring empty for every later packet. The
// kernel's own XDP_STATISTICS must show exactly what the case's hand-written
// expected.json asserts for the model, and the same traffic with the switch off must
// never find the fill ring empty. The case is B/leakOnDrop paced at 1 ms (its README):
// at the B case's 20 µs a live worker that loses the CPU lets its RX ring overflow, and
// frames dropped there are not leaked, so the count would depend on scheduling.
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, xdplab } from "../cli.js";
import { liveSkipReason } from "./helpers.js";

const why = liveSkipReason();

interface XdpStats { iface: string; queue: number; rx_fill_ring_empty_descs: number }
interface Summary {
  diff: { packets: number; agree: number; divergent: boolean };
  model: { xdpStatistics: XdpStats[] };
  live: { xdpStatistics: XdpStats[]; worker: Record<string, number> };
}

function runLive(c: string): { code: number; summary: Summary } {
  const out = mkdtempSync(path.join(tmpdir(), "xdplab-bug-live-"));
  const r = xdplab(["live", path.join("traces", c), "--json", "--out", out], { timeoutMs: 55_000 });
  expect(r.stderr).not.toMatch(/Error:|at .*\.js:\d+/);
  return { code: r.code, summary: JSON.parse(readFileSync(path.join(out, "summary.json"), "utf8")) as Summary };
}

function fillEmpty(stats: XdpStats[], iface: string): number | undefined {
  return stats.find((s) => s.iface === iface && s.queue === 0)?.rx_fill_ring_empty_descs;
}

describe.skipIf(why !== null)(`a worker bug switch shown live${why === null ? "" : ` (skipped: ${why})`}`, () => {
  it("live/leakOnDrop: the kernel counts the empty-fill drops the model predicts", () => {
    const expected = JSON.parse(readFileSync(path.join(ROOT, "traces/live/leakOnDrop/expected.json"), "utf8")) as {
      assert: { counter?: string; eq?: number }[];
    };
    const want = expected.assert.find((a) => a.counter === "xdpStatistics.lan:0.rx_fill_ring_empty_descs")?.eq;
    expect(want).toBeGreaterThan(0);
    const { code, summary } = runLive("live/leakOnDrop");
    expect(fillEmpty(summary.model.xdpStatistics, "lan")).toBe(want);
    expect(fillEmpty(summary.live.xdpStatistics, "lan")).toBe(want);
    // The worker saw only the packets that found a frame: each dropped as a martian.
    expect(summary.live.worker["rx"]).toBe(summary.diff.packets - want!);
    expect(summary.live.worker["reason.martian"]).toBe(summary.diff.packets - want!);
    expect({ agree: summary.diff.agree, divergent: summary.diff.divergent }).toEqual({ agree: summary.diff.packets, divergent: false });
    expect(code).toBe(0);
  }, 60_000);

  it("live/leakOnDrop-healthy: with the switch off the kernel never finds the lan fill ring empty", () => {
    const { summary } = runLive("live/leakOnDrop-healthy");
    expect(fillEmpty(summary.model.xdpStatistics, "lan")).toBe(0);
    expect(fillEmpty(summary.live.xdpStatistics, "lan")).toBe(0);
    expect(summary.live.worker["rx"]).toBeGreaterThan(0);
  }, 60_000);
});
