// The model's event queue: a binary min-heap ordered by (time, sequence) over parallel
// typed-array columns, so scheduling an event allocates nothing. The sequence number is
// assigned at push, which makes ties at the same virtual time pop in push order — the
// property that makes a run deterministic (or reserved earlier, for a sorted stream fed
// in one event at a time: reserveSeqs/pushSeq). Columns double when full (cold path).

import { grown } from "./grow.js";

export class EventQueue {
  private times: Float64Array;
  private seqs: Uint32Array;
  private kinds: Int32Array;
  private as: Int32Array;
  private bs: Int32Array;
  private n = 0;
  private nextSeq = 0;
  /** Fields of the event most recently popped. */
  time = 0;
  kind = 0;
  a = 0;
  b = 0;
  seq = 0;

  constructor(initialCapacity = 1024) {
    const cap = Math.max(4, initialCapacity | 0);
    this.times = new Float64Array(cap);
    this.seqs = new Uint32Array(cap);
    this.kinds = new Int32Array(cap);
    this.as = new Int32Array(cap);
    this.bs = new Int32Array(cap);
  }

  get size(): number {
    return this.n;
  }

  /** Earliest pending time, or +Infinity when empty. */
  peekTime(): number {
    return this.n === 0 ? Infinity : (this.times[0] as number);
  }

  /** Kind of the earliest pending event, or -1 when empty. */
  peekKind(): number {
    return this.n === 0 ? -1 : (this.kinds[0] as number);
  }

  clear(): void {
    this.n = 0;
  }

  push(time: number, kind: number, a: number, b: number): void {
    // Sequence numbers wrap at 2^32; a run never holds 2^32 events at once, and the
    // comparison below uses wrap-safe difference, so wrap is harmless.
    const seq = this.nextSeq;
    this.nextSeq = (seq + 1) >>> 0;
    this.pushSeq(time, kind, a, b, seq);
  }

  /**
   * Takes the next n sequence numbers without pushing anything; returns the first. With
   * pushSeq, a long, time-sorted stream of events (input arrivals) can be fed in one at a
   * time and still pop exactly where pushing them all at once would have put them,
   * while the heap stays small.
   */
  reserveSeqs(n: number): number {
    const base = this.nextSeq;
    this.nextSeq = (base + n) >>> 0;
    return base;
  }

  /** Pushes with a sequence number taken earlier by reserveSeqs (each used once). */
  pushSeq(time: number, kind: number, a: number, b: number, seq: number): void {
    if (this.n === this.times.length) this.grow();
    let i = this.n++;
    const times = this.times;
    const seqs = this.seqs;
    const kinds = this.kinds;
    const as = this.as;
    const bs = this.bs;
    // Sift up with a hole: move parents down until the slot for the new event is found.
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = times[p] as number;
      if (pt < time || (pt === time && ((((seqs[p] as number) - seq) | 0) < 0))) break;
      times[i] = pt;
      seqs[i] = seqs[p] as number;
      kinds[i] = kinds[p] as number;
      as[i] = as[p] as number;
      bs[i] = bs[p] as number;
      i = p;
    }
    times[i] = time;
    seqs[i] = seq;
    kinds[i] = kind;
    as[i] = a;
    bs[i] = b;
  }

  /** Removes the earliest event into `.time .kind .a .b .seq`; false when empty. */
  pop(): boolean {
    const n = this.n;
    if (n === 0) return false;
    const times = this.times;
    const seqs = this.seqs;
    const kinds = this.kinds;
    const as = this.as;
    const bs = this.bs;
    this.time = times[0] as number;
    this.seq = seqs[0] as number;
    this.kind = kinds[0] as number;
    this.a = as[0] as number;
    this.b = bs[0] as number;
    const last = n - 1;
    this.n = last;
    if (last === 0) return true;
    const t = times[last] as number;
    const s = seqs[last] as number;
    const k = kinds[last] as number;
    const va = as[last] as number;
    const vb = bs[last] as number;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= last) break;
      const r = l + 1;
      let c = l;
      if (r < last) {
        const lt = times[l] as number;
        const rt = times[r] as number;
        if (rt < lt || (rt === lt && ((((seqs[r] as number) - (seqs[l] as number)) | 0) < 0))) c = r;
      }
      const ct = times[c] as number;
      if (t < ct || (t === ct && (((s - (seqs[c] as number)) | 0) < 0))) break;
      times[i] = ct;
      seqs[i] = seqs[c] as number;
      kinds[i] = kinds[c] as number;
      as[i] = as[c] as number;
      bs[i] = bs[c] as number;
      i = c;
    }
    times[i] = t;
    seqs[i] = s;
    kinds[i] = k;
    as[i] = va;
    bs[i] = vb;
    return true;
  }

  private grow(): void {
    const cap = this.times.length * 2;
    this.times = grown(this.times, cap);
    this.seqs = grown(this.seqs, cap);
    this.kinds = grown(this.kinds, cap);
    this.as = grown(this.as, cap);
    this.bs = grown(this.bs, cap);
  }
}
