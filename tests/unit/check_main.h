/* check_main: the one runner shape every unit suite uses. Output is TAP when
 * CK_TAP_LOG_FILE_NAME=- (set by `make check`), so each case is counted. */
#ifndef DNSFS_CHECK_MAIN_H
#define DNSFS_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

#define CHECK_MAIN(suite_fn)                                             \
	int main(void)                                                   \
	{                                                                \
		SRunner *sr = srunner_create(suite_fn());                \
		int failed;                                              \
		srunner_run_all(sr, CK_ENV);                             \
		failed = srunner_ntests_failed(sr);                      \
		srunner_free(sr);                                        \
		return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;        \
	}

#endif
