// The reverse-NAT index: open-addressing hash tables that map packed tuple keys to
// (session, kind) without storing the keys themselves — a slot holds the key's hash and
// `sid * 4 + kind`, and a candidate is confirmed against the session table's key columns.
// Kinds: forward wire key (the original tuple as it arrives from the initiator), reverse
// wire key (the translated reply tuple as it arrives from the responder) and reverse
// canonical key (the untranslated inverse of the original tuple, kept in its own table
// for the HA sync and for tests). Deletion is backward-shift (no tombstones), so removing
// a session leaves no slot that still names it.

/** Words of a packed key: src (4), dst (4), sport<<16|dport, family | proto<<8. */
export const KEY_WORDS = 10;
export const KIND_FWD = 0;
export const KIND_REV = 1;
export const KIND_CANON = 2;

/** Hash of the KEY_WORDS words at k[o…] (murmur3-style mixing; deterministic). */
export function hashKey(k: Uint32Array, o: number): number {
  let h = 0x9747b28c;
  for (let j = 0; j < KEY_WORDS; j++) {
    let w = Math.imul(k[o + j] as number, 0xcc9e2d51);
    w = (w << 15) | (w >>> 17);
    h ^= Math.imul(w, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Write the inverse of key a[ao…] (src↔dst, sport↔dport) to b[bo…]. */
export function invertKey(a: Uint32Array, ao: number, b: Uint32Array, bo: number): void {
  for (let j = 0; j < 4; j++) {
    const s = a[ao + j] as number;
    b[bo + j] = a[ao + 4 + j] as number;
    b[bo + 4 + j] = s;
  }
  const p = a[ao + 8] as number;
  const proto = ((a[ao + 9] as number) >>> 8) & 0xff;
  // ICMP keys carry the echo id in sport and 0 in dport for both directions.
  b[bo + 8] = proto === 1 || proto === 58 ? p : ((p << 16) | (p >>> 16)) >>> 0;
  b[bo + 9] = a[ao + 9] as number;
}

/**
 * One open-addressing table of (hash, value) pairs. `orig` and `reply` are the session
 * table's key columns; a value's key is read from them by kind.
 */
export class KeyIndex {
  readonly capacity: number;
  private readonly mask: number;
  readonly vals: Int32Array;
  private readonly hashes: Uint32Array;
  count = 0;

  constructor(entries: number, private readonly orig: Uint32Array, private readonly reply: Uint32Array) {
    let c = 16;
    while (c < entries * 2) c *= 2; // load ≤ 0.5
    this.capacity = c;
    this.mask = c - 1;
    this.vals = new Int32Array(c).fill(-1);
    this.hashes = new Uint32Array(c);
  }

  /** Does the entry's key equal k[o…]? */
  private eq(val: number, k: Uint32Array, o: number): boolean {
    const sid = val >>> 2;
    const kind = val & 3;
    const b = sid * KEY_WORDS;
    if (kind === KIND_FWD) {
      const a = this.orig;
      for (let j = 0; j < KEY_WORDS; j++) if (a[b + j] !== k[o + j]) return false;
      return true;
    }
    if (kind === KIND_REV) {
      const a = this.reply;
      for (let j = 0; j < KEY_WORDS; j++) if (a[b + j] !== k[o + j]) return false;
      return true;
    }
    // canonical: the inverse of the original key, compared without materialising it
    const a = this.orig;
    for (let j = 0; j < 4; j++) if (a[b + 4 + j] !== k[o + j] || a[b + j] !== k[o + 4 + j]) return false;
    if (a[b + 9] !== k[o + 9]) return false;
    const p = a[b + 8] as number;
    const proto = ((a[b + 9] as number) >>> 8) & 0xff;
    const inv = proto === 1 || proto === 58 ? p : ((p << 16) | (p >>> 16)) >>> 0;
    return inv === k[o + 8];
  }

  /** Value stored for key k[o…] (hash h), or -1. */
  find(k: Uint32Array, o: number, h: number): number {
    let i = h & this.mask;
    for (;;) {
      const v = this.vals[i] as number;
      if (v < 0) return -1;
      if (this.hashes[i] === h && this.eq(v, k, o)) return v;
      i = (i + 1) & this.mask;
    }
  }

  /** Insert; returns false (and changes nothing) when the key is present or the table is full. */
  insert(k: Uint32Array, o: number, h: number, val: number): boolean {
    if ((this.count + 1) * 2 > this.capacity) return false;
    let i = h & this.mask;
    for (;;) {
      const v = this.vals[i] as number;
      if (v < 0) break;
      if (this.hashes[i] === h && this.eq(v, k, o)) return false;
      i = (i + 1) & this.mask;
    }
    this.vals[i] = val;
    this.hashes[i] = h;
    this.count++;
    return true;
  }

  /** Insert or replace the value of an existing key (bug `reverseIndexOverwrite`). */
  put(k: Uint32Array, o: number, h: number, val: number): void {
    let i = h & this.mask;
    for (;;) {
      const v = this.vals[i] as number;
      if (v < 0) break;
      if (this.hashes[i] === h && this.eq(v, k, o)) {
        this.vals[i] = val;
        return;
      }
      i = (i + 1) & this.mask;
    }
    if ((this.count + 1) * 2 > this.capacity) return;
    this.vals[i] = val;
    this.hashes[i] = h;
    this.count++;
  }

  /** Remove the slot holding exactly `val` for key hash h (the key must still be readable). Returns whether it was there. */
  removeVal(h: number, val: number): boolean {
    let i = h & this.mask;
    for (;;) {
      const v = this.vals[i] as number;
      if (v < 0) return false;
      if (v === val && this.hashes[i] === h) break;
      i = (i + 1) & this.mask;
    }
    // backward-shift deletion: pull later members of the probe run into the hole
    let hole = i;
    let j = (i + 1) & this.mask;
    for (;;) {
      const v = this.vals[j] as number;
      if (v < 0) break;
      const home = (this.hashes[j] as number) & this.mask;
      // move j into hole when its home is not in (hole, j] cyclically
      const dist = (j - home) & this.mask;
      const gap = (j - hole) & this.mask;
      if (dist >= gap) {
        this.vals[hole] = v;
        this.hashes[hole] = this.hashes[j] as number;
        hole = j;
      }
      j = (j + 1) & this.mask;
    }
    this.vals[hole] = -1;
    this.count--;
    return true;
  }

  /** Every stored value, in slot order (tests, sync export). */
  values(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.capacity; i++) if ((this.vals[i] as number) >= 0) out.push(this.vals[i] as number);
    return out;
  }

  clear(): void {
    this.vals.fill(-1);
    this.count = 0;
  }
}
