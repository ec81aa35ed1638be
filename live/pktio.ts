// Node side of native/pktio/xdplab-pktio: injects frames into, and captures frames from,
// interfaces inside the lab's namespaces. The helper enters each namespace itself
// (setns per socket), so one injector keeps the global order of frames across
// interfaces and one capture process serves every far side.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EnvironmentError } from "../sim/errors.js";
import { readEthernetPcap, writeEthernetPcap } from "./pcapio.js";
import type { PcapFrame } from "./pcapio.js";

export interface Port {
  netns: string;
  ifname: string;
}

/** The repository root, found from this module (dist/live or live). */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, "native", "pktio", "Makefile"))) return dir;
    dir = path.dirname(dir);
  }
  throw new EnvironmentError("cannot locate the xdplab project root (native/pktio/Makefile) from the live/ module");
}

/** The helper binary: $XDPLAB_PKTIO, else native/pktio/build/xdplab-pktio. */
export function pktioPath(): string {
  const env = process.env["XDPLAB_PKTIO"];
  const p = env !== undefined && env !== "" ? env : path.join(projectRoot(), "native", "pktio", "build", "xdplab-pktio");
  if (!existsSync(p)) {
    throw new EnvironmentError(`live mode needs the injection/capture helper ${p}; build it with 'make -C native/pktio' (scripts/setup.sh does this; needs gcc)`);
  }
  return p;
}

const portSpec = (p: Port): string => `${p.netns}:${p.ifname}`;

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function collect(child: ChildProcess): { lines: string[]; done: Promise<Exited>; onLine: (f: (l: string) => void) => void } {
  let stdout = "";
  let stderr = "";
  let partial = "";
  const lines: string[] = [];
  const listeners: Array<(l: string) => void> = [];
  child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    stdout += chunk;
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf("\n")) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      lines.push(line);
      for (const f of listeners) f(line);
    }
  });
  child.stderr?.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<Exited>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { lines, done, onLine: (f) => listeners.push(f) };
}

/** Runs xdplab-pktio with args to its end; its output split into lines. */
export async function runPktio(args: readonly string[]): Promise<Exited & { lines: string[] }> {
  const child = spawn(pktioPath(), [...args], { stdio: ["ignore", "pipe", "pipe"] });
  const c = collect(child);
  const r = await c.done;
  return { ...r, lines: c.lines };
}

function helperError(what: string, r: Exited): EnvironmentError {
  const msg = r.stderr.trim() || `exit code ${r.code ?? r.signal}`;
  return new EnvironmentError(`xdplab-pktio ${what}: ${msg}`);
}

export interface InjectedFrame {
  index: number;
  port: number;
  /** CLOCK_REALTIME ns just before the frame was handed to the socket; null on error. */
  tNs: bigint | null;
  error: string | null;
}

export interface InjectOptions {
  /** Gap between consecutive frames in µs (default 1000). */
  gapUs?: number;
  /** Hard bound on the whole injection in ms (default 30000). */
  maxMs?: number;
}

/** Sends frames in order, each on its port; resolves once all were handed to the kernel. */
export async function inject(ports: readonly Port[], frames: ReadonlyArray<{ port: number; frame: Uint8Array }>, opts: InjectOptions = {}): Promise<InjectedFrame[]> {
  const bin = pktioPath();
  const dir = mkdtempSync(path.join(tmpdir(), "xdplab-inject-"));
  try {
    const pcap = path.join(dir, "in.pcap");
    const map = path.join(dir, "ports.txt");
    writeEthernetPcap(pcap, frames.map((f) => f.frame));
    writeFileSync(map, frames.map((f) => `${f.port}\n`).join(""));
    const args = ["inject", ...ports.flatMap((p) => ["--if", portSpec(p)]), "--pcap", pcap, "--ifaces", map];
    args.push("--gap-us", String(opts.gapUs ?? 1000), "--max-ms", String(opts.maxMs ?? 30_000));
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    const c = collect(child);
    const r = await c.done;
    if (r.code !== 0) throw helperError("inject", r);
    const out: InjectedFrame[] = [];
    for (const line of c.lines) {
      const w = line.split(" ");
      if (w[0] === "sent") out.push({ index: Number(w[1]), port: Number(w[2]), tNs: BigInt(w[3] ?? "0"), error: null });
      else if (w[0] === "error") out.push({ index: Number(w[1]), port: Number(w[2]), tNs: null, error: w.slice(3).join(" ") });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface CaptureOptions {
  /** Hard bound on the capture in ms (required: captures are always bounded). */
  timeoutMs: number;
  idleMs?: number;
  count?: number;
  /** "in" (default) skips frames sent from the captured interface itself. */
  direction?: "in" | "both";
}

export interface Capture {
  /** Stops the capture (SIGTERM; the helper flushes) and returns the frames per port. */
  stop(): Promise<PcapFrame[][]>;
  /** Waits until the capture ends by itself (timeout, idle or count). */
  finished(): Promise<PcapFrame[][]>;
}

/** Starts one capture process on all ports; resolves once every socket is bound. */
export async function startCapture(ports: readonly Port[], opts: CaptureOptions): Promise<Capture> {
  const bin = pktioPath();
  const dir = mkdtempSync(path.join(tmpdir(), "xdplab-capture-"));
  const files = ports.map((_, i) => path.join(dir, `port${i}.pcap`));
  const args = ["capture"];
  ports.forEach((p, i) => args.push("--if", portSpec(p), "--out", files[i] ?? ""));
  args.push("--timeout-ms", String(opts.timeoutMs));
  if (opts.idleMs !== undefined) args.push("--idle-ms", String(opts.idleMs));
  if (opts.count !== undefined) args.push("--count", String(opts.count));
  args.push("--direction", opts.direction ?? "in");
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  const c = collect(child);
  const ready = new Promise<void>((resolve) => {
    c.onLine((l) => {
      if (l === "ready") resolve();
    });
  });
  const first = await Promise.race([ready.then(() => null), c.done]);
  if (first !== null) {
    rmSync(dir, { recursive: true, force: true });
    throw helperError("capture", first);
  }
  let result: Promise<PcapFrame[][]> | null = null;
  const finish = (): Promise<PcapFrame[][]> => {
    result ??= c.done.then((r) => {
      try {
        if (r.code !== 0) throw helperError("capture", r);
        return files.map((f) => readEthernetPcap(f));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    return result;
  };
  return {
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return finish();
    },
    finished: finish,
  };
}
