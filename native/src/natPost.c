/* SPDX-License-Identifier: BSD-2-Clause */
/* nat.post hook (mirror of sim/dataplane/natPost.ts): source side, validity, SNAT, install. */
#include "worker_int.h"
#include "nat.h"

int xl_nat_post_hook(struct xl_dp *dp, uint8_t *buf, int egress, int family, double now)
{
	struct xl_nat *nat = &dp->nat;
	int ready = nat->b_session_after_neigh ? xl_dp_neighbor_resolved(dp, egress, family, dp->nexthop, now) : 1;
	int rc = xl_nat_post(nat, dp, buf, egress, ready, now);
	if (rc == XL_NAT_CONTINUE) return 0;
	dp->reason = nat->reason;
	return XL_DP_DROP;
}
