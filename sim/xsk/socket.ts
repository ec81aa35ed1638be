// One AF_XDP socket binding (ifindex, queue) and the kernel's side of it: the four rings,
// the UMEM, the buffer pool's free list, XDP_STATISTICS, and the kernel functions that act
// on them — receive (`rcv`, after __xsk_rcv / xsk_rcv_check in net/xdp/xsk.c), copy-mode
// transmit (`kick`, after __xsk_generic_xmit), completion (`complete`, after
// xsk_destruct_skb), wakeups (`wakeRx`, `poll`) and close (`closeSocket`).
//
// Userspace (the worker model or the native worker through koffi) uses the rings through
// `userFill/userRx/userTx/userComp` (libxdp semantics); the kernel uses its own cached
// views (`kFill/kRx/kTx/kComp`, xsk_queue.h semantics). Everything is preallocated at
// construction; the hot paths allocate nothing.
//
// Frames handed to the device by `kick` are listed in `txOutAddr/txOutLen[0..txOutCount)`;
// the simulation loop must read them (and copy the frame bytes out of the UMEM, as the
// kernel copied them into an skb inside sendto) before userspace runs again, then call
// `clearTxOut`. When the device frees the skb it calls `complete(sock, addr)`.

import { R } from "../reasons.js";
import { driverProfile } from "./driver.js";
import type { DriverName, DriverProfile } from "./driver.js";
import { KernelCons, KernelProd, Ring, RingCons, RingProd, RING_ADDR, RING_DESC, XDP_RING_NEED_WAKEUP, ringBytes } from "./ring.js";
import type { RingKind } from "./ring.js";
import { Umem } from "./umem.js";

// errno values (Linux, positive); functions return them negated as the kernel does.
export const ENXIO = 6;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EBUSY = 16;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ENETDOWN = 100;
export const ENOBUFS = 105;

/** Socket states (xs->state): READY after socket(), BOUND after bind(), UNBOUND after close or device loss. */
export const XSK_READY = 0;
export const XSK_BOUND = 1;
export const XSK_UNBOUND = 2;

/** Default of the kernel's max_tx_budget (TX_BATCH_SIZE in net/xdp/xsk.c). */
export const DEFAULT_TX_BUDGET = 32;
/** Fill entries a zero-copy driver pulls into its RX ring per refill (a NAPI budget). */
export const ZC_REFILL_BATCH = 64;

export const POLLIN = 0x1;
export const POLLOUT = 0x4;

export interface XskConfig {
  frames: number;
  frameSize: number;
  headroom: number;
  rings: { rx: number; tx: number; fill: number; comp: number };
  /** max_tx_budget (XDP_MAX_TX_SKB_BUDGET); default 32. */
  txBudget?: number;
  driver?: DriverName;
  /** XDP_USE_NEED_WAKEUP at bind; default true. */
  needWakeup?: boolean;
  /**
   * Where the UMEM and the rings live: called once with the socket's total size (see
   * xskLayout), returns that many bytes at an 8-byte-aligned (better: page-aligned)
   * offset. Default: a fresh zeroed Uint8Array. The native worker's adapter passes
   * memory C can address, so both sides work on the same bytes.
   */
  alloc?: (bytes: number) => Uint8Array;
}

/** Byte offsets of one socket's shared memory: UMEM first (page-aligned), then fill, completion, RX, TX. */
export interface XskLayout {
  umem: number;
  fill: number;
  comp: number;
  rx: number;
  tx: number;
  total: number;
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 0x80000000 && (n & (n - 1)) === 0;
}

/** The layout for cfg; a ring size the kernel would reject gets no space (its placeholder ring allocates its own). */
export function xskLayout(cfg: XskConfig): XskLayout {
  let o = cfg.frames * cfg.frameSize;
  const place = (size: number, kind: RingKind): number => {
    if (!isPow2(size)) return -1;
    const at = o;
    o += ringBytes(size, kind);
    o = (o + 63) & ~63;
    return at;
  };
  const fill = place(cfg.rings.fill, RING_ADDR);
  const comp = place(cfg.rings.comp, RING_ADDR);
  const rx = place(cfg.rings.rx, RING_DESC);
  const tx = place(cfg.rings.tx, RING_DESC);
  return { umem: 0, fill, comp, rx, tx, total: o };
}

function ringOrPlaceholder(size: number, kind: RingKind, mem: Uint8Array, at: number, what: string, errs: string[]): Ring {
  if (at < 0) {
    errs.push(`${what} ring size ${size} is not a power of two (setsockopt: EINVAL)`);
    return new Ring(1, kind);
  }
  return new Ring(size, kind, mem.subarray(at));
}

let nextSocketId = 1;

export class XskSocket {
  readonly id: number;
  readonly driver: DriverProfile;
  readonly umem: Umem;
  /** All of the socket's shared bytes (UMEM + rings), laid out as `layout` says. */
  readonly memory: Uint8Array;
  readonly layout: XskLayout;
  readonly fillRing: Ring;
  readonly rxRing: Ring;
  readonly txRing: Ring;
  readonly compRing: Ring;
  /** 0, or −EINVAL when a ring size failed setsockopt; bind() then fails with it. */
  readonly setupErrno: number;
  readonly setupErrors: readonly string[];

  state = XSK_READY;
  boundIfindex = -1;
  boundQueue = -1;
  /** The device is up (sendto/poll/recvfrom return −ENETDOWN otherwise). */
  devUp = true;
  /** Zero-copy driver lost this socket's queue state after a link cycle: bound, but receives nothing. */
  dead = false;
  readonly needWakeupEnabled: boolean;
  txBudget: number;

  // Userspace views (libxdp).
  readonly userFill: RingProd;
  readonly userRx: RingCons;
  readonly userTx: RingProd;
  readonly userComp: RingCons;
  // Kernel views (xsk_queue.h).
  readonly kFill: KernelCons;
  readonly kRx: KernelProd;
  readonly kTx: KernelCons;
  readonly kComp: KernelProd;

  /** Buffer pool free list (xp_free / xp_alloc): chunk base addresses, LIFO like the kernel's list_add/list_first_entry. */
  readonly freeList: Float64Array;
  freeListCount = 0;
  /** Zero-copy: chunk bases the driver pulled from the fill ring onto its RX ring, FIFO. */
  readonly driverHeld: Float64Array;
  driverHeldHead = 0;
  driverHeldCount = 0;
  /** Zero-copy: the driver ran out of buffers and waits for a wake (recvfrom/poll). */
  rxStalled = false;

  // XDP_STATISTICS, kernel names.
  rx_dropped = 0;
  rx_invalid_descs = 0;
  tx_invalid_descs = 0;
  rx_ring_full = 0;
  rx_fill_ring_empty_descs = 0;
  tx_ring_empty_descs = 0;
  // Model-level counters.
  /** Invalid fill-ring addresses skipped by xp_alloc (fq->invalid_descs; not exported by the kernel). */
  fillInvalidDescs = 0;
  rxDelivered = 0;
  /** Packets a stalled or dead zero-copy queue lost before XDP (the NIC's rx_missed, not rx_dropped). */
  rxNoBuffer = 0;
  txSent = 0;
  txCompleted = 0;
  kicks = 0;
  rxWakeups = 0;
  /** Completion slots reserved by kick and not yet posted (skbs in flight). */
  txInFlight = 0;

  /** UMEM address of the first data byte of the last successful rcv (the RX descriptor addr). */
  lastRxAddr = -1;
  /** Descriptors moved by the last kick. */
  lastKickSent = 0;
  /** errno (negative) of the last rcv failure, 0 after success. */
  lastErrno = 0;

  /** Frames handed to the device by kick/zero-copy TX and not yet taken by the simulation loop. */
  readonly txOutAddr: Float64Array;
  readonly txOutLen: Uint32Array;
  txOutCount = 0;

  /** XSKMAPs holding this socket (cold path; closing removes it from all). */
  readonly maps: { remove(sock: XskSocket): void }[] = [];

  constructor(cfg: XskConfig) {
    this.id = nextSocketId++;
    this.driver = driverProfile(cfg.driver ?? "veth");
    this.layout = xskLayout(cfg);
    this.memory = cfg.alloc !== undefined ? cfg.alloc(this.layout.total) : new Uint8Array(this.layout.total);
    const mem = this.memory;
    this.umem = new Umem(cfg.frames, cfg.frameSize, cfg.headroom, mem.subarray(0, cfg.frames * cfg.frameSize));
    const errs: string[] = [];
    const L = this.layout;
    this.fillRing = ringOrPlaceholder(cfg.rings.fill, RING_ADDR, mem, L.fill, "fill", errs);
    this.rxRing = ringOrPlaceholder(cfg.rings.rx, RING_DESC, mem, L.rx, "rx", errs);
    this.txRing = ringOrPlaceholder(cfg.rings.tx, RING_DESC, mem, L.tx, "tx", errs);
    this.compRing = ringOrPlaceholder(cfg.rings.comp, RING_ADDR, mem, L.comp, "completion", errs);
    this.setupErrors = errs;
    this.setupErrno = errs.length > 0 ? -EINVAL : 0;
    this.needWakeupEnabled = cfg.needWakeup ?? true;
    this.txBudget = cfg.txBudget ?? DEFAULT_TX_BUDGET;
    // setsockopt(XDP_TX_RING): "Tx needs to be explicitly woken up the first time".
    this.txRing.flags |= XDP_RING_NEED_WAKEUP;
    this.userFill = new RingProd(this.fillRing);
    this.userRx = new RingCons(this.rxRing);
    this.userTx = new RingProd(this.txRing);
    this.userComp = new RingCons(this.compRing);
    this.kFill = new KernelCons(this.fillRing);
    this.kRx = new KernelProd(this.rxRing);
    this.kTx = new KernelCons(this.txRing);
    this.kComp = new KernelProd(this.compRing);
    this.freeList = new Float64Array(cfg.frames);
    this.driverHeld = new Float64Array(cfg.frames);
    const outCap = Math.max(this.compRing.size, this.txRing.size);
    this.txOutAddr = new Float64Array(outCap);
    this.txOutLen = new Uint32Array(outCap);
  }

  isBound(): boolean {
    return this.state === XSK_BOUND;
  }

  /** XDP_STATISTICS as the kernel's getsockopt returns it (cold path). */
  statistics(): XdpStatistics {
    return {
      rx_dropped: this.rx_dropped,
      rx_invalid_descs: this.rx_invalid_descs,
      tx_invalid_descs: this.tx_invalid_descs,
      rx_ring_full: this.rx_ring_full,
      rx_fill_ring_empty_descs: this.rx_fill_ring_empty_descs,
      tx_ring_empty_descs: this.tx_ring_empty_descs,
    };
  }

  /** Frames the kernel holds outside the rings: pool free list plus (zero-copy) the driver's RX ring. */
  kernelHeldFrames(): number {
    return this.freeListCount + this.driverHeldCount;
  }

  /** Chunk bases held by the kernel pool (free list, then driver-held), for conservation recounts. Cold path. */
  kernelHeldAddrs(): Float64Array {
    const out = new Float64Array(this.freeListCount + this.driverHeldCount);
    for (let i = 0; i < this.freeListCount; i++) out[i] = this.freeList[i] as number;
    for (let i = 0; i < this.driverHeldCount; i++) {
      out[this.freeListCount + i] = this.driverHeld[(this.driverHeldHead + i) % this.driverHeld.length] as number;
    }
    return out;
  }

  clearTxOut(): void {
    this.txOutCount = 0;
  }
}

export interface XdpStatistics {
  rx_dropped: number;
  rx_invalid_descs: number;
  tx_invalid_descs: number;
  rx_ring_full: number;
  rx_fill_ring_empty_descs: number;
  tx_ring_empty_descs: number;
}

/**
 * bind(): 0 or −errno. Fails with the setsockopt error when a ring size was rejected,
 * −EBUSY when not in READY state. A zero-copy driver samples the fill ring here
 * (fillNeededAtBind): an empty fill ring leaves RX stalled until a wake.
 */
export function bind(sock: XskSocket, ifindex: number, queue: number): number {
  if (sock.setupErrno !== 0) return sock.setupErrno;
  if (sock.state !== XSK_READY) return -EBUSY;
  sock.boundIfindex = ifindex;
  sock.boundQueue = queue;
  sock.state = XSK_BOUND;
  sock.dead = false;
  if (!sock.driver.copyMode && sock.driver.fillNeededAtBind) zcRefill(sock);
  return 0;
}

/** close(): removes the socket from every XSKMAP and unbinds it (xsk_release). */
export function closeSocket(sock: XskSocket): void {
  while (sock.maps.length > 0) {
    const m = sock.maps[sock.maps.length - 1];
    if (m === undefined) break;
    m.remove(sock); // removes itself from sock.maps
    if (sock.maps[sock.maps.length - 1] === m) sock.maps.pop();
  }
  sock.state = XSK_UNBOUND;
}

/** Zero-copy driver pulls fill entries onto its RX ring; sets the fill ring's NEED_WAKEUP when it gets none. */
function zcRefill(sock: XskSocket): void {
  const kf = sock.kFill;
  const umem = sock.umem;
  const cap = sock.driverHeld.length;
  let want = ZC_REFILL_BATCH;
  if (sock.driverHeldCount + want > cap) want = cap - sock.driverHeldCount;
  let got = 0;
  const n = kf.nbEntries(want);
  for (let i = 0; i < n; i++) {
    const addr = kf.headAddr();
    kf.releaseOne();
    if (!umem.contains(addr)) {
      sock.fillInvalidDescs++;
      continue;
    }
    sock.driverHeld[(sock.driverHeldHead + sock.driverHeldCount) % cap] = umem.chunkBase(addr);
    sock.driverHeldCount++;
    got++;
  }
  kf.publish();
  if (got === 0 && sock.driverHeldCount === 0) {
    sock.rx_fill_ring_empty_descs++;
    sock.rxStalled = true;
    if (sock.needWakeupEnabled) sock.fillRing.flags |= XDP_RING_NEED_WAKEUP;
  } else {
    sock.rxStalled = false;
    if (sock.needWakeupEnabled) sock.fillRing.flags &= ~XDP_RING_NEED_WAKEUP;
  }
}

/**
 * xp_alloc for copy mode: the pool's free list first, then the fill ring (skipping invalid
 * addresses, counted in fq invalid_descs). Returns a chunk base or −1 with the fill ring's
 * queue_empty_descs (rx_fill_ring_empty_descs) counted.
 */
function poolAlloc(sock: XskSocket): number {
  if (sock.freeListCount > 0) {
    sock.freeListCount--;
    return sock.freeList[sock.freeListCount] as number;
  }
  const kf = sock.kFill;
  const umem = sock.umem;
  for (;;) {
    if (!kf.peekOne()) {
      sock.rx_fill_ring_empty_descs++;
      return -1;
    }
    const addr = kf.headAddr();
    kf.releaseOne();
    if (umem.contains(addr)) return umem.chunkBase(addr);
    sock.fillInvalidDescs++;
  }
}

function poolFree(sock: XskSocket, base: number): void {
  sock.freeList[sock.freeListCount++] = base;
}

/**
 * Kernel-side receive of one packet redirected to `sock` (xsk_rcv_check + __xsk_rcv +
 * xsk_flush). `src[off..off+len)` is the packet; `meta[metaOff..metaOff+metaLen)` the
 * metadata block the XDP program wrote in front of it (copied in front of the data).
 * Returns 0 or a reason code; counters move exactly as the kernel's:
 *  - not bound: −ENXIO, R.redirect_err_unbound, no counter;
 *  - len > frame room: −ENOSPC, rx_dropped, R.frame_too_small;
 *  - fill ring empty (and free list empty): −ENOMEM, rx_dropped and rx_fill_ring_empty_descs, R.fill_empty;
 *  - RX ring full: −ENOBUFS, rx_ring_full only, the frame back on the free list, R.rx_full.
 * The device/queue check lives in XskMap.redirect (it needs the packet's ingress).
 */
export function rcv(
  sock: XskSocket,
  src: Uint8Array,
  off: number,
  len: number,
  meta: Uint8Array | null,
  metaOff: number,
  metaLen: number,
): number {
  if (sock.state !== XSK_BOUND) {
    sock.lastErrno = -ENXIO;
    return R.redirect_err_unbound;
  }
  const umem = sock.umem;
  if (len > umem.rxFrameSize) {
    sock.rx_dropped++;
    sock.lastErrno = -ENOSPC;
    return R.frame_too_small;
  }
  const zc = !sock.driver.copyMode;
  if (zc && (sock.dead || sock.rxStalled)) {
    // The NIC had no posted buffer for this queue: lost before XDP ever saw it.
    sock.rxNoBuffer++;
    sock.lastErrno = -ENOMEM;
    return sock.dead ? R.socket_dead : R.fill_empty;
  }
  let base: number;
  if (zc) {
    if (sock.driverHeldCount === 0) zcRefill(sock);
    if (sock.driverHeldCount === 0) {
      sock.rxNoBuffer++;
      sock.lastErrno = -ENOMEM;
      return R.fill_empty;
    }
    base = sock.driverHeld[sock.driverHeldHead] as number;
    sock.driverHeldHead = (sock.driverHeldHead + 1) % sock.driverHeld.length;
    sock.driverHeldCount--;
  } else {
    base = poolAlloc(sock);
    if (base < 0) {
      sock.rx_dropped++;
      sock.kFill.publish(); // xsk_flush still runs
      sock.lastErrno = -ENOMEM;
      return R.fill_empty;
    }
  }
  const dataAddr = base + umem.rxDataOffset;
  const dst = umem.data;
  // Native copies: a JS byte loop costs ~1.4 ns/byte (measured: 93 ns for 64 bytes) where
  // set() over a short-lived view is ~40 ns at any frame size; below ~24 bytes the loop wins.
  if (meta !== null) {
    if (metaOff === 0 && metaLen === meta.length) dst.set(meta, dataAddr - metaLen);
    else dst.set(meta.subarray(metaOff, metaOff + metaLen), dataAddr - metaLen);
  }
  if (len <= 16) for (let i = 0; i < len; i++) dst[dataAddr + i] = src[off + i] as number;
  else dst.set(src.subarray(off, off + len), dataAddr);
  if (!sock.kRx.reserveDesc(dataAddr, len, 0)) {
    sock.rx_ring_full++;
    if (zc) {
      // xsk_buff_free in zero-copy returns the buffer to the pool, which the driver reuses first.
      sock.driverHeldHead = (sock.driverHeldHead - 1 + sock.driverHeld.length) % sock.driverHeld.length;
      sock.driverHeld[sock.driverHeldHead] = base;
      sock.driverHeldCount++;
    } else {
      poolFree(sock, base);
      sock.kFill.publish();
    }
    sock.lastErrno = -ENOBUFS;
    return R.rx_full;
  }
  // xsk_flush: publish RX producer and fill consumer.
  sock.kRx.submit();
  if (!zc) sock.kFill.publish();
  sock.rxDelivered++;
  sock.lastRxAddr = dataAddr;
  sock.lastErrno = 0;
  return 0;
}

/**
 * sendto() on the socket: __xsk_sendmsg + __xsk_generic_xmit. Returns 0 or −errno as the
 * syscall does; `sock.lastKickSent` is the number of descriptors handed to the device.
 * Per descriptor: budget check, reserve a completion slot (none free: stop, −EAGAIN, the
 * descriptor stays on the TX ring), validate (invalid: tx_invalid_descs, skipped; the
 * kernel's loop stops at it and releases it), hand to the device, release the TX entry.
 * A loop that ends on an empty TX ring counts tx_ring_empty_descs once (xskq_cons_read_desc).
 */
export function kick(sock: XskSocket, now: number): number {
  void now;
  sock.lastKickSent = 0;
  if (sock.state !== XSK_BOUND) return -ENXIO;
  if (!sock.devUp) return -ENETDOWN;
  sock.kicks++;
  // Copy mode: xsk_sendmsg only transmits when XDP_WAKEUP_TX is cached (always, after bind).
  return xmit(sock);
}

/** The xmit loop shared by sendto, poll and (zero-copy) the driver's own NAPI. */
function xmit(sock: XskSocket): number {
  const kt = sock.kTx;
  const kc = sock.kComp;
  const umem = sock.umem;
  let budget = sock.txBudget;
  let sent = 0;
  let err = 0;
  let stoppedEarly = false;
  for (;;) {
    if (!kt.peekOne()) {
      sock.tx_ring_empty_descs++;
      break;
    }
    const addr = kt.headAddr();
    const len = kt.headLen();
    const options = kt.headOptions();
    if (!umem.validTxDesc(addr, len, options)) {
      sock.tx_invalid_descs++;
      break; // peek fails on an invalid descriptor; released below
    }
    if (budget-- === 0) {
      err = -EAGAIN;
      stoppedEarly = true;
      break;
    }
    if (!kc.reserveOne()) {
      err = -EAGAIN;
      stoppedEarly = true;
      break;
    }
    const n = sock.txOutCount;
    sock.txOutAddr[n] = addr;
    sock.txOutLen[n] = len;
    sock.txOutCount = n + 1;
    sock.txInFlight++;
    sock.txSent++;
    kt.releaseOne();
    sent++;
  }
  if (!stoppedEarly && kt.hasDescs()) kt.releaseOne(); // skip the invalid descriptor
  if (sent > 0) kt.publish(); // __xsk_tx_release
  sock.lastKickSent = sent;
  return err;
}

/**
 * The device freed the skb of a transmitted (or dropped) frame: post its address on the
 * completion ring (xsk_destruct_skb → xsk_cq_submit_addr_locked). A completion does not
 * prove the frame left.
 */
export function complete(sock: XskSocket, addr: number): void {
  sock.kComp.writeAndSubmitAddr(addr);
  sock.txInFlight--;
  sock.txCompleted++;
}

/**
 * recvfrom(): "wake RX". Copy mode: nothing to do (0). Zero-copy with the fill ring's
 * NEED_WAKEUP set: the driver runs NAPI and refills from the fill ring.
 */
export function wakeRx(sock: XskSocket): number {
  if (sock.state !== XSK_BOUND) return -ENXIO;
  if (!sock.devUp) return -ENETDOWN;
  if (sock.driver.copyMode || sock.dead) return 0;
  sock.rxWakeups++;
  if (sock.rxStalled || (sock.fillRing.flags & XDP_RING_NEED_WAKEUP) !== 0) zcRefill(sock);
  return 0;
}

/** poll(): drives TX in copy mode (pollKicksTx), wakes RX and TX in zero-copy; returns POLLIN|POLLOUT bits. */
export function poll(sock: XskSocket, now: number): number {
  sock.lastKickSent = 0;
  if (sock.state !== XSK_BOUND || !sock.devUp) return 0;
  if (sock.driver.pollKicksTx) {
    sock.kicks++;
    xmit(sock);
  }
  if (!sock.driver.copyMode) wakeRx(sock);
  void now;
  let mask = 0;
  if (sock.rxRing.producer !== sock.rxRing.consumer) mask |= POLLIN;
  if (sock.txRing.level() <= sock.txRing.size / 2) mask |= POLLOUT; // xsk_tx_writeable
  return mask;
}

/**
 * The socket's device went down (up=false) or came back (up=true). Copy mode keeps the
 * binding; a zero-copy driver (linkCycleKillsSockets) loses the queue's socket state on
 * the way down: the socket stays bound but is dead until closed and re-created.
 */
export function setLink(sock: XskSocket, up: boolean): void {
  sock.devUp = up;
  if (!up && sock.driver.linkCycleKillsSockets && sock.state === XSK_BOUND) sock.dead = true;
}
