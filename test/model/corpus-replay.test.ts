// Every Ethernet, Linux cooked (SLL/SLL2) and raw-IP capture of the real tcpdump corpus
// replayed in-process through a small router (and the same router with SNAT, so real
// traffic installs sessions and the session timer runs over spans of up to decades):
// nothing throws, and every packet gets exactly one outcome — counted independently
// from the sink's calls (at most one frameOut/kernel/drop per packet id) and from the
// tracker (each id final, outcomes summing to the packets, one reason per packet that
// was not forwarded). The corpus holds captures spanning days (kday*.pcap) and ones
// with garbage timestamps; they must finish with the idle fast paths, within the test's
// timeout (a limit, not a timed assertion).
import { describe, it, expect } from "vitest";
import { readdirSync } from "node:fs";
import path from "node:path";
import { CaptureReader } from "../../capture/reader.js";
import { Sim } from "../../sim/run.js";
import type { RunSink, PathRecord } from "../../sim/run.js";
import { parseScenario } from "../../sim/scenario/parse.js";
import type { Scenario } from "../../sim/scenario/types.js";
import { loadInput } from "../../bin/scenario-file.js";
import { LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW } from "../../sim/packet/linktypes.js";
import { CORPUS } from "../cli.js";

const WANTED = new Set([LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6]);

function router(snat: boolean): Scenario {
  return parseScenario(
    {
      name: snat ? "corpus-snat" : "corpus-router",
      seed: 1,
      interfaces: [
        { name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.1.1/24", "2001:2:0:1::1/64"] },
        { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24", "2001:2:0:2::1/64"] },
      ],
      neighbors: [
        { ip: "198.19.2.2", mac: "02:00:00:00:02:02", iface: "wan" },
        { ip: "2001:2:0:2::2", mac: "02:00:00:00:02:02", iface: "wan" },
      ],
      routes: [
        { prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" },
        { prefix: "::/0", via: "2001:2:0:2::2", iface: "wan" },
      ],
      // small UMEMs: 700 runs, each allocating its rings and frames
      dataplane: { frames: 512, frameSize: 2048, rings: { rx: 256, tx: 256, fill: 256, comp: 256 } },
      ...(snat ? { nat: { snat: [{ from: "0.0.0.0/0", egress: "wan", to: "interface" }] } } : {}),
      traffic: { iface: "lan" },
    },
    "/tmp/corpus-router.json",
    "/tmp",
  );
}

/** Counts the sink's terminal calls per packet id; keeps nothing else. */
class CountSink implements RunSink {
  wantPath = false;
  calls = new Map<number, number>();
  private hit(id: number): void {
    this.calls.set(id, (this.calls.get(id) ?? 0) + 1);
  }
  path(_rec: PathRecord): void {}
  frameOut(_i: number, _t: number, _b: Uint8Array, _o: number, _l: number, id: number): void {
    this.hit(id);
  }
  kernel(_i: number, _t: number, _b: Uint8Array, _o: number, _l: number, id: number): void {
    this.hit(id);
  }
  drop(_i: number, _t: number, _b: Uint8Array, _o: number, _l: number, id: number): void {
    this.hit(id);
  }
}

function wantedFiles(): string[] {
  const out: string[] = [];
  for (const f of readdirSync(CORPUS).sort()) {
    let r: CaptureReader;
    try {
      r = CaptureReader.open(path.join(CORPUS, f));
    } catch {
      continue; // not a capture (README)
    }
    try {
      while (r.next()) {
        if (WANTED.has(r.linkType & 0xffff)) {
          out.push(f);
          break;
        }
      }
    } finally {
      r.close();
    }
  }
  return out;
}

describe("replay of the tcpdump corpus through a router", () => {
  const files = wantedFiles();

  it("finds the Ethernet/SLL/raw-IP files", () => {
    // the corpus README: 830 files over ~40 link types, most of them Ethernet
    expect(files.length).toBeGreaterThan(400);
    expect(files).toContain("kday2.pcap");
  });

  for (const snat of [false, true]) {
    it(`${snat ? "SNAT" : "plain"} router: no exception, one outcome per packet`, { timeout: 60_000 }, () => {
      const scn = router(snat);
      let packets = 0;
      let forwarded = 0;
      let sessions = 0;
      for (const f of files) {
        const { input } = loadInput(scn, { pcap: path.join(CORPUS, f) });
        const sink = new CountSink();
        const sim = new Sim(scn, input, sink);
        let res;
        try {
          res = sim.runToEnd();
        } catch (e) {
          throw new Error(`${f}: ${(e as Error).stack ?? String(e)}`);
        }
        const tr = sim.tracker;
        const o = res.outcomes;
        const where = `${f}`;
        expect(res.packets.input, where).toBe(input.count);
        expect(tr.count, where).toBe(input.count + tr.created);
        expect(o.forwarded + o.to_kernel + o.dropped + o.in_flight, where).toBe(tr.count);
        for (let id = 0; id < tr.count; id++) if (!tr.isFinal(id)) expect.fail(`${where}: packet ${id} has no outcome`);
        for (const [id, n] of sink.calls) if (n !== 1 || id < 0 || id >= tr.count) expect.fail(`${where}: packet ${id} reached the sink ${n} times`);
        // every packet that reached a sink is forwarded, to_kernel or dropped, and only those
        expect(sink.calls.size, where).toBe(o.forwarded + o.to_kernel + o.dropped);
        let reasons = 0;
        for (const v of Object.values(res.reasons)) reasons += v;
        expect(reasons, where).toBe(o.to_kernel + o.dropped + o.in_flight);
        // after the drain nothing real-time remains queued in a plain replay
        expect(o.in_flight, where).toBe(0);
        packets += input.count;
        forwarded += o.forwarded;
        sessions += sim.dp.nat.sessions.installs;
      }
      // real traffic: ~9000 replayable packets, a good part of them routable IPv4/IPv6
      console.log(`corpus ${snat ? "snat" : "plain"}: ${files.length} files, ${packets} packets, ${forwarded} forwarded, ${sessions} sessions`);
      expect(packets).toBeGreaterThan(5000);
      expect(forwarded).toBeGreaterThan(500);
      expect(sessions).toBeGreaterThan(200);
    });
  }
});
