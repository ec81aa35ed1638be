// Per-packet path state while a packet is in the model, in typed-array columns indexed
// by packet id (no object per packet on the hot path), and the one place a packet's
// terminal outcome is decided: `finish` refuses a second outcome, counts outcomes and
// reasons, and — only when the sink wants paths — builds the DESIGN §4.2 record (cold).
import { reasonName } from "../reasons.js";

export type Origin = "input" | "responder" | "generated" | "retry";
export type Outcome = "forwarded" | "to_kernel" | "dropped" | "in_flight";

export interface PathRecord {
  id: number;
  origin: Origin;
  i: number | null;
  cause?: number;
  t: number;
  in: { iface: string; queue: number };
  armed: boolean;
  shim: { verdict: string; reason: string | null; slot: number | null };
  xsk?: { rx: "ok" | "fill_empty" | "rx_full" | "redirect_err" | "frame_too_small" };
  tuple?: { proto: number; src: string; dst: string; from: "metadata" | "frame" };
  lookup?: string;
  nat?: { src?: string; dst?: string };
  fib?: { egress: string; nexthop: string | null };
  tx?: { queue: "local" | "prepared" | "inplace"; enq: number; ring: number | null; done: number | null };
  out: Outcome;
  reason: string | null;
}

export interface RunSink {
  wantPath: boolean;
  path(rec: PathRecord): void;
  frameOut(iface: number, tNs: number, buf: Uint8Array, off: number, len: number, id: number): void;
  kernel(iface: number, tNs: number, buf: Uint8Array, off: number, len: number, id: number, reason: number): void;
  drop(iface: number, tNs: number, buf: Uint8Array, off: number, len: number, id: number, reason: number): void;
}

export interface SeriesResult {
  intervalNs: number;
  t: number[];
  bindings: Array<{ iface: string; queue: number; fill: number[]; rx: number[]; tx: number[]; comp: number[] }>;
  pendingTxLocal: number[];
  pendingTxPrepared: number[];
  pendingFill: number[];
  forwardedPerInterval: number[];
  droppedPerInterval: number[];
  rxPerInterval: number[];
}

export interface RunResult {
  seed: number;
  packets: { input: number; created: number };
  outcomes: Record<"forwarded" | "to_kernel" | "dropped" | "in_flight", number>;
  reasons: Record<string, number>;
  counters: Record<string, Record<string, number>>;
  xdpStatistics: Array<{
    iface: string;
    queue: number;
    rx_dropped: number;
    rx_invalid_descs: number;
    tx_invalid_descs: number;
    rx_ring_full: number;
    rx_fill_ring_empty_descs: number;
    tx_ring_empty_descs: number;
  }>;
  verdicts: Record<string, number>;
  series: SeriesResult;
  endNs: number;
}

export const O_NONE = 0;
export const O_FORWARDED = 1;
export const O_TO_KERNEL = 2;
export const O_DROPPED = 3;
export const O_IN_FLIGHT = 4;
export const OUTCOME_NAMES: readonly Outcome[] = ["in_flight", "forwarded", "to_kernel", "dropped", "in_flight"];

export const ORIGIN_INPUT = 0;
export const ORIGIN_RESPONDER = 1;
export const ORIGIN_GENERATED = 2;
export const ORIGIN_RETRY = 3;
const ORIGIN_NAMES: readonly Origin[] = ["input", "responder", "generated", "retry"];

export const XR_NONE = 0;
export const XR_OK = 1;
export const XR_FILL_EMPTY = 2;
export const XR_RX_FULL = 3;
export const XR_REDIRECT_ERR = 4;
export const XR_FRAME_TOO_SMALL = 5;
const XR_NAMES = ["", "ok", "fill_empty", "rx_full", "redirect_err", "frame_too_small"] as const;

export const TXQ_NONE = 0;
export const TXQ_LOCAL = 1;
export const TXQ_PREPARED = 2;
export const TXQ_INPLACE = 3;
const TXQ_NAMES = ["", "local", "prepared", "inplace"] as const;

/** Cold-path extras (tuple text, NAT, FIB) kept only when the sink wants paths. */
export interface PathExtras {
  tuple?: { proto: number; src: string; dst: string; from: "metadata" | "frame" };
  lookup?: string;
  nat?: { src?: string; dst?: string };
  fib?: { egress: string; nexthop: string | null };
}

export class PathTracker {
  count = 0;
  origin = new Uint8Array(1024);
  capIdx = new Int32Array(1024);
  cause = new Int32Array(1024);
  t = new Float64Array(1024);
  inIf = new Int32Array(1024);
  inQ = new Int32Array(1024);
  armed = new Uint8Array(1024);
  verdict = new Uint8Array(1024);
  shimReason = new Uint16Array(1024);
  slot = new Int32Array(1024);
  xskRx = new Uint8Array(1024);
  txq = new Uint8Array(1024);
  txEnq = new Float64Array(1024);
  txRing = new Float64Array(1024);
  txDone = new Float64Array(1024);
  out = new Uint8Array(1024);
  reason = new Uint16Array(1024);
  /** Sparse cold-path extras, only filled when sink.wantPath. */
  readonly extras: Array<PathExtras | undefined> = [];

  readonly outcomes = new Float64Array(5);
  readonly reasonCounts = new Float64Array(1024);
  /** Packets created by the model (not input). */
  created = 0;

  constructor(
    readonly sink: RunSink,
    readonly ifaceNames: readonly string[],
    readonly verdictNames: readonly string[],
  ) {}

  get wantPath(): boolean {
    return this.sink.wantPath;
  }

  /** A new packet id (ids are dense from 0, in creation order). */
  newPacket(origin: number, capIdx: number, cause: number, tNs: number, inIf: number, inQ: number): number {
    const id = this.count;
    if (id === this.origin.length) this.grow(id * 2);
    this.count = id + 1;
    this.origin[id] = origin;
    this.capIdx[id] = capIdx;
    this.cause[id] = cause;
    this.t[id] = tNs;
    this.inIf[id] = inIf;
    this.inQ[id] = inQ;
    this.armed[id] = 0;
    this.verdict[id] = 0;
    this.shimReason[id] = 0;
    this.slot[id] = -1;
    this.xskRx[id] = XR_NONE;
    this.txq[id] = TXQ_NONE;
    this.txEnq[id] = -1;
    this.txRing[id] = -1;
    this.txDone[id] = -1;
    this.out[id] = O_NONE;
    this.reason[id] = 0;
    if (origin !== ORIGIN_INPUT) this.created++;
    return id;
  }

  isFinal(id: number): boolean {
    return id >= 0 && id < this.count && this.out[id] !== O_NONE;
  }

  /** Terminal outcome; returns false (and changes nothing) when the packet already had one. */
  finish(id: number, outcome: number, reason: number): boolean {
    if (id < 0 || id >= this.count || this.out[id] !== O_NONE) return false;
    this.out[id] = outcome;
    this.reason[id] = outcome === O_FORWARDED ? 0 : reason;
    this.outcomes[outcome]!++;
    if (outcome !== O_FORWARDED) this.reasonCounts[reason & 1023]!++;
    if (this.sink.wantPath) {
      this.sink.path(this.build(id));
      this.extras[id] = undefined;
    }
    return true;
  }

  /** Cold path: the DESIGN §4.2 object, keys in the documented order. */
  build(id: number): PathRecord {
    const o = this.origin[id]!;
    const x = this.extras[id];
    const rec: PathRecord = {
      id,
      origin: ORIGIN_NAMES[o] ?? "input",
      i: o === ORIGIN_INPUT ? this.capIdx[id]! : null,
    } as PathRecord;
    if (o !== ORIGIN_INPUT) rec.cause = this.cause[id]!;
    rec.t = this.t[id]!;
    rec.in = { iface: this.ifaceNames[this.inIf[id]!] ?? String(this.inIf[id]), queue: this.inQ[id]! };
    rec.armed = this.armed[id] === 1;
    const sr = this.shimReason[id]!;
    rec.shim = { verdict: this.verdictNames[this.verdict[id]!] ?? "none", reason: sr === 0 ? null : reasonName(sr), slot: this.slot[id]! >= 0 ? this.slot[id]! : null };
    const xr = this.xskRx[id]!;
    if (xr !== XR_NONE) rec.xsk = { rx: XR_NAMES[xr] as Exclude<(typeof XR_NAMES)[number], ""> };
    if (x?.tuple) rec.tuple = x.tuple;
    if (x?.lookup) rec.lookup = x.lookup;
    if (x?.nat) rec.nat = x.nat;
    if (x?.fib) rec.fib = x.fib;
    const q = this.txq[id]!;
    if (q !== TXQ_NONE) {
      const ring = this.txRing[id]!;
      const done = this.txDone[id]!;
      rec.tx = { queue: TXQ_NAMES[q] as "local" | "prepared" | "inplace", enq: this.txEnq[id]!, ring: ring >= 0 ? ring : null, done: done >= 0 ? done : null };
    }
    const out = this.out[id]!;
    rec.out = OUTCOME_NAMES[out] ?? "in_flight";
    rec.reason = out === O_FORWARDED ? null : reasonName(this.reason[id]!);
    return rec;
  }

  setExtras(id: number, x: PathExtras): void {
    this.extras[id] = x;
  }

  private grow(n: number): void {
    const g = <T extends Uint8Array | Uint16Array | Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.origin = g(this.origin);
    this.capIdx = g(this.capIdx);
    this.cause = g(this.cause);
    this.t = g(this.t);
    this.inIf = g(this.inIf);
    this.inQ = g(this.inQ);
    this.armed = g(this.armed);
    this.verdict = g(this.verdict);
    this.shimReason = g(this.shimReason);
    this.slot = g(this.slot);
    this.xskRx = g(this.xskRx);
    this.txq = g(this.txq);
    this.txEnq = g(this.txEnq);
    this.txRing = g(this.txRing);
    this.txDone = g(this.txDone);
    this.out = g(this.out);
    this.reason = g(this.reason);
  }
}
