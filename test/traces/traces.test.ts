// The regression corpus under traces/: every case directory with an expected.json passes
// `xdplab check`, and every expectation can fail — flipping the case's bug switch (on in a
// symptom case, off in its healthy twin) in a temporary copy makes `check` exit 1.
import { describe, it, expect, afterAll } from "vitest";
import { readdirSync, existsSync, readFileSync, writeFileSync, cpSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { xdplab, ROOT } from "../cli.js";

const TRACES = path.join(ROOT, "traces");

/**
 * Every directory under traces/ holding an expected.json, relative to traces/, sorted.
 * traces/found/ is left out: it holds counterexamples of open bugs, which fail `check` by
 * design until the bug is fixed and the case is promoted with `git mv`.
 */
function caseDirs(dir = TRACES): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = path.join(dir, e);
    if (!statSync(p).isDirectory()) continue;
    if (dir === TRACES && e === "found") continue;
    if (existsSync(path.join(p, "expected.json"))) out.push(path.relative(TRACES, p));
    out.push(...caseDirs(p));
  }
  return out;
}

type Scn = { bugs?: Record<string, boolean> } & Record<string, unknown>;
const readScn = (dir: string): Scn => JSON.parse(readFileSync(path.join(dir, "scenario.json"), "utf8")) as Scn;

const tmpRoot = mkdtempSync(path.join(tmpdir(), "xdplab-traces-"));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

/** A copy of case `rel` whose scenario has been changed by `edit`. */
function variant(rel: string, edit: (s: Scn) => void): string {
  const dst = path.join(tmpRoot, rel.replaceAll("/", "__"));
  cpSync(path.join(TRACES, rel), dst, { recursive: true });
  const s = readScn(dst);
  edit(s);
  writeFileSync(path.join(dst, "scenario.json"), JSON.stringify(s, null, 2));
  return dst;
}

const cases = caseDirs();
// Section cases of CATALOGUE A, B, C, D, D′ (traces/Dprime), E: traces/<section>/<switch>[-healthy].
const switchCases = cases.filter((c) => /^(A|B|C|D|Dprime|E)\//.test(c));

describe("traces/: every case passes `xdplab check`", () => {
  it("finds the A, B and E cases", () => {
    expect(switchCases.filter((c) => /^[ABE]\//.test(c)).length).toBeGreaterThanOrEqual(37);
  });
  it("finds the C, D and D′ cases, each switch with its healthy twin", () => {
    const cd = switchCases.filter((c) => /^(C|D|Dprime)\//.test(c));
    expect(cd.length).toBeGreaterThanOrEqual(28);
    for (const c of cd) if (!c.endsWith("-healthy")) expect(cd).toContain(`${c}-healthy`);
  });
  it.each(cases)("%s", (rel) => {
    const r = xdplab(["check", path.join(TRACES, rel)]);
    expect(r.stderr + r.stdout).not.toMatch(/^FAIL/m);
    expect(r.code).toBe(0);
  });
});

describe("traces/: each expectation fails when the case's bug switch is flipped", () => {
  it.each(switchCases)("%s", (rel) => {
    const base = path.basename(rel);
    const healthy = base.endsWith("-healthy");
    const sw = base.replace(/-healthy$/, "");
    const orig = readScn(path.join(TRACES, rel));
    // The directory name is the switch: on in the symptom case, absent in the twin.
    expect(orig.bugs?.[sw] === true).toBe(!healthy);
    const dir = variant(rel, (s) => {
      if (healthy) s.bugs = { ...(s.bugs ?? {}), [sw]: true };
      else delete s.bugs![sw];
    });
    const r = xdplab(["check", dir]);
    if (sw === "nonPow2Rings") {
      // Without the switch the scenario itself is refused (tested below).
      expect(r.code).toBe(2);
      return;
    }
    expect(r.stdout + r.stderr).toMatch(/^FAIL/m);
    expect(r.code).toBe(1);
  });
});

describe("traces/B/nonPow2Rings: the healthy twin is a refusal", () => {
  it("without the switch, a ring of 48 is refused with exit 2 naming the file and field", () => {
    const dir = variant("B/nonPow2Rings", (s) => {
      delete s.bugs!["nonPow2Rings"];
    });
    for (const cmd of ["check", "replay"]) {
      const args = cmd === "replay" ? [cmd, dir, "--out", path.join(tmpRoot, "np2-out")] : [cmd, dir];
      const r = xdplab(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/scenario\.json/);
      expect(r.stderr).toMatch(/dataplane\.rings\.rx/);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
  it("the same scenario with a power-of-two ring forwards every packet", () => {
    const dir = variant("B/nonPow2Rings", (s) => {
      delete s.bugs!["nonPow2Rings"];
      (s["dataplane"] as { rings: { rx: number } }).rings.rx = 64;
    });
    const r = xdplab(["replay", dir, "--out", path.join(tmpRoot, "np2-ok"), "--json"]);
    expect(r.code).toBe(0);
    const sum = JSON.parse(r.stdout) as { outcomes: { forwarded: number } };
    expect(sum.outcomes.forwarded).toBe(20);
  });
});
