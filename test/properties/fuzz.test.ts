// The fuzz machinery end to end: a campaign with a bug switch on finds and saves a case;
// `xdplab check` on it fails while the switch is in its scenario and passes once the
// switch is removed (the "fix"); the fast-check seed/path replays it; the bounded
// mutation score kills the switches the suites cover and passes with no switch on.
import { describe, expect, it } from "vitest";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { xdplab } from "../cli.js";
import { caseProperty, natProperty, runCase, runNatCase } from "../../properties/runner.js";
import { chunkSeed } from "../../properties/campaign.js";

describe("xdplab fuzz: counterexamples", () => {
  it("finds a leakOnDrop case, saves it, check fails with the switch and passes without", () => {
    const root = mkdtempSync(path.join(tmpdir(), "xdplab-found-"));
    const r = xdplab(["fuzz", "--bug", "leakOnDrop", "--property", "frameConservation", "--runs", "50", "--workers", "1", "--found", root, "--json"], { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { found: Array<{ property: string; dir: string; fcSeed: number; fcPath: string }> };
    expect(out.found.length).toBe(1);
    const f = out.found[0]!;
    expect(f.property).toBe("frameConservation");
    for (const file of ["scenario.json", "input.pcapng", "expected.json", "case.json", "README.md"]) expect(existsSync(path.join(f.dir, file))).toBe(true);
    expect(readFileSync(path.join(root, "README.md"), "utf8")).toContain(path.basename(f.dir));
    const scn = JSON.parse(readFileSync(path.join(f.dir, "scenario.json"), "utf8")) as { bugs: Record<string, boolean> };
    expect(scn.bugs).toEqual({ leakOnDrop: true });
    // Shrunk to something a person reads: a handful of packets, at most one fault.
    const saved = JSON.parse(readFileSync(path.join(f.dir, "case.json"), "utf8")) as { spec: { packets: unknown[]; faults: unknown[] } };
    expect(saved.spec.packets.length).toBeLessThanOrEqual(5);
    expect(saved.spec.faults.length).toBeLessThanOrEqual(1);

    expect(xdplab(["check", f.dir]).code).toBe(1);
    scn.bugs = {};
    writeFileSync(path.join(f.dir, "scenario.json"), JSON.stringify(scn));
    const fixed = xdplab(["check", f.dir]);
    expect(fixed.stdout).toContain("property frameConservation holds");
    expect(fixed.code).toBe(0);

    // The fast-check seed and path replay the same failure in-process.
    const rr = fc.check(caseProperty(["frameConservation"], { leakOnDrop: true }), { seed: f.fcSeed, path: f.fcPath, endOnFailure: true });
    expect(rr.failed).toBe(true);
    expect(runCase(rr.counterexample![0], {}, ["frameConservation"]).failures.size).toBe(0);
  });

  it("reverse NAT on the full simulation: a noReverseIndex case is saved with its capture, check fails with the switch and passes without", () => {
    const root = mkdtempSync(path.join(tmpdir(), "xdplab-found-"));
    const r = xdplab(["fuzz", "--bug", "noReverseIndex", "--property", "replyTranslatedBack", "--runs", "50", "--workers", "1", "--found", root, "--json"], { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    const f = (JSON.parse(r.stdout) as { found: Array<{ property: string; dir: string; fcSeed: number; fcPath: string }> }).found[0]!;
    expect(f.property).toBe("replyTranslatedBack");
    for (const file of ["scenario.json", "input.pcapng", "expected.json", "case.json", "README.md"]) expect(existsSync(path.join(f.dir, file))).toBe(true);
    const exp = JSON.parse(readFileSync(path.join(f.dir, "expected.json"), "utf8")) as { assert: Array<{ property?: string }> };
    expect(exp.assert).toEqual([expect.objectContaining({ property: "replyTranslatedBack" })]);
    const scn = JSON.parse(readFileSync(path.join(f.dir, "scenario.json"), "utf8")) as { bugs: Record<string, boolean>; traffic: { pcap: string } };
    expect(scn.bugs).toEqual({ noReverseIndex: true });
    expect(scn.traffic.pcap).toBe("input.pcapng");
    // The capture holds the generated frames: at least the inside host's request.
    const insp = xdplab(["inspect", path.join(f.dir, "input.pcapng"), "--json"]);
    expect(insp.code).toBe(0);
    expect((JSON.parse(insp.stdout) as { packets: number }).packets).toBeGreaterThan(0);

    const broken = xdplab(["check", f.dir]);
    expect(broken.stdout).toContain("property replyTranslatedBack fails");
    expect(broken.code).toBe(1);
    scn.bugs = {};
    writeFileSync(path.join(f.dir, "scenario.json"), JSON.stringify(scn));
    const fixed = xdplab(["check", f.dir]);
    expect(fixed.stdout).toContain("property replyTranslatedBack holds");
    expect(fixed.code).toBe(0);

    // The fast-check seed and path replay it in-process; without the switch it holds.
    const rr = fc.check(natProperty(["replyTranslatedBack"], { noReverseIndex: true }), { seed: f.fcSeed, path: f.fcPath, endOnFailure: true });
    expect(rr.failed).toBe(true);
    expect(runNatCase(rr.counterexample![0], {}, ["replyTranslatedBack"]).failures.size).toBe(0);
  });

  it("a clean campaign finds nothing and exits 0; shards split chunks deterministically", () => {
    const root = mkdtempSync(path.join(tmpdir(), "xdplab-found-"));
    const r = xdplab(["fuzz", "--runs", "50", "--shard", "1/2", "--found", root, "--json"], { timeoutMs: 120_000 });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { cases: number; found: unknown[] };
    expect(out.cases).toBe(25); // chunks 0 and 1 of 25 cases; shard 1/2 runs chunk 1
    expect(readdirSync(root).length).toBe(0);
    expect(chunkSeed(1, 0)).not.toBe(chunkSeed(1, 1));
    expect(chunkSeed(1, 3)).toBe(chunkSeed(1, 3));
  });

  it("rejects an unknown property or switch with exit 2", () => {
    expect(xdplab(["fuzz", "--property", "nope"]).code).toBe(2);
    expect(xdplab(["fuzz", "--bug", "nope"]).code).toBe(2);
    expect(xdplab(["fuzz", "--shard", "2/2"]).code).toBe(2);
  });
});

describe("xdplab fuzz --mutants (bounded)", () => {
  it("clean run passes and every switch of A–E and D′ is killed (no tolerated survivors)", () => {
    const r = xdplab(["fuzz", "--mutants", "--runs", "40", "--json"], { timeoutMs: 240_000 });
    const out = JSON.parse(r.stdout) as { clean: { passed: boolean }; switches: Record<string, { killed: boolean; by: string[]; status: string }> };
    expect(out.clean.passed).toBe(true);
    const notKilled = Object.entries(out.switches).filter(([, s]) => !s.killed).map(([k]) => k);
    expect(notKilled).toEqual([]);
    expect(Object.keys(out.switches).length).toBe(34);
    // Spot checks that the property named in CATALOGUE is among the killers.
    expect(out.switches["leakOnDrop"]!.by).toContain("frameConservation");
    expect(out.switches["unboundedPendingTx"]!.by).toContain("pendingTxBounded");
    expect(out.switches["snatPortCollision"]!.by).toContain("translationUnique");
    expect(out.switches["signFlippedDelta"]!.by).toContain("natChecksumsValid");
    expect(out.switches["ignoreMtu"]!.by).toContain("mtuRespected");
    expect(r.code).toBe(0);
  }, 300_000);
});
