// Putting XDP programs on the lab's interfaces and talking to their maps, through the
// C helpers native/loader/xdplab-loader (libbpf) and native/xskprobe/xdplab-xskprobe
// (libxdp). Owns the per-run bpffs directory (<BPFFS_ROOT>/<run id>/<program>-<ns>-<if>),
// recorded in the harness state file before it exists so destroy() and the next run's
// sweep remove it; probe processes are recorded the same way (and die with their parent
// through PR_SET_PDEATHSIG). Owns the errno → words table for bind and attach errors.
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EnvironmentError } from "../sim/errors.js";
import { ip } from "./exec.js";
import { BPFFS_ROOT, processStartTicks } from "./state.js";
import type { Topology } from "./topology.js";

/** errno → what it means at each stage, in words (kernel sources: net/xdp/xsk.c,
 *  xsk_buff_pool.c, drivers/net/veth.c, net/core/dev.c). */
export const ERRNO_EXPLAINED: ReadonlyArray<{ errno: number; name: string; stage: string; words: string }> = [
  { errno: 22, name: "EINVAL", stage: "umem", words: "a ring size is not a power of two (fill/completion/rx/tx rings are checked at setsockopt), or the frame size/headroom is invalid" },
  { errno: 22, name: "EINVAL", stage: "bind", words: "a ring size is not a power of two, the queue id is not below the device's real_num_rx_queues, or the socket has neither an RX nor a TX ring" },
  { errno: 16, name: "EBUSY", stage: "bind", words: "another AF_XDP socket is already bound to this (device, queue) with its own UMEM; share the UMEM (XDP_SHARED_UMEM) or pick another queue" },
  { errno: 95, name: "EOPNOTSUPP", stage: "bind", words: "zero-copy was asked for on a device whose driver has no AF_XDP zero-copy support (veth has none); bind in copy mode (XDP_COPY)" },
  { errno: 19, name: "ENODEV", stage: "bind", words: "no such interface in this network namespace" },
  { errno: 16, name: "EBUSY", stage: "attach", words: "another XDP program is already attached to the interface (the loader refuses to replace it)" },
  { errno: 17, name: "EEXIST", stage: "attach", words: "an XDP program is already attached in another mode; detach it first (ip link set dev IF xdp off)" },
  { errno: 28, name: "ENOSPC", stage: "attach", words: "veth native XDP needs at least as many RX queues as its peer has TX queues (ethtool -L on the two ends)" },
  { errno: 95, name: "EOPNOTSUPP", stage: "attach", words: "the driver has no native XDP; use generic (skb) mode" },
  { errno: 22, name: "EINVAL", stage: "attach", words: "the program is not an XDP program, or the MTU is too large for single-buffer native XDP" },
  { errno: 1, name: "EPERM", stage: "load", words: "loading BPF programs needs root (CAP_BPF + CAP_NET_ADMIN) and a large enough RLIMIT_MEMLOCK on old kernels" },
  { errno: 13, name: "EACCES", stage: "load", words: "the verifier rejected the program" },
  { errno: 2, name: "ENOENT", stage: "map", words: "the pinned map does not exist (was the program attached in this run?)" },
  { errno: 6, name: "ENXIO", stage: "redirect", words: "the XSKMAP slot's socket is not bound, or the veth peer has neither an XDP program nor GRO" },
  { errno: 22, name: "EINVAL", stage: "redirect", words: "the XSKMAP slot's socket is bound to another device or queue than the frame arrived on" },
];

/** Words for an errno at a stage (falls back to any stage, then to strerror's name). */
export function explainErrno(stage: string, errno: number, name = `errno ${errno}`): string {
  const hit = ERRNO_EXPLAINED.find((e) => e.errno === errno && e.stage === stage) ?? ERRNO_EXPLAINED.find((e) => e.errno === errno);
  return hit === undefined ? name : `${hit.name}: ${hit.words}`;
}

interface HelperError {
  stage: string;
  errno: number;
  name: string;
  message: string;
}

/** A helper reported a kernel error; carries the errno for tests and callers. */
export class BpfHelperError extends EnvironmentError {
  readonly stage: string;
  readonly errno: number;
  readonly errnoName: string;
  constructor(what: string, e: HelperError) {
    super(`${what} failed at ${e.stage}: ${explainErrno(e.stage, e.errno, e.name)} (${e.message})`);
    this.stage = e.stage;
    this.errno = e.errno;
    this.errnoName = e.name;
  }
}

function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, "bpf", "Makefile"))) return dir;
    dir = path.dirname(dir);
  }
  throw new EnvironmentError("cannot locate the xdplab project root (bpf/Makefile) from the live/ module");
}

function built(rel: string, how: string): string {
  const p = path.join(projectRoot(), rel);
  if (!existsSync(p)) throw new EnvironmentError(`live mode needs ${p}; build it with '${how}' (scripts/setup.sh does this)`);
  return p;
}

export const loaderPath = (): string => built("native/loader/build/xdplab-loader", "make -C native/loader");
export const xskprobePath = (): string => built("native/xskprobe/build/xdplab-xskprobe", "make -C native/xskprobe");
export const shimObject = (): string => built("bpf/build/xdplab_shim.o", "make -C bpf");
export const passObject = (): string => built("bpf/build/xdplab_pass.o", "make -C bpf");

/** Runs xdplab-loader; returns its JSON, throws BpfHelperError for a kernel error. */
export function loader(args: readonly string[]): Record<string, unknown> {
  let out: string;
  try {
    out = execFileSync(loaderPath(), args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 20_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    out = e.stdout ?? "";
    if (!out.startsWith("{")) throw new EnvironmentError(`xdplab-loader ${args[0] ?? ""}: ${(e.stderr ?? "").trim() || "failed"}`);
  }
  const j = JSON.parse(out) as Record<string, unknown>;
  if (j["error"] !== undefined) throw new BpfHelperError(`xdplab-loader ${args[0] ?? ""}`, j["error"] as HelperError);
  return j;
}

export interface AttachedProgram {
  netns: string;
  ifname: string;
  ifindex: number;
  progId: number;
  pinDir: string;
}

export interface ProbeResult {
  received: number;
  stats: Record<string, number>;
}

export interface Probe {
  readonly pid: number;
  /** Resolves when the probe ends (its --ms elapsed, or stop()). */
  result(): Promise<ProbeResult>;
  stop(): Promise<ProbeResult>;
}

/** The BPF side of one live run: programs, pins and probes, all owned by a Topology. */
export class LabBpf {
  readonly dir: string;
  private readonly topo: Topology;
  private readonly attached: AttachedProgram[] = [];
  private readonly probes = new Set<ChildProcess>();

  constructor(topo: Topology) {
    this.topo = topo;
    this.dir = path.join(BPFFS_ROOT, topo.prefix.slice(0, -1));
    topo.track({ kind: "bpffs", name: this.dir });
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Loads obj (maps pinned under dir/<name>), attaches it to netns:ifname. */
  attach(netns: string, ifname: string, which: "shim" | "pass", mode: "native" | "generic" = "native"): AttachedProgram {
    const pinDir = path.join(this.dir, `${which}-${netns.slice(this.topo.prefix.length)}-${ifname}`);
    const obj = which === "shim" ? shimObject() : passObject();
    const prog = which === "shim" ? "xdplab_shim" : "xdplab_pass";
    const j = loader(["attach", "--netns", netns, "--if", ifname, "--obj", obj, "--prog", prog, "--pin-dir", pinDir, "--mode", mode]);
    const a: AttachedProgram = { netns, ifname, ifindex: Number(j["ifindex"]), progId: Number(j["prog_id"]), pinDir };
    this.attached.push(a);
    return a;
  }

  detach(a: AttachedProgram): void {
    ip(a.netns, ["link", "set", "dev", a.ifname, "xdp", "off"]);
    const i = this.attached.indexOf(a);
    if (i >= 0) this.attached.splice(i, 1);
  }

  mapUpdate(netns: string, pin: string, key: Uint8Array, value: Uint8Array): void {
    loader(["map-update", "--netns", netns, "--pin", pin, "--key", Buffer.from(key).toString("hex"), "--value", Buffer.from(value).toString("hex")]);
  }

  /** The shim's reason counters, summed over CPUs (index = reason code, 0 = redirected). */
  counters(a: AttachedProgram): number[] {
    return (loader(["counters", "--pin", path.join(a.pinDir, "reason_counters")])["counters"] as number[]).map(Number);
  }

  /** Starts xdplab-xskprobe; resolves once its socket is bound and in the map. */
  async startProbe(o: { netns: string; ifname: string; queue: number; map?: string; slot?: number; ms: number; ring?: number; zerocopy?: boolean }): Promise<Probe> {
    const args = ["--netns", o.netns, "--if", o.ifname, "--queue", String(o.queue), "--ms", String(o.ms)];
    if (o.map !== undefined) args.push("--map", o.map, "--slot", String(o.slot ?? 0));
    if (o.ring !== undefined) args.push("--ring", String(o.ring));
    if (o.zerocopy === true) args.push("--zerocopy");
    const child = spawn(xskprobePath(), args, { stdio: ["ignore", "pipe", "pipe"] });
    this.probes.add(child);
    const pid = child.pid ?? 0;
    const ticks = processStartTicks(pid);
    if (ticks !== null) this.topo.track({ kind: "pid", name: String(pid), startTicks: ticks });
    const lines: string[] = [];
    let partial = "";
    let stderr = "";
    const waiters: Array<() => void> = [];
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (c: string) => {
      partial += c;
      let nl: number;
      while ((nl = partial.indexOf("\n")) >= 0) {
        lines.push(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
        for (const w of waiters.splice(0)) w();
      }
    });
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const done = new Promise<void>((resolve) => child.on("close", () => {
      this.probes.delete(child);
      for (const w of waiters.splice(0)) w();
      resolve();
    }));
    const parse = (l: string): Record<string, unknown> => JSON.parse(l) as Record<string, unknown>;
    // Wait for the ready line, an error line, or the end.
    for (;;) {
      const first = lines[0];
      if (first !== undefined) {
        const j = parse(first);
        if (j["error"] !== undefined) {
          await done;
          throw new BpfHelperError("xdplab-xskprobe", j["error"] as HelperError);
        }
        break;
      }
      if (child.exitCode !== null || child.signalCode !== null) throw new EnvironmentError(`xdplab-xskprobe: ${stderr.trim() || "exited early"}`);
      await new Promise<void>((r) => waiters.push(r));
    }
    const result = async (): Promise<ProbeResult> => {
      await done;
      const last = lines.map(parse).find((j) => j["received"] !== undefined || j["error"] !== undefined);
      if (last === undefined) throw new EnvironmentError(`xdplab-xskprobe ended without a result: ${stderr.trim()}`);
      if (last["error"] !== undefined) throw new BpfHelperError("xdplab-xskprobe", last["error"] as HelperError);
      return { received: Number(last["received"]), stats: last["stats"] as Record<string, number> };
    };
    return {
      pid,
      result,
      stop: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        return result();
      },
    };
  }

  /** Kills probes and detaches what this run attached; the pins go with the topology. */
  close(): void {
    for (const c of this.probes) c.kill("SIGKILL");
    for (const a of [...this.attached]) {
      try {
        this.detach(a);
      } catch {
        // the namespace is already gone
      }
    }
  }
}

/** Bytes of struct xdplab_ctrl (bpf/xdplab_structs.h, 48 bytes, little-endian host). */
export function ctrlBytes(c: { enabled?: number; abiVersion?: number; strict?: number; fallbackMode?: number; txMode?: number; bugs?: number }): Uint8Array {
  const b = new Uint8Array(48);
  const v = new DataView(b.buffer);
  v.setUint32(0, c.enabled ?? 0, true);
  v.setUint32(4, c.abiVersion ?? 0, true);
  v.setUint32(32, c.strict ?? 0, true);
  v.setUint32(36, c.fallbackMode ?? 0, true);
  v.setUint32(40, c.txMode ?? 0, true);
  v.setUint32(44, c.bugs ?? 0, true);
  return b;
}

export function u32le(...xs: number[]): Uint8Array {
  const b = new Uint8Array(4 * xs.length);
  const v = new DataView(b.buffer);
  xs.forEach((x, i) => v.setUint32(4 * i, x >>> 0, true));
  return b;
}
