// Kernel-side semantics of one AF_XDP socket. Expected counter values are hand-derived
// from the kernel functions named in each test (net/xdp/xsk.c, xsk_queue.h,
// xsk_buff_pool.c of Linux 6.x), not from what the model printed.
import { describe, expect, it } from "vitest";
import { R } from "../../sim/reasons.js";
import {
  EAGAIN,
  EINVAL,
  XskSocket,
  bind,
  closeSocket,
  complete,
  kick,
  rcv,
  setLink,
  wakeRx,
  poll,
  POLLIN,
} from "../../sim/xsk/socket.js";
import type { XskConfig } from "../../sim/xsk/socket.js";
import { XDP_RING_NEED_WAKEUP, ringEntries } from "../../sim/xsk/ring.js";
import { XDP_ABORTED, XDP_DROP, XDP_PASS, XSK_OK, XskMap, isRedirectError } from "../../sim/xsk/xskmap.js";

const PKT = new Uint8Array(2048).map((_, i) => i & 0xff);

function mk(over: Partial<XskConfig> = {}, rings: Partial<XskConfig["rings"]> = {}): XskSocket {
  return new XskSocket({
    frames: 64,
    frameSize: 2048,
    headroom: 0,
    rings: { rx: 4, tx: 64, fill: 4, comp: 64, ...rings },
    ...over,
  });
}
function fill(s: XskSocket, frames: number[]): void {
  expect(s.userFill.reserve(frames.length)).toBe(frames.length);
  frames.forEach((f, i) => s.userFill.setAddr(s.userFill.idx + i, f * 2048));
  s.userFill.submit(frames.length);
}
function txDescs(s: XskSocket, descs: [number, number][]): void {
  expect(s.userTx.reserve(descs.length)).toBe(descs.length);
  descs.forEach(([a, l], i) => s.userTx.setDesc(s.userTx.idx + i, a, l, 0));
  s.userTx.submit(descs.length);
}
const stats = (s: XskSocket) => s.statistics();

describe("rcv (copy mode)", () => {
  it("__xsk_rcv: fill ring empty → rx_dropped and rx_fill_ring_empty_descs, reason fill_empty", () => {
    const s = mk();
    expect(bind(s, 2, 0)).toBe(0);
    expect(rcv(s, PKT, 0, 100, null, 0, 0)).toBe(R.fill_empty);
    expect(stats(s)).toEqual({ rx_dropped: 1, rx_invalid_descs: 0, tx_invalid_descs: 0, rx_ring_full: 0, rx_fill_ring_empty_descs: 1, tx_ring_empty_descs: 0 });
    expect(s.rxRing.producer).toBe(0);
  });

  it("xsk_rcv_check: len > chunk − headroom − 256 → −ENOSPC, rx_dropped only, no frame taken", () => {
    const s = mk({ headroom: 64 });
    bind(s, 2, 0);
    fill(s, [0, 1]);
    expect(rcv(s, PKT, 0, 2048 - 64 - 256 + 1, null, 0, 0)).toBe(R.frame_too_small);
    expect(stats(s).rx_dropped).toBe(1);
    expect(stats(s).rx_fill_ring_empty_descs).toBe(0);
    expect(s.fillRing.consumer).toBe(0);
    expect(rcv(s, PKT, 0, 2048 - 64 - 256, null, 0, 0)).toBe(0);
    // xp_get_handle (aligned): descriptor addr = chunk + headroom + XDP_PACKET_HEADROOM
    expect(s.lastRxAddr).toBe(0 + 64 + 256);
    expect(s.rxRing.addrAt(0)).toBe(320);
    expect(s.rxRing.lenAt(0)).toBe(2048 - 64 - 256);
  });

  it("__xsk_rcv_zc: RX ring full → rx_ring_full only; the frame goes to the pool free list and is used before the fill ring", () => {
    const s = mk({}, { rx: 2, fill: 4 });
    bind(s, 2, 0);
    fill(s, [5, 6, 7, 8]);
    expect(rcv(s, PKT, 0, 60, null, 0, 0)).toBe(0);
    expect(rcv(s, PKT, 0, 60, null, 0, 0)).toBe(0);
    expect(rcv(s, PKT, 0, 60, null, 0, 0)).toBe(R.rx_full); // took frame 7, gave it back
    expect(stats(s)).toEqual({ rx_dropped: 0, rx_invalid_descs: 0, tx_invalid_descs: 0, rx_ring_full: 1, rx_fill_ring_empty_descs: 0, tx_ring_empty_descs: 0 });
    expect(Array.from(s.kernelHeldAddrs())).toEqual([7 * 2048]);
    expect(rcv(s, PKT, 0, 60, null, 0, 0)).toBe(R.rx_full); // free list again, fill untouched
    expect(stats(s).rx_ring_full).toBe(2);
    expect(s.fillRing.consumer).toBe(3);
    expect(Array.from(ringEntries(s.fillRing))).toEqual([8 * 2048]);
    // userspace drains RX; the next packet lands in the free-list frame 7, then fill frame 8
    expect(s.userRx.peek(4)).toBe(2);
    expect([s.userRx.addrAt(s.userRx.idx), s.userRx.addrAt(s.userRx.idx + 1)]).toEqual([5 * 2048 + 256, 6 * 2048 + 256]);
    s.userRx.release(2);
    expect(rcv(s, PKT, 0, 60, null, 0, 0)).toBe(0);
    expect(s.lastRxAddr).toBe(7 * 2048 + 256);
    expect(rcv(s, PKT, 0, 60, null, 0, 0)).toBe(0);
    expect(s.lastRxAddr).toBe(8 * 2048 + 256);
    expect(s.kernelHeldFrames()).toBe(0);
  });

  it("copies the packet and puts the metadata block right in front of it", () => {
    const s = mk();
    bind(s, 2, 0);
    fill(s, [3]);
    const meta = new Uint8Array([9, 9, 1, 2, 3, 4]);
    expect(rcv(s, PKT, 10, 50, meta, 2, 4)).toBe(0);
    const a = 3 * 2048 + 256;
    expect(Array.from(s.umem.data.subarray(a - 4, a))).toEqual([1, 2, 3, 4]);
    expect(Array.from(s.umem.data.subarray(a, a + 50))).toEqual(Array.from(PKT.subarray(10, 60)));
  });

  it("xp_alloc: a fill address inside a chunk is masked to the chunk; one outside the UMEM is skipped", () => {
    const s = mk();
    bind(s, 2, 0);
    expect(s.userFill.reserve(2)).toBe(2);
    s.userFill.setAddr(s.userFill.idx, 64 * 2048); // outside the 64-frame UMEM
    s.userFill.setAddr(s.userFill.idx + 1, 2 * 2048 + 100);
    s.userFill.submit(2);
    expect(rcv(s, PKT, 0, 60, null, 0, 0)).toBe(0);
    expect(s.lastRxAddr).toBe(2 * 2048 + 256);
    expect(s.fillInvalidDescs).toBe(1);
  });

  it("xsk_rcv_check: an unbound socket → −ENXIO (redirect_err_unbound), no counter", () => {
    const s = mk();
    fill(s, [1]);
    expect(rcv(s, PKT, 0, 60, null, 0, 0)).toBe(R.redirect_err_unbound);
    expect(stats(s).rx_dropped).toBe(0);
  });
});

describe("kick (copy mode __xsk_generic_xmit)", () => {
  it("moves at most max_tx_budget (32) descriptors per sendto; the rest stay on the TX ring", () => {
    const s = mk();
    bind(s, 3, 0);
    txDescs(s, Array.from({ length: 40 }, (_, i) => [i * 2048, 60 + i] as [number, number]));
    expect(kick(s, 0)).toBe(-EAGAIN);
    expect(s.lastKickSent).toBe(32);
    expect(s.txOutCount).toBe(32);
    expect([s.txOutAddr[31], s.txOutLen[31]]).toEqual([31 * 2048, 91]);
    expect(s.txRing.level()).toBe(8);
    expect(stats(s).tx_ring_empty_descs).toBe(0);
    s.clearTxOut();
    expect(kick(s, 0)).toBe(0);
    expect(s.lastKickSent).toBe(8);
    expect(stats(s).tx_ring_empty_descs).toBe(1); // the loop ended on an empty ring
    expect(kick(s, 0)).toBe(0);
    expect(s.lastKickSent).toBe(0);
    expect(stats(s).tx_ring_empty_descs).toBe(2);
  });

  it("a full completion ring stops TX with the descriptors left on the TX ring", () => {
    const s = mk({}, { comp: 4, tx: 8 });
    bind(s, 3, 0);
    txDescs(s, [0, 1, 2, 3, 4, 5].map((f) => [f * 2048, 100] as [number, number]));
    expect(kick(s, 0)).toBe(-EAGAIN);
    expect(s.lastKickSent).toBe(4);
    expect(s.txRing.level()).toBe(2);
    // completions posted but not yet reaped: the ring is still full for the kernel
    complete(s, 0);
    complete(s, 2048);
    s.clearTxOut();
    expect(kick(s, 0)).toBe(-EAGAIN);
    expect(s.lastKickSent).toBe(0);
    expect(s.userComp.peek(8)).toBe(2);
    expect([s.userComp.addrAt(s.userComp.idx), s.userComp.addrAt(s.userComp.idx + 1)]).toEqual([0, 2048]);
    s.userComp.release(2);
    expect(kick(s, 0)).toBe(0);
    expect(s.lastKickSent).toBe(2);
    expect(s.txRing.level()).toBe(0);
  });

  it("an invalid descriptor counts tx_invalid_descs, ends the kick and is skipped", () => {
    const s = mk();
    bind(s, 3, 0);
    txDescs(s, [
      [0, 100],
      [2048, 0], // len 0: xp_aligned_validate_desc rejects
      [4096, 100],
    ]);
    expect(kick(s, 0)).toBe(0);
    expect(s.lastKickSent).toBe(1);
    expect(stats(s).tx_invalid_descs).toBe(1);
    expect(stats(s).tx_ring_empty_descs).toBe(0);
    expect(s.txRing.consumer).toBe(2);
    expect(kick(s, 0)).toBe(0);
    expect(s.lastKickSent).toBe(1);
    expect(s.txOutAddr[1]).toBe(4096);
    expect(stats(s).tx_ring_empty_descs).toBe(1);
  });

  it("a descriptor crossing its chunk is invalid (offset + len > chunk)", () => {
    const s = mk();
    bind(s, 3, 0);
    txDescs(s, [[2048 + 2000, 100]]);
    kick(s, 0);
    expect(stats(s).tx_invalid_descs).toBe(1);
    expect(s.lastKickSent).toBe(0);
  });

  it("copy mode keeps the TX ring's NEED_WAKEUP set; poll also drives TX", () => {
    const s = mk();
    bind(s, 3, 0);
    expect(s.userTx.needWakeup()).toBe(true);
    txDescs(s, [[0, 100]]);
    poll(s, 0);
    expect(s.lastKickSent).toBe(1);
    expect(s.userTx.needWakeup()).toBe(true);
  });
});

describe("bind and driver profiles", () => {
  it("a ring size that is not a power of two fails with EINVAL at setup; bind returns it", () => {
    const s = mk({}, { fill: 1000 });
    expect(s.setupErrno).toBe(-EINVAL);
    expect(s.setupErrors.join()).toMatch(/fill ring size 1000/);
    expect(bind(s, 2, 0)).toBe(-EINVAL);
    expect(s.isBound()).toBe(false);
  });

  it("zero-copy: empty fill at bind stalls RX until a wake RX; a TX kick does not wake it", () => {
    const s = mk({ driver: "zerocopy" });
    bind(s, 2, 0);
    expect(s.fillRing.flags & XDP_RING_NEED_WAKEUP).toBe(XDP_RING_NEED_WAKEUP);
    fill(s, [1, 2]);
    expect(rcv(s, PKT, 0, 60, null, 0, 0)).toBe(R.fill_empty);
    kick(s, 0);
    expect(rcv(s, PKT, 0, 60, null, 0, 0)).toBe(R.fill_empty);
    expect(s.rxNoBuffer).toBe(2);
    expect(stats(s).rx_dropped).toBe(0);
    wakeRx(s);
    expect(s.fillRing.flags & XDP_RING_NEED_WAKEUP).toBe(0);
    expect(rcv(s, PKT, 0, 60, null, 0, 0)).toBe(0);
    expect(s.lastRxAddr).toBe(2048 + 256);
  });

  it("copy mode: an empty fill ring at bind does not stall; frames filled later are used", () => {
    const s = mk({ driver: "veth" });
    bind(s, 2, 0);
    fill(s, [1]);
    expect(rcv(s, PKT, 0, 60, null, 0, 0)).toBe(0);
  });

  it("link cycle: copy mode keeps receiving; zero-copy socket is dead", () => {
    const c = mk({ driver: "generic" });
    bind(c, 2, 0);
    fill(c, [1]);
    setLink(c, false);
    setLink(c, true);
    expect(rcv(c, PKT, 0, 60, null, 0, 0)).toBe(0);
    expect(poll(c, 0) & POLLIN).toBe(POLLIN);
    const z = mk({ driver: "zerocopy" });
    fill(z, [1, 2]);
    bind(z, 2, 0);
    expect(rcv(z, PKT, 0, 60, null, 0, 0)).toBe(0);
    setLink(z, false);
    setLink(z, true);
    expect(rcv(z, PKT, 0, 60, null, 0, 0)).toBe(R.socket_dead);
  });
});

describe("XskMap (bpf_redirect_map + xsk_rcv_check)", () => {
  it("empty slot returns the flags' action; unknown flag bits abort", () => {
    const m = new XskMap(4);
    expect(m.redirect(1, 0, 2, 1)).toBe(XDP_ABORTED);
    expect(m.redirect(1, XDP_PASS, 2, 1)).toBe(XDP_PASS);
    expect(m.redirect(1, XDP_DROP, 2, 1)).toBe(XDP_DROP);
    expect(m.redirect(9, XDP_PASS, 2, 1)).toBe(XDP_PASS); // out of range = lookup miss
    expect(m.redirect(1, 8 | XDP_PASS, 2, 1)).toBe(XDP_ABORTED);
  });

  it("unbound socket → −ENXIO; other device or queue → −EINVAL; match → XSK_OK", () => {
    const m = new XskMap(4);
    const s = mk();
    m.set(1, s);
    expect(m.redirect(1, XDP_PASS, 2, 1)).toBe(R.redirect_err_unbound);
    expect(m.lastErrno).toBe(-6);
    expect(isRedirectError(R.redirect_err_unbound)).toBe(true);
    bind(s, 2, 0);
    expect(m.redirect(1, XDP_PASS, 2, 1)).toBe(R.redirect_err_wrong_queue);
    expect(m.redirect(1, XDP_PASS, 3, 0)).toBe(R.redirect_err_wrong_queue);
    expect(m.lastErrno).toBe(-22);
    expect(m.redirect(1, XDP_PASS, 2, 0)).toBe(XSK_OK);
    expect(m.target).toBe(s);
    expect(isRedirectError(XSK_OK)).toBe(false);
  });

  it("closing a socket removes it from every XSKMAP", () => {
    const m1 = new XskMap(4);
    const m2 = new XskMap(2);
    const s = mk();
    const other = mk();
    bind(s, 2, 0);
    m1.set(0, s);
    m1.set(3, s);
    m2.set(1, s);
    m1.set(1, other);
    closeSocket(s);
    expect([m1.get(0), m1.get(3), m2.get(1)]).toEqual([null, null, null]);
    expect(m1.get(1)).toBe(other);
    expect(m1.redirect(0, XDP_PASS, 2, 0)).toBe(XDP_PASS);
    expect(s.maps.length).toBe(0);
  });

  it("replacing a slot detaches the old socket from the map", () => {
    const m = new XskMap(2);
    const a = mk();
    const b = mk();
    m.set(0, a);
    m.set(0, b);
    closeSocket(a);
    expect(m.get(0)).toBe(b);
  });
});
