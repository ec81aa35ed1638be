// Live mode plumbing of the native worker: a native thread that enters a network
// namespace, binds a real AF_XDP socket (libxdp's default XDP program) on a veth, polls
// until stopped, and is joined on stop. Frames are injected from the veth peer with
// xdplab-pktio. They carry no shim metadata (no shim is loaded here), so the worker must
// receive every one and drop it as meta_bad_magic, recycling its frame — the counters are
// the observable. Needs root, iproute2 and the pktio helper; skipped otherwise.
import { afterAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { NativeLiveWorker } from "../../live/native.js";
import { parseScenario } from "../../sim/scenario/parse.js";
import { buildFrame } from "../../sim/packet/build.js";
import { LINKTYPE_ETHERNET } from "../../sim/packet/linktypes.js";
import { PcapWriter, memorySink } from "../../capture/encode.js";
import { ROOT } from "../cli.js";

const PKTIO = path.join(ROOT, "native", "pktio", "build", "xdplab-pktio");
const canRun = process.getuid?.() === 0 && existsSync(PKTIO) && spawnSync("ip", ["-V"]).status === 0;
const NS = `xlnw${process.pid}`;

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: "pipe" });
}

function pcapOf(frames: Uint8Array[]): Uint8Array {
  const sink = memorySink();
  const w = new PcapWriter(sink, LINKTYPE_ETHERNET);
  frames.forEach((f, i) => w.writePacket(BigInt(i) * 1000n, f, 0, f.length));
  w.close();
  return sink.bytes();
}

describe.skipIf(!canRun)("native worker, live mode (veth in a namespace)", () => {
  afterAll(() => {
    spawnSync("ip", ["netns", "del", NS]);
  });

  it("binds in the namespace, receives injected frames, stops and joins", async () => {
    ip("netns", "add", NS);
    // No IPv6 in this namespace: a veth coming up would otherwise send its own
    // multicast (MLD reports, router/neighbour solicitations) to the peer, and those
    // frames would reach the socket next to the injected ones.
    execFileSync("ip", ["netns", "exec", NS, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"], { stdio: "pipe" });
    ip("-n", NS, "link", "add", "xa", "type", "veth", "peer", "name", "xb");
    ip("-n", NS, "link", "set", "xa", "up");
    ip("-n", NS, "link", "set", "xb", "up");
    const scn = parseScenario(
      {
        name: "live-plumbing",
        interfaces: [{ name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.1.1/24"] }],
        dataplane: { rings: { rx: 64, tx: 64, fill: 64, comp: 64 }, frames: 256, frameSize: 4096 },
      },
      "/tmp/live-plumbing.json",
      "/tmp",
    );
    const w = new NativeLiveWorker(scn);
    try {
      w.bind(0, "xa", 0);
      w.start(`/run/netns/${NS}`);
      expect(w.isRunning).toBe(true);
      const N = 40;
      const frames = Array.from({ length: N }, (_, i) =>
        buildFrame({ eth: { src: "02:00:00:00:01:0a", dst: "02:00:00:00:01:01" }, ip: { version: 4, src: "198.18.1.10", dst: "198.19.2.7", ttl: 64, id: i }, udp: { sport: 1000 + i, dport: 9 }, payload: new Uint8Array(32) }),
      );
      const dir = mkdtempSync(path.join(tmpdir(), "xdplab-live-native-"));
      writeFileSync(path.join(dir, "in.pcap"), pcapOf(frames));
      const inj = spawnSync(PKTIO, ["inject", "--if", `${NS}:xb`, "--pcap", path.join(dir, "in.pcap"), "--gap-us", "100"], { encoding: "utf8" });
      expect(inj.stdout).toContain(`done ${N} 0`);
      // Wait (bounded) for the worker thread to have seen them all.
      for (let i = 0; i < 200 && w.counters().rx! < N; i++) await new Promise((r) => setTimeout(r, 25));
      w.stop();
      const c = w.counters();
      expect(c.rx).toBe(N);
      expect(c.dropped).toBe(N); // no shim metadata in front of the frames: meta_bad_magic
      // Bring-up submits min(fill ring 64, frames/2 = 128) = 64 frames; each drop recycles its frame to the fill ring.
      expect(c.fill_submitted).toBe(64 + N);
      expect(c.polls).toBeGreaterThan(0);
      expect(w.isRunning).toBe(false);
    } finally {
      w.close();
    }
  });
});
