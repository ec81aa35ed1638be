// SPDX-License-Identifier: BSD-2-Clause
/* Prints the C layout of struct xdplab_meta (name offset size per line) and the ABI
 * constants, for test/bpf/abi.test.ts to compare with sim/xdp/abi.ts. */
#include <stdio.h>
#include <stddef.h>
#include "xdplab_abi.h"

#define F(name) printf("%s %zu %zu\n", #name, offsetof(struct xdplab_meta, name), sizeof(((struct xdplab_meta *)0)->name))

int main(void)
{
	printf("sizeof %zu\n", sizeof(struct xdplab_meta));
	printf("magic_value %u\n", (unsigned)XDPLAB_META_MAGIC);
	printf("version_value %u\n", (unsigned)XDPLAB_META_VERSION);
	F(magic);
	F(version);
	F(flags);
	F(ingress_ifindex);
	F(rx_queue);
	F(l3_off);
	F(l4_off);
	F(ip_version);
	F(ip_proto);
	F(shim_reason);
	F(config_gen);
	F(fib_gen);
	F(src_addr);
	F(dst_addr);
	F(src_port);
	F(dst_port);
	F(reserved);
	return 0;
}
