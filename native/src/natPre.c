/* SPDX-License-Identifier: BSD-2-Clause */
/* nat.pre hook (mirror of sim/dataplane/natPre.ts): maps NatEngine.pre onto the dataplane. */
#include "worker_int.h"
#include "nat.h"

int xl_nat_pre_hook(struct xl_dp *dp, uint8_t *buf, int ingress, int local_dst, double now)
{
	struct xl_nat *nat = &dp->nat;
	int rc = xl_nat_pre(nat, buf, ingress, local_dst, now);
	dp->lookup_kind = nat->lookup_kind;
	if (rc == XL_NAT_CONTINUE) return 0;
	dp->reason = nat->reason;
	return rc == XL_NAT_KERNEL ? XL_DP_KERNEL : XL_DP_DROP;
}
