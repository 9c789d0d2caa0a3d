/* Unit tests for blockd/api's request parsers: block paths, Range headers
 * (RFC 9110 14.2 cases) and the listing query. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "api.h"
#include "check_main.h"

#define HEX "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

START_TEST(test_block_path)
{
	struct hash h;
	char hex[HASH_HEX_LEN + 1];

	ck_assert_int_eq(api_parse_block_path("/v1/blocks/" HEX, &h), 0);
	hash_to_hex(&h, hex);
	ck_assert_str_eq(hex, HEX);
	ck_assert_int_eq(api_parse_block_path("/v1/blocks/2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824", &h), 0);
	hash_to_hex(&h, hex);
	ck_assert_str_eq(hex, HEX);
	ck_assert_int_eq(api_parse_block_path("/v1/blocks/", &h), -EINVAL);
	ck_assert_int_eq(api_parse_block_path("/v1/blocks/" HEX "0", &h), -EINVAL);
	ck_assert_int_eq(api_parse_block_path("/v1/blocks/" HEX "/", &h), -EINVAL);
	ck_assert_int_eq(api_parse_block_path("/v1/blocks/x" HEX, &h), -EINVAL);
	ck_assert_int_eq(api_parse_block_path("/v1/blocks/zcf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", &h), -EINVAL);
	ck_assert_int_eq(api_parse_block_path("/v2/blocks/" HEX, &h), -EINVAL);
}
END_TEST

START_TEST(test_range)
{
	static const struct {
		const char *hdr;
		uint64_t size;
		int rc;
		uint64_t off, len;
	} cases[] = {
		{ NULL, 100, 0, 0, 0 },
		{ "bytes=0-9", 100, 1, 0, 10 },
		{ "bytes=10-19", 100, 1, 10, 10 },
		{ "bytes=90-", 100, 1, 90, 10 },
		{ "bytes=90-500", 100, 1, 90, 10 },
		{ "bytes=99-99", 100, 1, 99, 1 },
		{ "bytes=-10", 100, 1, 90, 10 },
		{ "bytes=-500", 100, 1, 0, 100 },
		{ "BYTES= 5-6 ", 100, 1, 5, 2 },
		{ "bytes=100-", 100, -1, 0, 0 },
		{ "bytes=100-200", 100, -1, 0, 0 },
		{ "bytes=-0", 100, -1, 0, 0 },
		{ "bytes=0-", 0, -1, 0, 0 },
		{ "bytes=-5", 0, -1, 0, 0 },
		{ "bytes=5-4", 100, 0, 0, 0 },          /* invalid: ignored */
		{ "bytes=0-1,5-6", 100, 0, 0, 0 },      /* several: whole body */
		{ "bytes=a-b", 100, 0, 0, 0 },
		{ "bytes=5", 100, 0, 0, 0 },
		{ "bytes=-", 100, 0, 0, 0 },
		{ "bytes=+1-2", 100, 0, 0, 0 },
		{ "items=0-1", 100, 0, 0, 0 },
		{ "bytes=99999999999999999999-", 100, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t off = 0, len = 0;
		int rc = api_parse_range(cases[i].hdr, cases[i].size, &off, &len);

		ck_assert_msg(rc == cases[i].rc, "%s: rc %d", cases[i].hdr ? cases[i].hdr : "NULL", rc);
		if (rc == 1)
			ck_assert_msg(off == cases[i].off && len == cases[i].len, "%s: %llu+%llu",
				      cases[i].hdr, (unsigned long long)off, (unsigned long long)len);
	}
}
END_TEST

START_TEST(test_list_query)
{
	struct err e = {0};
	struct hash after;
	int has;
	size_t limit;

	ck_assert_int_eq(api_parse_list_query(NULL, &after, &has, &limit, &e), 0);
	ck_assert_int_eq(has, 0);
	ck_assert_uint_eq(limit, API_LIST_DEFAULT);
	ck_assert_int_eq(api_parse_list_query("", &after, &has, &limit, &e), 0);
	ck_assert_int_eq(api_parse_list_query("after=" HEX "&limit=5", &after, &has, &limit, &e), 0);
	ck_assert_int_eq(has, 1);
	ck_assert_uint_eq(limit, 5);
	ck_assert_uint_eq(after.b[0], 0x2c);
	ck_assert_int_eq(api_parse_list_query("limit=10000&x=y&after=", &after, &has, &limit, &e), 0);
	ck_assert_int_eq(has, 0);
	ck_assert_uint_eq(limit, 10000);
	ck_assert_int_eq(api_parse_list_query("limit=10001", &after, &has, &limit, &e), -EINVAL);
	ck_assert_msg(strstr(e.msg, "limit") != NULL, "%s", e.msg);
	ck_assert_int_eq(api_parse_list_query("limit=0", &after, &has, &limit, &e), -EINVAL);
	ck_assert_int_eq(api_parse_list_query("limit=", &after, &has, &limit, &e), -EINVAL);
	ck_assert_int_eq(api_parse_list_query("limit=-1", &after, &has, &limit, &e), -EINVAL);
	ck_assert_int_eq(api_parse_list_query("after=abc", &after, &has, &limit, &e), -EINVAL);
	ck_assert_int_eq(api_parse_list_query("after", &after, &has, &limit, &e), 0);
	ck_assert_int_eq(has, 0);
	ck_assert_int_eq(api_parse_list_query("&&limit=3&", &after, &has, &limit, &e), 0);
	ck_assert_uint_eq(limit, 3);
}
END_TEST

static Suite *blockapi_suite(void)
{
	Suite *s = suite_create("blockapi");
	TCase *tc = tcase_create("parsers");

	tcase_add_test(tc, test_block_path);
	tcase_add_test(tc, test_range);
	tcase_add_test(tc, test_list_query);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(blockapi_suite)
