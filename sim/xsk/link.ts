// The egress device and wire of one interface: a FIFO serializer at `bps`. A frame starts
// when the wire is free, the link is not stalled and it is at the head of the queue; it
// occupies the wire for (max(len, 60) + 4 FCS + 8 preamble + 12 inter-frame gap) bytes,
// i.e. the standard Ethernet per-frame overhead, so 64-byte frames at 1 Gb/s give the
// textbook 1.488 Mpps. `len` is the frame as captured (no FCS). Durations are rounded to
// integer ns per frame (half up).
//
// When the frame has left (or was dropped because the link was down when its turn came)
// the skb is freed and the completion becomes due `completionDelayNs` later; completions
// stay in FIFO order (one TX queue frees its skbs in order). The simulation loop drains
// due completions with `popCompletion` and posts them with xsk `complete()`.
//
// Evaluation is lazy: nothing happens until `advance(now)`/`popCompletion(now)`, and
// state changes (`setUp`, `txStall`) first advance to their own time, so a stall only
// holds frames that had not started by then. All storage is typed arrays that grow by
// doubling; nothing is allocated per frame.

import { unrolled } from "../engine/grow.js";

export const ETH_MIN_FRAME = 60; // without FCS
export const ETH_WIRE_OVERHEAD = 4 + 8 + 12; // FCS + preamble/SFD + inter-frame gap

class Fifo {
  addr: Float64Array;
  tag: Int32Array;
  len: Uint32Array;
  t0: Float64Array; // queue: enqueue time;   completions: wire start
  t1: Float64Array; // queue: unused;         completions: wire end
  t2: Float64Array; // queue: unused;         completions: due time
  sent: Uint8Array;
  head = 0;
  count = 0;

  constructor(cap: number) {
    this.addr = new Float64Array(cap);
    this.tag = new Int32Array(cap);
    this.len = new Uint32Array(cap);
    this.t0 = new Float64Array(cap);
    this.t1 = new Float64Array(cap);
    this.t2 = new Float64Array(cap);
    this.sent = new Uint8Array(cap);
  }

  get cap(): number {
    return this.addr.length;
  }

  /** Index of a new tail slot (grows when full). */
  pushSlot(): number {
    if (this.count === this.cap) this.grow();
    const i = (this.head + this.count) % this.cap;
    this.count++;
    return i;
  }

  shift(): void {
    this.head = (this.head + 1) % this.cap;
    this.count--;
  }

  private grow(): void {
    const n = this.cap * 2;
    const h = this.head;
    const c = this.count;
    this.addr = unrolled(this.addr, h, c, n);
    this.tag = unrolled(this.tag, h, c, n);
    this.len = unrolled(this.len, h, c, n);
    this.t0 = unrolled(this.t0, h, c, n);
    this.t1 = unrolled(this.t1, h, c, n);
    this.t2 = unrolled(this.t2, h, c, n);
    this.sent = unrolled(this.sent, h, c, n);
    this.head = 0;
  }
}

export class Link {
  readonly bps: number;
  /** Extra time between the skb leaving and its completion being posted. */
  completionDelayNs = 0;
  up = true;
  /** The wire is busy until this time. */
  busyUntil = 0;
  /** Transmission is held until this time (fault `tx_stall`). */
  stallUntil = 0;
  /** Frames sent on the wire / dropped because the link was down. */
  framesSent = 0;
  framesDropped = 0;
  bytesSent = 0;

  private readonly q = new Fifo(256);
  private readonly c = new Fifo(256);
  private lastDue = 0;

  // Fields of the completion most recently popped.
  tag = 0;
  addr = 0;
  len = 0;
  /** 1 when the frame went on the wire, 0 when it was dropped (link down). */
  sent = 0;
  wireStart = 0;
  wireEnd = 0;
  due = 0;

  constructor(bps: number) {
    if (!(bps > 0) || !Number.isFinite(bps)) throw new RangeError(`link rate must be a positive number of bits/s, got ${bps}`);
    this.bps = bps;
  }

  /** Time a frame of `len` bytes (no FCS) occupies the wire, integer ns. */
  wireNs(len: number): number {
    const bytes = (len < ETH_MIN_FRAME ? ETH_MIN_FRAME : len) + ETH_WIRE_OVERHEAD;
    return Math.floor((bytes * 8 * 1e9) / this.bps + 0.5);
  }

  /** Frames waiting for the wire. */
  get queued(): number {
    return this.q.count;
  }

  /** Completions not yet popped (frames left or dropped, skb not yet reported). */
  get pendingCompletions(): number {
    return this.c.count;
  }

  /** The device takes a frame (tag/addr identify it for the caller). */
  enqueue(now: number, tag: number, addr: number, len: number): void {
    this.advance(now);
    const i = this.q.pushSlot();
    this.q.tag[i] = tag;
    this.q.addr[i] = addr;
    this.q.len[i] = len;
    this.q.t0[i] = now;
  }

  /** Holds transmission until `untilNs` (frames already on the wire finish). */
  txStall(now: number, untilNs: number): void {
    this.advance(now);
    if (untilNs > this.stallUntil) this.stallUntil = untilNs;
  }

  setUp(now: number, up: boolean): void {
    this.advance(now);
    this.up = up;
  }

  /** Start time of the head frame if nothing changes. */
  private headStart(): number {
    const i = this.q.head;
    let s = this.q.t0[i] as number;
    if (this.busyUntil > s) s = this.busyUntil;
    if (this.stallUntil > s) s = this.stallUntil;
    return s;
  }

  /** Moves every frame whose turn came at or before `now` onto the wire (or drops it). */
  advance(now: number): void {
    const q = this.q;
    while (q.count > 0) {
      const start = this.headStart();
      if (start > now) break;
      const i = q.head;
      const j = this.c.pushSlot();
      const len = q.len[i] as number;
      this.c.tag[j] = q.tag[i] as number;
      this.c.addr[j] = q.addr[i] as number;
      this.c.len[j] = len;
      let freedAt: number;
      if (this.up) {
        const end = start + this.wireNs(len);
        this.busyUntil = end;
        this.c.sent[j] = 1;
        this.c.t0[j] = start;
        this.c.t1[j] = end;
        freedAt = end;
        this.framesSent++;
        this.bytesSent += len;
      } else {
        this.c.sent[j] = 0;
        this.c.t0[j] = start;
        this.c.t1[j] = start;
        freedAt = start;
        this.framesDropped++;
      }
      let due = freedAt + this.completionDelayNs;
      if (due < this.lastDue) due = this.lastDue;
      this.lastDue = due;
      this.c.t2[j] = due;
      q.shift();
    }
  }

  /** Earliest time something happens (a frame starts, or a completion is due); +Infinity when idle. */
  nextTime(): number {
    let t = Infinity;
    if (this.c.count > 0) t = this.c.t2[this.c.head] as number;
    if (this.q.count > 0) {
      const s = this.headStart();
      if (s < t) t = s;
    }
    return t;
  }

  /**
   * Rewrites the tag of every frame the device holds (waiting for the wire or for its
   * completion): `fn` returns the new tag. Cold path (socket close).
   */
  retag(fn: (tag: number) => number): void {
    for (const f of [this.q, this.c]) {
      for (let k = 0; k < f.count; k++) {
        const i = (f.head + k) % f.cap;
        f.tag[i] = fn(f.tag[i] as number);
      }
    }
  }

  /** Pops one completion due at or before `now` into the fields above; false when none is due. */
  popCompletion(now: number): boolean {
    this.advance(now);
    const c = this.c;
    if (c.count === 0) return false;
    const i = c.head;
    const due = c.t2[i] as number;
    if (due > now) return false;
    this.tag = c.tag[i] as number;
    this.addr = c.addr[i] as number;
    this.len = c.len[i] as number;
    this.sent = c.sent[i] as number;
    this.wireStart = c.t0[i] as number;
    this.wireEnd = c.t1[i] as number;
    this.due = due;
    c.shift();
    return true;
  }
}
