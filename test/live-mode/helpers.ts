// Shared bits of the live-mode tests: root check and building the C helpers once.
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { ROOT } from "../cli.js";

export const IS_ROOT = process.getuid?.() === 0;

export function buildHelpers(): void {
  for (const d of ["native/loader", "native/xskprobe", "native/pktio", "bpf"]) execFileSync("make", ["-s", "-C", d], { cwd: ROOT, stdio: "ignore" });
}

/**
 * Starts `cmd args` and resolves once its output (stdout and stderr together) matches `re`,
 * with the match's first group: how the kill tests find a run's lab prefix while it holds
 * or runs. Rejects with the output if the process ends first.
 */
export function spawnUntil(cmd: string, args: readonly string[], re: RegExp, opts: { cwd?: string } = {}): { child: ChildProcess; match: Promise<string> } {
  const child = spawn(cmd, [...args], { cwd: opts.cwd ?? ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  const match = new Promise<string>((resolve, reject) => {
    const onData = (c: Buffer): void => {
      text += c.toString();
      const m = re.exec(text);
      if (m?.[1] !== undefined) resolve(m[1]);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("close", () => reject(new Error(`${path.basename(cmd)} ended before /${re.source}/ appeared: ${text}`)));
  });
  return { child, match };
}
