/* SPDX-License-Identifier: BSD-2-Clause */
/* The session table (mirror of sim/dataplane/session.ts): typed columns per row, a free
 * list popping rows 0, 1, 2…, the wire and canonical indexes (reverseIndex.c), TCP/UDP/
 * ICMP/other states and Linux's default timeouts, and the log of steering keys the worker
 * publishes to the shim's session map. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "nat.h"

#define S 1000000000.0
static const double TCP_TIMEOUT_NS[9] = {0, 120 * S, 60 * S, 432000 * S, 120 * S, 60 * S, 30 * S, 120 * S, 10 * S};
#define UDP_TIMEOUT_NS (30 * S)
#define UDP_STREAM_TIMEOUT_NS (120 * S)
#define ICMP_TIMEOUT_NS (30 * S)
#define GENERIC_TIMEOUT_NS (600 * S)

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

int xl_sessions_init(struct xl_sessions *s, int capacity)
{
	s->capacity = capacity;
	size_t c = (size_t)capacity;
	s->orig = calloc(c * XL_KEY_WORDS, sizeof(uint32_t));
	s->reply = calloc(c * XL_KEY_WORDS, sizeof(uint32_t));
	s->state = calloc(c, 1);
	s->flags = calloc(c, 1);
	s->expires = calloc(c, sizeof(double));
	s->egress_if = calloc(c, sizeof(int16_t));
	s->gen = calloc(c, sizeof(uint32_t));
	s->h_fwd = calloc(c, sizeof(uint32_t));
	s->h_rev = calloc(c, sizeof(uint32_t));
	s->h_canon = calloc(c, sizeof(uint32_t));
	s->free_list = calloc(c, sizeof(int32_t));
	s->stats = calloc(XL_NS_COUNT, sizeof(double));
	s->steer_cap = 256;
	s->steer_ops = calloc(s->steer_cap, 1);
	s->steer_keys = calloc((size_t)s->steer_cap * XL_KEY_WORDS, sizeof(uint32_t));
	s->steer_count = 0;
	s->expire_cursor = 0;
	s->write_low = INFINITY;
	if (!s->orig || !s->reply || !s->state || !s->flags || !s->expires || !s->egress_if || !s->gen || !s->h_fwd ||
	    !s->h_rev || !s->h_canon || !s->free_list || !s->stats || !s->steer_ops || !s->steer_keys)
		return -1;
	for (int i = 0; i < capacity; i++) s->free_list[i] = capacity - 1 - i;
	s->free_top = capacity;
	if (xl_ki_init(&s->wire, (uint32_t)capacity * 2, s->orig, s->reply) != 0) return -1;
	if (xl_ki_init(&s->canon, (uint32_t)capacity, s->orig, s->reply) != 0) return -1;
	return 0;
}

void xl_sessions_free(struct xl_sessions *s)
{
	free(s->orig);
	free(s->reply);
	free(s->state);
	free(s->flags);
	free(s->expires);
	free(s->egress_if);
	free(s->gen);
	free(s->h_fwd);
	free(s->h_rev);
	free(s->h_canon);
	free(s->free_list);
	free(s->stats);
	free(s->steer_ops);
	free(s->steer_keys);
	xl_ki_free(&s->wire);
	xl_ki_free(&s->canon);
	memset(s, 0, sizeof(*s));
}

static void log_steer(struct xl_sessions *s, int op, const uint32_t *k)
{
	if (s->steer_count == s->steer_cap) {
		/* grows only when nobody drains the log (the dataplane driven alone): cold */
		int cap = s->steer_cap * 2;
		uint8_t *ops = realloc(s->steer_ops, cap);
		if (!ops) return;
		s->steer_ops = ops;
		uint32_t *keys = realloc(s->steer_keys, (size_t)cap * XL_KEY_WORDS * sizeof(uint32_t));
		if (!keys) return;
		s->steer_keys = keys;
		s->steer_cap = cap;
	}
	int i = s->steer_count++;
	s->steer_ops[i] = (uint8_t)op;
	memcpy(s->steer_keys + (size_t)i * XL_KEY_WORDS, k, XL_KEY_WORDS * sizeof(uint32_t));
}

static double timeout(const struct xl_sessions *s, int sid, int proto)
{
	if (proto == 6) return TCP_TIMEOUT_NS[s->state[sid]];
	if (proto == 17) return (s->flags[sid] & XL_F_SEEN_REPLY) ? UDP_STREAM_TIMEOUT_NS : UDP_TIMEOUT_NS;
	if (proto == 1 || proto == 58) return ICMP_TIMEOUT_NS;
	return GENERIC_TIMEOUT_NS;
}

void xl_sessions_remove(struct xl_sessions *s, int sid)
{
	int fl = s->flags[sid];
	if (!(fl & XL_F_LIVE)) return;
	xl_ki_remove_val(&s->wire, s->h_fwd[sid], sid * 4 + XL_KIND_FWD);
	xl_ki_remove_val(&s->wire, s->h_rev[sid], sid * 4 + XL_KIND_REV);
	xl_ki_remove_val(&s->canon, s->h_canon[sid], sid * 4 + XL_KIND_CANON);
	size_t b = (size_t)sid * XL_KEY_WORDS;
	if (fl & XL_F_PUB_FWD) log_steer(s, XL_STEER_REMOVE, s->orig + b);
	if (fl & XL_F_PUB_REV) log_steer(s, XL_STEER_REMOVE, s->reply + b);
	s->flags[sid] = 0;
	s->free_list[s->free_top++] = sid;
	s->stats[XL_NS_LIVE]--;
	s->stats[XL_NS_REMOVALS]++;
}

int32_t xl_sessions_lookup(struct xl_sessions *s, const uint32_t *k, double now)
{
	if (s->stats[XL_NS_LIVE] == 0) return -1;
	int32_t v = xl_ki_find(&s->wire, k, xl_hash_key(k));
	if (v < 0) return -1;
	int sid = (uint32_t)v >> 2;
	if (s->expires[sid] <= now) {
		xl_sessions_remove(s, sid);
		return -1;
	}
	return v;
}

int xl_sessions_install(struct xl_sessions *s, const uint32_t *o, const uint32_t *r, int nat_flags, int publish, int egress_if,
			int init_state, double now)
{
	if (s->free_top == 0) return -1;
	int sid = s->free_list[--s->free_top];
	size_t b = (size_t)sid * XL_KEY_WORDS;
	memcpy(s->orig + b, o, XL_KEY_WORDS * sizeof(uint32_t));
	memcpy(s->reply + b, r, XL_KEY_WORDS * sizeof(uint32_t));
	uint32_t hf = xl_hash_key(s->orig + b);
	uint32_t hr = xl_hash_key(s->reply + b);
	xl_invert_key(s->orig + b, s->scratch);
	uint32_t hc = xl_hash_key(s->scratch);
	s->h_fwd[sid] = hf;
	s->h_rev[sid] = hr;
	s->h_canon[sid] = hc;
	s->flags[sid] = (uint8_t)(nat_flags | XL_F_LIVE | publish);
	s->egress_if[sid] = (int16_t)egress_if;
	s->gen[sid]++;
	int proto = (s->orig[b + 9] >> 8) & 0xff;
	s->state[sid] = proto == 6 ? (uint8_t)init_state : 0;
	s->expires[sid] = now + timeout(s, sid, proto);
	if (s->expires[sid] < s->write_low) s->write_low = s->expires[sid];
	xl_ki_insert(&s->wire, s->orig + b, hf, sid * 4 + XL_KIND_FWD);
	if (!s->b_no_reverse_index) {
		if (s->b_reverse_index_overwrite) xl_ki_put(&s->wire, s->reply + b, hr, sid * 4 + XL_KIND_REV);
		else xl_ki_insert(&s->wire, s->reply + b, hr, sid * 4 + XL_KIND_REV);
	}
	xl_ki_insert(&s->canon, s->scratch, hc, sid * 4 + XL_KIND_CANON);
	s->stats[XL_NS_LIVE]++;
	s->stats[XL_NS_INSTALLS]++;
	if (publish & XL_F_PUB_FWD) log_steer(s, XL_STEER_ADD, s->orig + b);
	if (publish & XL_F_PUB_REV) log_steer(s, XL_STEER_ADD, s->reply + b);
	return sid;
}

int xl_sessions_touch(struct xl_sessions *s, int sid, int dir, int tcp_flags, double now)
{
	size_t b = (size_t)sid * XL_KEY_WORDS;
	int proto = (s->orig[b + 9] >> 8) & 0xff;
	int fl = s->flags[sid];
	if (dir == 1) fl |= XL_F_SEEN_REPLY;
	if (proto == 6 && tcp_flags >= 0) {
		int st = s->state[sid];
		if (tcp_flags & TH_RST) {
			if (s->b_rst_tears_down) {
				xl_sessions_remove(s, sid);
				return 0;
			}
			st = XL_TCP_CLOSE;
		} else if ((tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN) {
			if (dir == 0 && (st == XL_TCP_TIME_WAIT || st == XL_TCP_CLOSE || st == XL_TCP_SYN_SENT)) {
				st = XL_TCP_SYN_SENT;
				fl &= ~(XL_F_FIN_ORIG | XL_F_FIN_REPLY | XL_F_SEEN_REPLY);
			}
		} else if ((tcp_flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
			if (dir == 1 && st == XL_TCP_SYN_SENT) st = XL_TCP_SYN_RECV;
		} else if (tcp_flags & TH_FIN) {
			if (st != XL_TCP_CLOSE && st != XL_TCP_TIME_WAIT) {
				fl |= dir == 0 ? XL_F_FIN_ORIG : XL_F_FIN_REPLY;
				if ((fl & (XL_F_FIN_ORIG | XL_F_FIN_REPLY)) == (XL_F_FIN_ORIG | XL_F_FIN_REPLY)) st = XL_TCP_LAST_ACK;
				else st = dir == 0 ? XL_TCP_FIN_WAIT : XL_TCP_CLOSE_WAIT;
			}
		} else if (tcp_flags & TH_ACK) {
			if (st == XL_TCP_SYN_RECV && dir == 0) st = XL_TCP_ESTABLISHED;
			else if (st == XL_TCP_LAST_ACK) st = XL_TCP_TIME_WAIT;
		}
		s->state[sid] = (uint8_t)st;
	}
	s->flags[sid] = (uint8_t)fl;
	/* a closing state's timer is not extended by more packets in it */
	double t = now + timeout(s, sid, proto);
	if (!(proto == 6 && s->state[sid] == XL_TCP_CLOSE && s->expires[sid] <= t && (tcp_flags & TH_RST) == 0)) {
		s->expires[sid] = t;
		if (t < s->write_low) s->write_low = t;
	}
	return 1;
}

int xl_sessions_expire(struct xl_sessions *s, double now, int max_scan)
{
	int n = 0, cap = s->capacity;
	for (int i = 0; i < max_scan && i < cap; i++) {
		int sid = s->expire_cursor;
		s->expire_cursor = sid + 1 == cap ? 0 : sid + 1;
		if ((s->flags[sid] & XL_F_LIVE) && s->expires[sid] <= now) {
			xl_sessions_remove(s, sid);
			n++;
		}
	}
	return n;
}
