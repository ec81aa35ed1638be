// InputPackets: the model's view of its input traffic, columnar over one byte buffer.
// Built by sim/scenario/input.ts (captures) and sim/scenario/generator.ts (flows); the
// model only reads it. Every frame is Ethernet (VLAN tags kept).

export class InputPackets {
  count = 0;
  data: Uint8Array;
  off: Uint32Array;
  len: Uint32Array;
  origLen: Uint32Array;
  /** ns since the first packet (integers, non-decreasing). */
  tNs: Float64Array;
  /** ingress iface index */
  iface: Int32Array;
  /** RX queue (from the capture or the symmetric flow hash) */
  queue: Int32Array;
  /** record index in the capture (for "i" in path records); generated packets count from 0 */
  captureIndex: Int32Array;
  /** absolute time of the first packet (for output timestamps) */
  epochNs = 0n;

  private used = 0;

  constructor(capacityPackets = 64, capacityBytes = 64 * 1024) {
    const n = Math.max(1, capacityPackets);
    this.data = new Uint8Array(Math.max(64, capacityBytes));
    this.off = new Uint32Array(n);
    this.len = new Uint32Array(n);
    this.origLen = new Uint32Array(n);
    this.tNs = new Float64Array(n);
    this.iface = new Int32Array(n);
    this.queue = new Int32Array(n);
    this.captureIndex = new Int32Array(n);
  }

  /** Bytes used in `data`. */
  get bytesUsed(): number {
    return this.used;
  }

  /** A view of packet i's bytes (no copy). */
  frame(i: number): Uint8Array {
    const o = this.off[i]!;
    return this.data.subarray(o, o + this.len[i]!);
  }

  /**
   * Reserves `len` bytes for a new packet and returns its index; the caller writes the
   * frame at data[off[i] ..] and fills the other columns.
   */
  reserve(len: number): number {
    if (this.count === this.off.length) this.growPackets(this.count * 2);
    if (this.used + len > this.data.length) {
      let cap = this.data.length * 2;
      while (cap < this.used + len) cap *= 2;
      const d = new Uint8Array(cap);
      d.set(this.data.subarray(0, this.used));
      this.data = d;
    }
    const i = this.count++;
    this.off[i] = this.used;
    this.len[i] = len;
    this.origLen[i] = len;
    this.used += len;
    return i;
  }

  /** Appends a copy of `bytes` as a new packet; returns its index. */
  push(bytes: Uint8Array, tNs: number, iface: number, queue: number, captureIndex: number, origLen = bytes.length): number {
    const i = this.reserve(bytes.length);
    this.data.set(bytes, this.off[i]!);
    this.tNs[i] = tNs;
    this.iface[i] = iface;
    this.queue[i] = queue;
    this.captureIndex[i] = captureIndex;
    this.origLen[i] = origLen;
    return i;
  }

  private growPackets(n: number): void {
    const g32 = (a: Uint32Array): Uint32Array => {
      const b = new Uint32Array(n);
      b.set(a);
      return b;
    };
    const gi = (a: Int32Array): Int32Array => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.off = g32(this.off);
    this.len = g32(this.len);
    this.origLen = g32(this.origLen);
    const t = new Float64Array(n);
    t.set(this.tNs);
    this.tNs = t;
    this.iface = gi(this.iface);
    this.queue = gi(this.queue);
    this.captureIndex = gi(this.captureIndex);
  }
}
