/* SPDX-License-Identifier: BSD-2-Clause */
/* The NAT engine (mirror of sim/dataplane/nat.ts, method by method): session lookup,
 * DNAT for new flows, the reverse translation of replies, SNAT with netfilter's tuple
 * choice (get_unique_tuple / nf_nat_l4proto_unique_tuple, offsets from the model's PRNG
 * forked with "NAT"), install, fragment following and the in-place rewrite with the
 * model's incremental checksums. The CATALOGUE C/D/D′ switches act where the model's do. */
#include <string.h>
#include "worker_int.h"
#include "nat.h"
#include "../../bpf/xdplab_abi.h"

#define NAT_MAX_ATTEMPTS 128
#define LK_SESSION_HIT 1
#define LK_NAT_REVERSE_HIT 3
#define LK_NEW 4

static inline uint32_t rd32(const uint8_t *b, int o)
{
	return ((uint32_t)b[o] << 24) | ((uint32_t)b[o + 1] << 16) | ((uint32_t)b[o + 2] << 8) | b[o + 3];
}

int xl_nat_icmp_has_id(int fam, int t)
{
	if (fam == 6) return t == 128 || t == 129;
	return t == 0 || t == 8 || t == 13 || t == 14 || t == 15 || t == 16 || t == 17 || t == 18;
}
static int icmp_is_request(int fam, int t)
{
	if (fam == 6) return t == 128;
	return t == 8 || t == 13 || t == 15 || t == 17;
}
int xl_nat_icmp_is_error(int fam, int t)
{
	if (fam == 6) return t >= 1 && t <= 4;
	return t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
}

void xl_pack_key(const uint8_t *buf, int src_off, int dst_off, int fam, int proto, int sport, int dport, uint32_t *k)
{
	if (fam == 4) {
		k[0] = rd32(buf, src_off);
		k[1] = k[2] = k[3] = 0;
		k[4] = rd32(buf, dst_off);
		k[5] = k[6] = k[7] = 0;
	} else {
		for (int j = 0; j < 4; j++) {
			k[j] = rd32(buf, src_off + j * 4);
			k[4 + j] = rd32(buf, dst_off + j * 4);
		}
	}
	k[8] = ((uint32_t)sport << 16) | (uint32_t)dport;
	k[9] = (uint32_t)fam | ((uint32_t)proto << 8);
}

/* ---- checksum arithmetic (the one place signFlippedDelta lives) ---- */

int xl_nat_cs(const struct xl_nat *n, int check, int old_w, int new_w)
{
	if (n->b_sign_flip) return ~fold16((uint64_t)check + (~old_w & 0xffff) + new_w) & 0xffff;
	return ~fold16((uint64_t)(~check & 0xffff) + (~old_w & 0xffff) + (new_w & 0xffff)) & 0xffff;
}
static int cs_partial(const struct xl_nat *n, int check, int old_w, int new_w)
{
	return ~xl_nat_cs(n, ~check & 0xffff, old_w, new_w) & 0xffff;
}

/* ---- per packet ---- */

void xl_nat_begin(struct xl_nat *n, const uint8_t *buf, int l3, int fam, int proto, int l4_off, int l4_first, int l4_end,
		  int is_frag, int more_frags, uint32_t frag_id)
{
	n->reason = 0;
	n->lookup_kind = 0;
	n->sid = -1;
	n->dir = -1;
	n->is_new = 0;
	n->related = 0;
	n->dnat_rule = -1;
	n->src_changed = 0;
	n->dst_changed = 0;
	n->fam = fam;
	n->proto = proto;
	n->l3 = l3;
	n->l4_off = l4_off;
	n->l4_first = l4_first;
	n->l4_end = l4_end;
	n->is_frag = is_frag;
	n->more_frags = more_frags;
	n->frag_id = frag_id;
	n->tcp_flags = -1;
	n->icmp_type = -1;
	int have = l4_end - l4_off;
	int sport = 0, dport = 0;
	if (l4_first) {
		if ((proto == 6 && have >= 20) || (proto == 17 && have >= 8)) {
			sport = be16(buf, l4_off);
			dport = be16(buf, l4_off + 2);
			if (proto == 6) n->tcp_flags = buf[l4_off + 13];
		} else if ((proto == 1 && fam == 4) || (proto == 58 && fam == 6)) {
			if (have >= 8) {
				n->icmp_type = buf[l4_off];
				if (xl_nat_icmp_has_id(fam, n->icmp_type)) sport = be16(buf, l4_off + 4);
			}
		}
	}
	int src_off = fam == 4 ? l3 + 12 : l3 + 8;
	xl_pack_key(buf, src_off, src_off + (fam == 4 ? 4 : 16), fam, proto, sport, dport, n->pk);
}

int xl_nat_l4_truncated(const struct xl_nat *n)
{
	if (!n->l4_first) return 0;
	int have = n->l4_end - n->l4_off;
	return (n->proto == 6 && have < 20) || (n->proto == 17 && have < 8);
}

static int drop(struct xl_nat *n, int reason)
{
	n->reason = reason;
	return XL_NAT_DROP;
}
static int kernel(struct xl_nat *n)
{
	n->reason = XDPLAB_R_LOCAL_DELIVERY;
	return XL_NAT_KERNEL;
}

static void set_hit_kind(struct xl_nat *n)
{
	int fl = n->sessions.flags[n->sid];
	n->lookup_kind = n->dir == 1 && (fl & (XL_F_SNAT | XL_F_DNAT)) ? LK_NAT_REVERSE_HIT : LK_SESSION_HIT;
}

static void rewrite(struct xl_nat *n, uint8_t *buf, int do_src, int do_dst, int icmp_id)
{
	int fam = n->fam, l3 = n->l3;
	int alen = fam == 4 ? 4 : 16;
	int src_off = fam == 4 ? l3 + 12 : l3 + 8;
	int proto = n->proto, o4 = n->l4_off;
	int have = n->l4_first ? n->l4_end - o4 : 0;
	int ipc = fam == 4 ? be16(buf, l3 + 10) : 0;
	int l4c = -1, pseudo = 0;
	if (have > 0) {
		if (proto == 6 && have >= 18) {
			l4c = o4 + 16;
			pseudo = 1;
		} else if (proto == 17 && have >= 8) {
			l4c = o4 + 6;
			pseudo = 1;
		} else if (proto == 1 && fam == 4 && have >= 8) {
			l4c = o4 + 2;
		} else if (proto == 58 && fam == 6 && have >= 8) {
			l4c = o4 + 2;
			pseudo = 1;
		}
	}
	int lc = l4c >= 0 ? be16(buf, l4c) : 0;
	int udp_none = proto == 17 && lc == 0;
	int partial = n->csum_partial && n->generic_attach && (proto == 6 || proto == 17) && !n->b_partial_as_full;
	const uint32_t *tk = n->tk;
	int addr_changed = 0;
	for (int side = 0; side < 2; side++) {
		if (side == 0 ? !do_src : !do_dst) continue;
		int off = src_off + side * alen;
		int kw = side * 4;
		for (int w = 0; w < alen / 2; w++) {
			uint32_t word = tk[kw + (w >> 1)];
			int nv = (w & 1) == 0 ? (int)(word >> 16) : (int)(word & 0xffff);
			int ov = be16(buf, off + w * 2);
			if (ov == nv) continue;
			addr_changed = 1;
			if (fam == 4) ipc = xl_nat_cs(n, ipc, ov, nv);
			if (l4c >= 0 && pseudo && !udp_none) lc = partial ? cs_partial(n, lc, ov, nv) : xl_nat_cs(n, lc, ov, nv);
			put16(buf, off + w * 2, nv);
		}
		if (side == 0) n->src_changed = n->src_changed || addr_changed;
		else n->dst_changed = n->dst_changed || addr_changed;
	}
	if (have >= 4 && (proto == 6 || proto == 17)) {
		for (int side = 0; side < 2; side++) {
			if (side == 0 ? !do_src : !do_dst) continue;
			int po = o4 + side * 2;
			uint32_t p = tk[8];
			int nv = side == 0 ? (int)(p >> 16) : (int)(p & 0xffff);
			if (n->b_stale_ports) {
				int s = side == 0 ? n->stale_sport : n->stale_dport;
				if (s >= 0) nv = s;
			}
			int ov = be16(buf, po);
			if (ov == nv) continue;
			if (side == 0) n->src_changed = 1;
			else n->dst_changed = 1;
			int skip = udp_none || partial || (n->b_port_only_no_csum && !addr_changed);
			if (l4c >= 0 && !skip) lc = xl_nat_cs(n, lc, ov, nv);
			put16(buf, po, nv);
		}
	} else if (icmp_id && l4c >= 0 && xl_nat_icmp_has_id(fam, buf[o4])) {
		int nv = (int)(tk[8] >> 16);
		int ov = be16(buf, o4 + 4);
		if (ov != nv) {
			if (!(n->b_port_only_no_csum && !addr_changed)) lc = xl_nat_cs(n, lc, ov, nv);
			put16(buf, o4 + 4, nv);
			n->src_changed = 1;
		}
	}
	if (fam == 4) put16(buf, l3 + 10, ipc);
	if (l4c >= 0) {
		if (proto == 17 && !udp_none && lc == 0) lc = 0xffff;
		put16(buf, l4c, lc);
	}
	if (have >= 4 && (proto == 6 || proto == 17)) {
		n->stale_sport = be16(buf, o4);
		n->stale_dport = be16(buf, o4 + 2);
	}
}

static void apply_hit(struct xl_nat *n, uint8_t *buf, int src_side)
{
	struct xl_sessions *st = &n->sessions;
	xl_invert_key((n->dir == 0 ? st->reply : st->orig) + (size_t)n->sid * XL_KEY_WORDS, n->tk);
	rewrite(n, buf, src_side, !src_side, src_side ? n->dir == 0 : n->dir == 1);
}

static void frag_key(struct xl_nat *n, const uint8_t *buf)
{
	uint32_t *k = n->fk;
	int src_off = n->fam == 4 ? n->l3 + 12 : n->l3 + 8;
	xl_pack_key(buf, src_off, src_off + (n->fam == 4 ? 4 : 16), n->fam, n->proto, 0, 0, k);
	k[8] = n->frag_id;
	k[9] |= 0x10000;
}

static void record_frag(struct xl_nat *n, double now)
{
	if (!n->is_frag || !n->l4_first || !n->more_frags || n->sid < 0) return;
	uint32_t *k = n->fk;
	for (int j = 0; j < 8; j++) k[j] = n->pk[j];
	k[8] = n->frag_id;
	k[9] = n->pk[9] | 0x10000;
	xl_frags_record(&n->frags, k, n->sid * 2 + n->dir, n->sessions.gen[n->sid], now);
}

static int prefix_has(const uint8_t *prefix, int len, const uint8_t *buf, int off)
{
	int i = 0;
	for (; len >= 8; i++, len -= 8)
		if (prefix[i] != buf[off + i]) return 0;
	if (len == 0) return 1;
	int m = (0xff << (8 - len)) & 0xff;
	return ((prefix[i] ^ buf[off + i]) & m) == 0;
}

static int match_dnat(struct xl_nat *n, const uint8_t *buf, int ingress)
{
	int dst_off = n->fam == 4 ? n->l3 + 16 : n->l3 + 24;
	int alen = n->fam == 4 ? 4 : 16;
	int dport = n->pk[8] & 0xffff;
	for (int i = 0; i < n->ndnat; i++) {
		const struct xl_dnat_rule *r = &n->dnat[i];
		if (r->ingress != ingress || r->family != n->fam) continue;
		if (r->proto != 0 && r->proto != n->proto) continue;
		if (memcmp(r->dst, buf + dst_off, alen) != 0) continue;
		if (r->port >= 0 && (!n->l4_first || r->port != dport)) continue;
		return i;
	}
	return -1;
}

/* Bug replyMissGoesToKernel's broken check, before the session lookup: the packet is
 * addressed to an address SNAT hands out (an interface rule's egress address, a pool
 * address) and matches no DNAT rule (mirror of NatEngine.toSnatAddress). */
int xl_nat_to_snat_address(struct xl_nat *n, const uint8_t *buf, int ingress)
{
	const uint32_t *pk = n->pk;
	int words = n->fam == 4 ? 1 : 4;
	int hit = 0;
	for (int i = 0; i < n->nsnat && !hit; i++) {
		const struct xl_snat_rule *c = &n->snat[i];
		if (c->is_interface) {
			int e = c->egress;
			if (n->fam == 4) {
				hit = n->if_has4[e] && pk[4] == n->if_addr4[e];
			} else if (n->if_has6[e]) {
				hit = 1;
				for (int j = 0; j < 4; j++)
					if (pk[4 + j] != n->if_addr6[e * 4 + j]) hit = 0;
			}
			continue;
		}
		for (int a = 0; a < c->npool && !hit; a++) {
			if (c->pool_fam[a] != n->fam) continue;
			hit = 1;
			for (int j = 0; j < words; j++)
				if (pk[4 + j] != c->pool[a * 4 + j]) hit = 0;
		}
	}
	return hit && match_dnat(n, buf, ingress) < 0;
}

static int match_snat(struct xl_nat *n, const uint8_t *buf, int egress)
{
	int src_off = n->fam == 4 ? n->l3 + 12 : n->l3 + 8;
	for (int i = 0; i < n->nsnat; i++) {
		const struct xl_snat_rule *r = &n->snat[i];
		if (r->egress != egress) continue;
		if (r->has_from) {
			if (r->from_family != n->fam) continue;
			if (!prefix_has(r->from, r->from_plen, buf, src_off)) continue;
		} else if (!r->is_interface) {
			int any = 0;
			for (int j = 0; j < r->npool; j++)
				if (r->pool_fam[j] == n->fam) any = 1;
			if (!any) continue;
		}
		return i;
	}
	return -1;
}

static int snat_address(struct xl_nat *n, const struct xl_snat_rule *c, int egress, uint32_t *rk)
{
	if (c->is_interface) {
		if (n->fam == 4) {
			if (!n->if_has4[egress]) return 0;
			rk[4] = n->if_addr4[egress];
			rk[5] = rk[6] = rk[7] = 0;
		} else {
			if (!n->if_has6[egress]) return 0;
			for (int j = 0; j < 4; j++) rk[4 + j] = n->if_addr6[egress * 4 + j];
		}
		return 1;
	}
	int cnt = 0;
	for (int i = 0; i < c->npool; i++)
		if (c->pool_fam[i] == n->fam) cnt++;
	if (cnt == 0) return 0;
	uint32_t h = 0x12345;
	for (int j = 0; j < 8; j++) h = (h ^ n->pk[j]) * 0x01000193u;
	uint32_t pick = h % (uint32_t)cnt;
	for (int i = 0; i < c->npool; i++) {
		if (c->pool_fam[i] != n->fam) continue;
		if (pick-- == 0) {
			for (int j = 0; j < 4; j++) rk[4 + j] = c->pool[i * 4 + j];
			return 1;
		}
	}
	return 0;
}

static int taken(struct xl_nat *n, const uint32_t *rk, double now)
{
	struct xl_sessions *st = &n->sessions;
	int32_t v = xl_sessions_lookup(st, rk, now);
	if (v < 0) return 0;
	if (n->b_overwrite) {
		int s = st->state[(uint32_t)v >> 2];
		if (s == XL_TCP_CLOSE || s == XL_TCP_TIME_WAIT) return 0;
	}
	return 1;
}

static int unique_port(struct xl_nat *n, uint32_t *rk, int icmp, int specified, int lo, int hi, int orig_port, double now)
{
	int min, size;
	if (icmp) {
		if (specified) {
			min = lo;
			size = hi - lo + 1;
		} else {
			min = 0;
			size = 65536;
		}
	} else if (n->proto == 6 || n->proto == 17) {
		if (specified) {
			min = lo;
			size = hi - lo + 1;
		} else if (orig_port < 512) {
			min = 1;
			size = 511;
		} else if (orig_port < 1024) {
			min = 600;
			size = 1023 - 600 + 1;
		} else {
			min = 1024;
			size = 65535 - 1024 + 1;
		}
	} else
		return 0;
	uint32_t off = xl_prng_next_u32(&n->prng) & 0xffff;
	int attempts = size < NAT_MAX_ATTEMPTS ? size : NAT_MAX_ATTEMPTS;
	for (;;) {
		for (int i = 0; i < attempts; i++, off = (off + 1) & 0xffff) {
			uint32_t port = (uint32_t)min + off % (uint32_t)size;
			if (icmp) rk[8] = port << 16;
			else rk[8] = (rk[8] & 0xffff0000u) | port;
			if (!taken(n, rk, now)) return 1;
		}
		if (attempts >= size || attempts < 16) return 0;
		attempts >>= 1;
		off = xl_prng_next_u32(&n->prng) & 0xffff;
	}
}

int xl_nat_pre(struct xl_nat *n, uint8_t *buf, int ingress, int local_dst, double now)
{
	struct xl_sessions *st = &n->sessions;
	if (n->is_frag && !n->l4_first && !n->b_frag_lose) {
		frag_key(n, buf);
		int32_t v = xl_frags_find(&n->frags, n->fk, now);
		int sid = v >= 0 ? (int)((uint32_t)v >> 1) : -1;
		if (v < 0 || sid >= st->capacity || !xl_sessions_is_live(st, sid) || st->gen[sid] != n->frags.found_gen) {
			if (local_dst) return kernel(n);
			st->stats[XL_NS_FRAG_NO_SESSION]++;
			return drop(n, XDPLAB_R_FRAGMENT_NO_SESSION);
		}
		n->sid = sid;
		n->dir = v & 1;
		set_hit_kind(n);
		apply_hit(n, buf, 0);
		return XL_NAT_CONTINUE;
	}
	if (n->icmp_type >= 0 && xl_nat_icmp_is_error(n->fam, n->icmp_type)) {
		int v = xl_translate_icmp_error(n, buf, n->l3, n->fam, n->l4_off, n->l4_end, now);
		if (v >= 0) {
			n->related = 1;
			n->sid = (uint32_t)v >> 2;
			n->dir = v & 3;
			set_hit_kind(n);
			st->stats[XL_NS_ICMP_TRANSLATED]++;
			return XL_NAT_CONTINUE;
		}
		n->related = 1;
		if (local_dst) return kernel(n);
		n->lookup_kind = LK_NEW;
		return XL_NAT_CONTINUE;
	}
	int32_t v = xl_sessions_lookup(st, n->pk, now);
	if (v >= 0) {
		n->sid = (uint32_t)v >> 2;
		n->dir = v & 3;
		set_hit_kind(n);
		xl_sessions_touch(st, n->sid, n->dir, n->tcp_flags, now);
		apply_hit(n, buf, 0);
		return XL_NAT_CONTINUE;
	}
	n->lookup_kind = LK_NEW;
	n->is_new = 1;
	int di = match_dnat(n, buf, ingress);
	if (di >= 0) {
		n->dnat_rule = di;
		const struct xl_dnat_rule *r = &n->dnat[di];
		memcpy(n->tk, n->pk, sizeof(n->tk));
		if (n->fam == 4) n->tk[4] = rd32(r->to, 0);
		else
			for (int j = 0; j < 4; j++) n->tk[4 + j] = rd32(r->to, j * 4);
		if (r->to_port >= 0 && (n->proto == 6 || n->proto == 17)) n->tk[8] = (n->pk[8] & 0xffff0000u) | (uint32_t)r->to_port;
		rewrite(n, buf, 0, 1, 0);
		return XL_NAT_CONTINUE;
	}
	if (local_dst) return kernel(n);
	return XL_NAT_CONTINUE;
}

int xl_nat_post(struct xl_nat *n, struct xl_dp *dp, uint8_t *buf, int egress, int neighbor_ready, double now)
{
	if (n->related) return XL_NAT_CONTINUE;
	if (!n->is_new) {
		if (n->sid >= 0) {
			apply_hit(n, buf, 1);
			record_frag(n, now);
		}
		return XL_NAT_CONTINUE;
	}
	if (n->is_frag && !n->l4_first) {
		/* fragmentsLoseSession: a later fragment starts a flow of its own */
	} else if (n->proto == 6) {
		int f = n->tcp_flags;
		if (f < 0 || (f & 0x05) != 0 || (f & 0x12) == 0x12 || (f & 0x12) == 0) return drop(n, XDPLAB_R_NO_SESSION);
	} else if ((n->proto == 1 && n->fam == 4) || (n->proto == 58 && n->fam == 6)) {
		if (n->icmp_type < 0 || !icmp_is_request(n->fam, n->icmp_type)) return drop(n, XDPLAB_R_NO_SESSION);
	}
	uint32_t *pk = n->pk, *rk = n->rk;
	xl_invert_key(n->dnat_rule >= 0 ? n->tk : pk, rk);
	int icmp = n->proto == 1 || n->proto == 58;
	int ri = match_snat(n, buf, egress);
	int specified = 0, lo = 0, hi = 0;
	if (ri >= 0) {
		const struct xl_snat_rule *c = &n->snat[ri];
		if (!snat_address(n, c, egress, rk)) return drop(n, XDPLAB_R_SNAT_EXHAUSTED);
		specified = c->specified;
		lo = c->lo;
		hi = c->hi;
	}
	int orig_port = (int)(pk[8] >> 16);
	int in_range = !specified || (orig_port >= lo && orig_port <= hi);
	int ok = in_range && (n->b_snat_collision || !taken(n, rk, now));
	if (!ok) ok = unique_port(n, rk, icmp, specified, lo, hi, orig_port, now);
	if (!ok) {
		n->sessions.stats[XL_NS_SNAT_EXHAUSTED]++;
		return drop(n, XDPLAB_R_SNAT_EXHAUSTED);
	}
	xl_invert_key(rk, n->tk);
	int nat_flags = 0;
	if (n->tk[0] != pk[0] || n->tk[1] != pk[1] || n->tk[2] != pk[2] || n->tk[3] != pk[3] || (n->tk[8] >> 16) != (pk[8] >> 16))
		nat_flags |= XL_F_SNAT;
	if (n->dnat_rule >= 0) nat_flags |= XL_F_DNAT;
	rewrite(n, buf, 1, 0, 1);
	int publish = 0;
	if (xl_dp_is_local_key(dp, n->fam, rk + 4)) publish |= XL_F_PUB_REV;
	if (xl_dp_is_local_key(dp, n->fam, pk + 4)) publish |= XL_F_PUB_FWD;
	if (n->b_session_after_neigh && !neighbor_ready) return XL_NAT_CONTINUE;
	int tcp_init = n->tcp_flags >= 0 && (n->tcp_flags & 0x02) ? XL_TCP_SYN_SENT : XL_TCP_ESTABLISHED;
	int sid;
	if (n->b_mutated_tuple) {
		xl_nat_begin(n, buf, n->l3, n->fam, n->proto, n->l4_off, n->l4_first, n->l4_end, n->is_frag, n->more_frags, n->frag_id);
		n->is_new = 1;
		sid = xl_sessions_install(&n->sessions, n->pk, rk, nat_flags, publish, egress, tcp_init, now);
	} else {
		sid = xl_sessions_install(&n->sessions, pk, rk, nat_flags, publish, egress, tcp_init, now);
	}
	if (sid < 0) {
		n->sessions.stats[XL_NS_TABLE_FULL]++;
		return drop(n, XDPLAB_R_SESSION_TABLE_FULL);
	}
	n->sid = sid;
	n->dir = 0;
	record_frag(n, now);
	return XL_NAT_CONTINUE;
}

void xl_nat_finish(struct xl_nat *n, uint8_t *buf)
{
	if (!n->csum_partial || !n->generic_attach || !n->l4_first) return;
	int o = n->l4_off, have = n->l4_end - o, c = -1;
	if (n->proto == 6 && have >= 20) c = o + 16;
	else if (n->proto == 17 && have >= 8) c = o + 6;
	if (c < 0) return;
	int v = ~fold16(sum16(buf, o, have, 0)) & 0xffff;
	if (n->proto == 17 && v == 0) v = 0xffff;
	put16(buf, c, v);
}
