/* SPDX-License-Identifier: BSD-2-Clause */
/* Internal state of the native worker and its dataplane (not part of the koffi ABI). */
#ifndef XL_WORKER_INT_H
#define XL_WORKER_INT_H

#include <stdint.h>
#include <stddef.h>
#include <xdp/xsk.h>
#include "xl_worker.h"
#include "nat.h"

#define XL_DP_FORWARD 1
#define XL_DP_DROP 2
#define XL_DP_HOLD 3
#define XL_DP_KERNEL 4
#define XL_DP_ICMP_ERROR 5

#define XL_LK_NONE 0
#define XL_LK_SESSION_HIT 1
#define XL_LK_NAT_REVERSE_HIT 3
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
	int l4_proto, l4_off, l4_first, l4_end, is_frag, more_frags;
	uint32_t frag_id;
	int icmp_errors, default_permit, ignore_mtu, reply_miss_to_kernel;
	struct xl_nat nat;
	int nifaces; struct xl_iface *ifaces;
	int nroutes, cap_routes; struct xl_route *routes;
	int nneigh, cap_neigh; struct xl_neigh *neigh;
	int nrules, cap_rules; struct xl_rule *rules;
};

int xl_dp_process(struct xl_dp *dp, uint8_t *buf, int off, int len, int ingress, double now);
int xl_dp_neighbor_known(struct xl_dp *dp, int egress, const uint8_t *nexthop, int family, double now);
int xl_dp_complete_hold(struct xl_dp *dp, uint8_t *buf, int off, int egress, const uint8_t *nexthop, int family);
void xl_dp_flush_neighbors(struct xl_dp *dp, int iface, double until);
int xl_dp_neighbor_resolved(struct xl_dp *dp, int egress, int family, const uint8_t *nexthop, double now);
/* Is the address in key words k[0..4) one of the router's (Dataplane.isLocalKey)? */
int xl_dp_is_local_key(struct xl_dp *dp, int family, const uint32_t *k);
/* NAT configuration and teardown (dataplane.c). */
int xl_dp_nat_init(struct xl_dp *dp, double seed, int generic, uint32_t bugs, int sessions);
void xl_dp_nat_addrs(struct xl_dp *dp);
void xl_dp_nat_free(struct xl_dp *dp);

/* The subset of sim/packet/parse.ts decode() the worker reads (Ethernet link type). */
struct xl_view {
	int ip_version, src_off, dst_off, addr_len, ip_proto, src_port, dst_port, icmp_id;
};
int xl_decode_eth(struct xl_view *v, const uint8_t *buf, int off, int len);

struct xl_live;

struct xl_bind {
	int32_t *frame_id, *free_tx, *pending_fill, *prep_frame, *prep_len;
	int32_t *s;     /* XL_B_* scalars */
	double *times;  /* fill_starve_until */
	uint32_t *cache; /* cached prod/cons of fill, rx, tx, comp */
	uint8_t *umem;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons rx, comp;
};

struct xl_worker {
	int nb, nifaces, frames, frame_size, headroom, rx_data_off;
	int batch, max_pending_tx, reap_every, tx_batch, copy_mode, want_path;
	uint32_t bugs;
	int held_max;
	double neigh_hold_ns, per_packet_ns;
	int max_queues;
	int32_t *binding_at;
	struct xl_bind *b;
	int32_t *ws;
	double *c;
	int local_cap;
	uint8_t *local_buf;
	int32_t *local_egress, *local_len, *local_id, *local_ref_b, *local_ref_f;
	int32_t *held_b, *held_f, *held_len, *held_id, *held_egress, *held_family;
	uint8_t *held_nexthop;
	double *held_deadline;
	struct xl_event *ev;
	int ev_cap;
	uint8_t *arena;
	int arena_cap;
	struct xl_dp dp;
	uint8_t *csum_partial_if; /* per ingress interface: traffic.csumPartial */
	int nat_ready;
	struct xl_view view;
	uint8_t tmp_nexthop[16];
	int is_ready;
	int live_mode;
	struct xl_event live_scratch;
	struct xl_live *live;
	/* Poll cycles (Worker.cycle): 64-bit so that idle polls accounted in bulk
	 * (xl_worker_skip_idle) keep the reap period's phase; XL_W_CYCLE mirrors its low bits. */
	int64_t cycle;
	/* xl_worker_next_expiry_low: a lower bound of expires[] over live rows, exact after a
	 * rescan (needed: expiry_rescan), lowered by every write since (sessions.write_low). */
	double expiry_low;
	int expiry_rescan;
};


int xl_do_poll_rx(struct xl_worker *w, double now);
int xl_do_poll_tx(struct xl_worker *w, double now);
int xl_submit_fill(struct xl_worker *w, struct xl_bind *bb);
/* live.c */
void xl_live_kick(struct xl_worker *w, int b);
/* Native-worker fault hooks (live only): nonzero while binding b's reaping is withheld. */
int xl_live_reap_held(struct xl_worker *w, int b);
void xl_live_teardown(struct xl_worker *w);

#define WS(w, k) ((w)->ws[XL_W_##k])
#define BS(bb, k) ((bb)->s[XL_B_##k])

#endif
