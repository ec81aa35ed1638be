/* SPDX-License-Identifier: BSD-2-Clause */
/* The model's PRNG (mirror of sim/engine/prng.ts): xoshiro128** seeded through
 * splitmix32, with the same seed folding and fork(), so the native NAT draws the same
 * port offsets as the model for the same scenario seed. */
#include <math.h>
#include "nat.h"

static uint32_t splitmix32(uint32_t z)
{
	z = (z ^ (z >> 16)) * 0x85ebca6bu;
	z = (z ^ (z >> 13)) * 0xc2b2ae35u;
	return z ^ (z >> 16);
}

/* ECMAScript ToUint32 of an integral double (the seeds are integers below 2^53). */
static uint32_t to_u32(double x)
{
	if (!isfinite(x)) return 0;
	double t = trunc(x);
	double m = fmod(t, 4294967296.0);
	if (m < 0) m += 4294967296.0;
	return (uint32_t)m;
}

void xl_prng_seed(struct xl_prng *p, double seed)
{
	uint32_t lo = to_u32(seed);
	uint32_t hi = to_u32(floor(fabs(seed) / 4294967296.0));
	uint32_t st = lo ^ (hi * 0x9e3779b1u);
	st += 0x9e3779b9u;
	p->s0 = splitmix32(st);
	st += 0x9e3779b9u;
	p->s1 = splitmix32(st);
	st += 0x9e3779b9u;
	p->s2 = splitmix32(st);
	st += 0x9e3779b9u;
	p->s3 = splitmix32(st);
	if ((p->s0 | p->s1 | p->s2 | p->s3) == 0) p->s0 = 1;
}

uint32_t xl_prng_next_u32(struct xl_prng *p)
{
	uint32_t s0 = p->s0, s1 = p->s1, s2 = p->s2, s3 = p->s3;
	uint32_t r1 = s1 * 5u;
	uint32_t rot = (r1 << 7) | (r1 >> 25);
	uint32_t result = rot * 9u;
	uint32_t t = s1 << 9;
	uint32_t n2 = s2 ^ s0;
	uint32_t n3 = s3 ^ s1;
	p->s1 = s1 ^ n2;
	p->s0 = s0 ^ n3;
	p->s2 = n2 ^ t;
	p->s3 = (n3 << 11) | (n3 >> 21);
	return result;
}

void xl_prng_fork(struct xl_prng *p, uint32_t tag, struct xl_prng *out)
{
	uint32_t a = xl_prng_next_u32(p);
	uint32_t b = xl_prng_next_u32(p);
	/* JS: (a ^ imul(t, K)) is a signed int32; ((b ^ t) >>> 11) * 2^32 is added as a double. */
	int32_t low = (int32_t)(a ^ (tag * 0x85ebca6bu));
	double seed = (double)low + (double)((b ^ tag) >> 11) * 4294967296.0;
	xl_prng_seed(out, seed);
}
