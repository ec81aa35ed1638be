// FIB: longest-prefix match over the scenario's IPv4 and IPv6 routes (connected routes
// included by the loader). One open-addressing hash table per family keyed by
// (prefix length, masked prefix), probed from the longest prefix length present down to
// the shortest — data-oriented (typed arrays only), no allocation per lookup.
// Ties on the same prefix: lowest metric wins, then the earliest route in the list
// (what `ip route` does for equal-metric duplicates is to refuse the second; keeping the
// first is the same observable result).
import type { RouteCfg } from "../scenario/types.js";

const EMPTY = -1;

/** One family's table. Keys are 4 big-endian 32-bit words (IPv4 uses word 0). */
export class LpmTable {
  readonly bits: number;
  private readonly words: number;
  private mask = 0;
  private keyLen = new Int16Array(0);
  private keyW = new Uint32Array(0);
  private val = new Int32Array(0);
  private valMetric = new Float64Array(0);
  /** Distinct prefix lengths present, longest first. */
  private lens = new Int16Array(0);
  private nLens = 0;
  private readonly q = new Uint32Array(4);
  private readonly m = new Uint32Array(4);
  size = 0;

  constructor(bits: 32 | 128) {
    this.bits = bits;
    this.words = bits >>> 5;
  }

  /**
   * Build from (prefix bytes, length, metric) triples; `ids[i]` is what lookup returns.
   * Later entries with the same prefix replace earlier ones only with a strictly lower metric.
   */
  build(prefixes: readonly Uint8Array[], lens: readonly number[], metrics: readonly number[], ids: readonly number[]): void {
    const n = prefixes.length;
    let cap = 16;
    while (cap < n * 2) cap *= 2;
    this.mask = cap - 1;
    this.keyLen = new Int16Array(cap).fill(EMPTY);
    this.keyW = new Uint32Array(cap * 4);
    this.val = new Int32Array(cap).fill(EMPTY);
    this.valMetric = new Float64Array(cap);
    const present = new Uint8Array(this.bits + 1);
    this.size = 0;
    for (let i = 0; i < n; i++) {
      const len = lens[i] as number;
      this.loadMasked(prefixes[i] as Uint8Array, 0, len);
      const metric = metrics[i] as number;
      let slot = this.hash(len) & this.mask;
      for (;;) {
        const kl = this.keyLen[slot] as number;
        if (kl === EMPTY) {
          this.keyLen[slot] = len;
          for (let w = 0; w < 4; w++) this.keyW[slot * 4 + w] = this.m[w] as number;
          this.val[slot] = ids[i] as number;
          this.valMetric[slot] = metric;
          present[len] = 1;
          this.size++;
          break;
        }
        if (kl === len && this.sameKey(slot)) {
          if (metric < (this.valMetric[slot] as number)) {
            this.val[slot] = ids[i] as number;
            this.valMetric[slot] = metric;
          }
          break;
        }
        slot = (slot + 1) & this.mask;
      }
    }
    let count = 0;
    for (let l = 0; l <= this.bits; l++) if (present[l]) count++;
    this.lens = new Int16Array(count);
    this.nLens = 0;
    for (let l = this.bits; l >= 0; l--) if (present[l]) this.lens[this.nLens++] = l;
  }

  /** Longest-prefix match of the address at buf[off, off+bits/8); returns the id or -1. */
  lookup(buf: Uint8Array, off: number): number {
    const q = this.q;
    for (let w = 0; w < this.words; w++) {
      const o = off + w * 4;
      q[w] = (((buf[o] as number) << 24) | ((buf[o + 1] as number) << 16) | ((buf[o + 2] as number) << 8) | (buf[o + 3] as number)) >>> 0;
    }
    for (let w = this.words; w < 4; w++) q[w] = 0;
    const m = this.m;
    for (let i = 0; i < this.nLens; i++) {
      const len = this.lens[i] as number;
      for (let w = 0; w < 4; w++) {
        const bitsLeft = len - w * 32;
        const wordMask = bitsLeft >= 32 ? 0xffffffff : bitsLeft <= 0 ? 0 : (0xffffffff << (32 - bitsLeft)) >>> 0;
        m[w] = ((q[w] as number) & wordMask) >>> 0;
      }
      let slot = this.hash(len) & this.mask;
      for (;;) {
        const kl = this.keyLen[slot] as number;
        if (kl === EMPTY) break;
        if (kl === len && this.sameKey(slot)) return this.val[slot] as number;
        slot = (slot + 1) & this.mask;
      }
    }
    return -1;
  }

  private loadMasked(b: Uint8Array, off: number, len: number): void {
    const m = this.m;
    for (let w = 0; w < 4; w++) {
      let v = 0;
      if (w < this.words) {
        const o = off + w * 4;
        v = (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
      }
      const bitsLeft = len - w * 32;
      const wordMask = bitsLeft >= 32 ? 0xffffffff : bitsLeft <= 0 ? 0 : (0xffffffff << (32 - bitsLeft)) >>> 0;
      m[w] = (v & wordMask) >>> 0;
    }
  }

  private sameKey(slot: number): boolean {
    const b = slot * 4;
    const k = this.keyW;
    const m = this.m;
    return k[b] === m[0] && k[b + 1] === m[1] && k[b + 2] === m[2] && k[b + 3] === m[3];
  }

  /** Hash of the masked key in `m` and the length (multiply-xorshift per word). */
  private hash(len: number): number {
    let h = Math.imul(len + 1, 0x9e3779b1);
    const m = this.m;
    for (let w = 0; w < this.words; w++) {
      h = Math.imul(h ^ (m[w] as number), 0x85ebca6b);
      h ^= h >>> 13;
    }
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }
}

/** The FIB of one scenario: ids are indices into `routes`. */
export class Fib {
  readonly v4 = new LpmTable(32);
  readonly v6 = new LpmTable(128);

  constructor(readonly routes: readonly RouteCfg[]) {
    const p4: Uint8Array[] = [], l4: number[] = [], m4: number[] = [], i4: number[] = [];
    const p6: Uint8Array[] = [], l6: number[] = [], m6: number[] = [], i6: number[] = [];
    routes.forEach((r, i) => {
      if (r.family === 4) { p4.push(r.prefix); l4.push(r.prefixLen); m4.push(r.metric); i4.push(i); }
      else { p6.push(r.prefix); l6.push(r.prefixLen); m6.push(r.metric); i6.push(i); }
    });
    this.v4.build(p4, l4, m4, i4);
    this.v6.build(p6, l6, m6, i6);
  }

  /** Route index for the address at buf[off…] of the given family, or -1. */
  lookup(family: number, buf: Uint8Array, off: number): number {
    return family === 4 ? this.v4.lookup(buf, off) : this.v6.lookup(buf, off);
  }
}
