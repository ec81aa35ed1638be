import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { xdplab, ROOT } from "../cli.js";
import { reasonsMarkdown } from "../../scripts/gen-reasons-doc.js";

describe("xdplab command line", () => {
  it("an unknown command is a usage error (exit 2) listing the commands", () => {
    const r = xdplab(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
    expect(r.stderr).toContain("replay");
  });
  it("an unknown option is a usage error naming it, without a stack trace", () => {
    const r = xdplab(["replay", "--bogus", "x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--bogus");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
  it("a missing scenario file is exit 2 naming the path", () => {
    const r = xdplab(["replay", "/nonexistent/scenario.json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("/nonexistent/scenario.json");
  });
});

describe("docs/reasons.md", () => {
  it("is the generated page of sim/reasons.ts (regenerate with node dist/scripts/gen-reasons-doc.js)", () => {
    expect(readFileSync(path.join(ROOT, "docs", "reasons.md"), "utf8")).toBe(reasonsMarkdown());
  });
});

describe("docs/failure-classes.md", () => {
  it("is what the traces/ cases show now (regenerate with node dist/scripts/gen-bugs-doc.js)", async () => {
    const { failureClassesMarkdown } = await import("../../scripts/gen-bugs-doc.js");
    expect(readFileSync(path.join(ROOT, "docs", "failure-classes.md"), "utf8")).toBe(failureClassesMarkdown());
  });
});
