/* SPDX-License-Identifier: BSD-2-Clause */
/* Internal state of the native worker and its dataplane (not part of the koffi ABI). */
#ifndef XL_WORKER_INT_H
#define XL_WORKER_INT_H

#include <stdint.h>
#include <stddef.h>
#include <xdp/xsk.h>
#include "xl_worker.h"

#define XL_DP_FORWARD 1
#define XL_DP_DROP 2
#define XL_DP_HOLD 3
#define XL_DP_KERNEL 4
#define XL_DP_ICMP_ERROR 5

#define XL_LK_NONE 0
#define XL_LK_NEW 4
#define XL_LK_DENIED 5

#define XL_GEN_BUF_SIZE 2048
#define XL_XDP_PACKET_HEADROOM 256

struct xl_addr { int family; uint8_t bytes[16]; int plen; };
struct xl_iface { uint8_t mac[6]; int mtu; int queues; int naddrs; struct xl_addr addrs[16]; };
struct xl_route { int family; uint8_t prefix[16]; int plen; double metric; int has_via; uint8_t via[16]; int iface; };
struct xl_neigh { int family; uint8_t ip[16]; uint8_t mac[6]; int iface; double resolve_at; };
struct xl_rule {
	int permit, proto, ingress, egress;
	int has_src; struct xl_addr src;
	int has_dst; struct xl_addr dst;
	int dport_lo, dport_hi; /* -1: none */
};

/* Results of the last xl_dp_process (fields of the TS Dataplane). */
struct xl_dp {
	int egress_if, new_len, reason, lookup_kind, nexthop_family, last_route;
	uint8_t nexthop[16];
	uint8_t gen_buf[XL_GEN_BUF_SIZE];
	int gen_len, gen_egress_if, gen_type, gen_code;
	double last_now, now_seen;
	int l4_proto, l4_off, l4_first, l4_end;
	int icmp_errors, default_permit;
	int nifaces; struct xl_iface *ifaces;
	int nroutes, cap_routes; struct xl_route *routes;
	int nneigh, cap_neigh; struct xl_neigh *neigh;
	int nrules, cap_rules; struct xl_rule *rules;
};

int xl_dp_process(struct xl_dp *dp, uint8_t *buf, int off, int len, int ingress, double now);
int xl_dp_neighbor_known(struct xl_dp *dp, int egress, const uint8_t *nexthop, int family, double now);
int xl_dp_complete_hold(struct xl_dp *dp, uint8_t *buf, int off, int egress, const uint8_t *nexthop, int family);
void xl_dp_flush_neighbors(struct xl_dp *dp, int iface, double until);

/* The subset of sim/packet/parse.ts decode() the worker reads (Ethernet link type). */
struct xl_view {
	int ip_version, src_off, dst_off, addr_len, ip_proto, src_port, dst_port, icmp_id;
};
int xl_decode_eth(struct xl_view *v, const uint8_t *buf, int off, int len);

#endif
