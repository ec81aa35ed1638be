// Back-to-back injection (xdplab-pktio inject --gap-us 0): the batched paths (TX ring, the
// default, and sendmmsg) send the same bytes in the same order as the paced loop and
// report the same per-frame errors, and a port whose ring fails falls back frame by frame.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ip } from "../../live/exec.js";
import { writeEthernetPcap } from "../../live/pcapio.js";
import { runPktio, startCapture } from "../../live/pktio.js";
import type { Port } from "../../live/pktio.js";
import type { Topology } from "../../live/topology.js";
import { IS_ROOT, ROOT_REASON, twoPortTopology } from "./helpers.js";

/** Frame i of a run: unicast MACs, EtherType 0x88b5, every 4th behind an 802.1Q tag,
 *  sizes spread over 60..1514; payload bytes from a xorshift of (seed, i). */
function frame(seed: number, i: number): Uint8Array {
  const len = 60 + ((i * 389) % (1514 - 60 + 1));
  const f = new Uint8Array(len);
  let x = (seed * 7919 + i + 1) | 1;
  for (let k = 0; k < len; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    f[k] = x & 0xff;
  }
  f.set([0x02, 0, 0, 0, 1, 1, 0x02, 0x58, 0x4c, 0xff, 0, i & 0xff], 0);
  if (i % 4 === 0) f.set([0x81, 0x00, 0x00, 100, 0x88, 0xb5], 12);
  else f.set([0x88, 0xb5], 12);
  return f;
}

const hex = (u: Uint8Array): string => Buffer.from(u).toString("hex");

interface Line {
  kind: string;
  index: number;
  port: number;
  rest: string;
}

/** Runs pktio inject on `frames` with extra arguments; returns its stdout lines, parsed. */
async function runInject(ports: readonly Port[], frames: ReadonlyArray<{ port: number; frame: Uint8Array }>, extra: readonly string[]): Promise<{ lines: Line[]; done: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), "xdplab-test-fast-"));
  try {
    writeEthernetPcap(path.join(dir, "in.pcap"), frames.map((f) => f.frame));
    writeFileSync(path.join(dir, "ports.txt"), frames.map((f) => `${f.port}\n`).join(""));
    const args = ["inject", ...ports.flatMap((p) => ["--if", `${p.netns}:${p.ifname}`]), "--pcap", path.join(dir, "in.pcap"), "--ifaces", path.join(dir, "ports.txt"), "--max-ms", "20000", ...extra];
    const r = await runPktio(args);
    if (r.code !== 0) throw new Error(`pktio inject ${extra.join(" ")} exited ${r.code}: ${r.stderr}`);
    const all = r.lines.filter((l) => l !== "");
    const lines = all
      .filter((l) => l.startsWith("sent ") || l.startsWith("error "))
      .map((l) => {
        const w = l.split(" ");
        return { kind: w[0] ?? "", index: Number(w[1]), port: Number(w[2]), rest: w.slice(3).join(" ") };
      });
    return { lines, done: all[all.length - 1] ?? "" };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Outcome per frame without the send times: "sent" or "error <text>". */
const outcomes = (lines: readonly Line[]): string[] => lines.map((l) => `${l.index} ${l.port} ${l.kind === "sent" ? "sent" : `error ${l.rest}`}`);

describe.skipIf(!IS_ROOT)(`xdplab-pktio back-to-back inject (${ROOT_REASON})`, () => {
  let topo: Topology;
  let dut: Port[];
  let far: Port[];

  beforeAll(() => {
    topo = twoPortTopology();
    dut = topo.ifaces.map((i) => ({ netns: i.dut.netns, ifname: i.dut.name }));
    far = topo.ifaces.map((i) => ({ netns: i.peer.netns, ifname: i.peer.name }));
  });
  afterAll(() => topo?.destroy());

  for (const tx of ["ring", "mmsg"] as const) {
    it(`--tx ${tx}: 600 frames over two ports arrive byte-identical, in order, one "sent" line each`, async () => {
      // runs of 1..40 frames per port, so batches end at port changes and at the batch size
      const frames: Array<{ port: number; frame: Uint8Array }> = [];
      let port = 0;
      for (let i = 0; frames.length < 600; i++) {
        const run = 1 + ((i * 13) % 40);
        for (let k = 0; k < run && frames.length < 600; k++) frames.push({ port, frame: frame(tx === "ring" ? 1 : 2, frames.length) });
        port ^= 1;
      }
      const cap = await startCapture(dut, { timeoutMs: 15_000 });
      const r = await runInject(far, frames, ["--gap-us", "0", "--tx", tx]);
      await new Promise((res) => setTimeout(res, 100));
      const [lan, wan] = await cap.stop();
      expect(r.done).toBe("done 600 0");
      expect(r.lines.map((l) => `${l.kind} ${l.index} ${l.port}`)).toEqual(frames.map((f, i) => `sent ${i} ${f.port}`));
      expect((lan ?? []).map((f) => hex(f.data))).toEqual(frames.filter((f) => f.port === 0).map((f) => hex(f.frame)));
      expect((wan ?? []).map((f) => hex(f.data))).toEqual(frames.filter((f) => f.port === 1).map((f) => hex(f.frame)));
    });
  }

  it("frames the kernel refuses get the same error lines as in the paced loop, the rest is sent", async () => {
    const frames: Array<{ port: number; frame: Uint8Array }> = [];
    for (let i = 0; i < 40; i++) frames.push({ port: 0, frame: frame(3, i) });
    const long = new Uint8Array(1600); // untagged, longer than MTU 1500 + 14
    long.set(frame(3, 99).subarray(0, 14), 0);
    long.set([0x88, 0xb5], 12);
    frames.splice(7, 0, { port: 0, frame: long });
    frames.splice(20, 0, { port: 0, frame: new Uint8Array(10).fill(2) }); // shorter than an Ethernet header
    const paced = await runInject(far, frames, ["--gap-us", "1"]);
    const errs = paced.lines.filter((l) => l.kind === "error").map((l) => l.index);
    expect(errs).toEqual([7, 20]); // the kernel does refuse both: the comparison below means something
    for (const tx of ["ring", "mmsg"]) {
      const cap = await startCapture([dut[0]!], { timeoutMs: 10_000 });
      const fast = await runInject(far, frames, ["--gap-us", "0", "--tx", tx]);
      await new Promise((res) => setTimeout(res, 100));
      const [lan] = await cap.stop();
      expect(outcomes(fast.lines)).toEqual(outcomes(paced.lines));
      expect(fast.done).toBe(paced.done);
      expect((lan ?? []).map((f) => hex(f.data))).toEqual(frames.filter((_, i) => !errs.includes(i)).map((f) => hex(f.frame)));
    }
  });

  it("a port that is down: the ring gives up and every frame reports the kernel's error, as paced", async () => {
    const frames = Array.from({ length: 30 }, (_, i) => ({ port: i < 10 ? 1 : 0, frame: frame(4, i) }));
    const lanFar = topo.ifaces[0]!.peer;
    ip(lanFar.netns, ["link", "set", "dev", lanFar.name, "down"]);
    try {
      const paced = await runInject(far, frames, ["--gap-us", "1"]);
      expect(paced.lines.filter((l) => l.kind === "error").map((l) => l.index)).toEqual(frames.map((f, i) => (f.port === 0 ? i : -1)).filter((i) => i >= 0));
      const fast = await runInject(far, frames, ["--gap-us", "0"]);
      expect(outcomes(fast.lines)).toEqual(outcomes(paced.lines));
      expect(fast.done).toBe("done 10 20");
    } finally {
      ip(lanFar.netns, ["link", "set", "dev", lanFar.name, "up"]);
    }
  });
});
