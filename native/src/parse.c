/* SPDX-License-Identifier: BSD-2-Clause */
/* The worker's frame decode: sim/packet/parse.ts parseFrame() for LINKTYPE_ETHERNET,
 * one function per header with the same checks in the same order, reduced to the
 * fields the worker reads (addresses, protocol after IPv6 extension headers, ports,
 * ICMP echo id). Returns 0 or the positive PE_* code of bpf/xdplab_abi.h. */
#include "worker_int.h"
#include "../../bpf/xdplab_abi.h"

#define VLAN_MAX_DEPTH 2
#define IPV6_EXT_MAX 8

struct cursor { int pos, end; };
struct pv { /* the parse state parse.ts keeps in PacketView */
	int l3_off, ip_total_len, ip_hdr_len, l4_len, frag_offset, more_frags, is_fragment, ip_version;
};

static inline int u16be(const uint8_t *b, int i) { return (b[i] << 8) | b[i + 1]; }

static int parse_ethhdr(const uint8_t *b, struct cursor *c)
{
	int p = c->pos;
	if (p + 14 > c->end) return -XDPLAB_PE_TRUNC_ETH;
	c->pos = p + 14;
	return u16be(b, p + 12);
}

static int parse_vlan(const uint8_t *b, struct cursor *c, int *count)
{
	int p = c->pos;
	if (*count >= VLAN_MAX_DEPTH) return -XDPLAB_PE_VLAN_LIMIT;
	if (p + 4 > c->end) return -XDPLAB_PE_TRUNC_VLAN;
	(*count)++;
	c->pos = p + 4;
	return u16be(b, p + 2);
}

static int parse_iphdr(const uint8_t *b, struct cursor *c, struct pv *s, struct xl_view *v)
{
	int p = c->pos;
	if (p + 20 > c->end) return -XDPLAB_PE_TRUNC_IP4;
	int b0 = b[p];
	if (b0 >> 4 != 4) return -XDPLAB_PE_BAD_IP_VERSION;
	int hl = (b0 & 0xf) * 4;
	if (hl < 20) return -XDPLAB_PE_BAD_IHL;
	if (p + hl > c->end) return -XDPLAB_PE_TRUNC_IP4;
	int tot = u16be(b, p + 2);
	if (tot < hl) return -XDPLAB_PE_BAD_IP_LEN;
	int fw = u16be(b, p + 6);
	v->ip_version = s->ip_version = 4;
	s->l3_off = p;
	s->ip_hdr_len = hl;
	s->ip_total_len = tot;
	s->more_frags = (fw >> 13) & 1;
	s->frag_offset = (fw & 0x1fff) * 8;
	s->is_fragment = (s->more_frags == 1 || s->frag_offset != 0) ? 1 : 0;
	v->ip_proto = b[p + 9];
	v->src_off = p + 12;
	v->dst_off = p + 16;
	v->addr_len = 4;
	s->l4_len = tot - hl;
	if (p + tot < c->end) c->end = p + tot;
	c->pos = p + hl;
	return v->ip_proto;
}

static int parse_ip6hdr(const uint8_t *b, struct cursor *c, struct pv *s, struct xl_view *v)
{
	int p = c->pos;
	if (p + 40 > c->end) return -XDPLAB_PE_TRUNC_IP6;
	if (b[p] >> 4 != 6) return -XDPLAB_PE_BAD_IP_VERSION;
	int tot = 40 + u16be(b, p + 4);
	v->ip_version = s->ip_version = 6;
	s->l3_off = p;
	s->ip_hdr_len = 40;
	s->ip_total_len = tot;
	v->ip_proto = b[p + 6];
	v->src_off = p + 8;
	v->dst_off = p + 24;
	v->addr_len = 16;
	s->more_frags = 0;
	s->frag_offset = 0;
	s->is_fragment = 0;
	s->l4_len = tot - 40;
	if (p + tot < c->end) c->end = p + tot;
	c->pos = p + 40;
	return v->ip_proto;
}

static int is_ip6_ext(int nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51 || nh == 135 || nh == 139 || nh == 140;
}

static int parse_ip6_ext(const uint8_t *b, struct cursor *c, struct pv *s, struct xl_view *v, int nh)
{
	int ip_end = s->l3_off + s->ip_total_len;
	for (int i = 0; i <= IPV6_EXT_MAX; i++) {
		v->ip_proto = nh;
		if (!is_ip6_ext(nh)) {
			s->ip_hdr_len = c->pos - s->l3_off;
			s->l4_len = s->ip_total_len - s->ip_hdr_len;
			return nh;
		}
		if (i == IPV6_EXT_MAX) return -XDPLAB_PE_IP6_EXT_LIMIT;
		if (nh == 0 && i != 0) return -XDPLAB_PE_BAD_IP6_EXT;
		int p = c->pos;
		if (p + 8 > ip_end) return -XDPLAB_PE_BAD_IP6_EXT;
		if (p + 8 > c->end) return -XDPLAB_PE_TRUNC_IP6_EXT;
		int next = b[p];
		int hlen;
		if (nh == 44) {
			hlen = 8;
			int fw = u16be(b, p + 2);
			s->frag_offset = fw & 0xfff8;
			s->more_frags = fw & 1;
			s->is_fragment = (s->frag_offset != 0 || s->more_frags == 1) ? 1 : 0;
		} else if (nh == 51) {
			hlen = (b[p + 1] + 2) * 4;
		} else {
			hlen = (b[p + 1] + 1) * 8;
		}
		if (p + hlen > ip_end) return -XDPLAB_PE_BAD_IP6_EXT;
		if (p + hlen > c->end) return -XDPLAB_PE_TRUNC_IP6_EXT;
		c->pos = p + hlen;
		nh = next;
		if (s->frag_offset > 0) {
			v->ip_proto = nh;
			s->ip_hdr_len = c->pos - s->l3_off;
			s->l4_len = s->ip_total_len - s->ip_hdr_len;
			return nh;
		}
	}
	return -XDPLAB_PE_IP6_EXT_LIMIT;
}

static int icmp4_has_id(int t)
{
	return t == 0 || t == 8 || t == 13 || t == 14 || t == 15 || t == 16 || t == 17 || t == 18;
}

static int parse_l4(const uint8_t *b, struct cursor *c, struct pv *s, struct xl_view *v, int proto)
{
	if (s->frag_offset > 0) return 0;
	int p = c->pos;
	if (proto == 6) {
		if (p + 20 > c->end) return -XDPLAB_PE_TRUNC_TCP;
		int doff = (b[p + 12] >> 4) * 4;
		if (doff < 20) return -XDPLAB_PE_BAD_TCP_DOFF;
		if (p + doff > c->end) return -XDPLAB_PE_TRUNC_TCP;
		v->src_port = u16be(b, p);
		v->dst_port = u16be(b, p + 2);
	} else if (proto == 17) {
		if (p + 8 > c->end) return -XDPLAB_PE_TRUNC_UDP;
		int ulen = u16be(b, p + 4);
		if (ulen < 8 || (s->is_fragment != 1 && ulen > s->l4_len)) return -XDPLAB_PE_BAD_UDP_LEN;
		v->src_port = u16be(b, p);
		v->dst_port = u16be(b, p + 2);
	} else if (proto == 1 && s->ip_version == 4) {
		if (p + 8 > c->end) return -XDPLAB_PE_TRUNC_ICMP;
		if (icmp4_has_id(b[p])) v->icmp_id = u16be(b, p + 4);
	} else if (proto == 58 && s->ip_version == 6) {
		if (p + 8 > c->end) return -XDPLAB_PE_TRUNC_ICMP;
		if (b[p] == 128 || b[p] == 129) v->icmp_id = u16be(b, p + 4);
	}
	/* Errors in a quoted inner packet never fail the outer decode (parse.ts innerErr). */
	return 0;
}

int xl_decode_eth(struct xl_view *v, const uint8_t *b, int off, int len)
{
	struct cursor c = { off, off + len };
	struct pv s = { 0 };
	v->ip_version = 0;
	v->src_off = v->dst_off = v->addr_len = v->ip_proto = v->src_port = v->dst_port = v->icmp_id = -1;
	int proto = parse_ethhdr(b, &c);
	if (proto < 0) return -proto;
	int vlans = 0;
	for (int i = 0; i <= VLAN_MAX_DEPTH && (proto == 0x8100 || proto == 0x88a8); i++) {
		proto = parse_vlan(b, &c, &vlans);
		if (proto < 0) return -proto;
	}
	if (proto == 0x0800) {
		proto = parse_iphdr(b, &c, &s, v);
		if (proto < 0) return -proto;
	} else if (proto == 0x86dd) {
		proto = parse_ip6hdr(b, &c, &s, v);
		if (proto < 0) return -proto;
		proto = parse_ip6_ext(b, &c, &s, v, proto);
		if (proto < 0) return -proto;
	} else {
		/* ARP and everything else: no IP, which the worker treats as malformed whatever
		 * parse.ts would return, so the ARP walk is not mirrored. */
		return 0;
	}
	int r = parse_l4(b, &c, &s, v, proto);
	return r < 0 ? -r : 0;
}
