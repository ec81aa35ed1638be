// RX queue of a frame when the input carries none: the symmetric flow hash of
// sim/packet/flowhash.ts modulo the interface's queue count (docs/scenario.md).
import { flowHashSymmetric } from "../packet/flowhash.js";
import { LINKTYPE_ETHERNET } from "../packet/linktypes.js";
import { PacketView, decode } from "../packet/view.js";

const view = new PacketView(); // one reusable decode result (no per-packet allocation)

export function rxQueueFor(buf: Uint8Array, off: number, len: number, queues: number): number {
  if (queues <= 1) return 0;
  decode(view, buf, off, len, LINKTYPE_ETHERNET);
  return flowHashSymmetric(buf, view) % queues;
}
