// Running the system tools live mode needs (ip, ethtool, sysctl) with argument arrays,
// never shell strings, and turning a missing tool or privilege into an EnvironmentError
// that says what is missing and how to get it.
import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { EnvironmentError } from "../sim/errors.js";

const TOOLS: Record<string, string> = {
  ip: "iproute2 (apt-get install iproute2)",
  ethtool: "ethtool (apt-get install ethtool)",
  sysctl: "procps (apt-get install procps)",
};

const SEARCH_PATH = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"];
const resolved = new Map<string, string>();

/** Absolute path of a system tool, or an EnvironmentError naming the package. */
export function tool(name: string): string {
  const hit = resolved.get(name);
  if (hit !== undefined) return hit;
  const dirs = [...(process.env["PATH"] ?? "").split(":").filter((d) => d !== ""), ...SEARCH_PATH];
  for (const dir of dirs) {
    const p = `${dir}/${name}`;
    try {
      accessSync(p, constants.X_OK);
      resolved.set(name, p);
      return p;
    } catch {
      // try the next directory
    }
  }
  throw new EnvironmentError(`live mode needs the '${name}' command; install ${TOOLS[name] ?? name}`);
}

/** Live mode creates namespaces and veths: it needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN). */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError("live mode creates network namespaces and needs root; run it with sudo (or as root in a CI container with CAP_NET_ADMIN and CAP_SYS_ADMIN)");
  }
}

export class CommandFailed extends EnvironmentError {
  readonly stderr: string;
  constructor(argv: readonly string[], stderr: string) {
    super(`'${argv.join(" ")}' failed: ${stderr.trim().split("\n")[0] ?? ""}`);
    this.stderr = stderr;
  }
}

/** Runs a tool synchronously; returns stdout, throws CommandFailed with its stderr. */
export function run(name: string, args: readonly string[]): string {
  const bin = tool(name);
  try {
    return execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 20_000 });
  } catch (err) {
    const e = err as { stderr?: string | Buffer; message?: string };
    const stderr = e.stderr === undefined ? (e.message ?? "") : String(e.stderr);
    throw new CommandFailed([name, ...args], stderr === "" ? (e.message ?? "") : stderr);
  }
}

/** `ip [-n ns] args…` */
export function ip(ns: string | null, args: readonly string[]): string {
  return run("ip", ns === null ? args : ["-n", ns, ...args]);
}

/** Runs a tool inside a namespace: `ip netns exec ns name args…`. */
export function inNetns(ns: string, name: string, args: readonly string[]): string {
  return run("ip", ["netns", "exec", ns, tool(name), ...args]);
}
