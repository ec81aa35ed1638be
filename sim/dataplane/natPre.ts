// nat.pre hook (DESIGN §2): fragments, ICMP errors of NATed flows, the session lookup with
// the reverse translation of replies, and DNAT for new flows — before the FIB. The work
// is in nat.ts (NatEngine.pre); this maps its result onto the dataplane's.
import type { Dataplane } from "./dataplane.js";
import { NAT_CONTINUE, NAT_KERNEL } from "./nat.js";

/** 0 = continue to the FIB; otherwise a DP_* result with dp.reason set. */
export function natPre(dp: Dataplane, buf: Uint8Array, ingressIf: number, localDst: boolean, nowNs: number): number {
  const nat = dp.nat;
  const rc = nat.pre(buf, ingressIf, localDst, nowNs);
  dp.lookupKind = nat.lookupKind;
  if (rc === NAT_CONTINUE) return 0;
  dp.reason = nat.reason;
  return rc === NAT_KERNEL ? 4 /* DP_KERNEL */ : 2 /* DP_DROP */;
}
