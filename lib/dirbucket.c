/* dirbucket: listing-bucket arithmetic (see dirbucket.h). Linear hashing on
 * y = bitreverse(key): the low bits of y are the top bits of the key, so a
 * bucket of depth j holds exactly the keys with one j-bit prefix. */
#include "dirbucket.h"

#include "hash.h"

static uint64_t rev64(uint64_t v)
{
	v = (v >> 1 & 0x5555555555555555ull) | (v & 0x5555555555555555ull) << 1;
	v = (v >> 2 & 0x3333333333333333ull) | (v & 0x3333333333333333ull) << 2;
	v = (v >> 4 & 0x0f0f0f0f0f0f0f0full) | (v & 0x0f0f0f0f0f0f0f0full) << 4;
	v = (v >> 8 & 0x00ff00ff00ff00ffull) | (v & 0x00ff00ff00ff00ffull) << 8;
	v = (v >> 16 & 0x0000ffff0000ffffull) | (v & 0x0000ffff0000ffffull) << 16;
	return v >> 32 | v << 32;
}

/* floor(log2(n)), n >= 1 */
static unsigned level(uint32_t n)
{
	return 31u - (unsigned)__builtin_clz(n);
}

uint64_t dirbucket_key_hex(const char *hex)
{
	uint64_t k = 0;

	for (int i = 0; i < 16; i++) {
		char c = hex[i];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
			   : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 0;

		k = k << 4 | d;
	}
	return k;
}

uint64_t dirbucket_key(const char *name, size_t len)
{
	char hex[HASH_NAME_HEX_LEN + 1];

	hash_name(hex, name, len);
	return dirbucket_key_hex(hex);
}

uint32_t dirbucket_of(uint64_t key, uint32_t n)
{
	uint64_t y = rev64(key), b;
	unsigned l;

	if (n <= 1)
		return 0;
	l = level(n);
	b = y & ((2ull << l) - 1);
	if (b >= n)
		b = y & ((1ull << l) - 1);
	return (uint32_t)b;
}

void dirbucket_range(uint32_t b, uint32_t n, uint64_t *lo, uint64_t *hi)
{
	unsigned l, depth;
	uint64_t prefix;

	if (n <= 1) {
		*lo = 0;
		*hi = UINT64_MAX;
		return;
	}
	l = level(n);
	/* split buckets (below n - 2^l) and new ones (2^l and up) are one
	 * level deeper than the rest */
	depth = b < n - (1u << l) || b >= (1u << l) ? l + 1 : l;
	if (depth == 0) {
		*lo = 0;
		*hi = UINT64_MAX;
		return;
	}
	prefix = rev64(b) >> (64 - depth);      /* b's low depth bits, reversed */
	*lo = prefix << (64 - depth);
	*hi = *lo + ((UINT64_MAX >> depth));
}

int dirbucket_plan(uint64_t bytes, uint32_t n)
{
	if (n == 0)
		n = 1;
	if (n < DIRBUCKET_MAX && bytes > (uint64_t)n * DIRBUCKET_TARGET)
		return DIRBUCKET_SPLIT;
	if (n > 1 && bytes * DIRBUCKET_MERGE_DIV < (uint64_t)n * DIRBUCKET_TARGET)
		return DIRBUCKET_MERGE;
	return DIRBUCKET_KEEP;
}

uint32_t dirbucket_split_from(uint32_t n)
{
	return n - (1u << level(n));
}

uint32_t dirbucket_merge_into(uint32_t n)
{
	return dirbucket_split_from(n - 1);
}

off_t dirbucket_cookie(uint64_t key)
{
	return (off_t)((key >> 4) + 3);
}

int dirbucket_resume(off_t off, uint64_t *key)
{
	uint64_t k;

	if (off < 2) {
		*key = 0;
		return 0;
	}
	k = (uint64_t)off - 2;
	if (k >= 1ull << 60)
		return 1;
	*key = k << 4;
	return 0;
}
