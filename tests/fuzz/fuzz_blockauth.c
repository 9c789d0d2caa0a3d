/* fuzz_blockauth: libFuzzer target for what blockd parses from a request:
 * the Authorization header (lib/blockauth), the Range header, the listing
 * query and the block path (blockd/api). The first byte picks the parser;
 * each result is checked against the invariants the headers promise. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "blockauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)
#define NOW 1800000000

static const char keyfile[] =
	"key \"dnsfs-blocks\" { algorithm hmac-sha256;\n"
	"  secret \"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=\"; };\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tsig_keyring kr;
	static struct blockauth_cache *cache;
	struct err e = {0};
	struct hash h;
	char *s;
	int rc;

	if (kr.n == 0 && tsig_keyring_parse(&kr, keyfile, "fuzz", NULL) < 0)
		abort();
	if (cache == NULL && (cache = blockauth_cache_new()) == NULL)
		abort();
	if (size < 1)
		return 0;
	/* The rest as a C string, as evhttp hands headers over. */
	if ((s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0: {
		hash_buf(&h, "", 0);
		rc = blockauth_verify(&kr, cache, s, "PUT", "/v1/blocks/x", &h, NOW, &e);
		REQUIRE(rc == 0 || (rc == -EACCES && e.msg[0] != '\0'));
		/* a header just signed always verifies, once */
		if (rc < 0) {
			struct blockauth_cache *fresh = blockauth_cache_new();
			char hdr[BLOCKAUTH_HEADER_MAX + 1];

			if (fresh == NULL)
				break;

			REQUIRE(blockauth_sign(&kr.keys[0], "GET", s, &h, NOW, hdr, sizeof(hdr),
					       NULL) == 0 ||
				strlen(s) > 200);
			if (strlen(s) <= 200) {
				REQUIRE(blockauth_verify(&kr, fresh, hdr, "GET", s, &h, NOW, NULL) == 0);
				REQUIRE(blockauth_verify(&kr, fresh, hdr, "GET", s, &h, NOW, NULL) == -EACCES);
			}
			blockauth_cache_free(fresh);
		}
		break;
	}
	case 1: {
		uint64_t off = 0, len = 0, total = size > 2 ? (uint64_t)data[1] * 256 + data[2] : 0;

		rc = api_parse_range(s, total, &off, &len);
		REQUIRE(rc == 0 || rc == 1 || rc == -1);
		if (rc == 1)
			REQUIRE(len > 0 && off < total && off + len <= total);
		break;
	}
	case 2: {
		int has;
		size_t limit;

		rc = api_parse_list_query(s, &h, &has, &limit, &e);
		REQUIRE(rc == 0 || rc == -EINVAL);
		if (rc == 0)
			REQUIRE(limit >= 1 && limit <= BLOCKSTORE_LIST_MAX && (has == 0 || has == 1));
		break;
	}
	default:
		rc = api_parse_block_path(s, &h);
		REQUIRE(rc == 0 || rc == -EINVAL);
		if (rc == 0)
			REQUIRE(strlen(s) == strlen("/v1/blocks/") + HASH_HEX_LEN);
	}
	free(s);
	return 0;
}
