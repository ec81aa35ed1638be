/* SPDX-License-Identifier: BSD-2-Clause */
/* The plain-router dataplane (mirror of sim/dataplane/dataplane.ts, function by function):
 * VLAN priority tags, IPv4/IPv6 forwarding with Linux's martian/local checks, FIB
 * longest-prefix match, neighbours, policy, TTL/hop-limit decrement with ip_decrease_ttl's
 * checksum step, MAC rewrite, and the ICMP/ICMPv6 errors a router sends, with the NAT
 * hooks (natPre.c, natPost.c → nat.c) in the model's stage order: lookup → nat.pre → fib
 * (TTL, MTU) → policy for new flows → nat.post → rewrite.
 * The FIB and neighbour lookups are linear scans with the model's tie-breaking (longest
 * prefix, then lowest metric, then earliest route; first neighbour definition wins):
 * same answers as the model's hash tables, sized for scenarios, not for a million routes. */
#include <stdlib.h>
#include <string.h>
#include "worker_int.h"
#include "../../bpf/xdplab_abi.h"

#define ETH_HLEN 14
#define ICMP_TTL 64
#define ICMP4_MAX_ERROR 576
#define ICMP6_MAX_ERROR 1280

/* be16, put16, sum16 and fold16 come from nat.h (via worker_int.h). */
static inline void put32(uint8_t *b, int o, uint32_t v)
{
	b[o] = v >> 24; b[o + 1] = v >> 16; b[o + 2] = v >> 8; b[o + 3] = v;
}

/* ip_decrease_ttl's checksum step (see ttlDecrementChecksum in the model). */
static int ttl_decrement_checksum(int check)
{
	int c = check + 0x0100;
	return (c + (c >= 0xffff ? 1 : 0)) & 0xffff;
}

static int prefix_match(const uint8_t *prefix, int len, const uint8_t *b, int off)
{
	int i = 0;
	for (; len >= 8; i++, len -= 8)
		if (prefix[i] != b[off + i]) return 0;
	if (len == 0) return 1;
	int m = (0xff << (8 - len)) & 0xff;
	return ((prefix[i] ^ b[off + i]) & m) == 0;
}

static int common_prefix_len(const uint8_t *a, const uint8_t *b, int boff)
{
	for (int i = 0; i < 16; i++) {
		int x = (a[i] ^ b[boff + i]) & 0xff;
		if (x != 0) return i * 8 + __builtin_clz((unsigned)x) - 24;
	}
	return 128;
}

static int fib_lookup(struct xl_dp *dp, int family, const uint8_t *b, int off)
{
	int best = -1, best_len = -1;
	double best_metric = 0;
	for (int i = 0; i < dp->nroutes; i++) {
		const struct xl_route *r = &dp->routes[i];
		if (r->family != family || !prefix_match(r->prefix, r->plen, b, off)) continue;
		if (r->plen > best_len || (r->plen == best_len && r->metric < best_metric)) {
			best = i;
			best_len = r->plen;
			best_metric = r->metric;
		}
	}
	return best;
}

/* NeighborTable.entry: the first definition of (iface, family, ip). */
static int neigh_entry(struct xl_dp *dp, int iface, int family, const uint8_t *b, int off)
{
	int n = family == 4 ? 4 : 16;
	for (int i = 0; i < dp->nneigh; i++) {
		const struct xl_neigh *e = &dp->neigh[i];
		if (e->iface == iface && e->family == family && memcmp(e->ip, b + off, n) == 0) return i;
	}
	return -1;
}

static int neigh_resolved(struct xl_dp *dp, int iface, int family, const uint8_t *b, int off, double now)
{
	int e = neigh_entry(dp, iface, family, b, off);
	if (e < 0 || dp->neigh[e].resolve_at > now) return -1;
	return e;
}

void xl_dp_flush_neighbors(struct xl_dp *dp, int iface, double until)
{
	for (int i = 0; i < dp->nneigh; i++)
		if (dp->neigh[i].iface == iface && dp->neigh[i].resolve_at < until) dp->neigh[i].resolve_at = until;
}

static int drop(struct xl_dp *dp, int reason)
{
	dp->reason = reason;
	return XL_DP_DROP;
}

static int kernel(struct xl_dp *dp)
{
	dp->reason = XDPLAB_R_LOCAL_DELIVERY;
	return XL_DP_KERNEL;
}

static int is_local4(struct xl_dp *dp, const uint8_t *b, int o)
{
	for (int k = 0; k < dp->nifaces; k++)
		for (int j = 0; j < dp->ifaces[k].naddrs; j++) {
			const struct xl_addr *a = &dp->ifaces[k].addrs[j];
			if (a->family == 4 && memcmp(a->bytes, b + o, 4) == 0) return 1;
		}
	return 0;
}

static int is_bcast4(struct xl_dp *dp, const uint8_t *b, int o)
{
	for (int k = 0; k < dp->nifaces; k++)
		for (int j = 0; j < dp->ifaces[k].naddrs; j++) {
			const struct xl_addr *a = &dp->ifaces[k].addrs[j];
			if (a->family != 4 || a->plen >= 31) continue;
			int same = 1;
			for (int i = 0; i < 4; i++) {
				int host_bits = (i + 1) * 8 - a->plen;
				if (host_bits < 0) host_bits = 0;
				if (host_bits > 8) host_bits = 8;
				if ((uint8_t)(a->bytes[i] | ((1 << host_bits) - 1)) != b[o + i]) same = 0;
			}
			if (same) return 1;
		}
	return 0;
}

static int is_local6(struct xl_dp *dp, const uint8_t *b, int o)
{
	for (int k = 0; k < dp->nifaces; k++)
		for (int j = 0; j < dp->ifaces[k].naddrs; j++) {
			const struct xl_addr *a = &dp->ifaces[k].addrs[j];
			if (a->family == 6 && memcmp(a->bytes, b + o, 16) == 0) return 1;
		}
	return 0;
}

static int is_loop_or_unspec6(const uint8_t *b, int o)
{
	for (int j = 0; j < 15; j++)
		if (b[o + j] != 0) return 0;
	return b[o + 15] <= 1;
}

static int is_v4mapped6(const uint8_t *b, int o)
{
	for (int j = 0; j < 10; j++)
		if (b[o + j] != 0) return 0;
	return b[o + 10] == 0xff && b[o + 11] == 0xff;
}

static void walk_l4v4(struct xl_dp *dp, const uint8_t *b, int l3, int ihl, int tot)
{
	dp->l4_proto = b[l3 + 9];
	dp->l4_off = l3 + ihl;
	int fo = be16(b, l3 + 6);
	dp->l4_first = (fo & 0x1fff) == 0;
	dp->is_frag = (fo & 0x3fff) != 0;
	dp->more_frags = (fo & 0x2000) != 0;
	dp->frag_id = (uint32_t)be16(b, l3 + 4);
	dp->l4_end = l3 + tot;
	if (dp->l4_off >= l3 + tot) dp->l4_first = 0;
}

static void walk_l4v6(struct xl_dp *dp, const uint8_t *b, int l3, int tot)
{
	int end = l3 + tot;
	dp->l4_end = end;
	int nh = b[l3 + 6];
	int o = l3 + 40;
	dp->l4_first = 1;
	dp->is_frag = 0;
	dp->more_frags = 0;
	dp->frag_id = 0;
	for (int n = 0; n < 8; n++) {
		if (nh == 0 || nh == 43 || nh == 60 || nh == 51 || nh == 44) {
			if (o + 8 > end) break;
			if (nh == 44) {
				dp->is_frag = 1;
				dp->more_frags = (be16(b, o + 2) & 1) != 0;
				dp->frag_id = ((uint32_t)b[o + 4] << 24) | ((uint32_t)b[o + 5] << 16) | ((uint32_t)b[o + 6] << 8) | b[o + 7];
				int fo = be16(b, o + 2) & 0xfff8;
				int next = b[o];
				o += 8;
				nh = next;
				if (fo != 0) {
					dp->l4_first = 0;
					break;
				}
				continue;
			}
			int hlen = nh == 51 ? (b[o + 1] + 2) * 4 : (b[o + 1] + 1) * 8;
			nh = b[o];
			o += hlen;
			continue;
		}
		break;
	}
	dp->l4_proto = nh;
	dp->l4_off = o;
	if (o >= end) dp->l4_first = 0;
}

static int permitted(struct xl_dp *dp, int family, const uint8_t *b, int src, int dst, int in, int eg)
{
	int has_ports = dp->l4_first && (dp->l4_proto == 6 || dp->l4_proto == 17 || dp->l4_proto == 132 || dp->l4_proto == 33) &&
			dp->l4_off + 4 <= dp->l4_end;
	for (int i = 0; i < dp->nrules; i++) {
		const struct xl_rule *r = &dp->rules[i];
		if (r->proto >= 0 && r->proto != dp->l4_proto) continue;
		if (r->ingress >= 0 && r->ingress != in) continue;
		if (r->egress >= 0 && r->egress != eg) continue;
		if (r->has_src && (r->src.family != family || !prefix_match(r->src.bytes, r->src.plen, b, src))) continue;
		if (r->has_dst && (r->dst.family != family || !prefix_match(r->dst.bytes, r->dst.plen, b, dst))) continue;
		if (r->dport_lo >= 0) {
			if (!has_ports) continue;
			int p = be16(b, dp->l4_off + 2);
			if (p < r->dport_lo || p > r->dport_hi) continue;
		}
		return r->permit;
	}
	return dp->default_permit;
}

static int error_l2(struct xl_dp *dp, int family, const uint8_t *b, int off, int src_off, int in, double now)
{
	int ri = fib_lookup(dp, family, b, src_off);
	if (ri < 0) return -1;
	const struct xl_route *route = &dp->routes[ri];
	uint8_t *g = dp->gen_buf;
	int alen = family == 4 ? 4 : 16;
	if (route->has_via) memcpy(g + ETH_HLEN, route->via, alen);
	else memcpy(g + ETH_HLEN, b + src_off, alen);
	int e = neigh_resolved(dp, route->iface, family, g, ETH_HLEN, now);
	if (e >= 0) memcpy(g, dp->neigh[e].mac, 6);
	else if (route->iface == in) memcpy(g, b + off + 6, 6);
	else return -1;
	memcpy(g + 6, dp->ifaces[route->iface].mac, 6);
	put16(g, 12, family == 4 ? 0x0800 : 0x86dd);
	return route->iface;
}

static int select_src4(struct xl_dp *dp, int eg, const uint8_t *nh, int nh_off, uint8_t *out, int o)
{
	const struct xl_iface *ifc = &dp->ifaces[eg];
	const uint8_t *first = NULL;
	for (int j = 0; j < ifc->naddrs; j++) {
		const struct xl_addr *a = &ifc->addrs[j];
		if (a->family != 4) continue;
		if (prefix_match(a->bytes, a->plen, nh, nh_off)) {
			memmove(out + o, a->bytes, 4);
			return 1;
		}
		if (first == NULL) first = a->bytes;
	}
	if (first != NULL) {
		memmove(out + o, first, 4);
		return 1;
	}
	for (int k = 0; k < dp->nifaces; k++)
		for (int j = 0; j < dp->ifaces[k].naddrs; j++)
			if (dp->ifaces[k].addrs[j].family == 4) {
				memmove(out + o, dp->ifaces[k].addrs[j].bytes, 4);
				return 1;
			}
	return 0;
}

static int icmp4(struct xl_dp *dp, const uint8_t *b, int off, int l3, int ihl, int tot, int type, int code, uint32_t info,
		 int in, double now)
{
	if (!dp->icmp_errors) return XL_DP_DROP;
	if ((be16(b, l3 + 6) & 0x1fff) != 0) return XL_DP_DROP;
	if (b[l3 + 9] == 1) {
		if (l3 + ihl >= l3 + tot) return XL_DP_DROP;
		int t = b[l3 + ihl];
		if (t > 18 || t == 3 || t == 4 || t == 5 || t == 11 || t == 12) return XL_DP_DROP;
	}
	int src = l3 + 12;
	int eg = error_l2(dp, 4, b, off, src, in, now);
	if (eg < 0) return XL_DP_DROP;
	uint8_t *g = dp->gen_buf;
	int ip = ETH_HLEN;
	if (!select_src4(dp, eg, g, ip, g, ip + 12)) return XL_DP_DROP;
	int mtu = dp->ifaces[eg].mtu;
	int room = (mtu < ICMP4_MAX_ERROR ? mtu : ICMP4_MAX_ERROR) - 20 - 8;
	if (room <= 20) return XL_DP_DROP;
	int quote = tot < room ? tot : room;
	int icmp_len = 8 + quote;
	g[ip] = 0x45;
	g[ip + 1] = 0xc0 | (b[l3 + 1] & 0x1e);
	put16(g, ip + 2, 20 + icmp_len);
	put16(g, ip + 4, 0);
	put16(g, ip + 6, 0);
	g[ip + 8] = ICMP_TTL;
	g[ip + 9] = 1;
	put16(g, ip + 10, 0);
	memcpy(g + ip + 16, b + src, 4);
	put16(g, ip + 10, ~fold16(sum16(g, ip, 20, 0)) & 0xffff);
	int ic = ip + 20;
	g[ic] = type;
	g[ic + 1] = code;
	put16(g, ic + 2, 0);
	put32(g, ic + 4, info);
	memcpy(g + ic + 8, b + l3, quote);
	put16(g, ic + 2, ~fold16(sum16(g, ic, icmp_len, 0)) & 0xffff);
	dp->gen_len = ETH_HLEN + 20 + icmp_len;
	dp->gen_egress_if = eg;
	dp->gen_type = type;
	dp->gen_code = code;
	return XL_DP_ICMP_ERROR;
}

static const uint8_t *select_src6(struct xl_dp *dp, int eg, const uint8_t *b, int dst_off)
{
	const uint8_t *best = NULL;
	int best_len = -1;
	for (int pass = 0; pass < 2; pass++) {
		int k0 = pass == 0 ? eg : 0, k1 = pass == 0 ? eg + 1 : dp->nifaces;
		for (int k = k0; k < k1; k++)
			for (int j = 0; j < dp->ifaces[k].naddrs; j++) {
				const struct xl_addr *a = &dp->ifaces[k].addrs[j];
				if (a->family != 6 || (a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80)) continue;
				int l = common_prefix_len(a->bytes, b, dst_off);
				if (l > best_len) {
					best = a->bytes;
					best_len = l;
				}
			}
		if (best != NULL) return best;
	}
	return best;
}

static int icmp6(struct xl_dp *dp, const uint8_t *b, int off, int l3, int tot, int type, int code, uint32_t info, int in,
		 double now)
{
	if (!dp->icmp_errors) return XL_DP_DROP;
	int src = l3 + 8;
	if (b[src] == 0xff) return XL_DP_DROP;
	int all_zero = 1;
	for (int j = 0; j < 16; j++)
		if (b[src + j] != 0) all_zero = 0;
	if (all_zero) return XL_DP_DROP;
	walk_l4v6(dp, b, l3, tot);
	if (dp->l4_proto == 58 && (dp->l4_off >= l3 + tot || b[dp->l4_off] < 128)) return XL_DP_DROP;
	int eg = error_l2(dp, 6, b, off, src, in, now);
	if (eg < 0) return XL_DP_DROP;
	uint8_t *g = dp->gen_buf;
	int ip = ETH_HLEN;
	const uint8_t *a = select_src6(dp, eg, b, src);
	if (a == NULL) return XL_DP_DROP;
	int quote = tot < ICMP6_MAX_ERROR - 48 ? tot : ICMP6_MAX_ERROR - 48;
	int icmp_len = 8 + quote;
	put32(g, ip, 0x60000000u);
	put16(g, ip + 4, icmp_len);
	g[ip + 6] = 58;
	g[ip + 7] = ICMP_TTL;
	memcpy(g + ip + 8, a, 16);
	memcpy(g + ip + 24, b + src, 16);
	int ic = ip + 40;
	g[ic] = type;
	g[ic + 1] = code;
	put16(g, ic + 2, 0);
	put32(g, ic + 4, info);
	memcpy(g + ic + 8, b + l3, quote);
	uint64_t acc = sum16(g, ip + 8, 32, 0) + (uint64_t)icmp_len + 58;
	acc = sum16(g, ic, icmp_len, acc);
	put16(g, ic + 2, ~fold16(acc) & 0xffff);
	dp->gen_len = ETH_HLEN + 40 + icmp_len;
	dp->gen_egress_if = eg;
	dp->gen_type = type;
	dp->gen_code = code;
	return XL_DP_ICMP_ERROR;
}

static int finish_l2(struct xl_dp *dp, uint8_t *b, int off, int l3, int tags, int tot, int eg, int family, double now)
{
	if (tags > 0) {
		memmove(b + off + ETH_HLEN, b + l3, tot);
		put16(b, off + 12, family == 4 ? 0x0800 : 0x86dd);
	}
	dp->new_len = ETH_HLEN + tot;
	memcpy(b + off + 6, dp->ifaces[eg].mac, 6);
	int e = neigh_resolved(dp, eg, family, dp->nexthop, 0, now);
	if (e < 0) {
		dp->reason = 0;
		return XL_DP_HOLD;
	}
	memcpy(b + off, dp->neigh[e].mac, 6);
	return XL_DP_FORWARD;
}

/* An error about a packet whose destination nat.pre translated is related to that
 * session: translate its quote back (netfilter NATs locally generated errors at POSTROUTING).
 * A new DNAT flow has no session yet, but Linux gives the error the packet's own conntrack. */
static int nat_error(struct xl_dp *dp, int rc, int family, double now)
{
	if (rc != XL_DP_ICMP_ERROR || (dp->nat.sid < 0 && dp->nat.dnat_rule < 0)) return rc;
	int ihl = family == 4 ? 20 : 40;
	int sc = dp->nat.src_changed, dc = dp->nat.dst_changed;
	if (dp->nat.sid >= 0)
		xl_translate_icmp_error(&dp->nat, dp->gen_buf, ETH_HLEN, family, ETH_HLEN + ihl, dp->gen_len, now);
	else
		xl_untranslate_new_dnat_error(&dp->nat, dp->gen_buf, ETH_HLEN, family, ETH_HLEN + ihl, dp->gen_len, dp->nat.pk);
	dp->nat.src_changed = sc;
	dp->nat.dst_changed = dc;
	return rc;
}

static int forward4(struct xl_dp *dp, uint8_t *b, int off, int end, int l3, int tags, int in, double now)
{
	if (l3 + 20 > end) return drop(dp, XDPLAB_R_MALFORMED);
	int vihl = b[l3];
	int ihl = (vihl & 0x0f) * 4;
	if (vihl >> 4 != 4 || ihl < 20 || l3 + ihl > end) return drop(dp, XDPLAB_R_MALFORMED);
	int tot = be16(b, l3 + 2);
	if (tot < ihl || l3 + tot > end) return drop(dp, XDPLAB_R_MALFORMED);
	if (fold16(sum16(b, l3, ihl, 0)) != 0xffff) return drop(dp, XDPLAB_R_IP_CSUM_BAD);
	int src = l3 + 12, dst = l3 + 16;
	int s0 = b[src], d0 = b[dst];
	if ((s0 >= 224 && s0 < 240) || s0 == 0 || s0 == 127 || (s0 == 255 && b[src + 1] == 255 && b[src + 2] == 255 && b[src + 3] == 255))
		return drop(dp, XDPLAB_R_MARTIAN);
	if (d0 == 255 && b[dst + 1] == 255 && b[dst + 2] == 255 && b[dst + 3] == 255) return kernel(dp);
	if (d0 == 0 || d0 == 127 || (d0 >= 224 && d0 < 240)) return drop(dp, XDPLAB_R_MARTIAN);
	if (is_bcast4(dp, b, dst)) return kernel(dp);
	int local_dst = is_local4(dp, b, dst);
	if (is_local4(dp, b, src) || is_bcast4(dp, b, src)) return drop(dp, XDPLAB_R_MARTIAN);

	walk_l4v4(dp, b, l3, ihl, tot);
	struct xl_nat *nat = &dp->nat;
	xl_nat_begin(nat, b, l3, 4, dp->l4_proto, dp->l4_off, dp->l4_first, dp->l4_end, dp->is_frag, dp->more_frags, dp->frag_id);
	if (xl_nat_l4_truncated(nat)) return drop(dp, XDPLAB_R_MALFORMED);
	if (dp->reply_miss_to_kernel && xl_nat_to_snat_address(&dp->nat, b, in)) return kernel(dp);
	dp->lookup_kind = XL_LK_NEW;
	int rc = xl_nat_pre_hook(dp, b, in, local_dst, now);
	if (rc != 0) return rc;

	int ri = fib_lookup(dp, 4, b, dst);
	if (ri < 0) {
		dp->reason = XDPLAB_R_NO_ROUTE;
		return icmp4(dp, b, off, l3, ihl, tot, 3, 0, 0, in, now);
	}
	dp->last_route = ri;
	const struct xl_route *route = &dp->routes[ri];
	int eg = route->iface;
	dp->egress_if = eg;
	dp->nexthop_family = 4;
	memset(dp->nexthop, 0, 16);
	memcpy(dp->nexthop, route->has_via ? route->via : b + dst, 4);

	int ttl = b[l3 + 8];
	if (ttl <= 1) {
		dp->reason = XDPLAB_R_TTL_EXPIRED;
		return nat_error(dp, icmp4(dp, b, off, l3, ihl, tot, 11, 0, 0, in, now), 4, now);
	}
	int mtu = dp->ifaces[eg].mtu;
	if (tot > mtu && !dp->ignore_mtu) {
		if (b[l3 + 6] & 0x40) {
			dp->reason = XDPLAB_R_MTU_EXCEEDED;
			return nat_error(dp, icmp4(dp, b, off, l3, ihl, tot, 3, 4, (uint32_t)mtu, in, now), 4, now);
		}
		return drop(dp, XDPLAB_R_MTU_EXCEEDED_DF_CLEAR);
	}
	/* FORWARD-hook policy: new flows only (replies and established sessions are not re-checked) */
	if (nat->is_new && !permitted(dp, 4, b, src, dst, in, eg)) {
		dp->lookup_kind = XL_LK_DENIED;
		return drop(dp, XDPLAB_R_POLICY_DENY);
	}
	rc = xl_nat_post_hook(dp, b, eg, 4, now);
	if (rc != 0) return rc;
	xl_nat_finish(nat, b);
	b[l3 + 8] = ttl - 1;
	put16(b, l3 + 10, ttl_decrement_checksum(be16(b, l3 + 10)));
	return finish_l2(dp, b, off, l3, tags, tot, eg, 4, now);
}

static int forward6(struct xl_dp *dp, uint8_t *b, int off, int end, int l3, int tags, int in, double now)
{
	if (l3 + 40 > end || b[l3] >> 4 != 6) return drop(dp, XDPLAB_R_MALFORMED);
	int pay = be16(b, l3 + 4);
	if (pay == 0 || l3 + 40 + pay > end) return drop(dp, XDPLAB_R_MALFORMED);
	int tot = 40 + pay;
	int src = l3 + 8, dst = l3 + 24;
	if (b[src] == 0xff || is_v4mapped6(b, src) || (is_loop_or_unspec6(b, src) && b[src + 15] == 1)) return drop(dp, XDPLAB_R_MARTIAN);
	if (b[dst] == 0xff) {
		int scope = b[dst + 1] & 0x0f;
		return scope == 2 ? kernel(dp) : drop(dp, XDPLAB_R_MARTIAN);
	}
	if (b[dst] == 0xfe && (b[dst + 1] & 0xc0) == 0x80) return kernel(dp);
	if (is_loop_or_unspec6(b, dst) || is_v4mapped6(b, dst)) return drop(dp, XDPLAB_R_MARTIAN);
	int local_dst = is_local6(dp, b, dst);
	if (!local_dst && (is_loop_or_unspec6(b, src) || (b[src] == 0xfe && (b[src + 1] & 0xc0) == 0x80)))
		return drop(dp, XDPLAB_R_MARTIAN);

	walk_l4v6(dp, b, l3, tot);
	struct xl_nat *nat = &dp->nat;
	xl_nat_begin(nat, b, l3, 6, dp->l4_proto, dp->l4_off, dp->l4_first, dp->l4_end, dp->is_frag, dp->more_frags, dp->frag_id);
	if (xl_nat_l4_truncated(nat)) return drop(dp, XDPLAB_R_MALFORMED);
	if (dp->reply_miss_to_kernel && xl_nat_to_snat_address(&dp->nat, b, in)) return kernel(dp);
	dp->lookup_kind = XL_LK_NEW;
	int rc = xl_nat_pre_hook(dp, b, in, local_dst, now);
	if (rc != 0) return rc;

	int ri = fib_lookup(dp, 6, b, dst);
	if (ri < 0) {
		dp->reason = XDPLAB_R_NO_ROUTE;
		return icmp6(dp, b, off, l3, tot, 1, 0, 0, in, now);
	}
	dp->last_route = ri;
	const struct xl_route *route = &dp->routes[ri];
	int eg = route->iface;
	dp->egress_if = eg;
	dp->nexthop_family = 6;
	memcpy(dp->nexthop, route->has_via ? route->via : b + dst, 16);
	int hop = b[l3 + 7];
	if (hop <= 1) {
		dp->reason = XDPLAB_R_TTL_EXPIRED;
		return nat_error(dp, icmp6(dp, b, off, l3, tot, 3, 0, 0, in, now), 6, now);
	}
	int mtu = dp->ifaces[eg].mtu;
	if (mtu < 1280) mtu = 1280;
	if (tot > mtu && !dp->ignore_mtu) {
		dp->reason = XDPLAB_R_MTU_EXCEEDED;
		return nat_error(dp, icmp6(dp, b, off, l3, tot, 2, 0, (uint32_t)mtu, in, now), 6, now);
	}
	/* icmp6() may have re-walked for its own checks: walk again for the policy and NAT */
	walk_l4v6(dp, b, l3, tot);
	if (nat->is_new && !permitted(dp, 6, b, src, dst, in, eg)) {
		dp->lookup_kind = XL_LK_DENIED;
		return drop(dp, XDPLAB_R_POLICY_DENY);
	}
	rc = xl_nat_post_hook(dp, b, eg, 6, now);
	if (rc != 0) return rc;
	xl_nat_finish(nat, b);

	b[l3 + 7] = hop - 1;
	return finish_l2(dp, b, off, l3, tags, tot, eg, 6, now);
}

int xl_dp_process(struct xl_dp *dp, uint8_t *b, int off, int len, int in, double now)
{
	dp->egress_if = -1;
	dp->new_len = len;
	dp->reason = 0;
	dp->lookup_kind = XL_LK_NONE;
	dp->nexthop_family = 0;
	dp->gen_len = 0;
	dp->gen_egress_if = -1;
	dp->gen_type = -1;
	dp->gen_code = -1;
	dp->last_route = -1;
	dp->last_now = now;
	if (now > dp->now_seen) dp->now_seen = now;
	int end = off + len;
	if (len < ETH_HLEN) return drop(dp, XDPLAB_R_MALFORMED);
	int et = be16(b, off + 12);
	int l3 = off + ETH_HLEN;
	int tags = 0;
	while (et == 0x8100 || et == 0x88a8) {
		if (l3 + 4 > end || tags == 2) return drop(dp, XDPLAB_R_MALFORMED);
		if ((be16(b, l3) & 0x0fff) != 0) return drop(dp, XDPLAB_R_VLAN_UNKNOWN);
		et = be16(b, l3 + 2);
		l3 += 4;
		tags++;
	}
	if (et == 0x0800) return forward4(dp, b, off, end, l3, tags, in, now);
	if (et == 0x86dd) return forward6(dp, b, off, end, l3, tags, in, now);
	dp->reason = XDPLAB_R_NOT_IP;
	return XL_DP_KERNEL;
}

int xl_dp_complete_hold(struct xl_dp *dp, uint8_t *b, int off, int egress, const uint8_t *nexthop, int family)
{
	int e = neigh_resolved(dp, egress, family, nexthop, 0, dp->now_seen);
	if (e < 0) return 0;
	memcpy(b + off, dp->neigh[e].mac, 6);
	return 1;
}

int xl_dp_neighbor_known(struct xl_dp *dp, int egress, const uint8_t *nexthop, int family, double now)
{
	if (now > dp->now_seen) dp->now_seen = now;
	return neigh_resolved(dp, egress, family, nexthop, 0, now) >= 0;
}

int xl_dp_neighbor_resolved(struct xl_dp *dp, int egress, int family, const uint8_t *nexthop, double now)
{
	return neigh_resolved(dp, egress, family, nexthop, 0, now) >= 0;
}

int xl_dp_is_local_key(struct xl_dp *dp, int family, const uint32_t *k)
{
	uint8_t b[16];
	for (int j = 0; j < 4; j++) put32(b, j * 4, k[j]);
	return family == 4 ? is_local4(dp, b, 0) : is_local6(dp, b, 0);
}

int xl_dp_nat_init(struct xl_dp *dp, double seed, int generic, uint32_t bugs, int sessions)
{
	struct xl_nat *n = &dp->nat;
	if (n->sessions.orig) return -1; /* once */
	if (xl_sessions_init(&n->sessions, sessions) != 0) return -1;
	n->sessions.b_no_reverse_index = (bugs & XL_BUG_NO_REVERSE_INDEX) != 0;
	n->sessions.b_reverse_index_overwrite = (bugs & XL_BUG_REVERSE_INDEX_OVERWRITE) != 0;
	n->sessions.b_rst_tears_down = (bugs & XL_BUG_RST_TEARS_DOWN) != 0;
	if (xl_frags_init(&n->frags, XL_FRAG_CAPACITY) != 0) return -1;
	struct xl_prng root;
	xl_prng_seed(&root, seed);
	xl_prng_fork(&root, 0x4e4154, &n->prng); /* "NAT" */
	n->b_sign_flip = (bugs & XL_BUG_SIGN_FLIPPED_DELTA) != 0;
	n->b_partial_as_full = (bugs & XL_BUG_PARTIAL_CSUM_AS_FULL) != 0;
	n->b_port_only_no_csum = (bugs & XL_BUG_PORT_ONLY_NAT_NO_CSUM) != 0;
	n->b_stale_ports = (bugs & XL_BUG_PORTS_FROM_STALE_FRAME) != 0;
	n->b_mutated_tuple = (bugs & XL_BUG_TUPLE_FROM_MUTATED_FRAME) != 0;
	n->b_embedded_no_swap = (bugs & XL_BUG_EMBEDDED_ICMP_NO_SWAP) != 0;
	n->b_snat_collision = (bugs & XL_BUG_SNAT_PORT_COLLISION) != 0;
	n->b_overwrite = (bugs & XL_BUG_REVERSE_INDEX_OVERWRITE) != 0;
	n->b_frag_lose = (bugs & XL_BUG_FRAGMENTS_LOSE_SESSION) != 0;
	n->b_session_after_neigh = (bugs & XL_BUG_SESSION_AFTER_NEIGHBOR) != 0;
	dp->reply_miss_to_kernel = (bugs & XL_BUG_REPLY_MISS_GOES_TO_KERNEL) != 0;
	n->generic_attach = generic;
	n->stale_sport = -1;
	n->stale_dport = -1;
	/* the interfaces' NAT addresses: first IPv4, first non-link-local IPv6 */
	int ni = dp->nifaces;
	n->nifaces = ni;
	n->if_addr4 = calloc(ni, sizeof(uint32_t));
	n->if_has4 = calloc(ni, 1);
	n->if_addr6 = calloc((size_t)ni * 4, sizeof(uint32_t));
	n->if_has6 = calloc(ni, 1);
	if (!n->if_addr4 || !n->if_has4 || !n->if_addr6 || !n->if_has6) return -1;
	return 0;
}

/* Called by ready: the interface addresses are complete then. */
void xl_dp_nat_addrs(struct xl_dp *dp)
{
	struct xl_nat *n = &dp->nat;
	for (int i = 0; i < n->nifaces && i < dp->nifaces; i++) {
		const struct xl_iface *ifc = &dp->ifaces[i];
		for (int j = 0; j < ifc->naddrs; j++) {
			const struct xl_addr *a = &ifc->addrs[j];
			if (a->family == 4 && !n->if_has4[i]) {
				n->if_addr4[i] = ((uint32_t)a->bytes[0] << 24) | ((uint32_t)a->bytes[1] << 16) | ((uint32_t)a->bytes[2] << 8) | a->bytes[3];
				n->if_has4[i] = 1;
			}
			if (a->family == 6 && !n->if_has6[i] && !(a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80)) {
				for (int q = 0; q < 4; q++)
					n->if_addr6[i * 4 + q] = ((uint32_t)a->bytes[q * 4] << 24) | ((uint32_t)a->bytes[q * 4 + 1] << 16) |
								 ((uint32_t)a->bytes[q * 4 + 2] << 8) | a->bytes[q * 4 + 3];
				n->if_has6[i] = 1;
			}
		}
	}
}

void xl_dp_nat_free(struct xl_dp *dp)
{
	struct xl_nat *n = &dp->nat;
	if (n->sessions.orig) xl_sessions_free(&n->sessions);
	xl_frags_free(&n->frags);
	for (int i = 0; i < n->nsnat; i++) {
		free(n->snat[i].pool);
		free(n->snat[i].pool_fam);
	}
	free(n->snat);
	free(n->dnat);
	free(n->if_addr4);
	free(n->if_has4);
	free(n->if_addr6);
	free(n->if_has6);
	memset(n, 0, sizeof(*n));
}
