// BPF_MAP_TYPE_XSKMAP as the shim model sees it: slots holding sockets, and
// bpf_redirect_map's behaviour (include/linux/filter.h __bpf_xdp_redirect_map) plus the
// redirect-time checks of xsk_rcv_check (net/xdp/xsk.c) that need the packet's ingress
// device and queue. Sockets remember which maps hold them so close() removes them from
// every map (xsk_delete_from_maps).
//
// `redirect` returns one number, allocation-free:
//   XSK_OK (= XDP_REDIRECT, 4): deliver to `map.target` with rcv();
//   0..3: the slot was empty and this is the flags' action (XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX);
//   a reason code ≥ 50: the redirect failed (xdp:xdp_redirect_err) — R.redirect_err_unbound
//   (−ENXIO, not bound) or R.redirect_err_wrong_queue (−EINVAL, other device or queue).
// The ENOSPC (frame too small) check needs the length and is done by rcv().

import { R } from "../reasons.js";
import { XSK_BOUND } from "./socket.js";
import type { XskSocket } from "./socket.js";

export const XDP_ABORTED = 0;
export const XDP_DROP = 1;
export const XDP_PASS = 2;
export const XDP_TX = 3;
export const XDP_REDIRECT = 4;
export const XSK_OK = XDP_REDIRECT;

const ACTION_MASK = XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX;

/** True when a redirect() result is a redirect error (a reason code), not an action. */
export function isRedirectError(result: number): boolean {
  return result > XDP_REDIRECT;
}

export class XskMap {
  readonly size: number;
  private readonly slots: (XskSocket | null)[];
  /** The socket chosen by the last redirect() that returned XSK_OK (or failed with an error). */
  target: XskSocket | null = null;
  /** Negative errno of the last failed redirect (−ENXIO / −EINVAL), 0 otherwise. */
  lastErrno = 0;

  constructor(size: number) {
    if (!Number.isInteger(size) || size <= 0) throw new RangeError(`XSKMAP size must be a positive integer, got ${size}`);
    this.size = size;
    this.slots = new Array<XskSocket | null>(size).fill(null);
  }

  get(slot: number): XskSocket | null {
    return slot >= 0 && slot < this.size ? (this.slots[slot] ?? null) : null;
  }

  /** Map update/delete from userspace. Throws RangeError for an index out of range (-E2BIG in the kernel). */
  set(slot: number, sock: XskSocket | null): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.size) {
      throw new RangeError(`XSKMAP slot ${slot} out of range [0, ${this.size})`);
    }
    const old = this.slots[slot] ?? null;
    if (old === sock) return;
    this.slots[slot] = sock;
    if (old !== null && !this.slots.includes(old)) detach(old, this);
    if (sock !== null && !sock.maps.includes(this)) sock.maps.push(this);
  }

  /** Clears every slot holding `sock` (called by closeSocket). */
  remove(sock: XskSocket): void {
    for (let i = 0; i < this.size; i++) if (this.slots[i] === sock) this.slots[i] = null;
    detach(sock, this);
  }

  /** bpf_redirect_map(map, slot, flags) followed by xdp_do_redirect's socket checks. */
  redirect(slot: number, flags: number, ifindex: number, queue: number): number {
    this.target = null;
    this.lastErrno = 0;
    // Unknown flag bits make the helper abort before the lookup.
    if ((flags & ~ACTION_MASK) !== 0 || flags < 0) return XDP_ABORTED;
    const sock = slot >= 0 && slot < this.size ? (this.slots[slot] ?? null) : null;
    if (sock === null) return flags & ACTION_MASK;
    this.target = sock;
    if (sock.state !== XSK_BOUND) {
      this.lastErrno = -6; // ENXIO
      return R.redirect_err_unbound;
    }
    if (sock.boundIfindex !== ifindex || sock.boundQueue !== queue) {
      this.lastErrno = -22; // EINVAL
      return R.redirect_err_wrong_queue;
    }
    return XSK_OK;
  }
}

function detach(sock: XskSocket, map: XskMap): void {
  const i = sock.maps.indexOf(map);
  if (i >= 0) sock.maps.splice(i, 1);
}
