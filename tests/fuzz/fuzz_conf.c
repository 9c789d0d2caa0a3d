/* fuzz_conf: the config file parser and its typed getters on arbitrary text.
 * A parse either yields a config whose values all read back or an error
 * message naming the line; nothing else. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "listen", "store", "a", "size", "timeout", "flag", NULL };
	struct err e = { 0 };
	struct config *c = config_parse((const char *)data, size, "fuzz.conf", &e);
	uint64_t v;
	int b;

	if (c == NULL) {
		assert(strncmp(e.msg, "fuzz.conf", 9) == 0);
		return 0;
	}
	for (size_t i = 0; keys[i] != NULL; i++) {
		const char *s = config_get(c, keys[i]);

		if (s != NULL)
			assert(config_count(c, keys[i]) > 0);
		config_get_u64(c, keys[i], 1, 0, UINT64_MAX, &v, &e);
		config_get_bool(c, keys[i], 0, &b, &e);
		config_get_duration(c, keys[i], 1000, 0, UINT64_MAX, &v, &e);
		config_get_size(c, keys[i], 4096, 0, UINT64_MAX, &v, &e);
	}
	config_check_keys(c, keys, &e);
	config_free(c);
	return 0;
}
