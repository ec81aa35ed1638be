// nat.pre hook (DESIGN §2): destination translation for new flows and the reverse
// translation of replies, before the FIB. Pass-through until the NAT issue fills it in.
import type { Dataplane } from "./dataplane.js";

/** 0 = continue to the FIB; otherwise a DP_* result with dp.reason set. */
export function natPre(dp: Dataplane, buf: Uint8Array, off: number, len: number, ingressIf: number, nowNs: number): number {
  void dp; void buf; void off; void len; void ingressIf; void nowNs;
  return 0;
}
