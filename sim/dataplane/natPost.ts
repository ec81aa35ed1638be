// nat.post hook (DESIGN §2): after the FIB, TTL, MTU and policy — source translation of
// session hits, and for new flows the validity check, the SNAT tuple choice (keyed on the
// egress interface the FIB chose) and the session install. Work in nat.ts (NatEngine.post).
import type { Dataplane } from "./dataplane.js";
import { NAT_CONTINUE } from "./nat.js";

/** 0 = continue to the rewrite; otherwise a DP_* result with dp.reason set. */
export function natPost(dp: Dataplane, buf: Uint8Array, egressIf: number, family: number, nowNs: number): number {
  const nat = dp.nat;
  const ready = nat.bSessionAfterNeigh ? dp.neigh.resolved(egressIf, family, dp.nexthop, 0, nowNs) >= 0 : true;
  const rc = nat.post(buf, egressIf, dp.isLocalKey, ready, nowNs);
  if (rc === NAT_CONTINUE) return 0;
  dp.reason = nat.reason;
  return 2; /* DP_DROP */
}
