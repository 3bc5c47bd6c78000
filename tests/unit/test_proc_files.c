/*
 * The parsers of a container init's /proc files: the start time in stat (a command with ")"
 * and blanks in it, a number out of range), the NSpid line of status, and id maps.
 */
#include <errno.h>
#include <stdbool.h>

#include "proc_files.h"
#include "test.h"

TEST_GLOBALS;

/* stat with this command and start time; the fields between as the kernel writes them. */
static void make_stat(char *buf, size_t size, const char *command, const char *start_time) {
	snprintf(buf, size,
		"4242 (%s) S 1 4242 4242 0 -1 4194560 120 0 0 0 0 0 0 0 20 0 1 0 %s 2338816 232 "
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
		command, start_time);
}

static void test_start_time(void) {
	char stat[512];
	unsigned long long t = 0;
	make_stat(stat, sizeof(stat), "bash", "98765");
	test_assert(proc_parse_start_time(stat, &t) == 0 && t == 98765);
	make_stat(stat, sizeof(stat), "a) (b) 1 2 3", "5");
	test_assert(proc_parse_start_time(stat, &t) == 0 && t == 5);
	make_stat(stat, sizeof(stat), "x", "18446744073709551615");
	test_assert(proc_parse_start_time(stat, &t) == 0 && t == 18446744073709551615ULL);
}

/* Found by fuzzing: an out-of-range start time read as the largest number. */
static void test_start_time_malformed(void) {
	static const char *const bad[] = {"18446744073709551616", "99999999999999999999999",
		"-1", "+5", "12x", "x"};
	char stat[512];
	unsigned long long t;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_stat(stat, sizeof(stat), "bash", bad[i]);
		errno = 0;
		test_assert(proc_parse_start_time(stat, &t) == -1 && errno == EINVAL);
	}
	test_assert(proc_parse_start_time("4242 (bash) S 1 2 3\n", &t) == -1);
	test_assert(proc_parse_start_time("4242 bash S 1 2 3\n", &t) == -1);
}

static void test_pidns_init(void) {
	bool init = false;
	test_assert(proc_parse_pidns_init("Name:\tsh\nNSpid:\t4242\t1\nNSpgid:\t1\n", &init) == 0 &&
		    init);
	test_assert(proc_parse_pidns_init("Name:\tsh\nNSpid:\t4242\n", &init) == 0 && !init);
	test_assert(proc_parse_pidns_init("Name:\tsh\nNSpid:\t4242\t11\n", &init) == 0 && !init);
	test_assert(proc_parse_pidns_init("Name:\tsh\nNSpid:\t4242\t1", &init) == 0 && !init);
	test_assert(proc_parse_pidns_init("NSpid:\t1\n", &init) == -1 && errno == EINVAL);
}

static void test_id_map(void) {
	struct id_map map[2];
	test_assert(proc_parse_id_map("         0     200000      65536\n", map, 2) == 1);
	test_assert(map[0].inside == 0 && map[0].outside == 200000 && map[0].count == 65536);
	test_assert(proc_parse_id_map("0 0 4294967295\n1 2 3\n4 5 6\n", map, 2) == 2);
	test_assert(map[0].count == 4294967295u && map[1].inside == 1 && map[1].count == 3);
	/* Parsing stops at the first line that is not three numbers below 2^32. */
	test_assert(proc_parse_id_map("0 0 4294967296\n1 2 3\n", map, 2) == 0);
	test_assert(proc_parse_id_map("1 2 3\n-1 2 3\n", map, 2) == 1);
	test_assert(proc_parse_id_map("", map, 2) == 0);
}

int main(void) {
	test_run(test_start_time);
	test_run(test_start_time_malformed);
	test_run(test_pidns_init);
	test_run(test_id_map);
	return test_main_end();
}
