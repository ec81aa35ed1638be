// Determinism (DESIGN §5): the same case replayed in the test's own thread (TypeScript
// sources) and inside a worker_threads Worker (the compiled dist/ modules, a fresh V8
// isolate with its own heap and JIT state) gives the same summary hash and the same bytes
// in every output file. A different seed changes the outputs only where something is
// drawn from it (the flow generator's hosts and ports).
import { describe, expect, it } from "vitest";
import { Worker } from "node:worker_threads";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { loadInput, loadScenarioFile } from "../../bin/scenario-file.js";
import { replayToDir } from "../../bin/replay-run.js";
import { ROOT } from "../cli.js";

const ROUTED_BASIC = path.join(ROOT, "traces/examples/routed-basic/scenario.json");

function replayHere(file: string, dir: string, seed?: number): string {
  const scn = loadScenarioFile(file);
  if (seed !== undefined) scn.seed = seed;
  const { input, info } = loadInput(scn);
  return replayToDir(scn, input, info, dir, { path: true }).summary.hash;
}

/** The same steps in a Worker, on dist/ (built by the vitest globalSetup). */
function replayInWorker(file: string, dir: string, seed?: number): Promise<string> {
  const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    (async () => {
      const sf = await import(workerData.scenarioFile);
      const rr = await import(workerData.replayRun);
      const scn = sf.loadScenarioFile(workerData.file);
      if (workerData.seed !== null) scn.seed = workerData.seed;
      const { input, info } = sf.loadInput(scn);
      parentPort.postMessage(rr.replayToDir(scn, input, info, workerData.dir, { path: true }).summary.hash);
    })().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));`;
  const w = new Worker(code, {
    eval: true,
    workerData: {
      file,
      dir,
      seed: seed ?? null,
      scenarioFile: pathToFileURL(path.join(ROOT, "dist/bin/scenario-file.js")).href,
      replayRun: pathToFileURL(path.join(ROOT, "dist/bin/replay-run.js")).href,
    },
  });
  return new Promise((resolve, reject) => {
    w.once("message", (m: unknown) => {
      void w.terminate();
      if (typeof m === "string") resolve(m);
      else reject(new Error(`worker: ${JSON.stringify(m)}`));
    });
    w.once("error", reject);
  });
}

function filesOf(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((n) => [n, readFileSync(path.join(dir, n))]));
}

function expectSameFiles(a: string, b: string): void {
  const fa = filesOf(a);
  const fb = filesOf(b);
  expect([...fb.keys()]).toEqual([...fa.keys()]);
  for (const [name, bytes] of fa) expect(fb.get(name)?.equals(bytes), `${name} differs`).toBe(true);
}

/** A generated-traffic case: hosts, ports and the protocol mix come from the seed. */
function generatorCase(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "xdplab-det-case-"));
  const scn = {
    name: "det-generator",
    seed: 11,
    interfaces: [
      { name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.1.1/24", "2001:2:0:1::1/64"] },
      { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24", "2001:2:0:2::1/64"], mtu: 1400 },
    ],
    neighbors: [{ ip: "198.19.2.2", mac: "02:00:00:00:02:02", iface: "wan" }],
    routes: [{ prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" }],
    dataplane: { rings: { rx: 64, tx: 64, fill: 64, comp: 64 }, frames: 256, maxPendingTx: 32 },
    timing: { linkBps: { wan: 1e8 }, seriesNs: "100us", drainNs: "2ms" },
    traffic: { generator: { flows: 40, packets: 3000, pps: 200000, sizes: [64, 512, 1514], proto: "mix", dst: "198.19.2.2" } },
  };
  const file = path.join(dir, "scenario.json");
  writeFileSync(file, JSON.stringify(scn));
  return file;
}

describe("determinism: main thread vs worker_thread", () => {
  it("routed-basic: same hash, same bytes in every output file", async () => {
    const a = mkdtempSync(path.join(tmpdir(), "xdplab-det-a-"));
    const b = mkdtempSync(path.join(tmpdir(), "xdplab-det-b-"));
    const ha = replayHere(ROUTED_BASIC, a);
    const hb = await replayInWorker(ROUTED_BASIC, b);
    expect(hb).toBe(ha);
    expectSameFiles(a, b);
    // The run is not trivially empty: it has per-egress captures and path records.
    const names = readdirSync(a);
    expect(names).toEqual(expect.arrayContaining(["summary.json", "path.jsonl", "series.json", "wan.pcapng", "lan.pcapng", "drops.pcapng"]));
    expect(readFileSync(path.join(a, "path.jsonl"), "utf8").split("\n").length).toBeGreaterThan(500);
  });

  it("generated traffic under overload: same hash and bytes in both threads", async () => {
    const file = generatorCase();
    const a = mkdtempSync(path.join(tmpdir(), "xdplab-det-a-"));
    const b = mkdtempSync(path.join(tmpdir(), "xdplab-det-b-"));
    const ha = replayHere(file, a);
    const hb = await replayInWorker(file, b);
    expect(hb).toBe(ha);
    expectSameFiles(a, b);
    // 200 kpps of up to 1514-byte frames into a 100 Mb/s link: pending TX overflows.
    const summary = JSON.parse(readFileSync(path.join(a, "summary.json"), "utf8")) as { outcomes: { dropped: number; forwarded: number } };
    expect(summary.outcomes.dropped).toBeGreaterThan(0);
    expect(summary.outcomes.forwarded).toBeGreaterThan(0);
  });

  it("the generator's seed matters: another seed, other frames; the same seed again, the same", async () => {
    const file = generatorCase();
    const a = mkdtempSync(path.join(tmpdir(), "xdplab-det-a-"));
    const b = mkdtempSync(path.join(tmpdir(), "xdplab-det-b-"));
    const c = mkdtempSync(path.join(tmpdir(), "xdplab-det-c-"));
    const h11 = replayHere(file, a, 11);
    const h12 = await replayInWorker(file, b, 12);
    const h11again = await replayInWorker(file, c, 11);
    expect(h12).not.toBe(h11);
    expect(h11again).toBe(h11);
    expect(readFileSync(path.join(b, "wan.pcapng")).equals(readFileSync(path.join(a, "wan.pcapng")))).toBe(false);
  });
});
