// Prints the plain "N passed, N failed[, N skipped]" line from vitest's JSON report.
// Exit 1 when the report is missing, a test failed, a suite failed to load, or no test ran.
import { readFileSync, existsSync } from "node:fs";

const file = process.argv[2] ?? ".ci-results.json";
if (!existsSync(file)) {
  console.log("no vitest JSON report at " + file);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, "utf8"));
const passed = r.numPassedTests ?? 0;
let failed = r.numFailedTests ?? 0;
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
// A test file that fails to load has no failing test but a failed suite.
const brokenSuites = (r.testResults ?? []).filter((s) => s.status === "failed" && (s.assertionResults ?? []).every((a) => a.status !== "failed"));
for (const s of brokenSuites) console.log(`suite failed to run: ${s.name}: ${String(s.message ?? "").split("\n")[0]}`);
failed += brokenSuites.length;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
