// Neighbour table: the scenario's static neighbours, keyed by (egress iface, family, IP).
// Linux resolves next hops with ARP/NDP; the model has no ARP exchange — an entry becomes
// usable at its scenario time `atNs` (0 = from the start, later = a "cold neighbour"), and
// the neighbor_flush fault makes an interface's entries unusable until a given time.
// Open addressing over typed arrays; no allocation per lookup.

const EMPTY = -1;

export class NeighborTable {
  private readonly mask: number;
  private readonly slotIface: Int32Array;
  private readonly slotFamily: Uint8Array;
  private readonly slotKey: Uint32Array;
  private readonly slotEntry: Int32Array;
  /** Per entry (in scenario order). */
  readonly macs: Uint8Array;
  readonly resolveAtNs: Float64Array;
  readonly entryIface: Int32Array;
  readonly count: number;
  private readonly k = new Uint32Array(4);

  constructor(neighbors: readonly { family: number; ip: Uint8Array; mac: Uint8Array; iface: number; atNs: number }[]) {
    const n = neighbors.length;
    let cap = 16;
    while (cap < n * 2) cap *= 2;
    this.mask = cap - 1;
    this.slotIface = new Int32Array(cap).fill(EMPTY);
    this.slotFamily = new Uint8Array(cap);
    this.slotKey = new Uint32Array(cap * 4);
    this.slotEntry = new Int32Array(cap).fill(EMPTY);
    this.macs = new Uint8Array(n * 6);
    this.resolveAtNs = new Float64Array(n);
    this.entryIface = new Int32Array(n);
    this.count = n;
    for (let i = 0; i < n; i++) {
      const nb = neighbors[i]!;
      this.macs.set(nb.mac.subarray(0, 6), i * 6);
      this.resolveAtNs[i] = nb.atNs;
      this.entryIface[i] = nb.iface;
      // A later duplicate of the same (iface, ip) is ignored: the first definition wins.
      const slot = this.find(nb.iface, nb.family, nb.ip, 0);
      if (this.slotEntry[slot] !== EMPTY) continue;
      this.slotIface[slot] = nb.iface;
      this.slotFamily[slot] = nb.family;
      for (let w = 0; w < 4; w++) this.slotKey[slot * 4 + w] = this.k[w] as number;
      this.slotEntry[slot] = i;
    }
  }

  /** Entry index for (iface, family, ip at buf[off…]), usable or not; -1 when the scenario has none. */
  entry(iface: number, family: number, buf: Uint8Array, off: number): number {
    return this.slotEntry[this.find(iface, family, buf, off)] as number;
  }

  /** Entry index when the neighbour is resolved at nowNs, else -1. */
  resolved(iface: number, family: number, buf: Uint8Array, off: number, nowNs: number): number {
    const e = this.entry(iface, family, buf, off);
    if (e < 0 || (this.resolveAtNs[e] as number) > nowNs) return -1;
    return e;
  }

  /** neighbor_flush: every entry on `iface` is unusable until `untilNs` (its re-resolution time). */
  flush(iface: number, untilNs: number): void {
    for (let i = 0; i < this.count; i++) {
      if (this.entryIface[i] === iface && (this.resolveAtNs[i] as number) < untilNs) this.resolveAtNs[i] = untilNs;
    }
  }

  private find(iface: number, family: number, buf: Uint8Array, off: number): number {
    const k = this.k;
    const words = family === 4 ? 1 : 4;
    let h = Math.imul(iface + 1, 0x9e3779b1) ^ family;
    for (let w = 0; w < 4; w++) {
      let v = 0;
      if (w < words) {
        const o = off + w * 4;
        v = (((buf[o] as number) << 24) | ((buf[o + 1] as number) << 16) | ((buf[o + 2] as number) << 8) | (buf[o + 3] as number)) >>> 0;
      }
      k[w] = v;
      h = Math.imul(h ^ v, 0x85ebca6b);
      h ^= h >>> 13;
    }
    let slot = (h >>> 0) & this.mask;
    for (;;) {
      if (this.slotEntry[slot] === EMPTY) return slot;
      const b = slot * 4;
      if (
        this.slotIface[slot] === iface && this.slotFamily[slot] === family &&
        this.slotKey[b] === k[0] && this.slotKey[b + 1] === k[1] && this.slotKey[b + 2] === k[2] && this.slotKey[b + 3] === k[3]
      ) return slot;
      slot = (slot + 1) & this.mask;
    }
  }
}
