// `xdplab check <case-dir> [--out dir] [--json]`: re-runs a saved case and evaluates its
// hand-written expected.json. Exit 0 when every assertion holds, 1 naming the first that
// failed, 2 for a malformed case.
import { existsSync, readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "./args.js";
import { InputError, UsageError } from "../sim/errors.js";
import { loadScenarioFile, loadInput } from "./scenario-file.js";
import { replayToDir } from "./replay-run.js";
import { resolveScenarioPath } from "./cmd-replay.js";
import { parseExpectation, evaluate } from "../sim/trace/expect.js";
import { propertyJudgeForCase } from "../properties/replay.js";

const HELP = `usage: xdplab check <case-dir> [--out DIR] [--json]

A case directory holds scenario.json (or .yaml), the capture(s) it names, and
expected.json: assertions about outcomes, reasons, counters and output bytes.
`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs("check", argv, { out: "value", json: "flag", help: "flag" });
  if (p.flags.has("help")) {
    process.stdout.write(HELP);
    return 0;
  }
  if (p.positional.length !== 1) throw new UsageError("check: expected one case directory\n" + HELP);
  const dir = p.positional[0]!;
  const expFile = path.join(dir, "expected.json");
  if (!existsSync(expFile)) throw new UsageError(`check: ${dir} has no expected.json`);
  let expObj: unknown;
  try {
    expObj = JSON.parse(readFileSync(expFile, "utf8"));
  } catch (e) {
    throw new InputError(expFile, null, `not valid JSON: ${(e as Error).message}`);
  }
  const exp = parseExpectation(expObj, expFile);
  const scn = loadScenarioFile(resolveScenarioPath(dir));
  if (exp.seed !== null) scn.seed = exp.seed >>> 0;
  const { input, info } = loadInput(scn, {});
  const out = p.values.get("out") ?? mkdtempSync(path.join(tmpdir(), "xdplab-check-"));
  const r = replayToDir(scn, input, info, out, { path: true, keepRecords: true, keepFrames: 64 });
  const results = evaluate(exp, r.summary, r.records ?? [], r.framesOut, propertyJudgeForCase(dir, scn, input));
  const failed = results.filter((x) => !x.passed);
  if (p.flags.has("json")) {
    process.stdout.write(JSON.stringify({ case: dir, shows: exp.shows, seed: scn.seed, passed: failed.length === 0, outputs: out, assertions: results }, null, 2) + "\n");
  } else {
    process.stdout.write(`case ${dir}: ${exp.shows}\nseed ${scn.seed}, outputs in ${out}\n`);
    for (const x of results) process.stdout.write(`${x.passed ? "ok  " : "FAIL"} ${x.what}: ${x.detail}\n`);
    if (failed.length) process.stdout.write(`first failed assertion: ${failed[0]!.what}\n`);
  }
  return failed.length === 0 ? 0 : 1;
}
