/* SPDX-License-Identifier: BSD-2-Clause */
/* Translation of ICMP/ICMPv6 errors quoting a packet of a NATed session (mirror of
 * sim/dataplane/icmpError.ts; Linux nf_nat_icmp_reply_translation): the swapped quote is
 * looked up, the quoted packet is turned back into the tuple its sender used, the outer
 * header follows it; every checksum is updated incrementally exactly as the model does. */
#include "nat.h"

static int set_addr(const struct xl_nat *n, uint8_t *buf, int off, int alen, const uint32_t *k, int c1, int c2)
{
	int changed = 0;
	for (int w = 0; w < alen / 2; w++) {
		uint32_t word = k[w >> 1];
		int nv = (w & 1) == 0 ? (int)(word >> 16) : (int)(word & 0xffff);
		int ov = be16(buf, off + w * 2);
		if (ov == nv) continue;
		changed = 1;
		if (c1 >= 0) put16(buf, c1, xl_nat_cs(n, be16(buf, c1), ov, nv));
		if (c2 >= 0) put16(buf, c2, xl_nat_cs(n, be16(buf, c2), ov, nv));
		put16(buf, off + w * 2, nv);
	}
	return changed;
}

static void set_word(const struct xl_nat *n, uint8_t *buf, int off, int nv, int c)
{
	int ov = be16(buf, off);
	if (ov == nv) return;
	if (c >= 0) put16(buf, c, xl_nat_cs(n, be16(buf, c), ov, nv));
	put16(buf, off, nv);
}

/* The quote of the error being translated, as parse_quote found it. */
struct quote {
	int q, qsrc, qdst, qproto, ql4, alen;
};

static int parse_quote(const uint8_t *buf, int fam, int l4_off, int end, struct quote *Q)
{
	int q = l4_off + 8;
	Q->q = q;
	if (fam == 4) {
		if (q + 20 > end) return 0;
		int vihl = buf[q];
		int ihl = (vihl & 0x0f) * 4;
		if (vihl >> 4 != 4 || ihl < 20 || q + ihl > end) return 0;
		if ((be16(buf, q + 6) & 0x1fff) != 0) return 0;
		Q->qproto = buf[q + 9];
		Q->qsrc = q + 12;
		Q->qdst = q + 16;
		Q->ql4 = q + ihl;
		Q->alen = 4;
	} else {
		if (q + 40 > end || buf[q] >> 4 != 6) return 0;
		Q->qproto = buf[q + 6];
		Q->qsrc = q + 8;
		Q->qdst = q + 24;
		Q->ql4 = q + 40;
		Q->alen = 16;
	}
	int is_icmp = (Q->qproto == 1 && fam == 4) || (Q->qproto == 58 && fam == 6);
	if ((Q->qproto == 6 || Q->qproto == 17 || is_icmp) && end - Q->ql4 < 8) return 0;
	return 1;
}

/* Rewrites the quote to tuple T (source side when inner_src, destination side when
 * inner_dst), then the outer addresses; every checksum incrementally. */
static void rewrite_quote(struct xl_nat *n, uint8_t *buf, int l3, int fam, int l4_off, int end, const struct quote *Q,
			  const uint32_t *T, int inner_src, int inner_dst)
{
	int q = Q->q, qproto = Q->qproto, ql4 = Q->ql4, alen = Q->alen;
	int is_icmp = (qproto == 1 && fam == 4) || (qproto == 58 && fam == 6);
	int region_end = end < ql4 + 20 ? end : ql4 + 20;
	int before = fold16(sum16(buf, q, region_end - q, 0));
	int qipc = fam == 4 ? q + 10 : -1;
	int ql4c = -1, pseudo = 0;
	if (qproto == 6 && end - ql4 >= 20) {
		ql4c = ql4 + 16;
		pseudo = 1;
	} else if (qproto == 17 && be16(buf, ql4 + 6) != 0) {
		ql4c = ql4 + 6;
		pseudo = 1;
	} else if (is_icmp) {
		ql4c = ql4 + 2;
		pseudo = fam == 6;
	}
	int pc = pseudo ? ql4c : -1;
	if (inner_src) {
		set_addr(n, buf, Q->qsrc, alen, T, qipc, pc);
		uint32_t tp = T[8];
		if (qproto == 6 || qproto == 17) set_word(n, buf, ql4, (int)(tp >> 16), ql4c);
		else if (is_icmp && xl_nat_icmp_has_id(fam, buf[ql4])) set_word(n, buf, ql4 + 4, (int)(tp >> 16), ql4c);
	}
	if (inner_dst) {
		set_addr(n, buf, Q->qdst, alen, T + 4, qipc, pc);
		uint32_t tp = T[8];
		if (qproto == 6 || qproto == 17) set_word(n, buf, ql4 + 2, (int)(tp & 0xffff), ql4c);
	}
	if (qproto == 17 && ql4c >= 0 && be16(buf, ql4c) == 0) put16(buf, ql4c, 0xffff);
	int after = fold16(sum16(buf, q, region_end - q, 0));
	int ic = l4_off + 2;
	if (before != after) put16(buf, ic, xl_nat_cs(n, be16(buf, ic), before, after));
	int osrc = fam == 4 ? l3 + 12 : l3 + 8;
	int oipc = fam == 4 ? l3 + 10 : -1;
	int opc = fam == 6 ? ic : -1;
	if (inner_src && set_addr(n, buf, osrc + alen, alen, T, oipc, opc)) n->dst_changed = 1;
	if (inner_dst && set_addr(n, buf, osrc, alen, T + 4, oipc, opc)) n->src_changed = 1;
}

int xl_translate_icmp_error(struct xl_nat *n, uint8_t *buf, int l3, int fam, int l4_off, int end, double now)
{
	struct quote Q;
	if (!parse_quote(buf, fam, l4_off, end, &Q)) return -1;
	int qproto = Q.qproto, ql4 = Q.ql4;
	int is_icmp = (qproto == 1 && fam == 4) || (qproto == 58 && fam == 6);
	int sport = 0, dport = 0;
	if (qproto == 6 || qproto == 17) {
		sport = be16(buf, ql4);
		dport = be16(buf, ql4 + 2);
	} else if (is_icmp) {
		if (xl_nat_icmp_has_id(fam, buf[ql4])) sport = be16(buf, ql4 + 4);
	}
	uint32_t *key = n->ek;
	if (n->b_embedded_no_swap) xl_pack_key(buf, Q.qsrc, Q.qdst, fam, qproto, sport, dport, key);
	else if (is_icmp) xl_pack_key(buf, Q.qdst, Q.qsrc, fam, qproto, sport, 0, key);
	else xl_pack_key(buf, Q.qdst, Q.qsrc, fam, qproto, dport, sport, key);
	struct xl_sessions *st = &n->sessions;
	int32_t v = xl_sessions_lookup(st, key, now);
	if (v < 0) return -1;
	int sid = (uint32_t)v >> 2;
	int dir = v & 3;
	int fl = st->flags[sid];
	int snat = (fl & XL_F_SNAT) != 0, dnat = (fl & XL_F_DNAT) != 0;
	int inner_src = dir == 1 ? snat : dnat;
	int inner_dst = dir == 1 ? dnat : snat;
	if (!inner_src && !inner_dst) return v;
	const uint32_t *T = (dir == 1 ? st->orig : st->reply) + (size_t)sid * XL_KEY_WORDS;
	rewrite_quote(n, buf, l3, fam, l4_off, end, &Q, T, inner_src, inner_dst);
	return v;
}

void xl_untranslate_new_dnat_error(struct xl_nat *n, uint8_t *buf, int l3, int fam, int l4_off, int end, const uint32_t *k)
{
	struct quote Q;
	if (parse_quote(buf, fam, l4_off, end, &Q)) rewrite_quote(n, buf, l3, fam, l4_off, end, &Q, k, 0, 1);
}
