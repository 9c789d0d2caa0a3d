/* Unit tests for lib/progress: the line's figures (done/total, percent,
 * rate, ETA, MiB for bytes, unknown totals) and the pacing of plain lines
 * when the output is not a terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "progress.h"

START_TEST(test_format_counts)
{
	struct progress p;
	char buf[256];

	progress_init(&p, stderr, "fsck", "blocks", 400);
	p.done = 120;
	progress_format(&p, p.start_ms + 4000, buf, sizeof(buf));
	ck_assert_str_eq(buf, "fsck: 120/400 blocks (30%), 30 blocks/s, ETA 9 s");
	p.done = 400;
	progress_format(&p, p.start_ms + 8000, buf, sizeof(buf));
	ck_assert_str_eq(buf, "fsck: 400/400 blocks (100%), 50 blocks/s, 8.0 s");
}
END_TEST

START_TEST(test_format_bytes_and_unknown_total)
{
	struct progress p;
	char buf[256];

	progress_init(&p, stderr, "put big", "bytes", 10u << 20);
	p.done = 5u << 20;
	progress_format(&p, p.start_ms + 2000, buf, sizeof(buf));
	ck_assert_str_eq(buf, "put big: 5.0/10.0 MiB (50%), 2.5 MiB/s, ETA 2 s");
	progress_init(&p, stderr, "gc", "blocks", 0);
	p.done = 7;
	progress_format(&p, p.start_ms + 2000, buf, sizeof(buf));
	ck_assert_str_eq(buf, "gc: 7 blocks, 3.5 blocks/s");
	p.done = 0;
	progress_format(&p, p.start_ms, buf, sizeof(buf));
	ck_assert_str_eq(buf, "gc: 0 blocks, 0.0 blocks/s");
}
END_TEST

START_TEST(test_plain_lines_are_paced)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct progress p;
	int lines = 0;

	ck_assert_ptr_nonnull(f);
	progress_init(&p, f, "gc", "blocks", 1000);
	ck_assert_int_eq(p.tty, 0);
	for (int i = 0; i < 1000; i++)
		progress_add(&p, 1);            /* well within 5 s: no line yet */
	progress_end(&p);                       /* the final line, always */
	fclose(f);
	for (char *c = text; *c; c++)
		lines += *c == '\n';
	ck_assert_int_eq(lines, 1);
	ck_assert(strncmp(text, "gc: 1000/1000 blocks (100%)", 27) == 0);
	ck_assert(strchr(text, '\r') == NULL);  /* no terminal codes in a log */
	free(text);
}
END_TEST

static Suite *progress_suite(void)
{
	Suite *s = suite_create("progress");
	TCase *tc = tcase_create("progress");

	tcase_add_test(tc, test_format_counts);
	tcase_add_test(tc, test_format_bytes_and_unknown_total);
	tcase_add_test(tc, test_plain_lines_are_paced);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(progress_suite)
