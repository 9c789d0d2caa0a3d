/* blocksign: print the Authorization header value (lib/blockauth) of one
 * block request, so that shell tests can drive blockd with curl:
 *   curl -H "Authorization: $(blocksign KEYFILE PUT /v1/blocks/H FILE)" ...
 * Usage: blocksign [-t UNIXTIME] [-k KEYNAME] KEYFILE METHOD PATH [BODYFILE] */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blockauth.h"

int main(int argc, char **argv)
{
	struct tsig_keyring kr = {0};
	const struct tsig_key *key;
	const char *keyname = NULL;
	struct err e = {0};
	struct hash body;
	char out[BLOCKAUTH_HEADER_MAX + 1];
	time_t now = time(NULL);
	int c, fd;

	while ((c = getopt(argc, argv, "t:k:")) != -1) {
		switch (c) {
		case 't': now = (time_t)strtoll(optarg, NULL, 10); break;
		case 'k': keyname = optarg; break;
		default: goto usage;
		}
	}
	if (argc - optind < 3 || argc - optind > 4)
		goto usage;
	if (tsig_keyring_load(&kr, argv[optind], &e) < 0 || kr.n == 0) {
		fprintf(stderr, "blocksign: %s\n", kr.n == 0 && e.code == 0 ? "no keys" : e.msg);
		return 1;
	}
	key = &kr.keys[0];
	if (keyname != NULL) {
		struct wire_name n;

		if (wire_name_from_text(&n, keyname, &e) < 0 ||
		    (wire_name_lower(&n), key = tsig_keyring_find(&kr, &n)) == NULL) {
			fprintf(stderr, "blocksign: no key %s\n", keyname);
			return 1;
		}
	}
	if (argc - optind == 4) {
		fd = strcmp(argv[optind + 3], "-") == 0 ? 0 : open(argv[optind + 3], O_RDONLY);
		if (fd < 0 || hash_fd(&body, fd, NULL, &e) < 0) {
			fprintf(stderr, "blocksign: %s: %s\n", argv[optind + 3],
				fd < 0 ? strerror(errno) : e.msg);
			return 1;
		}
		if (fd > 0)
			close(fd);
	} else {
		hash_buf(&body, "", 0);
	}
	if (blockauth_sign(key, argv[optind + 1], argv[optind + 2], &body, now, out,
			   sizeof(out), &e) < 0) {
		fprintf(stderr, "blocksign: %s\n", e.msg);
		return 1;
	}
	printf("%s\n", out);
	tsig_keyring_release(&kr);
	return 0;
usage:
	fprintf(stderr, "usage: blocksign [-t UNIXTIME] [-k KEYNAME] KEYFILE METHOD PATH "
		"[BODYFILE|-]\n");
	return 2;
}
