// Shared pieces of the live tests: the root gate, the helper build, and a child process
// that owns a topology (for the sweep and signal tests).
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { ROOT } from "../cli.js";
import { Topology } from "../../live/topology.js";

export const IS_ROOT = process.getuid?.() === 0;
/** Live tests create namespaces: they need root. Shown as the skip reason. */
export const ROOT_REASON = "live tests create network namespaces and need root";

export function buildPktio(): void {
  execFileSync("make", ["-s", "-C", path.join(ROOT, "native", "pktio")], { stdio: "inherit" });
}

export function netnsList(): string[] {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.trim().split(" ")[0] ?? "")
    .filter((n) => n !== "");
}

/** Host-namespace link names: a lab must never add any. */
export function hostLinks(): string[] {
  return execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" })
    .split("\n")
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? "")
    .filter((n) => n !== "")
    .sort();
}

/**
 * Starts `node` on the compiled topology module (dist/, built by globalSetup); the child
 * creates a 2-interface topology, prints its prefix and waits to be killed.
 */
export async function spawnOwner(): Promise<{ child: ChildProcess; prefix: string; exited: Promise<number | null> }> {
  const mod = path.join(ROOT, "dist", "live", "topology.js");
  const code = `
    import { Topology } from ${JSON.stringify(mod)};
    const t = Topology.create({ ipForward: false, interfaces: [
      { name: "lan", mac: "02:00:00:00:01:01", mtu: 1500 }, { name: "wan", mac: "02:00:00:00:02:01", mtu: 1500 } ] });
    process.stdout.write(t.prefix + "\\n");
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const prefix = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.on("close", () => reject(new Error(`owner child exited early: ${err}`)));
  });
  return { child, prefix, exited };
}

/** The two-interface lab the pktio tests use (lan, wan; no forwarding in the DUT). */
export function twoPortTopology(): Topology {
  buildPktio();
  return Topology.create({
    ipForward: false,
    interfaces: [
      { name: "lan", mac: "02:00:00:00:01:01", mtu: 1500 },
      { name: "wan", mac: "02:00:00:00:02:01", mtu: 1500 },
    ],
  });
}
