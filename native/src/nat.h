/* SPDX-License-Identifier: BSD-2-Clause */
/* Sessions, the reverse index, fragments, the NAT engine and its PRNG: the C twins of
 * sim/dataplane/{session,reverseIndex,frag,nat,natPre,natPost,icmpError}.ts and
 * sim/engine/prng.ts, with the same names, the same row/slot order and the same
 * arithmetic, so the offline differential can compare session tables row by row. */
#ifndef XL_NAT_H
#define XL_NAT_H

#include <stddef.h>
#include <stdint.h>

/* Big-endian 16-bit words and the 16-bit one's-complement sum, shared by the forwarding
 * path (dataplane.c), the NAT rewrite (nat.c) and the ICMP error translation (icmpError.c). */
static inline int be16(const uint8_t *b, int o) { return (b[o] << 8) | b[o + 1]; }
static inline void put16(uint8_t *b, int o, int v) { b[o] = (v >> 8) & 0xff; b[o + 1] = v & 0xff; }
static inline uint64_t sum16(const uint8_t *b, int off, int len, uint64_t acc)
{
	int i = off, last = off + len - 1;
	for (; i < last; i += 2) acc += (uint32_t)((b[i] << 8) | b[i + 1]);
	if (i == last) acc += (uint32_t)(b[i] << 8);
	return acc;
}
static inline int fold16(uint64_t acc)
{
	while (acc > 0xffff) acc = (acc & 0xffff) + (acc >> 16);
	return (int)acc;
}

#define XL_KEY_WORDS 10
#define XL_KIND_FWD 0
#define XL_KIND_REV 1
#define XL_KIND_CANON 2

#define XL_TCP_NONE 0
#define XL_TCP_SYN_SENT 1
#define XL_TCP_SYN_RECV 2
#define XL_TCP_ESTABLISHED 3
#define XL_TCP_FIN_WAIT 4
#define XL_TCP_CLOSE_WAIT 5
#define XL_TCP_LAST_ACK 6
#define XL_TCP_TIME_WAIT 7
#define XL_TCP_CLOSE 8

#define XL_F_SNAT 1
#define XL_F_DNAT 2
#define XL_F_SEEN_REPLY 4
#define XL_F_FIN_ORIG 8
#define XL_F_FIN_REPLY 16
#define XL_F_LIVE 32
#define XL_F_PUB_FWD 64
#define XL_F_PUB_REV 128

#define XL_STEER_ADD 1
#define XL_STEER_REMOVE 2

#define XL_NAT_CONTINUE 0
#define XL_NAT_DROP 1
#define XL_NAT_KERNEL 2

#define XL_DEFAULT_SESSIONS 65536
#define XL_FRAG_CAPACITY 4096

/* prng.c (sim/engine/prng.ts): xoshiro128** seeded through splitmix32. */
struct xl_prng { uint32_t s0, s1, s2, s3; };
void xl_prng_seed(struct xl_prng *p, double seed);
uint32_t xl_prng_next_u32(struct xl_prng *p);
void xl_prng_fork(struct xl_prng *p, uint32_t tag, struct xl_prng *out);

/* reverseIndex.c */
struct xl_key_index {
	uint32_t capacity, mask, count;
	int32_t *vals;
	uint32_t *hashes;
	const uint32_t *orig, *reply;
};
uint32_t xl_hash_key(const uint32_t *k);
void xl_invert_key(const uint32_t *a, uint32_t *b);
int xl_ki_init(struct xl_key_index *ki, uint32_t entries, const uint32_t *orig, const uint32_t *reply);
void xl_ki_free(struct xl_key_index *ki);
int32_t xl_ki_find(const struct xl_key_index *ki, const uint32_t *k, uint32_t h);
int xl_ki_insert(struct xl_key_index *ki, const uint32_t *k, uint32_t h, int32_t val);
void xl_ki_put(struct xl_key_index *ki, const uint32_t *k, uint32_t h, int32_t val);
int xl_ki_remove_val(struct xl_key_index *ki, uint32_t h, int32_t val);

/* session.c */
struct xl_sessions {
	int capacity;
	uint32_t *orig, *reply;
	uint8_t *state, *flags;
	double *expires;
	int16_t *egress_if;
	uint32_t *gen;
	uint32_t *h_fwd, *h_rev, *h_canon;
	int32_t *free_list;
	int free_top;
	struct xl_key_index wire, canon;
	double *stats; /* XL_NS_* (a mapped region) */
	uint32_t scratch[XL_KEY_WORDS];
	int expire_cursor;
	double write_low; /* min of expires[] written since the worker last read it (xl_worker_next_expiry_low) */
	uint8_t *steer_ops;
	uint32_t *steer_keys;
	int steer_count, steer_cap;
	int b_no_reverse_index, b_reverse_index_overwrite, b_rst_tears_down;
};
/* Session/NAT statistics region (f64), in this order. */
enum { XL_NS_LIVE, XL_NS_INSTALLS, XL_NS_REMOVALS, XL_NS_SNAT_EXHAUSTED, XL_NS_TABLE_FULL, XL_NS_FRAG_NO_SESSION,
       XL_NS_ICMP_TRANSLATED, XL_NS_COUNT };
int xl_sessions_init(struct xl_sessions *s, int capacity);
void xl_sessions_free(struct xl_sessions *s);
int32_t xl_sessions_lookup(struct xl_sessions *s, const uint32_t *k, double now);
int xl_sessions_install(struct xl_sessions *s, const uint32_t *o, const uint32_t *r, int nat_flags, int publish, int egress_if,
			int init_state, double now);
void xl_sessions_remove(struct xl_sessions *s, int sid);
int xl_sessions_touch(struct xl_sessions *s, int sid, int dir, int tcp_flags, double now);
int xl_sessions_expire(struct xl_sessions *s, double now, int max_scan);
static inline int xl_sessions_is_live(const struct xl_sessions *s, int sid) { return (s->flags[sid] & XL_F_LIVE) != 0; }

/* frag.c */
struct xl_frags {
	uint32_t mask;
	uint32_t *keys;
	int32_t *val;
	uint32_t *gen;
	double *exp;
	uint32_t found_gen;
};
int xl_frags_init(struct xl_frags *t, int capacity);
void xl_frags_free(struct xl_frags *t);
int32_t xl_frags_find(struct xl_frags *t, const uint32_t *k, double now);
int xl_frags_record(struct xl_frags *t, const uint32_t *k, int32_t v, uint32_t gen, double now);

/* nat.c */
struct xl_snat_rule {
	int egress, has_from, from_family, from_plen, is_interface, specified, lo, hi;
	uint8_t from[16];
	int npool;
	uint32_t *pool; /* 4 words per address */
	uint8_t *pool_fam;
};
struct xl_dnat_rule {
	int ingress, proto, family, port, to_port;
	uint8_t dst[16], to[16];
};

struct xl_nat {
	struct xl_sessions sessions;
	struct xl_frags frags;
	struct xl_prng prng;
	int nsnat, cap_snat; struct xl_snat_rule *snat;
	int ndnat, cap_dnat; struct xl_dnat_rule *dnat;
	int nifaces;
	uint32_t *if_addr4; uint8_t *if_has4; uint32_t *if_addr6; uint8_t *if_has6;
	int b_sign_flip, b_partial_as_full, b_port_only_no_csum, b_stale_ports, b_mutated_tuple, b_embedded_no_swap,
	    b_snat_collision, b_overwrite, b_frag_lose, b_session_after_neigh;
	int generic_attach;
	/* per packet */
	int csum_partial, reason, lookup_kind, sid, dir, is_new, related, dnat_rule, fam, proto, l3, l4_off, l4_first,
	    l4_end, is_frag, more_frags, tcp_flags, icmp_type, src_changed, dst_changed, stale_sport, stale_dport;
	uint32_t frag_id;
	uint32_t pk[XL_KEY_WORDS], tk[XL_KEY_WORDS], rk[XL_KEY_WORDS], fk[XL_KEY_WORDS], ek[XL_KEY_WORDS];
};

struct xl_dp;
int xl_nat_icmp_has_id(int fam, int t);
int xl_nat_icmp_is_error(int fam, int t);
void xl_pack_key(const uint8_t *buf, int src_off, int dst_off, int fam, int proto, int sport, int dport, uint32_t *k);
int xl_nat_cs(const struct xl_nat *n, int check, int old_w, int new_w);
void xl_nat_begin(struct xl_nat *n, const uint8_t *buf, int l3, int fam, int proto, int l4_off, int l4_first, int l4_end,
		  int is_frag, int more_frags, uint32_t frag_id);
int xl_nat_l4_truncated(const struct xl_nat *n);
int xl_nat_pre(struct xl_nat *n, uint8_t *buf, int ingress, int local_dst, double now);
int xl_nat_to_snat_address(struct xl_nat *n, const uint8_t *buf, int ingress);
int xl_nat_post(struct xl_nat *n, struct xl_dp *dp, uint8_t *buf, int egress, int neighbor_ready, double now);
void xl_nat_finish(struct xl_nat *n, uint8_t *buf);
/* icmpError.c: sid*4+dir, or -1 (frame untouched). */
int xl_translate_icmp_error(struct xl_nat *n, uint8_t *buf, int l3, int fam, int l4_off, int end, double now);
/* icmpError.c: the error generated about a new DNAT flow's first packet (no session yet)
 * quotes the destination of k, the packet's tuple as it arrived. */
void xl_untranslate_new_dnat_error(struct xl_nat *n, uint8_t *buf, int l3, int fam, int l4_off, int end, const uint32_t *k);
/* natPre.c / natPost.c: the dataplane hooks (0 = continue, else XL_DP_*). */
int xl_nat_pre_hook(struct xl_dp *dp, uint8_t *buf, int ingress, int local_dst, double now);
int xl_nat_post_hook(struct xl_dp *dp, uint8_t *buf, int egress, int family, double now);

#endif
