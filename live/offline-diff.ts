// The offline differential (DESIGN §7.1): one scenario run twice through the model's
// kernel/NIC side — once with the TS Worker, once with the native C worker on the same
// ring and UMEM memory — and compared: per-packet path records, output frames per
// interface, kernel-sink and drop captures (bytes and reasons), counters, XDP_STATISTICS
// and the time series, and the session tables at the end of the run (row by row: both
// sides allocate rows in the same order). Used by `xdplab diff --offline` and test/native.
import { Sim } from "../sim/run.js";
import type { PathRecord, RunResult, RunSink } from "../sim/trace/record.js";
import type { Scenario } from "../sim/scenario/types.js";
import type { InputPackets } from "../sim/scenario/packets.js";
import { reasonName } from "../sim/reasons.js";
import { nativeWorkerFactory, NativeWorker, dumpSessions } from "./native.js";
import type { SessionRow } from "./native.js";

interface FrameRec {
  iface: number;
  t: number;
  id: number;
  reason: number | null;
  hex: string;
}

/** A RunSink that keeps everything in memory (cold path: the differential is not a benchmark). */
export class MemorySink implements RunSink {
  readonly wantPath = true;
  readonly records: PathRecord[] = [];
  readonly out: FrameRec[] = [];
  readonly kernelOut: FrameRec[] = [];
  readonly drops: FrameRec[] = [];
  path(rec: PathRecord): void {
    this.records.push(rec);
  }
  frameOut(iface: number, tNs: number, buf: Uint8Array, off: number, len: number, id: number): void {
    this.out.push({ iface, t: tNs, id, reason: null, hex: Buffer.from(buf.subarray(off, off + len)).toString("hex") });
  }
  kernel(iface: number, tNs: number, buf: Uint8Array, off: number, len: number, id: number, reason: number): void {
    this.kernelOut.push({ iface, t: tNs, id, reason, hex: Buffer.from(buf.subarray(off, off + len)).toString("hex") });
  }
  drop(iface: number, tNs: number, buf: Uint8Array, off: number, len: number, id: number, reason: number): void {
    this.drops.push({ iface, t: tNs, id, reason, hex: Buffer.from(buf.subarray(off, off + len)).toString("hex") });
  }
}

export interface Divergence {
  /** What differs: "path", "frame:<iface>", "kernel", "drop", "counters", … */
  what: string;
  /** Packet id or index within the compared list. */
  at: number;
  model: unknown;
  native: unknown;
}

/** Path-record fields not compared (none: the native worker has the model's sessions and NAT). */
export const NOT_COMPARED: readonly string[] = [];

export interface DiffResult {
  agree: boolean;
  first: Divergence | null;
  packets: number;
  /** Live sessions at the end of the model's run. */
  sessions: number;
  /** The model's path records per lookup kind, and how many carry a NAT translation (coverage). */
  lookups: Record<string, number>;
  translated: number;
  model: RunResult;
  native: RunResult;
}

function run(scn: Scenario, input: InputPackets, native: boolean): { sink: MemorySink; result: RunResult; sessions: SessionRow[] } {
  const sink = new MemorySink();
  const sim = new Sim(scn, input, sink, native ? { seed: scn.seed, worker: nativeWorkerFactory(), idleSkip: true } : { seed: scn.seed });
  try {
    const result = sim.runToEnd();
    const sessions = sim.worker instanceof NativeWorker ? sim.worker.sessionDump() : dumpSessions(sim.dp.nat.sessions);
    return { sink, result, sessions };
  } finally {
    if (sim.worker instanceof NativeWorker) sim.worker.close();
  }
}

function firstDiff<T>(what: string, a: readonly T[], b: readonly T[], key: (x: T) => number, label: (x: T) => unknown = (x) => x): Divergence | null {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || JSON.stringify(x) !== JSON.stringify(y)) {
      return { what, at: x !== undefined ? key(x) : y !== undefined ? key(y) : i, model: x === undefined ? null : label(x), native: y === undefined ? null : label(y) };
    }
  }
  return null;
}

const withReason = (f: FrameRec): unknown => ({ ...f, reason: f.reason === null ? null : reasonName(f.reason) });

/**
 * Runs scn with both workers and returns the first divergence (null when they agree).
 * `nativeScenario` (tests only) gives the native side a different scenario, to show that
 * a real difference is reported.
 */
export function diffOffline(scn: Scenario, input: InputPackets, opts: { nativeScenario?: Scenario } = {}): DiffResult {
  const m = run(scn, input, false);
  const n = run(opts.nativeScenario ?? scn, input, true);
  const byId = (r: PathRecord[]): PathRecord[] =>
    [...r].sort((p, q) => p.id - q.id).map((x) => {
      const y: Record<string, unknown> = { ...x };
      for (const k of NOT_COMPARED) delete y[k];
      return y as unknown as PathRecord;
    });
  const checks: Array<() => Divergence | null> = [
    () => firstDiff("path", byId(m.sink.records), byId(n.sink.records), (r) => r.id),
    () => firstDiff("frame", m.sink.out, n.sink.out, (f) => f.id, withReason),
    () => firstDiff("kernel", m.sink.kernelOut, n.sink.kernelOut, (f) => f.id, withReason),
    () => firstDiff("drop", m.sink.drops, n.sink.drops, (f) => f.id, withReason),
    () => firstDiff("outcomes", [m.result.outcomes], [n.result.outcomes], () => 0),
    () => firstDiff("reasons", [m.result.reasons], [n.result.reasons], () => 0),
    () => {
      for (const stage of Object.keys({ ...m.result.counters, ...n.result.counters }).sort()) {
        const d = firstDiff(`counters.${stage}`, [m.result.counters[stage] ?? null], [n.result.counters[stage] ?? null], () => 0);
        if (d) return d;
      }
      return null;
    },
    () => firstDiff("xdpStatistics", m.result.xdpStatistics, n.result.xdpStatistics, () => 0),
    () => firstDiff("packets", [m.result.packets], [n.result.packets], () => 0),
    () => firstDiff("sessions", m.sessions, n.sessions, (r) => r.sid),
    () => firstDiff("series", [m.result.series], [n.result.series], () => 0, () => "(series differ; compare series.json of both runs)"),
  ];
  let first: Divergence | null = null;
  for (const c of checks) {
    first = c();
    if (first !== null) break;
  }
  const lookups: Record<string, number> = {};
  let translated = 0;
  for (const r of m.sink.records) {
    if (r.lookup !== undefined) lookups[r.lookup] = (lookups[r.lookup] ?? 0) + 1;
    if (r.nat !== undefined) translated++;
  }
  return { agree: first === null, first, packets: m.sink.records.length, sessions: m.sessions.length, lookups, translated, model: m.result, native: n.result };
}
