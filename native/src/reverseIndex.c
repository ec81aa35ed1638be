/* SPDX-License-Identifier: BSD-2-Clause */
/* The reverse-NAT index (mirror of sim/dataplane/reverseIndex.ts): open addressing over
 * (hash, sid*4+kind) slots confirmed against the session table's key columns, with
 * backward-shift deletion. Same hash, same probe order, same slot layout as the model. */
#include <stdlib.h>
#include "nat.h"

static inline uint32_t rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

uint32_t xl_hash_key(const uint32_t *k)
{
	uint32_t h = 0x9747b28cu;
	for (int j = 0; j < XL_KEY_WORDS; j++) {
		uint32_t w = k[j] * 0xcc9e2d51u;
		w = rotl(w, 15);
		h ^= w * 0x1b873593u;
		h = rotl(h, 13);
		h = h * 5u + 0xe6546b64u;
	}
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

void xl_invert_key(const uint32_t *a, uint32_t *b)
{
	uint32_t tmp[XL_KEY_WORDS];
	for (int j = 0; j < 4; j++) {
		tmp[j] = a[4 + j];
		tmp[4 + j] = a[j];
	}
	uint32_t p = a[8];
	uint32_t proto = (a[9] >> 8) & 0xff;
	tmp[8] = (proto == 1 || proto == 58) ? p : ((p << 16) | (p >> 16));
	tmp[9] = a[9];
	for (int j = 0; j < XL_KEY_WORDS; j++) b[j] = tmp[j];
}

int xl_ki_init(struct xl_key_index *ki, uint32_t entries, const uint32_t *orig, const uint32_t *reply)
{
	uint32_t c = 16;
	while (c < entries * 2) c *= 2;
	ki->capacity = c;
	ki->mask = c - 1;
	ki->count = 0;
	ki->orig = orig;
	ki->reply = reply;
	ki->vals = malloc(c * sizeof(int32_t));
	ki->hashes = calloc(c, sizeof(uint32_t));
	if (!ki->vals || !ki->hashes) return -1;
	for (uint32_t i = 0; i < c; i++) ki->vals[i] = -1;
	return 0;
}

void xl_ki_free(struct xl_key_index *ki)
{
	free(ki->vals);
	free(ki->hashes);
	ki->vals = NULL;
	ki->hashes = NULL;
}

static int eq(const struct xl_key_index *ki, int32_t val, const uint32_t *k)
{
	uint32_t sid = (uint32_t)val >> 2;
	int kind = val & 3;
	const uint32_t *a = (kind == XL_KIND_REV ? ki->reply : ki->orig) + (size_t)sid * XL_KEY_WORDS;
	if (kind != XL_KIND_CANON) {
		for (int j = 0; j < XL_KEY_WORDS; j++)
			if (a[j] != k[j]) return 0;
		return 1;
	}
	for (int j = 0; j < 4; j++)
		if (a[4 + j] != k[j] || a[j] != k[4 + j]) return 0;
	if (a[9] != k[9]) return 0;
	uint32_t p = a[8];
	uint32_t proto = (a[9] >> 8) & 0xff;
	uint32_t inv = (proto == 1 || proto == 58) ? p : ((p << 16) | (p >> 16));
	return inv == k[8];
}

int32_t xl_ki_find(const struct xl_key_index *ki, const uint32_t *k, uint32_t h)
{
	uint32_t i = h & ki->mask;
	for (;;) {
		int32_t v = ki->vals[i];
		if (v < 0) return -1;
		if (ki->hashes[i] == h && eq(ki, v, k)) return v;
		i = (i + 1) & ki->mask;
	}
}

int xl_ki_insert(struct xl_key_index *ki, const uint32_t *k, uint32_t h, int32_t val)
{
	if ((ki->count + 1) * 2 > ki->capacity) return 0;
	uint32_t i = h & ki->mask;
	for (;;) {
		int32_t v = ki->vals[i];
		if (v < 0) break;
		if (ki->hashes[i] == h && eq(ki, v, k)) return 0;
		i = (i + 1) & ki->mask;
	}
	ki->vals[i] = val;
	ki->hashes[i] = h;
	ki->count++;
	return 1;
}

void xl_ki_put(struct xl_key_index *ki, const uint32_t *k, uint32_t h, int32_t val)
{
	uint32_t i = h & ki->mask;
	for (;;) {
		int32_t v = ki->vals[i];
		if (v < 0) break;
		if (ki->hashes[i] == h && eq(ki, v, k)) {
			ki->vals[i] = val;
			return;
		}
		i = (i + 1) & ki->mask;
	}
	if ((ki->count + 1) * 2 > ki->capacity) return;
	ki->vals[i] = val;
	ki->hashes[i] = h;
	ki->count++;
}

int xl_ki_remove_val(struct xl_key_index *ki, uint32_t h, int32_t val)
{
	uint32_t m = ki->mask;
	uint32_t i = h & m;
	for (;;) {
		int32_t v = ki->vals[i];
		if (v < 0) return 0;
		if (v == val && ki->hashes[i] == h) break;
		i = (i + 1) & m;
	}
	uint32_t hole = i, j = (i + 1) & m;
	for (;;) {
		int32_t v = ki->vals[j];
		if (v < 0) break;
		uint32_t home = ki->hashes[j] & m;
		uint32_t dist = (j - home) & m;
		uint32_t gap = (j - hole) & m;
		if (dist >= gap) {
			ki->vals[hole] = v;
			ki->hashes[hole] = ki->hashes[j];
			hole = j;
		}
		j = (j + 1) & m;
	}
	ki->vals[hole] = -1;
	ki->count--;
	return 1;
}
