// The far host of `traffic.respond: "reflect"` for live runs: the `reflect` mode of
// native/pktio/xdplab-pktio, bound to one far-side interface inside its namespace, answers
// every frame arriving there with the reply sim/dataplane/responder.ts `reflect` builds
// (byte-identical; test/live/responder.test.ts compares the two). It sends nothing but
// those answers, on that interface. See docs/live-responder.md.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { EnvironmentError } from "../sim/errors.js";
import { readEthernetPcap, writeEthernetPcap } from "./pcapio.js";
import { pktioPath } from "./pktio.js";

export interface ResponderCounts {
  /** Frames received on the interface (incoming only). */
  seen: number;
  /** Replies sent. */
  answered: number;
  /** Frames reflect gives no reply for (ARP, RST, fragments, …). */
  ignored: number;
}

export interface ResponderOptions {
  /** The model's reply buffer, scenario dataplane.frameSize (default 4096): a reply
   *  longer than this is not sent, as in the model. */
  frameSize?: number;
  /** Stop by itself after this many replies. */
  max?: number;
  /** Stop by itself after this long without a frame received. */
  idleMs?: number;
}

export interface Responder {
  /** SIGTERM, then the helper's final counts. Rejects if the helper failed (bad
   *  namespace or interface, no permission). Idempotent. */
  stop(): Promise<ResponderCounts>;
  /** Resolves once the socket is bound (frames sent after this are answered); rejects
   *  if the helper exits before that. */
  ready: Promise<void>;
  /** Resolves with the counts when the helper ends by itself (--max, --idle-ms). */
  finished: Promise<ResponderCounts>;
  readonly pid: number | undefined;
}

const SUMMARY_RE = /^done seen (\d+) answered (\d+) ignored (\d+)(?: errors (\d+))?$/;

function parseSummary(stdout: string): ResponderCounts | null {
  for (const line of stdout.split("\n").reverse()) {
    const m = SUMMARY_RE.exec(line.trim());
    if (m) return { seen: Number(m[1]), answered: Number(m[2]), ignored: Number(m[3]) };
  }
  return null;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function failure(what: string, r: Exit): EnvironmentError {
  const msg = r.stderr.trim() || `exit ${r.code ?? r.signal ?? "?"}`;
  return new EnvironmentError(`xdplab-pktio ${what}: ${msg.replace(/^xdplab-pktio: /, "")}`);
}

/** Children still running, killed when this process exits (the helper also has
 *  PR_SET_PDEATHSIG, which covers a SIGKILL of this process). */
const live = new Set<ChildProcess>();
let exitHook = false;
function killAll(): void {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
}

/** Starts the responder on netns:ifname. Await `ready` before sending traffic. */
export function startResponder(netns: string, ifname: string, opts: ResponderOptions = {}): Responder {
  const bin = pktioPath();
  const args = ["reflect", "--if", `${netns}:${ifname}`, "--parent", String(process.pid)];
  if (opts.frameSize !== undefined) args.push("--frame-size", String(opts.frameSize));
  if (opts.max !== undefined) args.push("--max", String(opts.max));
  if (opts.idleMs !== undefined) args.push("--idle-ms", String(opts.idleMs));
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", killAll);
  }
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  let onReady: (() => void) | null = null;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on("data", (d: string) => {
    stdout += d;
    if (onReady !== null && /(^|\n)ready\n/.test(stdout)) {
      onReady();
      onReady = null;
    }
  });
  child.stderr.on("data", (d: string) => (stderr += d));
  const exited = new Promise<Exit>((resolve) => {
    child.on("error", (e) => resolve({ code: null, signal: null, stdout, stderr: `cannot start ${bin}: ${e.message}` }));
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  }).then((r) => {
    live.delete(child);
    return r;
  });
  const finished = exited.then((r) => {
    const counts = r.code === 0 ? parseSummary(r.stdout) : null;
    if (counts === null) throw failure(`reflect on ${netns}:${ifname}`, r);
    return counts;
  });
  const readyOrFail = Promise.race([
    ready,
    exited.then((r) => {
      if (!/(^|\n)ready\n/.test(r.stdout)) throw failure(`reflect on ${netns}:${ifname}`, r);
    }),
  ]);
  // Callers may await only one of these: the others must not become unhandled rejections.
  readyOrFail.catch(() => undefined);
  finished.catch(() => undefined);
  return {
    ready: readyOrFail,
    finished,
    pid: child.pid,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return finished;
    },
  };
}

/**
 * The same C reflect offline (`xdplab-pktio reflect-file`): the reply to each frame, or
 * null where the far host sends nothing. For comparing the C code with the model's.
 */
export async function reflectOffline(frames: readonly Uint8Array[], frameSize = 4096): Promise<Array<Uint8Array | null>> {
  const bin = pktioPath();
  const dir = mkdtempSync(path.join(tmpdir(), "xdplab-reflect-"));
  try {
    const inFile = path.join(dir, "in.pcap");
    const outFile = path.join(dir, "out.pcap");
    writeEthernetPcap(inFile, frames);
    const child = spawn(bin, ["reflect-file", "--in", inFile, "--out", outFile, "--frame-size", String(frameSize)], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (d: string) => (stdout += d));
    child.stderr.on("data", (d: string) => (stderr += d));
    const r = await new Promise<Exit>((resolve) => {
      child.on("error", (e) => resolve({ code: null, signal: null, stdout, stderr: `cannot start ${bin}: ${e.message}` }));
      child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    if (r.code !== 0) throw failure("reflect-file", r);
    const replies = readEthernetPcap(outFile);
    const out: Array<Uint8Array | null> = [];
    let k = 0;
    for (const line of r.stdout.split("\n")) {
      const w = line.split(" ");
      if (w[0] === "answer") {
        const f = replies[k++];
        if (f === undefined || f.data.length !== Number(w[2])) throw new EnvironmentError("xdplab-pktio reflect-file: replies file does not match its report");
        out.push(f.data);
      } else if (w[0] === "ignore") out.push(null);
    }
    if (out.length !== frames.length || k !== replies.length) throw new EnvironmentError(`xdplab-pktio reflect-file: ${out.length} results for ${frames.length} frames`);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
