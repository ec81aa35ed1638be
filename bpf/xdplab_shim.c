// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The xdplab XDP shim: one verdict per frame — redirect to the XSKMAP slot of the
 * frame's (ifindex, queue) binding, pass to the kernel, fallback, drop — with a reason
 * code counted per CPU and reported in a ring buffer event, and the metadata block
 * (xdplab_abi.h) written in front of a redirected frame. The order of checks is the
 * model's (sim/xdp/shim.ts): parse → not IP → control (armed, ABI, heartbeat) → local
 * destination (session map, or an ICMP error quoting a steered flow / DNAT) → binding (present, ready, strict) →
 * bpf_redirect_map(XDP_PASS). ctrl.tx_mode replaces all of it with XDP_TX or a devmap
 * redirect, for the veth "peer without XDP program" demonstration. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdplab_consts.h"
#include "xdplab_structs.h"
#include "xdplab_maps.h"
#include "xdplab_parse.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline void count(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&reason_counters, &slot);

	if (c)
		*c += 1;
}

/* FNV-1a over the first XDPLAB_PAYLOAD_HASH_LEN bytes of frame[off, end). A global
 * function: the verifier checks it once instead of once per parse path. */
__noinline int payload_hash(struct xdp_md *ctx, __u32 off, __u32 end)
{
	__u8 *data = (__u8 *)(long)ctx->data, *data_end = (__u8 *)(long)ctx->data_end;
	__u32 h = XDPLAB_FNV_BASIS, i;

	if (off > XDPLAB_MAX_HDR_OFF)
		return h;
	for (i = 0; i < XDPLAB_PAYLOAD_HASH_LEN; i++) {
		__u8 *b = data + off + i;

		if (off + i >= end || (void *)(b + 1) > (void *)data_end)
			break;
		h = (h ^ *b) * XDPLAB_FNV_PRIME;
	}
	return h;
}

/* What the event reports about the frame, taken before bpf_xdp_adjust_meta
 * invalidates the packet pointers. */
struct pkt_ident {
	__u32 payload_hash;
	__u32 len;
};

/* Counts the verdict's reason and reports the packet in the events ring buffer. */
static __always_inline void finish(struct xdp_md *ctx, const struct pkt_ident *id, const struct xdplab_view *v,
				   __u32 verdict, __u32 reason, __u32 flags, __u32 slot)
{
	struct xdplab_event *e;

	count(reason);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(XDPLAB_CNT_EVENT_LOST);
		return;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->ifindex = ctx->ingress_ifindex;
	e->queue = ctx->rx_queue_index;
	e->verdict = verdict;
	e->ip_version = v->ip_version;
	e->ip_proto = v->ip_version ? (__u8)v->ip_proto : 0;
	e->flags = flags;
	e->reason = reason;
	e->pkt_len = id->len;
	e->ip_id = v->ip_id;
	e->flow_label = v->flow_label;
	e->src_port = v->src_port >= 0 ? v->src_port : v->icmp_id >= 0 ? v->icmp_id : 0;
	e->dst_port = v->dst_port >= 0 ? v->dst_port : 0;
	e->tcp_seq = v->tcp_seq;
	e->payload_hash = id->payload_hash;
	e->slot = slot;
	bpf_ringbuf_submit(e, 0);
}

/* Copies n (4 or 16) address bytes at frame offset off into dst; the rest stays zero. */
static __always_inline int copy_addr(struct hdr_cursor *cur, __u32 off, __u32 n, __u8 *dst)
{
	__u8 *a;

	if (n == 16) {
		a = cur_bytes(cur, off, 16);
		if (!a)
			return -1;
		__builtin_memcpy(dst, a, 16);
	} else {
		a = cur_bytes(cur, off, 4);
		if (!a)
			return -1;
		__builtin_memcpy(dst, a, 4);
	}
	return 0;
}

static __always_inline int is_local(struct hdr_cursor *cur, const struct xdplab_view *v)
{
	struct xdplab_addr_key k = {};

	k.family = v->ip_version;
	if (copy_addr(cur, v->dst_off, v->addr_len, k.addr))
		return 0;
	return bpf_map_lookup_elem(&local_addrs, &k) || bpf_map_lookup_elem(&ifnat_addrs, &k);
}

static __always_inline int session_hit(struct hdr_cursor *cur, const struct xdplab_view *v, __u32 sport, __u32 dport)
{
	struct xdplab_session_key k = {};

	k.proto = v->ip_proto;
	if (copy_addr(cur, v->src_off, v->addr_len, k.src) || copy_addr(cur, v->dst_off, v->addr_len, k.dst))
		return 0;
	k.src_port = bpf_htons(sport);
	k.dst_port = bpf_htons(dport);
	return bpf_map_lookup_elem(&sessions, &k) != NULL;
}

/* An ICMP/ICMPv6 error whose quoted packet, source and destination swapped, is a
 * steering key: the error is about a packet the worker translated (traceroute through
 * SNAT), and the worker must see it to translate it back. A quoted echo keeps its id
 * as the source port (destination port 0), like the session keys. l4_off is the outer
 * ICMP header, which the parser has already found complete (8 bytes); the quote runs
 * from behind it to ip_end, the outer IP end. A global function: the verifier checks
 * this second header walk once, not once per outer parse path. */
__noinline int quote_steered(struct xdp_md *ctx, __u32 l4_off, __u32 ip_end, __u32 version)
{
	struct xdplab_session_key k = {};
	struct hdr_cursor cur;
	struct xdplab_view q;
	__u32 qs, qd;
	__u8 *h;

	if (version != 4 && version != 6)
		return 0;
	/* Arguments of a global function are unknown scalars to the verifier; this bound
	 * (and the mask the compiler cannot drop) makes the packet offsets below provable. */
	if (l4_off > XDPLAB_MAX_HDR_OFF)
		return 0;
	asm volatile("" : "+r"(l4_off));
	l4_off &= XDPLAB_MAX_HDR_OFF;
	cur.data = (void *)(long)ctx->data;
	cur.data_end = (void *)(long)ctx->data_end;
	cur.pos = 0;
	cur.end = ip_end;
	h = cur_bytes(&cur, l4_off, 8);
	if (!h || !icmp_is_error(version, h[0]))
		return 0;
	cur.pos = l4_off + 8;
	if (parse_quoted(&cur, &q, version))
		return 0;
	k.proto = q.ip_proto;
	if (copy_addr(&cur, q.dst_off, q.addr_len, k.src) || copy_addr(&cur, q.src_off, q.addr_len, k.dst))
		return 0;
	qs = q.src_port >= 0 ? q.src_port : q.icmp_id >= 0 ? q.icmp_id : 0;
	qd = q.dst_port >= 0 ? q.dst_port : 0;
	if (q.icmp_id >= 0) {
		k.src_port = bpf_htons(qs);
		k.dst_port = 0;
	} else {
		k.src_port = bpf_htons(qd);
		k.dst_port = bpf_htons(qs);
	}
	return bpf_map_lookup_elem(&sessions, &k) != NULL;
}

/* A DNAT rule for (ingress, proto or any, dst, dport or any). */
static __always_inline int dnat_matches(struct xdp_md *ctx, struct hdr_cursor *cur, const struct xdplab_view *v,
					__u32 dport)
{
	struct xdplab_dnat_key k = {};

	k.ifindex = ctx->ingress_ifindex;
	k.family = v->ip_version;
	if (copy_addr(cur, v->dst_off, v->addr_len, k.addr))
		return 0;
	k.proto = v->ip_proto;
	k.port = dport;
	if (bpf_map_lookup_elem(&dnat_rules, &k))
		return 1;
	k.port = XDPLAB_DNAT_ANY_PORT;
	if (bpf_map_lookup_elem(&dnat_rules, &k))
		return 1;
	k.proto = 0;
	k.port = dport;
	if (bpf_map_lookup_elem(&dnat_rules, &k))
		return 1;
	k.port = XDPLAB_DNAT_ANY_PORT;
	return bpf_map_lookup_elem(&dnat_rules, &k) != NULL;
}

static __always_inline void put16(__u8 *p, __u32 x)
{
	p[0] = x & 0xff;
	p[1] = (x >> 8) & 0xff;
}

static __always_inline void put32(__u8 *p, __u32 x)
{
	p[0] = x & 0xff;
	p[1] = (x >> 8) & 0xff;
	p[2] = (x >> 16) & 0xff;
	p[3] = (x >> 24) & 0xff;
}

/* Writes the metadata block in front of the frame. The addresses are read before
 * bpf_xdp_adjust_meta, which invalidates every packet pointer; cur is refreshed after. */
static __always_inline int write_meta(struct xdp_md *ctx, struct hdr_cursor *cur, const struct xdplab_view *v,
				      const struct xdplab_ctrl *c, __u32 flags, __u32 sport, __u32 dport)
{
	__u8 src[16] = {}, dst[16] = {};
	__u32 s = (c->bugs & XDPLAB_BUG_ABI_DRIFT) ? XDPLAB_DRIFT_SHIFT : 0;
	__u8 *m;
	void *data;

	if (copy_addr(cur, v->src_off, v->addr_len, src) || copy_addr(cur, v->dst_off, v->addr_len, dst))
		return -1;
	if (bpf_xdp_adjust_meta(ctx, -(int)XDPLAB_META_SIZE))
		return -1;
	m = (__u8 *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if ((void *)(m + XDPLAB_META_SIZE) > data)
		return -1;
	__builtin_memset(m, 0, XDPLAB_META_SIZE);
	put32(m + 0, XDPLAB_META_MAGIC);
	put16(m + 4, XDPLAB_META_VERSION);
	put16(m + 6, flags);
	put32(m + 8, ctx->ingress_ifindex);
	put32(m + 12, ctx->rx_queue_index);
	put16(m + 16, v->l3_off);
	put16(m + 18, v->l4_off >= 0 ? v->l4_off : 0);
	m[20] = v->ip_version;
	m[21] = v->ip_proto;
	put16(m + 22, 0);
	put32(m + 24, c->config_gen);
	put32(m + 28, c->fib_gen);
	if (s) {
		/* abiDrift: this shim's struct has an extra u32 (a vlan_tci) before src_addr. */
		put32(m + XDPLAB_DRIFT_INSERT_AT, 0x64);
		__builtin_memcpy(m + 32 + XDPLAB_DRIFT_SHIFT, src, 16);
		__builtin_memcpy(m + 48 + XDPLAB_DRIFT_SHIFT, dst, 16);
		put16(m + 64 + XDPLAB_DRIFT_SHIFT, sport);
		put16(m + 66 + XDPLAB_DRIFT_SHIFT, dport);
	} else {
		__builtin_memcpy(m + 32, src, 16);
		__builtin_memcpy(m + 48, dst, 16);
		put16(m + 64, sport);
		put16(m + 66, dport);
	}
	return 0;
}

/* XDP_TX / devmap demo modes: swap the MACs so the bounced frame goes back to its
 * sender; 0 when the frame has no Ethernet addresses to swap. */
static __always_inline int swap_macs(struct hdr_cursor *cur)
{
	__u8 *h = cur_bytes(cur, 0, 12), t[6];

	if (!h)
		return 0;
	__builtin_memcpy(t, h, 6);
	__builtin_memcpy(h, h + 6, 6);
	__builtin_memcpy(h + 6, t, 6);
	return 1;
}

SEC("xdp")
int xdplab_shim(struct xdp_md *ctx)
{
	struct hdr_cursor cur;
	struct xdplab_view v;
	struct pkt_ident id;
	struct xdplab_ctrl *c;
	struct xdplab_binding_key bk;
	struct xdplab_binding *b;
	__u32 zero = 0, flags = 0, sport, dport, why, slot;
	long act;
	int err;

	cur.data = (void *)(long)ctx->data;
	cur.data_end = (void *)(long)ctx->data_end;
	cur.pos = 0;
	cur.end = (__u32)((long)cur.data_end - (long)cur.data);
	c = bpf_map_lookup_elem(&ctrl, &zero);
	if (!c) /* cannot happen for an array map; keeps the verifier content */
		return XDP_PASS;

	id.len = cur.end;
	err = parse_frame(&cur, &v);
	id.payload_hash = v.ip_version && v.payload_off >= 0 ? (__u32)payload_hash(ctx, v.payload_off, v.ip_end) : 0;

	if (c->tx_mode == XDPLAB_TX_XDP_TX) {
		finish(ctx, &id, &v, XDPLAB_V_TX, 0, 0, (__u32)-1);
		return swap_macs(&cur) ? XDP_TX : XDP_DROP;
	}
	if (c->tx_mode == XDPLAB_TX_DEVMAP) {
		finish(ctx, &id, &v, XDPLAB_V_TX, 0, 0, 0);
		if (!swap_macs(&cur))
			return XDP_DROP;
		return bpf_redirect_map(&tx_devmap, 0, XDP_DROP);
	}

	if (err) {
		finish(ctx, &id, &v, XDPLAB_V_PASS, XDPLAB_R_PARSE_ERROR, 0, (__u32)-1);
		return XDP_PASS;
	}
	if (v.ip_version != 4 && v.ip_version != 6) {
		finish(ctx, &id, &v, XDPLAB_V_PASS, XDPLAB_R_NOT_IP, 0, (__u32)-1);
		return XDP_PASS;
	}
	if (!c->enabled) {
		finish(ctx, &id, &v, XDPLAB_V_PASS, XDPLAB_R_NOT_ARMED, 0, (__u32)-1);
		return XDP_PASS;
	}
	if (c->abi_version != XDPLAB_META_VERSION) {
		finish(ctx, &id, &v, XDPLAB_V_PASS, XDPLAB_R_ABI_MISMATCH, 0, (__u32)-1);
		return XDP_PASS;
	}
	if (c->heartbeat_timeout_ns > 0 && bpf_ktime_get_ns() - c->heartbeat_ns > c->heartbeat_timeout_ns) {
		finish(ctx, &id, &v, XDPLAB_V_PASS, XDPLAB_R_HEARTBEAT_STALE, 0, (__u32)-1);
		return XDP_PASS;
	}
	if (v.is_fragment == 1)
		flags |= XDPLAB_META_F_FRAGMENT;
	sport = v.src_port >= 0 ? v.src_port : v.icmp_id >= 0 ? v.icmp_id : 0;
	dport = v.dst_port >= 0 ? v.dst_port : 0;
	if (is_local(&cur, &v)) {
		flags |= XDPLAB_META_F_LOCAL_DST;
		if (!(c->bugs & XDPLAB_BUG_IGNORE_SESSION_MAP) &&
		    (session_hit(&cur, &v, sport, dport) ||
		     (v.ip_proto == (v.ip_version == 4 ? XDPLAB_IPPROTO_ICMP : XDPLAB_IPPROTO_ICMPV6) && v.l4_off >= 0 &&
		      quote_steered(ctx, v.l4_off, v.ip_end, v.ip_version)))) {
			flags |= XDPLAB_META_F_SESSION_HIT;
		} else if (!dnat_matches(ctx, &cur, &v, dport)) {
			finish(ctx, &id, &v, XDPLAB_V_PASS, XDPLAB_R_LOCAL_DELIVERY, flags, (__u32)-1);
			return XDP_PASS;
		}
	}

	bk.ifindex = ctx->ingress_ifindex;
	bk.queue = ctx->rx_queue_index;
	b = bpf_map_lookup_elem(&bindings, &bk);
	if (!b || b->ready != 1) {
		why = b ? XDPLAB_R_BINDING_NOT_READY : XDPLAB_R_BINDING_MISSING;
		if (c->strict && !(c->bugs & XDPLAB_BUG_MISSING_BINDING_PASSES)) {
			finish(ctx, &id, &v, XDPLAB_V_DROP, XDPLAB_R_STRICT_NO_BINDING, flags, (__u32)-1);
			return XDP_DROP;
		}
		if (c->bugs & XDPLAB_BUG_FALLBACK_DROPS) {
			/* The bug: a failed tail call falls through to a drop. */
			if (c->fallback_mode == XDPLAB_FALLBACK_TAILCALL)
				bpf_tail_call(ctx, &fallback_prog, 0);
			finish(ctx, &id, &v, XDPLAB_V_DROP, XDPLAB_R_FALLBACK_FAILED, flags, (__u32)-1);
			return XDP_DROP;
		}
		/* Counted before the tail call, which does not return when it succeeds. */
		finish(ctx, &id, &v, XDPLAB_V_FALLBACK, why, flags, (__u32)-1);
		if (c->fallback_mode == XDPLAB_FALLBACK_TAILCALL)
			bpf_tail_call(ctx, &fallback_prog, 0);
		return XDP_PASS;
	}
	slot = b->slot;
	if (write_meta(ctx, &cur, &v, c, flags, sport, dport)) {
		finish(ctx, &id, &v, XDPLAB_V_PASS, XDPLAB_R_META_NO_ROOM, flags, (__u32)-1);
		return XDP_PASS;
	}
	act = bpf_redirect_map(&xsks, slot, XDP_PASS);
	if (act == XDP_REDIRECT) {
		finish(ctx, &id, &v, XDPLAB_V_REDIRECT, 0, flags, slot);
		return XDP_REDIRECT;
	}
	/* Empty slot: the helper returned the flags' action. */
	finish(ctx, &id, &v, XDPLAB_V_PASS, XDPLAB_R_XSKMAP_EMPTY, flags, slot);
	return act;
}
