// Test harness for the real shim: builds bpf/ (make, once per process, serialised across
// processes by flock so parallel test files never run two makes at once), creates a private network
// namespace with a 4-queue veth pair (the kernel resolves BPF_PROG_RUN's ctx
// ingress_ifindex/rx_queue_index in the caller's namespace and requires
// rx_queue_index < real_num_rx_queues), and talks to bpf/test/prog_run line by line.
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../cli.js";

export const BPF_DIR = path.join(ROOT, "bpf");
/** The shim under test: $XDPLAB_SHIM_OBJ (e.g. a deliberately broken build, to see the differential fail) or bpf/build. */
export const SHIM_OBJ = process.env["XDPLAB_SHIM_OBJ"] ?? path.join(BPF_DIR, "build", "xdplab_shim.o");
export const PASS_OBJ = path.join(BPF_DIR, "build", "xdplab_pass.o");
export const PROG_RUN = path.join(BPF_DIR, "build", "prog_run");
export const ABI_LAYOUT = path.join(BPF_DIR, "build", "abi_layout");

const BUILT = [SHIM_OBJ, PASS_OBJ, PROG_RUN, ABI_LAYOUT];
let buildResult: string | null | undefined;

/**
 * Brings bpf/build up to date (a no-op make when it is) and returns an error message, or
 * null when every artefact is there. Runs make once per test process, under an exclusive
 * flock on bpf/build/.lock; make writes each output under a temporary name and renames it,
 * so nobody loads half an object.
 */
export function buildBpf(): string | null {
  if (buildResult !== undefined) return buildResult;
  const build = path.join(BPF_DIR, "build");
  mkdirSync(build, { recursive: true });
  const r = spawnSync("flock", ["-w", "300", path.join(build, ".lock"), "make", "-s", "-C", BPF_DIR], { encoding: "utf8" });
  if (r.error !== undefined) buildResult = `cannot run flock/make (${r.error.message}): run \`make -C bpf\` or scripts/setup.sh`;
  else if (r.status !== 0) buildResult = `make -C bpf failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`;
  else {
    const missing = BUILT.filter((f) => !existsSync(f));
    buildResult = missing.length ? `make -C bpf left ${missing.map((f) => path.relative(BPF_DIR, f)).join(", ")} missing: run \`make -C bpf\` or scripts/setup.sh` : null;
  }
  return buildResult;
}

/** Why the real-kernel tests cannot run here, or null when they can. */
export function kernelSkipReason(): string | null {
  if (process.getuid?.() !== 0) return "needs root (BPF_PROG_RUN, network namespaces)";
  if (spawnSync("ip", ["-V"]).status !== 0) return "needs iproute2 (`ip`)";
  return null;
}

export interface Netns {
  name: string;
  /** ifindexes of the veth pair inside the namespace, ascending */
  ifindex: [number, number];
  queues: number;
  remove(): void;
}

export function createNetns(queues = 4): Netns {
  const name = `xdplab-bpf-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  const run = (args: string[]): string => {
    const r = spawnSync("ip", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  run(["netns", "add", name]);
  try {
    const q = String(queues);
    run(["-n", name, "link", "add", "x0", "numtxqueues", q, "numrxqueues", q, "type", "veth", "peer", "name", "x1", "numtxqueues", q, "numrxqueues", q]);
    const links = JSON.parse(run(["-n", name, "-j", "link", "show"])) as Array<{ ifindex: number; ifname: string }>;
    const idx = links.filter((l) => l.ifname === "x0" || l.ifname === "x1").map((l) => l.ifindex).sort((a, b) => a - b);
    if (idx.length !== 2) throw new Error(`veth pair not found in ${name}`);
    return { name, ifindex: [idx[0]!, idx[1]!], queues, remove: () => void spawnSync("ip", ["netns", "del", name]) };
  } catch (e) {
    spawnSync("ip", ["netns", "del", name]);
    throw e;
  }
}

export interface ShimEvent {
  verdict: number;
  reason: number;
  ifindex: number;
  queue: number;
  flags: number;
  ipVersion: number;
  ipProto: number;
  ipId: number;
  flowLabel: number;
  srcPort: number;
  dstPort: number;
  tcpSeq: number;
  payloadHash: number;
  pktLen: number;
  slot: number;
}

export interface RunResult {
  retval: number;
  meta: Uint8Array | null;
  counters: Map<number, number>;
  event: ShimEvent | null;
}

export function parseResult(line: string): RunResult {
  const [tag, rv, meta, cnt, ev] = line.trim().split(" ");
  if (tag !== "res" || rv === undefined || meta === undefined || cnt === undefined || ev === undefined) throw new Error(`prog_run: unexpected line "${line}"`);
  const counters = new Map<number, number>();
  if (cnt !== "-") for (const kv of cnt.split(",")) counters.set(Number(kv.split(":")[0]), Number(kv.split(":")[1]));
  let event: ShimEvent | null = null;
  if (ev !== "-") {
    const f = ev.split(",").map(Number);
    const [verdict, reason, ifindex, queue, flags, ipVersion, ipProto, ipId, flowLabel, srcPort, dstPort, tcpSeq, payloadHash, pktLen, slot] = f as [number, ...number[]];
    event = { verdict, reason: reason!, ifindex: ifindex!, queue: queue!, flags: flags!, ipVersion: ipVersion!, ipProto: ipProto!, ipId: ipId!, flowLabel: flowLabel!, srcPort: srcPort!, dstPort: dstPort!, tcpSeq: tcpSeq!, payloadHash: payloadHash!, pktLen: pktLen!, slot: slot! };
  }
  return { retval: Number(rv), meta: meta === "-" ? null : Uint8Array.from(Buffer.from(meta, "hex")), counters, event };
}

/** A running prog_run in the namespace; commands are streamed, results read up to a `sync` barrier. */
export class ProgRun {
  private readonly child: ChildProcessWithoutNullStreams;
  private buf = "";
  private readonly lines: string[] = [];
  private waiter: (() => void) | null = null;
  private exited: string | null = null;

  constructor(ns: Netns) {
    if (!existsSync(PROG_RUN)) throw new Error(`${PROG_RUN} not built`);
    this.child = spawn("ip", ["netns", "exec", ns.name, PROG_RUN, SHIM_OBJ]);
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf("\n")) >= 0) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
      this.waiter?.();
    });
    let err = "";
    this.child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    this.child.on("exit", (code) => {
      this.exited = `prog_run exited with ${code}: ${err}`;
      this.waiter?.();
    });
  }

  private async nextLine(): Promise<string> {
    for (;;) {
      const l = this.lines.shift();
      if (l !== undefined) return l;
      if (this.exited !== null) throw new Error(this.exited);
      await new Promise<void>((res) => (this.waiter = res));
      this.waiter = null;
    }
  }

  async ready(): Promise<void> {
    const l = await this.nextLine();
    if (!l.startsWith("ready")) throw new Error(`prog_run: ${l}`);
  }

  /** Sends the commands; returns the `res` lines (errors throw). */
  async run(cmds: string[]): Promise<RunResult[]> {
    this.child.stdin.write(cmds.join("\n") + "\nsync\n");
    const out: RunResult[] = [];
    for (;;) {
      const l = await this.nextLine();
      if (l === "sync") return out;
      if (l.startsWith("err")) throw new Error(`prog_run: ${l}`);
      out.push(parseResult(l));
    }
  }

  close(): void {
    this.child.stdin.end();
  }
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** 16 bytes hex of an address (IPv4 in the first 4 bytes). */
export function addr16(b: Uint8Array): string {
  const o = new Uint8Array(16);
  o.set(b);
  return hex(o);
}
