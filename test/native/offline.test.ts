// The offline differential (DESIGN §7.1): TS worker vs native C worker on the model's
// kernel, on every traces/ case the native worker can run, on fast-check-generated
// routed traffic with faults and worker bug switches, and through `xdplab diff`.
// The oracle is the other implementation: the two were written separately (TS model,
// C mirror) and must agree on every path record, frame byte, counter and series value.
import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { parseScenario } from "../../sim/scenario/parse.js";
import { InputPackets } from "../../sim/scenario/packets.js";
import { buildFrame } from "../../sim/packet/build.js";
import type { Scenario } from "../../sim/scenario/types.js";
import { diffOffline } from "../../live/offline-diff.js";
import { NATIVE_BUGS, nativeUnsupported } from "../../live/native.js";
import { loadScenarioFile, loadInput } from "../../bin/scenario-file.js";
import { ROOT, xdplab } from "../cli.js";

function cases(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = path.join(dir, n);
    if (!statSync(p).isDirectory()) continue;
    if (existsSync(path.join(p, "scenario.json")) || existsSync(path.join(p, "scenario.yaml"))) out.push(p);
    else out.push(...cases(p));
  }
  return out.sort();
}

const ALL = cases(path.join(ROOT, "traces"));

describe("offline differential on traces/", () => {
  it("finds the cases", () => {
    expect(ALL.length).toBeGreaterThan(0);
  });
  for (const dir of ALL) {
    const name = path.relative(ROOT, dir);
    const file = existsSync(path.join(dir, "scenario.json")) ? path.join(dir, "scenario.json") : path.join(dir, "scenario.yaml");
    const scn = loadScenarioFile(file);
    const why = nativeUnsupported(scn);
    it.skipIf(why !== null)(`${name} agrees${why !== null ? ` (skipped: ${why})` : ""}`, () => {
      const { input } = loadInput(scn, {});
      const r = diffOffline(scn, input);
      expect(r.first).toBeNull();
      expect(r.packets).toBeGreaterThan(0);
    });
  }
});

interface Pkt {
  ttl: number;
  size: number;
  proto: "udp" | "tcp" | "icmp";
  v6: boolean;
  dst: number;
  gap: number;
  iface: number;
  queue: number;
}

function genScenario(p: { driver?: string; queues?: number; rings: number[]; frames: number; batch: number; maxPendingTx: number; txBudget: number; bps: number; bugs: string[]; faults: object[]; policyDenyPort: number | null }): Scenario {
  const [rx, tx, fill, comp] = p.rings as [number, number, number, number];
  return parseScenario(
    {
      name: "gen",
      seed: 3,
      interfaces: [
        { name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.1.1/24", "2001:2:0:1::1/64"], mtu: 1500, queues: p.queues ?? 1 },
        { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24", "2001:2:0:2::1/64"], mtu: 1400, queues: Math.max(1, (p.queues ?? 1) - 1) },
      ],
      neighbors: [
        { ip: "198.19.2.2", mac: "02:00:00:00:02:02", iface: "wan" },
        { ip: "2001:2:0:2::2", mac: "02:00:00:00:02:02", iface: "wan" },
        { ip: "198.18.1.10", mac: "02:00:00:00:01:0a", iface: "lan" },
        { ip: "2001:2:0:1::10", mac: "02:00:00:00:01:0a", iface: "lan", at: "2ms" },
      ],
      routes: [
        { prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" },
        { prefix: "2001:2:100::/48", via: "2001:2:0:2::2", iface: "wan" },
      ],
      policy: p.policyDenyPort === null ? [] : [{ action: "deny", proto: "udp", dport: p.policyDenyPort }],
      dataplane: { driver: p.driver ?? "veth", rings: { rx, tx, fill, comp }, frames: Math.max(p.frames, rx + tx), frameSize: 2048, headroom: 0, batch: p.batch, maxPendingTx: p.maxPendingTx, txBudget: p.txBudget },
      timing: { linkBps: { wan: p.bps, lan: p.bps }, drainNs: 3_000_000, seriesNs: 200_000 },
      bugs: Object.fromEntries(p.bugs.map((b) => [b, true])),
      faults: p.faults,
    },
    "/tmp/native-gen.json",
    "/tmp",
  );
}

const DSTS4 = ["198.51.100.7", "198.18.1.10", "198.19.2.1", "198.19.2.9"];
const DSTS6 = ["2001:2:100::7", "2001:2:0:1::10", "2001:db8::1", "2001:2:0:2::1"];

function genInput(pkts: Pkt[], queues = 1): InputPackets {
  const inp = new InputPackets();
  let t = 0;
  pkts.forEach((k, i) => {
    t += k.gap;
    const lan = k.iface === 0;
    const src = k.v6 ? (lan ? "2001:2:0:1::10" : "2001:2:100::9") : lan ? "198.18.1.10" : "203.0.113.5";
    const dst = k.v6 ? DSTS6[k.dst]! : DSTS4[k.dst]!;
    const l4 = k.proto === "udp" ? { udp: { sport: 1000 + i, dport: 9 + (i % 3) } } : k.proto === "tcp" ? { tcp: { sport: 2000 + i, dport: 80, flags: "S" } } : { icmp: { type: k.v6 ? 128 : 8, code: 0, id: i, seq: 1 } };
    const ip = k.v6 ? { version: 6, src, dst, hopLimit: k.ttl } : { version: 4, src, dst, ttl: k.ttl, id: i, df: true };
    const payload = new Uint8Array(Math.max(0, k.size)).fill(i & 0xff);
    const f = buildFrame({ eth: { src: lan ? "02:00:00:00:01:0a" : "02:00:00:00:02:02", dst: lan ? "02:00:00:00:01:01" : "02:00:00:00:02:01" }, ip, ...l4, payload } as never);
    // lan has `queues` queues, wan one fewer (at least 1): egress picks queue % n there.
    const nq = k.iface === 0 ? queues : Math.max(1, queues - 1);
    inp.push(f, t, k.iface, k.queue % nq, i);
  });
  return inp;
}

const pktArb: fc.Arbitrary<Pkt> = fc.record({
  ttl: fc.oneof(fc.constant(1), fc.constant(2), fc.integer({ min: 3, max: 255 })),
  size: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1300, max: 1450 })),
  proto: fc.constantFrom("udp" as const, "tcp" as const, "icmp" as const),
  v6: fc.boolean(),
  dst: fc.integer({ min: 0, max: 3 }),
  gap: fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 200_000 })),
  iface: fc.integer({ min: 0, max: 1 }),
  queue: fc.integer({ min: 0, max: 2 }),
});

const faultArb = fc.oneof(
  fc.record({ kind: fc.constant("tx_stall"), at: fc.integer({ min: 0, max: 2_000_000 }).map((n) => `${n}ns`), for: fc.integer({ min: 1000, max: 2_000_000 }).map((n) => `${n}ns`), iface: fc.constantFrom("wan", "lan") }),
  fc.record({ kind: fc.constant("completion_delay"), at: fc.integer({ min: 0, max: 2_000_000 }).map((n) => `${n}ns`), for: fc.constant("1ms"), delay: fc.constant("200us"), iface: fc.constantFrom("wan", "lan") }),
  fc.record({ kind: fc.constant("fill_starve"), at: fc.integer({ min: 0, max: 2_000_000 }).map((n) => `${n}ns`), for: fc.constant("500us") }),
  fc.record({ kind: fc.constant("worker_pause"), at: fc.integer({ min: 0, max: 2_000_000 }).map((n) => `${n}ns`), for: fc.constant("300us") }),
  fc.record({ kind: fc.constant("neighbor_flush"), at: fc.integer({ min: 0, max: 2_000_000 }).map((n) => `${n}ns`), iface: fc.constantFrom("wan", "lan") }),
  fc.record({ kind: fc.constant("generation_bump"), at: fc.integer({ min: 0, max: 2_000_000 }).map((n) => `${n}ns`) }),
  fc.record({ kind: fc.constant("link_cycle"), at: fc.integer({ min: 0, max: 2_000_000 }).map((n) => `${n}ns`), for: fc.constant("200us"), iface: fc.constantFrom("wan", "lan") }),
);

const pow2 = fc.constantFrom(4, 8, 16, 32, 64);

describe("offline differential on generated traffic, faults and worker bug switches", () => {
  it("TS and native workers agree", () => {
    fc.assert(
      fc.property(
        fc.record({
          driver: fc.constantFrom("veth", "generic", "zerocopy"),
          queues: fc.integer({ min: 1, max: 3 }),
          rings: fc.tuple(pow2, pow2, pow2, pow2),
          frames: fc.constantFrom(16, 32, 64, 128),
          batch: fc.integer({ min: 1, max: 32 }),
          maxPendingTx: fc.integer({ min: 1, max: 64 }),
          txBudget: fc.integer({ min: 1, max: 32 }),
          bps: fc.constantFrom(1e8, 1e9, 1e10),
          bugs: fc.subarray([...NATIVE_BUGS]),
          faults: fc.array(faultArb, { maxLength: 3 }),
          policyDenyPort: fc.option(fc.integer({ min: 9, max: 11 }), { nil: null }),
        }),
        fc.array(pktArb, { minLength: 1, maxLength: 120 }),
        (p, pkts) => {
          const scn = genScenario(p);
          const r = diffOffline(scn, genInput(pkts, p.queues));
          if (!r.agree) throw new Error(`divergence: ${JSON.stringify(r.first)}`);
        },
      ),
      { numRuns: Number(process.env.XDPLAB_NATIVE_RUNS ?? 60) },
    );
  });

  it("reports a real difference (native side runs with leakOnDrop, model without)", () => {
    // Every third datagram (dport 9) is denied by policy: a DP_DROP path, which leaks its frame.
    const base = { rings: [16, 16, 16, 16], frames: 32, batch: 8, maxPendingTx: 8, txBudget: 8, bps: 1e9, faults: [], policyDenyPort: 9 };
    const pkts: Pkt[] = Array.from({ length: 90 }, () => ({ ttl: 64, size: 60, proto: "udp", v6: false, dst: 0, gap: 1000, iface: 0, queue: 0 }));
    const healthy = genScenario({ ...base, bugs: [] });
    const leaky = genScenario({ ...base, bugs: ["leakOnDrop"] });
    const r = diffOffline(healthy, genInput(pkts), { nativeScenario: leaky });
    expect(r.agree).toBe(false);
    expect(r.first).not.toBeNull();
  });
});

describe("xdplab diff --offline", () => {
  it("exits 0 on a case where both agree", () => {
    const r = xdplab(["diff", "--offline", "traces/examples/routed-basic"]);
    expect(r.stderr).toContain("seed 1");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^agree: \d+ path records/);
  });
  it("exits 3 naming the reason when the native worker is not built", () => {
    // Every bug switch of the catalogue is now native or model-side (NATIVE_BUGS,
    // MODEL_SIDE_BUGS), so the remaining environment failure is a missing library.
    const prev = process.env.XDPLAB_NATIVE_LIB;
    process.env.XDPLAB_NATIVE_LIB = path.join(tmpdir(), "xdplab-no-such-lib.so");
    try {
      const r = xdplab(["diff", "--offline", "traces/examples/routed-basic"]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain("not built");
    } finally {
      if (prev === undefined) delete process.env.XDPLAB_NATIVE_LIB;
      else process.env.XDPLAB_NATIVE_LIB = prev;
    }
  });
  it("every catalogue bug switch is native or model-side", () => {
    const scn = loadScenarioFile(path.join(ROOT, "traces/examples/routed-basic/scenario.json"));
    for (const k of Object.keys(scn.bugs)) (scn.bugs as Record<string, boolean>)[k] = true;
    expect(nativeUnsupported(scn)).toBeNull();
  });
  it("exits 2 without --offline or a case", () => {
    expect(xdplab(["diff", "traces/examples/routed-basic"]).code).toBe(2);
    expect(xdplab(["diff", "--offline"]).code).toBe(2);
  });
});
