// What a live run needs from this machine, checked before anything is created, and
// said in words: root, bpffs at /sys/fs/bpf (mounted if missing, and reported), the
// kernel version, the xdp tracepoints this kernel has (tracefs mounted privately when
// /sys/kernel/tracing is not), the built helpers and BPF objects, and each interface's
// XDP features from the kernel's netdev genetlink family (xdplab-loader features; this
// Debian's iproute2 6.1 and bpftool 7.1 do not print them). Owns the tracing session
// used to count tracepoint hits: a per-run tracefs *instance* (its own buffer and event
// switches), so concurrent runs and the host's own tracing never see each other.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { release } from "node:os";
import path from "node:path";
import { EnvironmentError } from "../sim/errors.js";
import { loader, loaderPath, passObject, shimObject, xskprobePath } from "./attach.js";
import { run } from "./exec.js";
import { pktioPath } from "./pktio.js";
import type { Topology } from "./topology.js";

/** NETDEV_XDP_ACT_* bits (include/uapi/linux/netdev.h). */
export const XDP_FEATURE_BITS: ReadonlyArray<[number, string, string]> = [
  [1, "basic", "XDP_PASS/DROP/TX/ABORTED in the driver"],
  [2, "redirect", "XDP_REDIRECT out of the driver's RX path"],
  [4, "ndo-xmit", "can be the target of XDP_TX from its peer / a devmap redirect (veth: only while the peer has an XDP program or GRO)"],
  [8, "xsk-zerocopy", "AF_XDP zero-copy"],
  [16, "hw-offload", "program offload to the NIC"],
  [32, "rx-sg", "multi-buffer RX"],
  [64, "ndo-xmit-sg", "multi-buffer ndo_xdp_xmit"],
];

export function featureNames(bits: number): string[] {
  return XDP_FEATURE_BITS.filter(([b]) => (bits & b) !== 0).map(([, n]) => n);
}

export interface IfaceFeatures {
  netns: string | null;
  ifindex: number;
  name: string;
  xdpFeatures: number;
  names: string[];
}

/** XDP features of every interface of a namespace (null: the caller's). */
export function interfaceFeatures(netns: string | null): IfaceFeatures[] {
  const j = loader(["features", ...(netns === null ? [] : ["--netns", netns])]);
  return (j["devices"] as Array<{ ifindex: number; name: string; xdp_features: number }>).map((d) => ({
    netns,
    ifindex: d.ifindex,
    name: d.name,
    xdpFeatures: d.xdp_features,
    names: featureNames(d.xdp_features),
  }));
}

/** Tracepoints live mode counts, and what each shows. */
export const WANTED_TRACEPOINTS: ReadonlyArray<[string, boolean, string]> = [
  ["xdp_redirect_err", true, "a failed redirect (XSKMAP slot unbound or bound elsewhere, devmap target down); carries map_id/map_index"],
  ["xdp_exception", true, "XDP_ABORTED, or an action the driver does not support"],
  ["xdp_bulk_tx", true, "XDP_TX batches with sent/drops/err (veth peer without XDP or GRO: err=-6)"],
  ["xdp_devmap_xmit", true, "devmap redirect batches with sent/drops/err"],
  ["xdp_redirect", false, "successful redirects"],
  ["xdp_redirect_map_err", false, "old kernels only: map redirect errors; recent kernels report them through xdp_redirect_err with map_id"],
];

/** A tracefs mount that is not another run's private one (those vanish with their run). */
function hostTracefs(): string | null {
  for (const m of mounts()) if (m.type === "tracefs" && !m.dir.startsWith("/tmp/xdplab-tracefs-") && existsSync(path.join(m.dir, "events"))) return m.dir;
  return null;
}

function mounts(): Array<{ dir: string; type: string }> {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" "))
    .filter((w) => w.length > 2)
    .map((w) => ({ dir: w[1] ?? "", type: w[2] ?? "" }));
}

/** Ensures bpffs at /sys/fs/bpf; returns whether this call mounted it. */
export function ensureBpffs(): { mountedByUs: boolean } {
  if (mounts().some((m) => m.dir === "/sys/fs/bpf" && m.type === "bpf")) return { mountedByUs: false };
  run("mount", ["-t", "bpf", "bpf", "/sys/fs/bpf"]);
  return { mountedByUs: true };
}

/** A tracefs root: the host's when mounted, else a private mount under /tmp (recorded by the caller). */
function tracefsRoot(privateName: string): { root: string; mountedByUs: boolean } {
  const host = hostTracefs();
  if (host !== null) return { root: host, mountedByUs: false };
  const dir = path.join("/tmp", privateName);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  run("mount", ["-t", "tracefs", "nodev", dir]);
  return { root: dir, mountedByUs: true };
}

/** Tracepoints under events/xdp of this kernel (mounts tracefs for the look, then leaves). */
export function xdpTracepoints(): string[] {
  const tmp = mkdtempSync("/tmp/xdplab-tracefs-probe-");
  let root = "";
  let mine = false;
  try {
    root = hostTracefs() ?? "";
    if (root === "") {
      run("mount", ["-t", "tracefs", "nodev", tmp]);
      root = tmp;
      mine = true;
    }
    const dir = path.join(root, "events", "xdp");
    return existsSync(dir) ? readdirSync(dir).filter((n) => existsSync(path.join(dir, n, "format"))).sort() : [];
  } finally {
    if (mine) run("umount", [tmp]);
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface TraceHit {
  event: string;
  fields: Record<string, string>;
}

/** A per-run tracefs instance with some xdp events enabled. */
export class TraceSession {
  readonly dir: string;
  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Records the instance (and a private mount) in the topology's state, then makes it. */
  static open(topo: Topology, events: readonly string[]): TraceSession {
    const id = topo.prefix.slice(0, -1);
    const priv = `xdplab-tracefs-${id}`;
    const hostMounted = hostTracefs() !== null;
    const rootGuess = hostMounted ? "" : path.join("/tmp", priv);
    if (!hostMounted) topo.track({ kind: "tracefs", name: path.join(rootGuess, "instances", id), mount: rootGuess });
    const { root } = tracefsRoot(priv);
    const dir = path.join(root, "instances", id);
    if (hostMounted) topo.track({ kind: "tracefs", name: dir });
    mkdirSync(dir);
    for (const e of events) {
      const f = path.join(dir, "events", "xdp", e, "enable");
      if (!existsSync(f)) throw new EnvironmentError(`this kernel has no xdp:${e} tracepoint (see 'xdplab live --preflight')`);
      writeFileSync(f, "1");
    }
    return new TraceSession(dir);
  }

  clear(): void {
    writeFileSync(path.join(this.dir, "trace"), "");
  }

  /** Hits since the last clear(), parsed "name: k=v k=v" lines. */
  hits(): TraceHit[] {
    const out: TraceHit[] = [];
    for (const line of readFileSync(path.join(this.dir, "trace"), "utf8").split("\n")) {
      if (line.startsWith("#")) continue;
      const m = /\s(xdp_[a-z_]+):\s(.*)$/.exec(line);
      if (m === null) continue;
      const fields: Record<string, string> = {};
      for (const kv of (m[2] ?? "").split(" ")) {
        const eq = kv.indexOf("=");
        if (eq > 0) fields[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      out.push({ event: m[1] ?? "", fields });
    }
    return out;
  }
}

export interface PreflightReport {
  ok: boolean;
  root: boolean;
  kernel: string;
  bpffs: { path: string; mountedByUs: boolean } | null;
  tracepoints: string[];
  helpers: Record<string, string | null>;
  interfaces: IfaceFeatures[];
  /** Each line a sentence: what is missing and what it costs. */
  problems: string[];
  notes: string[];
}

function tryPath(f: () => string): string | null {
  try {
    return f();
  } catch {
    return null;
  }
}

/** Checks the machine. Mounts bpffs when missing (and says so); reads the XDP features
 *  of the given namespaces (the caller's when none). Never throws for a missing part. */
export function preflight(namespaces: ReadonlyArray<string | null> = [null]): PreflightReport {
  const r: PreflightReport = { ok: false, root: process.getuid?.() === 0, kernel: release(), bpffs: null, tracepoints: [], helpers: {}, interfaces: [], problems: [], notes: [] };
  if (!r.root) r.problems.push("not root: live mode creates namespaces and loads BPF programs; run it with sudo");
  r.helpers = {
    "xdplab-loader": tryPath(loaderPath),
    "xdplab-xskprobe": tryPath(xskprobePath),
    "xdplab-pktio": tryPath(pktioPath),
    "xdplab_shim.o": tryPath(shimObject),
    "xdplab_pass.o": tryPath(passObject),
  };
  for (const [k, v] of Object.entries(r.helpers)) if (v === null) r.problems.push(`${k} is not built: run scripts/setup.sh (make -C native/loader native/xskprobe native/pktio bpf)`);
  if (!r.root) return r;
  try {
    const b = ensureBpffs();
    r.bpffs = { path: "/sys/fs/bpf", mountedByUs: b.mountedByUs };
    if (b.mountedByUs) r.notes.push("bpffs was not mounted at /sys/fs/bpf; mounted it (mount -t bpf bpf /sys/fs/bpf) for this run");
  } catch (e) {
    r.problems.push(`bpffs is not mounted at /sys/fs/bpf and mounting it failed (${(e as Error).message}): pinned maps are impossible`);
  }
  try {
    r.tracepoints = xdpTracepoints();
  } catch (e) {
    r.problems.push(`tracefs cannot be mounted (${(e as Error).message}): redirect and XDP_TX errors would be invisible`);
  }
  for (const [name, needed, what] of WANTED_TRACEPOINTS) {
    if (r.tracepoints.includes(name)) continue;
    if (needed) r.problems.push(`tracepoint xdp:${name} is missing on kernel ${r.kernel}: ${what} cannot be counted`);
    else r.notes.push(`xdp:${name} is not on this kernel (${what})`);
  }
  if (r.helpers["xdplab-loader"] !== null) {
    for (const ns of namespaces) {
      try {
        r.interfaces.push(...interfaceFeatures(ns));
      } catch (e) {
        r.problems.push(`XDP features of ${ns ?? "this namespace"} unreadable: ${(e as Error).message} (the netdev genetlink family needs kernel >= 6.3)`);
      }
    }
  }
  r.ok = r.problems.length === 0;
  return r;
}

/** The report in words, one fact per line. */
export function formatPreflight(r: PreflightReport): string {
  const L: string[] = [];
  L.push(`kernel ${r.kernel}; ${r.root ? "running as root" : "NOT root"}`);
  if (r.bpffs !== null) L.push(`bpffs at ${r.bpffs.path}${r.bpffs.mountedByUs ? " (mounted by this run)" : ""}`);
  L.push(`xdp tracepoints: ${r.tracepoints.length === 0 ? "(none found)" : r.tracepoints.join(", ")}`);
  for (const [k, v] of Object.entries(r.helpers)) L.push(`${k}: ${v ?? "missing"}`);
  for (const i of r.interfaces) {
    L.push(`${i.netns === null ? "" : `${i.netns}:`}${i.name} (ifindex ${i.ifindex}) XDP features 0x${i.xdpFeatures.toString(16)}: ${i.names.length === 0 ? "none (generic XDP only)" : i.names.join(", ")}`);
  }
  for (const n of r.notes) L.push(`note: ${n}`);
  for (const p of r.problems) L.push(`MISSING: ${p}`);
  L.push(r.ok ? "preflight: ready for live runs" : "preflight: not ready (exit 3)");
  return L.join("\n") + "\n";
}
