/* Reference for test/engine/prng.test.ts: xoshiro128** (Blackman & Vigna) seeded the way
 * sim/engine/prng.ts documents (splitmix32-style finalizer over seed + k*0x9e3779b9),
 * written in plain C uint32 arithmetic as an independent oracle for the JS version.
 * Build: clang -O1 -o /tmp/prng_ref test/engine/prng_ref.c && /tmp/prng_ref */
#include <stdint.h>
#include <stdio.h>

static uint32_t mix(uint32_t z) {
	z = (z ^ (z >> 16)) * 0x85ebca6bu;
	z = (z ^ (z >> 13)) * 0xc2b2ae35u;
	return z ^ (z >> 16);
}
static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static void run(uint32_t seed) {
	uint32_t s[4], st = seed;
	for (int i = 0; i < 4; i++) { st += 0x9e3779b9u; s[i] = mix(st); }
	printf("seed %u:", seed);
	for (int i = 0; i < 6; i++) {
		uint32_t r = rotl(s[1] * 5, 7) * 9;
		uint32_t t = s[1] << 9;
		s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
		s[2] ^= t; s[3] = rotl(s[3], 11);
		printf(" %u", r);
	}
	printf("\n");
}
int main(void) { run(0); run(1); run(42); run(4294967295u); return 0; }
