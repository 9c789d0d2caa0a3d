/* fuzz_tsig: libFuzzer target for lib/tsig's hostile-input paths. The first
 * byte picks the mode: odd = key-file text for the parser, even = a DNS
 * message for tsig_find / tsig_verify_request, answered with tsig_sign. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

/* The key the seed corpus (captured from dig and nsupdate) was signed with. */
static const char keyfile[] =
	"key \"dnsfs-admin\" { algorithm hmac-sha256;\n"
	"  secret \"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=\"; };\n";
#define SEED_TIME 1795451893

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tsig_keyring kr;
	static uint8_t out[WIRE_TCP_MAX];
	struct tsig_ctx ctx;
	struct wire_wr w;
	size_t off;
	int rc;

	if (kr.n == 0 && tsig_keyring_parse(&kr, keyfile, "fuzz", NULL) < 0)
		abort();
	if (size < 1)
		return 0;
	if (data[0] & 1) {
		struct tsig_keyring k2 = {0};
		struct err e = {0};
		char *text = malloc(size);
		if (text == NULL)
			return 0;
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		rc = tsig_keyring_parse(&k2, text, "fuzz", &e);
		REQUIRE(rc == 0 || (k2.n == 0 && e.msg[0] != '\0'));
		tsig_keyring_release(&k2);
		free(text);
		return 0;
	}
	data++;
	size--;
	rc = tsig_find(data, size, &off);
	REQUIRE(rc == 0 || rc == 1 || rc == -EBADMSG);
	if (rc == 1)
		REQUIRE(off >= WIRE_HDR_LEN && off < size);
	rc = tsig_verify_request(&ctx, &kr, data, size, SEED_TIME, NULL);
	if (size < WIRE_HDR_LEN || (rc < 0 && ctx.error == 0))
		return 0;
	/* Answer as the mds would: the header back, then the TSIG (or error). */
	wire_wr_init(&w, out, sizeof(out));
	wire_wr_bytes(&w, data, WIRE_HDR_LEN);
	wire_wr_patch_u16(&w, 4, 0);
	wire_wr_patch_u16(&w, 6, 0);
	wire_wr_patch_u16(&w, 8, 0);
	wire_wr_patch_u16(&w, 10, 0);
	REQUIRE(tsig_sign(&ctx, &w, SEED_TIME, NULL) == 0);
	REQUIRE(tsig_find(out, w.pos, &off) == 1 && off == WIRE_HDR_LEN);
	return 0;
}
