// Writes docs/reasons.md from sim/reasons.ts (the one list). A test fails when the
// committed page and the list drift: run `node dist/scripts/gen-reasons-doc.js` to refresh.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { REASONS } from "../sim/reasons.js";

export function reasonsMarkdown(): string {
  const lines = [
    "# Reason codes",
    "",
    "Every packet that is not forwarded ends with exactly one of these reasons (DESIGN §2).",
    "The numbers are stable: they appear in the metadata ABI, in the C code and in saved",
    "traces. This page is generated from `sim/reasons.ts`; do not edit it by hand.",
    "",
    "| code | stage | name | meaning |",
    "|---:|---|---|---|",
  ];
  for (const r of REASONS) lines.push(`| ${r.code} | ${r.stage} | \`${r.name}\` | ${r.doc} |`);
  return lines.join("\n") + "\n";
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && path.resolve(process.argv[1]) === self) {
  const root = path.resolve(path.dirname(self), "..", "..");
  writeFileSync(path.join(root, "docs", "reasons.md"), reasonsMarkdown());
}
