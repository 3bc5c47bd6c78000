#ifndef _SEATD_NS_TEST_H
#define _SEATD_NS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A tiny unit test harness: each test is a function; a failed check prints where and what,
 * marks the test failed and returns from it. test_main_end() prints the tally and gives the
 * exit status meson's test runner reads.
 */

extern int test_failed_checks;
extern int test_passed, test_failed;

#define test_assert(cond)                                                                     \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			test_failed_checks++;                                                  \
			return;                                                                \
		}                                                                              \
	} while (0)

#define test_assert_str(actual, expected)                                                     \
	do {                                                                                   \
		const char *a_ = (actual), *e_ = (expected);                                   \
		if ((a_ == NULL) != (e_ == NULL) || (a_ != NULL && strcmp(a_, e_) != 0)) {     \
			fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__,    \
				__LINE__, #actual, a_ ? a_ : "(null)", e_ ? e_ : "(null)");    \
			test_failed_checks++;                                                  \
			return;                                                                \
		}                                                                              \
	} while (0)

#define test_run(func)                                                                        \
	do {                                                                                   \
		int before_ = test_failed_checks;                                              \
		func();                                                                        \
		if (test_failed_checks == before_) {                                           \
			test_passed++;                                                         \
			fprintf(stderr, "ok   %s\n", #func);                                   \
		} else {                                                                       \
			test_failed++;                                                         \
			fprintf(stderr, "FAIL %s\n", #func);                                   \
		}                                                                              \
	} while (0)

#define TEST_GLOBALS int test_failed_checks, test_passed, test_failed

static inline int test_main_end(void) {
	fprintf(stderr, "%d passed, %d failed\n", test_passed, test_failed);
	return test_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
