// The AF_XDP ring as both sides see it. `Ring` is the shared memory (producer, consumer,
// flags, descriptor array); `RingProd`/`RingCons` are userspace's view with libxdp's
// cached indices (<xdp/xsk.h>); `KernelProd`/`KernelCons` are the kernel's view with the
// semantics of net/xdp/xsk_queue.h. Indices are free-running u32 (they wrap at 2^32 and
// are masked on access), exactly as in the kernel, so wrap bugs are reproducible.
//
// Fill and completion rings use `addr` only; RX and TX rings use addr/len/options
// (struct xdp_desc). All methods are allocation-free: this is the model's hot path.

export const XDP_RING_NEED_WAKEUP = 1;

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 0x80000000 && (n & (n - 1)) === 0;
}

export class Ring {
  readonly size: number;
  readonly mask: number;
  /** Published producer index (u32, free-running). */
  producer = 0;
  /** Published consumer index (u32, free-running). */
  consumer = 0;
  flags = 0;
  readonly addr: Float64Array;
  readonly len: Uint32Array;
  readonly options: Uint32Array;

  /** Throws RangeError unless size is a power of two (the kernel's setsockopt says EINVAL). */
  constructor(size: number) {
    if (!isPow2(size)) throw new RangeError(`ring size must be a power of two, got ${size}`);
    this.size = size;
    this.mask = size - 1;
    this.addr = new Float64Array(size);
    this.len = new Uint32Array(size);
    this.options = new Uint32Array(size);
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
  for (let i = 0; i < n; i++) out[i] = ring.addr[(ring.consumer + i) & ring.mask] as number;
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
    this.ring.addr[idx & this.ring.mask] = addr;
  }

  setDesc(idx: number, addr: number, len: number, options: number): void {
    const i = idx & this.ring.mask;
    this.ring.addr[i] = addr;
    this.ring.len[i] = len;
    this.ring.options[i] = options;
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
    return this.ring.addr[idx & this.ring.mask] as number;
  }
  lenAt(idx: number): number {
    return this.ring.len[idx & this.ring.mask] as number;
  }
  optionsAt(idx: number): number {
    return this.ring.options[idx & this.ring.mask] as number;
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
    const i = this.cachedProd & this.ring.mask;
    this.ring.addr[i] = addr;
    this.ring.len[i] = len;
    this.ring.options[i] = options;
    this.cachedProd = (this.cachedProd + 1) >>> 0;
    return true;
  }

  /** xskq_prod_reserve_addr. */
  reserveAddr(addr: number): boolean {
    if (this.isFull()) return false;
    this.ring.addr[this.cachedProd & this.ring.mask] = addr;
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
    this.ring.addr[this.ring.producer & this.ring.mask] = addr;
    this.ring.producer = (this.ring.producer + 1) >>> 0;
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
    return this.ring.addr[this.cachedCons & this.ring.mask] as number;
  }
  headLen(): number {
    return this.ring.len[this.cachedCons & this.ring.mask] as number;
  }
  headOptions(): number {
    return this.ring.options[this.cachedCons & this.ring.mask] as number;
  }
}
