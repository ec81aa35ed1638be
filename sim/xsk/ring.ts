// The AF_XDP ring as both sides see it. `Ring` is the shared memory (producer, consumer,
// flags, descriptor array); `RingProd`/`RingCons` are userspace's view with libxdp's
// cached indices (<xdp/xsk.h>); `KernelProd`/`KernelCons` are the kernel's view with the
// semantics of net/xdp/xsk_queue.h. Indices are free-running u32 (they wrap at 2^32 and
// are masked on access), exactly as in the kernel, so wrap bugs are reproducible.
//
// Storage has the kernel's binary layout so that C (the native worker, through koffi)
// can use libxdp's inline ring helpers on the very same bytes:
//   @0 u32 producer, @4 u32 consumer, @8 u32 flags, @12 u32 reserved, @16 descriptors
// (the kernel puts each index on its own cache line; libxdp only needs the pointers, so
// this packed header is the ring as libxdp sees it after xsk_mmap). Fill and completion
// rings hold u64 addresses (RING_ADDR); RX and TX rings hold struct xdp_desc
// {u64 addr; u32 len; u32 options} (RING_DESC). A u64 is stored as two little-endian u32
// words and read back as lo + hi·2^32, so any address below 2^53 round-trips.
// All methods are allocation-free: this is the model's hot path.

export const XDP_RING_NEED_WAKEUP = 1;

/** Entry kinds: fill/completion rings carry u64 addresses, RX/TX rings struct xdp_desc. */
export const RING_ADDR = 0;
export const RING_DESC = 1;
export type RingKind = typeof RING_ADDR | typeof RING_DESC;

/** Byte offsets of the shared header fields and of the descriptor array. */
export const RING_OFF_PRODUCER = 0;
export const RING_OFF_CONSUMER = 4;
export const RING_OFF_FLAGS = 8;
export const RING_OFF_DESC = 16;
/** sizeof(u64) and sizeof(struct xdp_desc). */
export const RING_ADDR_BYTES = 8;
export const RING_DESC_BYTES = 16;

const TWO32 = 4294967296;

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 0x80000000 && (n & (n - 1)) === 0;
}

/** Bytes a ring of `size` entries of `kind` occupies (header + descriptors), a multiple of 8. */
export function ringBytes(size: number, kind: RingKind): number {
  return RING_OFF_DESC + size * (kind === RING_ADDR ? RING_ADDR_BYTES : RING_DESC_BYTES);
}

export class Ring {
  readonly size: number;
  readonly mask: number;
  readonly kind: RingKind;
  /** The ring's bytes (header + descriptors), possibly a window of a larger shared buffer. */
  readonly bytes: Uint8Array;
  /** [producer, consumer, flags, reserved] */
  private readonly hdr: Uint32Array;
  /** Descriptor words: 2 per entry (RING_ADDR) or 4 (RING_DESC: addr lo, addr hi, len, options). */
  private readonly words: Uint32Array;
  private readonly shift: number;

  /**
   * Throws RangeError unless size is a power of two (the kernel's setsockopt says EINVAL).
   * `region`, when given, is the memory to use: at least ringBytes(size, kind) bytes at an
   * 8-byte-aligned offset; its current contents are kept (indices included). Otherwise
   * the ring allocates zeroed memory of its own.
   */
  constructor(size: number, kind: RingKind = RING_DESC, region?: Uint8Array) {
    if (!isPow2(size)) throw new RangeError(`ring size must be a power of two, got ${size}`);
    this.size = size;
    this.mask = size - 1;
    this.kind = kind;
    const n = ringBytes(size, kind);
    let bytes: Uint8Array;
    if (region === undefined) bytes = new Uint8Array(n);
    else {
      if (region.byteLength < n) throw new RangeError(`ring needs ${n} bytes, region has ${region.byteLength}`);
      if (region.byteOffset % 8 !== 0) throw new RangeError(`ring region offset ${region.byteOffset} is not 8-byte aligned`);
      bytes = region.subarray(0, n);
    }
    this.bytes = bytes;
    this.hdr = new Uint32Array(bytes.buffer, bytes.byteOffset, 4);
    this.shift = kind === RING_ADDR ? 1 : 2;
    this.words = new Uint32Array(bytes.buffer, bytes.byteOffset + RING_OFF_DESC, size << this.shift);
  }

  /** Published producer index (u32, free-running). */
  get producer(): number {
    return this.hdr[0] as number;
  }
  set producer(v: number) {
    this.hdr[0] = v;
  }
  /** Published consumer index (u32, free-running). */
  get consumer(): number {
    return this.hdr[1] as number;
  }
  set consumer(v: number) {
    this.hdr[1] = v;
  }
  get flags(): number {
    return this.hdr[2] as number;
  }
  set flags(v: number) {
    this.hdr[2] = v;
  }

  /** Address of the entry at free-running index idx (masked here). */
  addrAt(idx: number): number {
    const w = (idx & this.mask) << this.shift;
    return (this.words[w] as number) + (this.words[w + 1] as number) * TWO32;
  }
  /** struct xdp_desc.len at idx (0 on an address ring). */
  lenAt(idx: number): number {
    return this.kind === RING_DESC ? (this.words[((idx & this.mask) << 2) + 2] as number) : 0;
  }
  optionsAt(idx: number): number {
    return this.kind === RING_DESC ? (this.words[((idx & this.mask) << 2) + 3] as number) : 0;
  }
  setAddr(idx: number, addr: number): void {
    const w = (idx & this.mask) << this.shift;
    if (addr < TWO32 && addr >= 0) {
      this.words[w] = addr;
      this.words[w + 1] = 0;
    } else {
      this.words[w] = addr % TWO32;
      this.words[w + 1] = Math.floor(addr / TWO32);
    }
  }
  /** Writes a whole xdp_desc; on an address ring only the address. */
  setDesc(idx: number, addr: number, len: number, options: number): void {
    this.setAddr(idx, addr);
    if (this.kind === RING_DESC) {
      const w = (idx & this.mask) << 2;
      this.words[w + 2] = len;
      this.words[w + 3] = options;
    }
  }

  /** Entries published and not yet consumed (producer − consumer, u32 arithmetic). */
  level(): number {
    return (this.producer - this.consumer) >>> 0;
  }

  /** Test/setup helper: start both indices at `idx` (e.g. near 2^32 to exercise wrap). */
  resetIndices(idx: number): void {
    this.producer = idx >>> 0;
    this.consumer = idx >>> 0;
  }
}

/** The addresses currently on the ring (consumer..producer), oldest first. Cold path. */
export function ringEntries(ring: Ring): Float64Array {
  const n = ring.level();
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = ring.addrAt(ring.consumer + i);
  return out;
}

/** Userspace producer (fill, TX): xsk_ring_prod__reserve/submit. */
export class RingProd {
  readonly ring: Ring;
  cachedProd: number;
  /** Kept `size` ahead of the real consumer, as libxdp does, so free = cachedCons − cachedProd. */
  cachedCons: number;
  /** First index of the last successful reserve. */
  idx = 0;

  constructor(ring: Ring) {
    this.ring = ring;
    this.cachedProd = ring.producer;
    this.cachedCons = (ring.consumer + ring.size) >>> 0;
  }

  /** xsk_prod_nb_free: free entries, refreshing the cached consumer only when short of nb. */
  freeEntries(nb: number): number {
    const free = (this.cachedCons - this.cachedProd) >>> 0;
    if (free >= nb) return free;
    this.cachedCons = (this.ring.consumer + this.ring.size) >>> 0;
    return (this.cachedCons - this.cachedProd) >>> 0;
  }

  /** All-or-nothing, as libxdp: returns nb or 0; on success `idx` is the first slot. */
  reserve(nb: number): number {
    if (this.freeEntries(nb) < nb) return 0;
    this.idx = this.cachedProd;
    this.cachedProd = (this.cachedProd + nb) >>> 0;
    return nb;
  }

  /** Abandons the last nb reserved-but-unsubmitted slots (not in libxdp; the worker does it by hand). */
  cancel(nb: number): void {
    this.cachedProd = (this.cachedProd - nb) >>> 0;
  }

  /** xsk_ring_prod__submit: publishes nb more entries (adds to the shared producer, as libxdp does). */
  submit(nb: number): void {
    this.ring.producer = (this.ring.producer + nb) >>> 0;
  }

  setAddr(idx: number, addr: number): void {
    this.ring.setAddr(idx, addr);
  }

  setDesc(idx: number, addr: number, len: number, options: number): void {
    this.ring.setDesc(idx, addr, len, options);
  }

  needWakeup(): boolean {
    return (this.ring.flags & XDP_RING_NEED_WAKEUP) !== 0;
  }
}

/** Userspace consumer (RX, completion): xsk_ring_cons__peek/release/cancel. */
export class RingCons {
  readonly ring: Ring;
  cachedProd: number;
  cachedCons: number;
  /** First index of the last successful peek. */
  idx = 0;

  constructor(ring: Ring) {
    this.ring = ring;
    this.cachedProd = ring.producer;
    this.cachedCons = ring.consumer;
  }

  /** xsk_cons_nb_avail: refreshes the cached producer only when nothing is cached. */
  availEntries(nb: number): number {
    let entries = (this.cachedProd - this.cachedCons) >>> 0;
    if (entries === 0) {
      this.cachedProd = this.ring.producer;
      entries = (this.cachedProd - this.cachedCons) >>> 0;
    }
    return entries > nb ? nb : entries;
  }

  /** Up to nb entries; `idx` is the first. */
  peek(nb: number): number {
    const entries = this.availEntries(nb);
    if (entries > 0) {
      this.idx = this.cachedCons;
      this.cachedCons = (this.cachedCons + entries) >>> 0;
    }
    return entries;
  }

  /** Gives back the last nb peeked entries without consuming them. */
  cancel(nb: number): void {
    this.cachedCons = (this.cachedCons - nb) >>> 0;
  }

  /** xsk_ring_cons__release: adds nb to the shared consumer, as libxdp does. */
  release(nb: number): void {
    this.ring.consumer = (this.ring.consumer + nb) >>> 0;
  }

  addrAt(idx: number): number {
    return this.ring.addrAt(idx);
  }
  lenAt(idx: number): number {
    return this.ring.lenAt(idx);
  }
  optionsAt(idx: number): number {
    return this.ring.optionsAt(idx);
  }
}

/** Kernel producer (RX, completion): xskq_prod_* of xsk_queue.h. */
export class KernelProd {
  readonly ring: Ring;
  cachedProd: number;
  cachedCons: number;

  constructor(ring: Ring) {
    this.ring = ring;
    this.cachedProd = ring.producer;
    this.cachedCons = ring.consumer;
  }

  /** xskq_prod_nb_free. */
  nbFree(max: number): number {
    const size = this.ring.size;
    let free = size - ((this.cachedProd - this.cachedCons) >>> 0);
    if (free >= max) return max;
    this.cachedCons = this.ring.consumer;
    free = size - ((this.cachedProd - this.cachedCons) >>> 0);
    return free >= max ? max : free;
  }

  isFull(): boolean {
    return this.nbFree(1) === 0;
  }

  /** xskq_prod_reserve: claims one slot without writing it (completion ring, copy-mode TX). */
  reserveOne(): boolean {
    if (this.isFull()) return false;
    this.cachedProd = (this.cachedProd + 1) >>> 0;
    return true;
  }

  /** xskq_prod_cancel_n. */
  cancel(n: number): void {
    this.cachedProd = (this.cachedProd - n) >>> 0;
  }

  /** xskq_prod_reserve_desc: false (−ENOBUFS) when full. */
  reserveDesc(addr: number, len: number, options: number): boolean {
    if (this.isFull()) return false;
    this.ring.setDesc(this.cachedProd, addr, len, options);
    this.cachedProd = (this.cachedProd + 1) >>> 0;
    return true;
  }

  /** xskq_prod_reserve_addr. */
  reserveAddr(addr: number): boolean {
    if (this.isFull()) return false;
    this.ring.setAddr(this.cachedProd, addr);
    this.cachedProd = (this.cachedProd + 1) >>> 0;
    return true;
  }

  /** xskq_prod_submit: publishes everything reserved. */
  submit(): void {
    this.ring.producer = this.cachedProd;
  }

  /**
   * xsk_cq_submit_addr_locked for one address: writes at the published producer and
   * publishes it. Completions land in skb-free order, not reservation order.
   */
  writeAndSubmitAddr(addr: number): void {
    const p = this.ring.producer;
    this.ring.setAddr(p, addr);
    this.ring.producer = (p + 1) >>> 0;
  }
}

/** Kernel consumer (fill, TX): xskq_cons_* of xsk_queue.h. */
export class KernelCons {
  readonly ring: Ring;
  cachedProd: number;
  cachedCons: number;

  constructor(ring: Ring) {
    this.ring = ring;
    this.cachedProd = ring.producer;
    this.cachedCons = ring.consumer;
  }

  /** __xskq_cons_release: publishes the cached consumer. */
  publish(): void {
    this.ring.consumer = this.cachedCons;
  }

  /** xskq_cons_get_entries when nothing is cached: publish, then refresh the producer. */
  private refill(): void {
    if (this.cachedProd === this.cachedCons) {
      this.ring.consumer = this.cachedCons;
      this.cachedProd = this.ring.producer;
    }
  }

  /** True when an entry is available at cachedCons (read it with addrAt/lenAt). */
  peekOne(): boolean {
    this.refill();
    return this.cachedProd !== this.cachedCons;
  }

  /** xskq_cons_nb_entries. */
  nbEntries(max: number): number {
    let entries = (this.cachedProd - this.cachedCons) >>> 0;
    if (entries >= max) return max;
    this.cachedProd = this.ring.producer;
    entries = (this.cachedProd - this.cachedCons) >>> 0;
    return entries >= max ? max : entries;
  }

  hasDescs(): boolean {
    return this.cachedCons !== this.cachedProd;
  }

  /** xskq_cons_release: local only; published by publish() or the next refill. */
  releaseOne(): void {
    this.cachedCons = (this.cachedCons + 1) >>> 0;
  }

  cancel(n: number): void {
    this.cachedCons = (this.cachedCons - n) >>> 0;
  }

  headAddr(): number {
    return this.ring.addrAt(this.cachedCons);
  }
  headLen(): number {
    return this.ring.lenAt(this.cachedCons);
  }
  headOptions(): number {
    return this.ring.optionsAt(this.cachedCons);
  }
}
