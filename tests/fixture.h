#ifndef _SEATD_NS_TEST_FIXTURE_H
#define _SEATD_NS_TEST_FIXTURE_H

#include <stddef.h>

/*
 * The recorded multiseat host (tests/fixtures/lab-2seat.tgz), unpacked once per test
 * process into a temporary directory that is removed at exit. The fixture directory comes
 * from the SEATD_NS_FIXTURES environment variable (set by meson).
 */

/* A scratch directory for this test process, removed with all it holds at exit. */
const char *fixture_scratch_dir(void);

/* The unpacked sysfs root ("<tmp>/sysfs/sys"); exits the test process if unpacking fails. */
const char *fixture_sysfs_root(void);

struct fixture_record {
	char *data;
	size_t len;
};

/*
 * Reads a recording of [u32 little-endian length][kernel-format uevent] records, each
 * NUL-terminated in memory. Returns the number of records, exits on failure.
 */
size_t fixture_read_records(const char *path, struct fixture_record **records);

/*
 * Loads uevents.bin: records of [u32 little-endian length][kernel-format uevent]. Returns the
 * number of records and sets *records (free with fixture_records_free), exits on failure.
 */
size_t fixture_load_uevents(struct fixture_record **records);
void fixture_records_free(struct fixture_record *records, size_t n);

#endif
