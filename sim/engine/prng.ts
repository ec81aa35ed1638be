// The model's only source of randomness: a seeded xoshiro128** generator. Pure 32-bit
// integer arithmetic (Math.imul, >>> 0), so the same seed gives the same stream on every
// machine and Node version. Seeds are expanded with splitmix32 so small or similar seeds
// (0, 1, 2…) still give unrelated streams. `fork(tag)` derives an independent stream for
// a sub-component without disturbing the parent's sequence order elsewhere.

function splitmix32(state: number): number {
  // Returns the next output; the caller advances state by 0x9e3779b9 itself.
  let z = state >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

export class Prng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`Prng seed must be a finite number, got ${seed}`);
    // Fold both halves of a seed up to 2^53 so seeds differing only above bit 31 differ.
    const lo = seed >>> 0;
    const hi = Math.floor(Math.abs(seed) / 4294967296) >>> 0;
    let st = (lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0;
    st = (st + 0x9e3779b9) >>> 0;
    this.s0 = splitmix32(st);
    st = (st + 0x9e3779b9) >>> 0;
    this.s1 = splitmix32(st);
    st = (st + 0x9e3779b9) >>> 0;
    this.s2 = splitmix32(st);
    st = (st + 0x9e3779b9) >>> 0;
    this.s3 = splitmix32(st);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** Uniform integer in [0, 2^32). */
  nextU32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const r1 = Math.imul(s1, 5);
    const rot = ((r1 << 7) | (r1 >>> 25)) >>> 0;
    const result = Math.imul(rot, 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    const n2 = (s2 ^ s0) >>> 0;
    const n3 = (s3 ^ s1) >>> 0;
    this.s1 = (s1 ^ n2) >>> 0;
    this.s0 = (s0 ^ n3) >>> 0;
    this.s2 = (n2 ^ t) >>> 0;
    this.s3 = ((n3 << 11) | (n3 >>> 21)) >>> 0;
    return result;
  }

  /** Uniform integer in [0, maxExclusive), unbiased (rejection sampling); maxExclusive ≤ 2^32. */
  nextInt(maxExclusive: number): number {
    if (!(maxExclusive >= 1) || maxExclusive > 4294967296 || !Number.isInteger(maxExclusive)) {
      throw new RangeError(`nextInt bound must be an integer in [1, 2^32], got ${maxExclusive}`);
    }
    if (maxExclusive === 4294967296) return this.nextU32();
    // Reject the top partial bucket so every residue is equally likely.
    const limit = 4294967296 - (4294967296 % maxExclusive);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % maxExclusive;
    }
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** An independent stream keyed by `tag`; advances this stream by one draw. */
  fork(tag: number): Prng {
    const a = this.nextU32();
    const b = this.nextU32();
    const t = tag >>> 0;
    // Mix the tag in so fork(1) and fork(2) taken at the same point differ.
    return new Prng((a ^ Math.imul(t, 0x85ebca6b)) + ((b ^ t) >>> 11) * 4294967296);
  }
}
