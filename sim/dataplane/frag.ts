// Fragment follow table (policy of docs/nat.md): the first fragment carries the ports and
// finds or creates the session; it records (family, proto, src, dst, IP ID) → (session,
// direction, generation) so later fragments of the same datagram follow it for FRAG_TIMEOUT_NS
// (Linux ipfrag_time, 30 s). Fixed capacity, open addressing, expired entries reused.
import { KEY_WORDS } from "./reverseIndex.js";

export const FRAG_TIMEOUT_NS = 30_000_000_000;

export class FragTable {
  private readonly mask: number;
  private readonly keys: Uint32Array;
  private readonly val: Int32Array;
  private readonly gen: Uint32Array;
  private readonly exp: Float64Array;
  /** Result of the last find(): session generation. */
  foundGen = 0;

  constructor(capacity: number) {
    let c = 16;
    while (c < capacity) c *= 2;
    this.mask = c - 1;
    this.keys = new Uint32Array(c * KEY_WORDS);
    this.val = new Int32Array(c).fill(-1);
    this.gen = new Uint32Array(c);
    this.exp = new Float64Array(c);
  }

  private hash(k: Uint32Array): number {
    let h = 0x811c9dc5;
    for (let j = 0; j < KEY_WORDS; j++) h = Math.imul(h ^ (k[j] as number), 0x01000193);
    return (h ^ (h >>> 15)) >>> 0;
  }

  private eq(i: number, k: Uint32Array): boolean {
    const b = i * KEY_WORDS;
    for (let j = 0; j < KEY_WORDS; j++) if (this.keys[b + j] !== k[j]) return false;
    return true;
  }

  /** sid*2+dir recorded for key k (and its generation in foundGen), or -1. */
  find(k: Uint32Array, nowNs: number): number {
    let i = this.hash(k) & this.mask;
    for (let n = 0; n <= this.mask; n++) {
      const v = this.val[i] as number;
      if (v === -1) return -1;
      if ((this.exp[i] as number) > nowNs && this.eq(i, k)) {
        this.foundGen = this.gen[i] as number;
        return v;
      }
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  /** Record (or refresh) key k → v. Returns false when every slot on the probe path is live. */
  record(k: Uint32Array, v: number, gen: number, nowNs: number): boolean {
    let i = this.hash(k) & this.mask;
    let reuse = -1;
    for (let n = 0; n <= this.mask; n++) {
      const cur = this.val[i] as number;
      if (cur === -1) break;
      const live = (this.exp[i] as number) > nowNs;
      if (live && this.eq(i, k)) {
        reuse = i;
        break;
      }
      if (!live && reuse < 0) reuse = i;
      i = (i + 1) & this.mask;
    }
    const s = reuse >= 0 ? reuse : (this.val[i] as number) === -1 ? i : -1;
    if (s < 0) return false;
    for (let j = 0; j < KEY_WORDS; j++) this.keys[s * KEY_WORDS + j] = k[j] as number;
    this.val[s] = v;
    this.gen[s] = gen;
    this.exp[s] = nowNs + FRAG_TIMEOUT_NS;
    return true;
  }
}
