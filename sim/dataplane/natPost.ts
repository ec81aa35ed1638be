// nat.post hook (DESIGN §2): source translation (keyed on the egress interface the FIB
// chose) and session install for new flows. Pass-through until the NAT issue fills it in.
import type { Dataplane } from "./dataplane.js";

/** 0 = continue to the rewrite; otherwise a DP_* result with dp.reason set. */
export function natPost(dp: Dataplane, buf: Uint8Array, off: number, len: number, egressIf: number, nowNs: number): number {
  void dp; void buf; void off; void len; void egressIf; void nowNs;
  return 0;
}
