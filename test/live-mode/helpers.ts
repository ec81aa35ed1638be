// Shared bits of the live-mode tests: root check and building the C helpers once.
import { execFileSync } from "node:child_process";
import { ROOT } from "../cli.js";

export const IS_ROOT = process.getuid?.() === 0;

export function buildHelpers(): void {
  for (const d of ["native/loader", "native/xskprobe", "native/pktio", "bpf"]) execFileSync("make", ["-s", "-C", d], { cwd: ROOT, stdio: "ignore" });
}
