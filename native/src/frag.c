/* SPDX-License-Identifier: BSD-2-Clause */
/* Fragment follow table (mirror of sim/dataplane/frag.ts): (family, proto, src, dst,
 * IP ID) → (session, direction, generation) for FRAG_TIMEOUT_NS; open addressing,
 * expired slots reused, same hash and probe order as the model. */
#include <stdlib.h>
#include "nat.h"

#define FRAG_TIMEOUT_NS 30000000000.0

int xl_frags_init(struct xl_frags *t, int capacity)
{
	uint32_t c = 16;
	while (c < (uint32_t)capacity) c *= 2;
	t->mask = c - 1;
	t->keys = calloc((size_t)c * XL_KEY_WORDS, sizeof(uint32_t));
	t->val = malloc(c * sizeof(int32_t));
	t->gen = calloc(c, sizeof(uint32_t));
	t->exp = calloc(c, sizeof(double));
	t->found_gen = 0;
	if (!t->keys || !t->val || !t->gen || !t->exp) return -1;
	for (uint32_t i = 0; i < c; i++) t->val[i] = -1;
	return 0;
}

void xl_frags_free(struct xl_frags *t)
{
	free(t->keys);
	free(t->val);
	free(t->gen);
	free(t->exp);
	t->keys = NULL;
	t->val = NULL;
	t->gen = NULL;
	t->exp = NULL;
}

static uint32_t hash(const uint32_t *k)
{
	uint32_t h = 0x811c9dc5u;
	for (int j = 0; j < XL_KEY_WORDS; j++) h = (h ^ k[j]) * 0x01000193u;
	return h ^ (h >> 15);
}

static int eq(const struct xl_frags *t, uint32_t i, const uint32_t *k)
{
	const uint32_t *a = t->keys + (size_t)i * XL_KEY_WORDS;
	for (int j = 0; j < XL_KEY_WORDS; j++)
		if (a[j] != k[j]) return 0;
	return 1;
}

int32_t xl_frags_find(struct xl_frags *t, const uint32_t *k, double now)
{
	uint32_t i = hash(k) & t->mask;
	for (uint32_t n = 0; n <= t->mask; n++) {
		int32_t v = t->val[i];
		if (v == -1) return -1;
		if (t->exp[i] > now && eq(t, i, k)) {
			t->found_gen = t->gen[i];
			return v;
		}
		i = (i + 1) & t->mask;
	}
	return -1;
}

int xl_frags_record(struct xl_frags *t, const uint32_t *k, int32_t v, uint32_t gen, double now)
{
	uint32_t i = hash(k) & t->mask;
	int64_t reuse = -1;
	for (uint32_t n = 0; n <= t->mask; n++) {
		int32_t cur = t->val[i];
		if (cur == -1) break;
		int live = t->exp[i] > now;
		if (live && eq(t, i, k)) {
			reuse = i;
			break;
		}
		if (!live && reuse < 0) reuse = i;
		i = (i + 1) & t->mask;
	}
	int64_t s = reuse >= 0 ? reuse : (t->val[i] == -1 ? (int64_t)i : -1);
	if (s < 0) return 0;
	for (int j = 0; j < XL_KEY_WORDS; j++) t->keys[(size_t)s * XL_KEY_WORDS + j] = k[j];
	t->val[s] = v;
	t->gen[s] = gen;
	t->exp[s] = now + FRAG_TIMEOUT_NS;
	return 1;
}
