/* SPDX-License-Identifier: BSD-2-Clause */
/* The shim's header-cursor parser: one parse_x() per header, each checking bounds
 * before every read, filling the view and returning the next protocol (>= 0) or a
 * negated XDPLAB_PE_* code. It mirrors sim/packet/parse.ts function by function, same
 * names, same order of checks, same error codes, for the Ethernet link type the shim
 * sees. The packet quoted by an ICMP error is parsed on demand by parse_quoted() (the
 * model's parseQuoted), only as far as session steering needs: addresses, protocol,
 * ports or echo id. Not mirrored: SLL link types, routing-header final destinations.
 *
 * Bounds are kept as offsets: cur->end is the model's logical end (narrowed to the IP
 * total length) and every read is also checked against data_end for the verifier. */
#ifndef XDPLAB_PARSE_H
#define XDPLAB_PARSE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xdplab_consts.h"

struct hdr_cursor {
	void *data;
	void *data_end;
	__u32 pos;
	__u32 end; /* exclusive logical end, <= data_end - data */
};

/* Parsed fields; -1 when absent, like sim/packet/view.ts. */
struct xdplab_view {
	__s32 l3_off;
	__s32 l4_off;
	__s32 payload_off;
	__s32 ip_version; /* 0 when not IP */
	__s32 ip_proto;
	__s32 ip_hdr_len;
	__s32 ip_total_len;
	__s32 l4_len;
	__s32 is_fragment;
	__s32 frag_offset;
	__s32 more_frags;
	__s32 src_off;
	__s32 dst_off;
	__s32 addr_len;
	__s32 src_port;
	__s32 dst_port;
	__s32 icmp_id;
	__s32 vlan_count;
	__u32 ip_id;      /* IPv4 ID or IPv6 fragment ID (0 when absent) */
	__u32 flow_label; /* IPv6 (0 when absent) */
	__u32 tcp_seq;    /* 0 when absent */
	__u32 ip_end;     /* cur->end after narrowing: the end of the IP packet in the frame */
};

static __always_inline void view_reset(struct xdplab_view *v)
{
	v->l3_off = -1;
	v->l4_off = -1;
	v->payload_off = -1;
	v->ip_version = 0;
	v->ip_proto = -1;
	v->ip_hdr_len = -1;
	v->ip_total_len = -1;
	v->l4_len = -1;
	v->is_fragment = -1;
	v->frag_offset = -1;
	v->more_frags = -1;
	v->src_off = -1;
	v->dst_off = -1;
	v->addr_len = -1;
	v->src_port = -1;
	v->dst_port = -1;
	v->icmp_id = -1;
	v->vlan_count = 0;
	v->ip_id = 0;
	v->flow_label = 0;
	v->tcp_seq = 0;
	v->ip_end = 0;
}

/* Pointer to n readable bytes at off, or NULL when they are beyond the logical end
 * (the model's bound) or the real one. n is a compile-time constant at every call. */
static __always_inline __u8 *cur_bytes(struct hdr_cursor *cur, __u32 off, __u32 n)
{
	__u8 *p;

	if (off > XDPLAB_MAX_HDR_OFF)
		return NULL;
	if (off + n > cur->end)
		return NULL;
	p = (__u8 *)cur->data + off;
	if ((void *)(p + n) > cur->data_end)
		return NULL;
	return p;
}

static __always_inline __u32 be16at(const __u8 *p)
{
	return ((__u32)p[0] << 8) | p[1];
}

static __always_inline __u32 be32at(const __u8 *p)
{
	return ((__u32)p[0] << 24) | ((__u32)p[1] << 16) | ((__u32)p[2] << 8) | p[3];
}

static __always_inline int is_vlan_tpid(__u32 p)
{
	return p == XDPLAB_ETH_P_8021Q || p == XDPLAB_ETH_P_8021AD;
}

/* Ethernet II header: returns the EtherType (or 802.3 length). */
static __always_inline int parse_ethhdr(struct hdr_cursor *cur, struct xdplab_view *v)
{
	__u8 *h = cur_bytes(cur, cur->pos, 14);

	if (!h)
		return -XDPLAB_PE_TRUNC_ETH;
	cur->pos += 14;
	return be16at(h + 12);
}

/* One 802.1Q/802.1ad tag. Returns the next EtherType. */
static __always_inline int parse_vlan(struct hdr_cursor *cur, struct xdplab_view *v)
{
	__u8 *h;

	if (v->vlan_count >= XDPLAB_VLAN_MAX_DEPTH)
		return -XDPLAB_PE_VLAN_LIMIT;
	h = cur_bytes(cur, cur->pos, 4);
	if (!h)
		return -XDPLAB_PE_TRUNC_VLAN;
	v->vlan_count++;
	cur->pos += 4;
	return be16at(h + 2);
}

/* ARP: fixed 8 bytes plus addresses. Only its completeness matters to the shim. */
static __always_inline int parse_arphdr(struct hdr_cursor *cur, struct xdplab_view *v)
{
	__u8 *h = cur_bytes(cur, cur->pos, 8);
	__u32 total;

	if (!h)
		return -XDPLAB_PE_TRUNC_ARP;
	total = 8 + 2 * (__u32)h[4] + 2 * (__u32)h[5];
	if (cur->pos + total > cur->end)
		return -XDPLAB_PE_TRUNC_ARP;
	cur->pos += total;
	v->payload_off = cur->pos;
	return 0;
}

/* IPv4 header with options; narrows cur->end to the total length. Returns the protocol. */
static __always_inline int parse_iphdr(struct hdr_cursor *cur, struct xdplab_view *v)
{
	__u32 p = cur->pos, hl, tot, fw;
	__u8 *h = cur_bytes(cur, p, 20);

	if (!h)
		return -XDPLAB_PE_TRUNC_IP4;
	if (h[0] >> 4 != 4)
		return -XDPLAB_PE_BAD_IP_VERSION;
	hl = (h[0] & 0xf) * 4;
	if (hl < 20)
		return -XDPLAB_PE_BAD_IHL;
	if (p + hl > cur->end)
		return -XDPLAB_PE_TRUNC_IP4;
	tot = be16at(h + 2);
	if (tot < hl)
		return -XDPLAB_PE_BAD_IP_LEN;
	fw = be16at(h + 6);
	v->ip_version = 4;
	v->l3_off = p;
	v->ip_hdr_len = hl;
	v->ip_total_len = tot;
	v->ip_id = be16at(h + 4);
	v->more_frags = (fw >> 13) & 1;
	v->frag_offset = (fw & 0x1fff) * 8;
	v->is_fragment = (v->more_frags == 1 || v->frag_offset != 0) ? 1 : 0;
	v->ip_proto = h[9];
	v->src_off = p + 12;
	v->dst_off = p + 16;
	v->addr_len = 4;
	v->l4_len = tot - hl;
	if (p + tot < cur->end)
		cur->end = p + tot;
	cur->pos = p + hl;
	return v->ip_proto;
}

/* IPv6 fixed header; narrows cur->end to 40 + payload length. Returns the first next header. */
static __always_inline int parse_ip6hdr(struct hdr_cursor *cur, struct xdplab_view *v)
{
	__u32 p = cur->pos, tot;
	__u8 *h = cur_bytes(cur, p, 40);

	if (!h)
		return -XDPLAB_PE_TRUNC_IP6;
	if (h[0] >> 4 != 6)
		return -XDPLAB_PE_BAD_IP_VERSION;
	tot = 40 + be16at(h + 4);
	v->ip_version = 6;
	v->l3_off = p;
	v->ip_hdr_len = 40;
	v->ip_total_len = tot;
	v->flow_label = ((__u32)(h[1] & 0xf) << 16) | be16at(h + 2);
	v->ip_proto = h[6];
	v->src_off = p + 8;
	v->dst_off = p + 24;
	v->addr_len = 16;
	v->more_frags = 0;
	v->frag_offset = 0;
	v->is_fragment = 0;
	v->l4_len = tot - 40;
	if (p + tot < cur->end)
		cur->end = p + tot;
	cur->pos = p + 40;
	return v->ip_proto;
}

static __always_inline int is_ip6_ext(int nh)
{
	return nh == XDPLAB_IPPROTO_HOPOPTS || nh == XDPLAB_IPPROTO_ROUTING || nh == XDPLAB_IPPROTO_FRAGMENT ||
	       nh == XDPLAB_IPPROTO_DSTOPTS || nh == XDPLAB_IPPROTO_AH || nh == XDPLAB_IPPROTO_MH ||
	       nh == XDPLAB_IPPROTO_HIP || nh == XDPLAB_IPPROTO_SHIM6;
}

/* Walks IPv6 extension headers (at most XDPLAB_IPV6_EXT_MAX); returns the upper-layer
 * protocol. Stops after the header of a non-first fragment. */
static __always_inline int parse_ip6_ext(struct hdr_cursor *cur, struct xdplab_view *v, int nh)
{
	__u32 ip_end = v->l3_off + v->ip_total_len;
	int i;

#pragma unroll
	for (i = 0; i <= XDPLAB_IPV6_EXT_MAX; i++) {
		__u32 p = cur->pos, hlen;
		__u8 *h;

		v->ip_proto = nh;
		if (!is_ip6_ext(nh)) {
			v->ip_hdr_len = cur->pos - v->l3_off;
			v->l4_len = v->ip_total_len - v->ip_hdr_len;
			return nh;
		}
		if (i == XDPLAB_IPV6_EXT_MAX)
			return -XDPLAB_PE_IP6_EXT_LIMIT;
		/* Hop-by-hop options only right after the fixed header (RFC 8200 §4.1). */
		if (nh == XDPLAB_IPPROTO_HOPOPTS && i != 0)
			return -XDPLAB_PE_BAD_IP6_EXT;
		if (p + 8 > ip_end)
			return -XDPLAB_PE_BAD_IP6_EXT;
		h = cur_bytes(cur, p, 8);
		if (!h)
			return -XDPLAB_PE_TRUNC_IP6_EXT;
		if (nh == XDPLAB_IPPROTO_FRAGMENT) {
			__u32 fw = be16at(h + 2);

			hlen = 8;
			v->frag_offset = fw & 0xfff8;
			v->more_frags = fw & 1;
			v->ip_id = be32at(h + 4);
			/* An atomic fragment (offset 0, M=0) is a whole packet (RFC 6946). */
			v->is_fragment = (v->frag_offset != 0 || v->more_frags == 1) ? 1 : 0;
		} else if (nh == XDPLAB_IPPROTO_AH) {
			hlen = ((__u32)h[1] + 2) * 4;
		} else {
			hlen = ((__u32)h[1] + 1) * 8;
		}
		if (p + hlen > ip_end)
			return -XDPLAB_PE_BAD_IP6_EXT;
		if (p + hlen > cur->end)
			return -XDPLAB_PE_TRUNC_IP6_EXT;
		cur->pos = p + hlen;
		nh = h[0];
		if (v->frag_offset > 0) {
			v->ip_proto = nh;
			v->ip_hdr_len = cur->pos - v->l3_off;
			v->l4_len = v->ip_total_len - v->ip_hdr_len;
			return nh;
		}
	}
	return -XDPLAB_PE_IP6_EXT_LIMIT;
}

/* TCP header with options. */
static __always_inline int parse_tcphdr(struct hdr_cursor *cur, struct xdplab_view *v)
{
	__u32 p = cur->pos, doff;
	__u8 *h = cur_bytes(cur, p, 20);

	if (!h)
		return -XDPLAB_PE_TRUNC_TCP;
	doff = (h[12] >> 4) * 4;
	if (doff < 20)
		return -XDPLAB_PE_BAD_TCP_DOFF;
	if (p + doff > cur->end)
		return -XDPLAB_PE_TRUNC_TCP;
	v->l4_off = p;
	v->src_port = be16at(h);
	v->dst_port = be16at(h + 2);
	v->tcp_seq = be32at(h + 4);
	cur->pos = p + doff;
	v->payload_off = cur->pos;
	return 0;
}

static __always_inline int parse_udphdr(struct hdr_cursor *cur, struct xdplab_view *v)
{
	__u32 p = cur->pos, ulen;
	__u8 *h = cur_bytes(cur, p, 8);

	if (!h)
		return -XDPLAB_PE_TRUNC_UDP;
	ulen = be16at(h + 4);
	/* A first fragment's UDP length covers the whole datagram, not this fragment. */
	if (ulen < 8 || (v->is_fragment != 1 && (__s32)ulen > v->l4_len))
		return -XDPLAB_PE_BAD_UDP_LEN;
	v->l4_off = p;
	v->src_port = be16at(h);
	v->dst_port = be16at(h + 2);
	cur->pos = p + 8;
	v->payload_off = cur->pos;
	return 0;
}

/* ICMPv4 messages that carry an identifier (echo, timestamp, info, mask). */
static __always_inline int icmp4_has_id(__u32 t)
{
	return t == 0 || t == 8 || t == 13 || t == 14 || t == 15 || t == 16 || t == 17 || t == 18;
}

static __always_inline int parse_icmphdr(struct hdr_cursor *cur, struct xdplab_view *v)
{
	__u32 p = cur->pos;
	__u8 *h = cur_bytes(cur, p, 8);

	if (!h)
		return -XDPLAB_PE_TRUNC_ICMP;
	v->l4_off = p;
	if (icmp4_has_id(h[0]))
		v->icmp_id = be16at(h + 4);
	cur->pos = p + 8;
	v->payload_off = cur->pos;
	return 0;
}

static __always_inline int parse_icmp6hdr(struct hdr_cursor *cur, struct xdplab_view *v)
{
	__u32 p = cur->pos;
	__u8 *h = cur_bytes(cur, p, 8);

	if (!h)
		return -XDPLAB_PE_TRUNC_ICMP;
	v->l4_off = p;
	if (h[0] == 128 || h[0] == 129)
		v->icmp_id = be16at(h + 4);
	cur->pos = p + 8;
	v->payload_off = cur->pos;
	return 0;
}

/* L4 of a packet whose IP header (and extension headers) has been walked. */
static __always_inline int parse_l4(struct hdr_cursor *cur, struct xdplab_view *v, int proto)
{
	/* Non-first fragments carry no L4 header. */
	if (v->frag_offset > 0) {
		v->payload_off = cur->pos;
		return 0;
	}
	if (proto == XDPLAB_IPPROTO_TCP)
		return parse_tcphdr(cur, v);
	if (proto == XDPLAB_IPPROTO_UDP)
		return parse_udphdr(cur, v);
	if (proto == XDPLAB_IPPROTO_ICMP && v->ip_version == 4)
		return parse_icmphdr(cur, v);
	if (proto == XDPLAB_IPPROTO_ICMPV6 && v->ip_version == 6)
		return parse_icmp6hdr(cur, v);
	v->l4_off = cur->pos;
	v->payload_off = cur->pos;
	return 0;
}

/* ICMPv4 errors that quote the offending packet (unreachable, source quench, redirect,
 * time exceeded, parameter problem) and their ICMPv6 counterparts (types 1-4). */
static __always_inline int icmp_is_error(__u32 version, __u32 t)
{
	if (version == 4)
		return t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
	return t >= 1 && t <= 4;
}

/* The packet quoted by an ICMP error, from cur->pos to cur->end (the outer IP end), as
 * the model's parseQuoted: the IP header of the outer packet's version must be complete
 * (a cut-off or malformed IPv6 extension header still counts, with no ports; running
 * past the limit of 8 does not); of L4, 8 bytes give the ports or the echo id. q keeps
 * ip_proto, src_off/dst_off/addr_len, src_port/dst_port, icmp_id. Returns 0 when the
 * quote is usable, else a negated XDPLAB_PE_* code. */
static __always_inline int parse_quoted(struct hdr_cursor *cur, struct xdplab_view *q, __u32 version)
{
	__u32 p;
	__u8 *h;
	int proto;

	view_reset(q);
	if (version == 4) {
		proto = parse_iphdr(cur, q);
		if (proto < 0)
			return proto;
		if (q->frag_offset != 0)
			return 0;
	} else {
		proto = parse_ip6hdr(cur, q);
		if (proto < 0)
			return proto;
		proto = parse_ip6_ext(cur, q, proto);
		if (proto == -XDPLAB_PE_TRUNC_IP6_EXT || proto == -XDPLAB_PE_BAD_IP6_EXT)
			return 0;
		if (proto < 0)
			return proto;
		if (q->frag_offset > 0)
			return 0;
	}
	p = cur->pos;
	h = cur_bytes(cur, p, 8);
	if (!h)
		return 0;
	if (proto == XDPLAB_IPPROTO_TCP || proto == XDPLAB_IPPROTO_UDP) {
		q->src_port = be16at(h);
		q->dst_port = be16at(h + 2);
	} else if (proto == XDPLAB_IPPROTO_ICMP && version == 4) {
		if (icmp4_has_id(h[0]))
			q->icmp_id = be16at(h + 4);
	} else if (proto == XDPLAB_IPPROTO_ICMPV6 && version == 6) {
		if (h[0] == 128 || h[0] == 129)
			q->icmp_id = be16at(h + 4);
	}
	return 0;
}

/* decode() for an Ethernet frame: returns 0 or a positive XDPLAB_PE_* code. */
static __always_inline int parse_frame(struct hdr_cursor *cur, struct xdplab_view *v)
{
	int proto, i;

	view_reset(v);
	proto = parse_ethhdr(cur, v);
	if (proto < 0)
		return -proto;
#pragma unroll
	for (i = 0; i <= XDPLAB_VLAN_MAX_DEPTH; i++) {
		if (!is_vlan_tpid(proto))
			break;
		proto = parse_vlan(cur, v);
		if (proto < 0)
			return -proto;
	}
	v->l3_off = cur->pos;
	if (proto == XDPLAB_ETH_P_IP) {
		proto = parse_iphdr(cur, v);
		if (proto < 0)
			return -proto;
	} else if (proto == XDPLAB_ETH_P_IPV6) {
		proto = parse_ip6hdr(cur, v);
		if (proto < 0)
			return -proto;
		proto = parse_ip6_ext(cur, v, proto);
		if (proto < 0)
			return -proto;
	} else if (proto == XDPLAB_ETH_P_ARP) {
		proto = parse_arphdr(cur, v);
		return proto < 0 ? -proto : 0;
	} else {
		return 0;
	}
	v->ip_end = cur->end;
	proto = parse_l4(cur, v, proto);
	return proto < 0 ? -proto : 0;
}

#endif /* XDPLAB_PARSE_H */
