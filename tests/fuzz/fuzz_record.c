/* fuzz_record: the TXT codec on arbitrary input. The first byte picks the
 * parser (inode, page, entry, presentation); whatever parses must format and
 * parse back to the same text, and whatever fails must say why. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

static char out1[RECORD_PAGE_TEXT_MAX + RECORD_TEXT_LONG_MAX];
static char out2[RECORD_PAGE_TEXT_MAX + RECORD_TEXT_LONG_MAX];

static void inode(const char *p, size_t n)
{
	struct record_inode r, back;
	struct err e = { 0 };
	int a, b;

	if (record_inode_parse_text(&r, p, n, &e) < 0) {
		assert(e.msg[0] != '\0');
		return;
	}
	a = record_inode_format(&r, out1, sizeof(out1), &e);
	assert(a >= 0);
	assert(record_inode_parse_text(&back, out1, (size_t)a, &e) == 0);
	b = record_inode_format(&back, out2, sizeof(out2), &e);
	assert(a == b && memcmp(out1, out2, (size_t)a) == 0);
	record_inode_release(&r);
	record_inode_release(&back);
}

static void page(const char *p, size_t n)
{
	struct record_page r, back;
	struct err e = { 0 };
	int a, b;

	if (record_page_parse_text(&r, p, n, &e) < 0) {
		assert(e.msg[0] != '\0');
		return;
	}
	a = record_page_format(&r, out1, sizeof(out1), &e);
	assert(a >= 0);
	assert(record_page_parse_text(&back, out1, (size_t)a, &e) == 0);
	b = record_page_format(&back, out2, sizeof(out2), &e);
	assert(a == b && memcmp(out1, out2, (size_t)a) == 0);
	record_page_release(&r);
	record_page_release(&back);
}

static void entry(const char *p, size_t n)
{
	struct record_entry r, back;
	struct err e = { 0 };
	int a;

	if (record_entry_parse_text(&r, p, n, &e) < 0) {
		assert(e.msg[0] != '\0');
		return;
	}
	a = record_entry_format(&r, out1, sizeof(out1), &e);
	assert(a >= 0);
	assert(record_entry_parse_text(&back, out1, (size_t)a, &e) == 0);
	assert(back.ino == r.ino && back.type == r.type && back.namelen == r.namelen);
	assert(memcmp(back.name, r.name, r.namelen) == 0);
}

static void presentation(const char *p, size_t n)
{
	struct err e = { 0 };
	int a = record_presentation_to_text(p, n, out1, sizeof(out1), &e);

	if (a < 0) {
		assert(e.msg[0] != '\0');
		return;
	}
	int b = record_text_to_presentation(out1, (size_t)a, out2, sizeof(out2), &e);
	if (b < 0)
		return; /* the text may not fit presentation form in out2 */
	a = record_presentation_to_text(out2, (size_t)b, out1 + sizeof(out1) / 2,
					sizeof(out1) / 2, &e);
	assert(a >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;

	switch (data[0] & 3) {
	case 0: inode(p, n); break;
	case 1: page(p, n); break;
	case 2: entry(p, n); break;
	default: presentation(p, n); break;
	}
	return 0;
}
