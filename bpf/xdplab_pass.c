// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A do-nothing XDP program for the veth peer: attaching any XDP program to the peer
 * makes veth accept frames sent into it with XDP_TX or a devmap redirect (without one,
 * and without GRO, veth_xdp_xmit fails with -ENXIO). The fix side of the demonstration. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xdplab_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
