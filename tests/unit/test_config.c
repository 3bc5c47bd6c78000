/*
 * The configuration parser (config.c, through the real inih) on good and broken files, and
 * the persistent state (state.c): round trips, atomic writes, broken lines.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fixture.h"
#include "policy.h"
#include "state.h"
#include "test.h"

TEST_GLOBALS;

static const char *tmp_dir;

#define INVALID_SEAT_NAME                                                                     \
	"\": it must start with \"seat\", then letters, digits, _ or -, at most 255 characters"

/* A fresh directory under the test directory; returns its path (free it). */
static char *make_dir(void) {
	static int counter;
	char *path;
	if (asprintf(&path, "%s/case-%d", tmp_dir, ++counter) == -1) {
		return NULL;
	}
	if (mkdir(path, 0755) == -1) {
		perror(path);
		free(path);
		return NULL;
	}
	return path;
}

/* Writes dir/name (name may have one subdirectory, made as needed); returns the path. */
static char *write_file(const char *dir, const char *name, const char *text) {
	char *path;
	if (asprintf(&path, "%s/%s", dir, name) == -1) {
		return NULL;
	}
	char *slash = strrchr(path, '/');
	if (slash > path + strlen(dir)) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	FILE *f = fopen(path, "we");
	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(path);
		free(path);
		return NULL;
	}
	return path;
}

/* Reads a whole file (free it), or NULL. */
static char *read_file(const char *path) {
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		return NULL;
	}
	char *text = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&text, &size);
	int c;
	while (mem != NULL && (c = fgetc(f)) != EOF) {
		fputc(c, mem);
	}
	fclose(f);
	if (mem == NULL || fclose(mem) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* fmt with every "@" replaced by a and every "%" by b (free it). */
static char *expand(const char *fmt, const char *a, const char *b) {
	char *out = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&out, &size);
	if (mem == NULL) {
		return NULL;
	}
	for (const char *p = fmt; *p != '\0'; p++) {
		if (*p == '@') {
			fputs(a, mem);
		} else if (*p == '%' && b != NULL) {
			fputs(b, mem);
		} else {
			fputc(*p, mem);
		}
	}
	fclose(mem);
	return out;
}

static bool same_text(const char *what, const char *actual, const char *expected) {
	if ((actual == NULL) != (expected == NULL) ||
		(actual != NULL && strcmp(actual, expected) != 0)) {
		fprintf(stderr, "%s: expected\n%s\n-- but got\n%s\n--\n", what,
			expected ? expected : "(none)", actual ? actual : "(none)");
		return false;
	}
	return true;
}

/*
 * Loads text as DIR/seats.conf, with an optional drop-in DIR/seats.d/10-more.conf, and checks
 * that it is refused with exactly the expected error lines: "@" stands for the main file's
 * path, "%" for the drop-in's.
 */
static bool refused_with(const char *text, const char *drop_in, const char *expected) {
	char *dir = make_dir();
	char *path = dir ? write_file(dir, "seats.conf", text) : NULL;
	char *drop_in_path =
		dir && drop_in ? write_file(dir, "seats.d/10-more.conf", drop_in) : NULL;
	char *want = path ? expand(expected, path, drop_in_path) : NULL;
	bool ok = want != NULL && (drop_in == NULL || drop_in_path != NULL);
	if (ok) {
		struct config config;
		config_init(&config);
		int r = config_load(&config, path, true);
		ok = same_text("errors", config.errors, want);
		if (r != -1) {
			fprintf(stderr, "config_load returned %d for a broken configuration\n", r);
			ok = false;
		}
		config_finish(&config);
	}
	free(want);
	free(drop_in_path);
	free(path);
	free(dir);
	return ok;
}

/* Loads text as DIR/seats.conf into config, which must then be accepted. */
static bool accepted(struct config *config, const char *text) {
	char *dir = make_dir();
	char *path = dir ? write_file(dir, "seats.conf", text) : NULL;
	free(dir);
	config_init(config);
	if (path == NULL) {
		return false;
	}
	int r = config_load(config, path, true);
	free(path);
	if (r != 0 || config->errors != NULL) {
		fprintf(stderr, "refused (%d):\n%s", r, config->errors ? config->errors : "");
		return false;
	}
	return true;
}

/* Whether errors has the line "<path>:<rest>". */
static bool has_error_line(const char *errors, const char *path, const char *rest) {
	char *line;
	if (errors == NULL || asprintf(&line, "%s:%s\n", path, rest) == -1) {
		return false;
	}
	bool found = false;
	for (const char *p = errors; *p != '\0' && !found; p = strchr(p, '\n') + 1) {
		found = strncmp(p, line, strlen(line)) == 0;
	}
	if (!found) {
		fprintf(stderr, "no line \"%s:%s\" in\n%s", path, rest, errors);
	}
	free(line);
	return found;
}

static void test_good_config(void) {
	struct config config;
	test_assert(accepted(&config,
		"; a comment\n"
		"# another\n"
		"[daemon]\n"
		"source = kernel\n"
		"log-level = debug\n"
		"control-group = seatadm\n"
		"\n"
		"[seat seat1]\n"
		"container = desk1\n"
		"hidraw = yes\n"
		"shared-sound = no\n"
		"match-port = pci-0000:00:07.0-usb-0:1   ; the hub at port 1\n"
		"match-syspath = /sys/devices/pci0000:00/0000:00:05.0\n"
		"match-id-path = pci-0000:00:1f.3*\n"
		"match-usb-id = 046D:C52B\n"
		"match-kind = keyboard\n"
		"match-udev-seat = seat1\n"
		"[seat seat-2_b]\n"
		"  match-kind=sound-card  \n"));
	test_assert(config.source == CONFIG_SOURCE_KERNEL && config.source_set);
	test_assert(config.log_level == LOG_LEVEL_DEBUG && config.log_level_set);
	test_assert_str(config.control_group, "seatadm");
	test_assert(config.n_seats == 2);
	const struct seat_settings *s1 = config_find_seat(&config, "seat1");
	test_assert(s1 != NULL && s1 == &config.seats[0]);
	test_assert_str(s1->container, "desk1");
	test_assert(s1->hidraw && !s1->shared_sound);
	const struct seat_settings *s2 = config_find_seat(&config, "seat-2_b");
	test_assert(s2 != NULL && s2->container == NULL && !s2->hidraw && s2->shared_sound);
	test_assert(config_find_seat(&config, "seat3") == NULL);

	static const struct {
		enum rule_kind kind;
		const char *value;
		const char *seat;
		int line;
	} rules[] = {
		{RULE_PORT, "pci-0000:00:07.0-usb-0:1", "seat1", 12},
		{RULE_SYSPATH, "/devices/pci0000:00/0000:00:05.0", "seat1", 13},
		{RULE_ID_PATH, "pci-0000:00:1f.3*", "seat1", 14},
		{RULE_USB_ID, "046d:c52b", "seat1", 15},
		{RULE_KIND, "keyboard", "seat1", 16},
		{RULE_UDEV_SEAT, "seat1", "seat1", 17},
		{RULE_KIND, "sound-card", "seat-2_b", 19},
	};
	test_assert(config.rules.n_rules == sizeof(rules) / sizeof(rules[0]));
	for (size_t i = 0; i < config.rules.n_rules; i++) {
		const struct rule *r = &config.rules.rules[i];
		test_assert(r->kind == rules[i].kind);
		test_assert_str(r->value, rules[i].value);
		test_assert_str(r->seat, rules[i].seat);
		test_assert(r->line == rules[i].line);
		test_assert(r->subsystem == NULL);
		test_assert(r->file != NULL && strstr(r->file, "/seats.conf") != NULL);
	}
	config_finish(&config);
	test_assert(config.n_seats == 0 && config.rules.n_rules == 0 && config.errors == NULL);
}

static void test_booleans(void) {
	static const char *const yes[] = {"yes", "true", "1"};
	static const char *const no[] = {"no", "false", "0"};
	for (size_t i = 0; i < 3; i++) {
		char text[128];
		struct config config;
		snprintf(text, sizeof(text), "[seat seat1]\nhidraw = %s\nshared-sound = %s\n",
			yes[i], no[i]);
		test_assert(accepted(&config, text));
		test_assert(config.seats[0].hidraw && !config.seats[0].shared_sound);
		config_finish(&config);
	}
}

static void test_defaults(void) {
	struct config config;
	test_assert(accepted(&config, "[seat seat1]\ncontainer = desk1\n"));
	test_assert(config.source == CONFIG_SOURCE_AUTO && !config.source_set);
	test_assert(config.log_level == LOG_LEVEL_INFO && !config.log_level_set);
	test_assert(config.control_group == NULL);
	test_assert(!config.seats[0].hidraw && config.seats[0].shared_sound);
	config_finish(&config);
}

/* A seat is defined where its section starts, which later messages point to. */
static void test_seat_defined_at_header(void) {
	struct config config;
	bool ok = accepted(&config, "; seats\n\n[seat seat1]\n; its container\n"
				    "container = desk1\n") &&
		  config.n_seats == 1;
	int line = ok ? config.seats[0].line : 0;
	config_finish(&config);
	test_assert(ok);
	test_assert(line == 3);
}

static void test_unknown_key(void) {
	test_assert(refused_with("[seat seat1]\ncontainer = desk1\ncolour = blue\n", NULL,
		"@:3: unknown key \"colour\" in [seat seat1]\n"));
	test_assert(refused_with("[daemon]\nsource = auto\nbogus = 1\n", NULL,
		"@:3: unknown key \"bogus\" in [daemon]\n"));
	/* Device rules are for seat-assign; the configuration has match-port for that. */
	test_assert(refused_with("[seat seat1]\nmatch-device = pci-0000:00:07.0-usb-0:1.1:1.0\n",
		NULL, "@:2: unknown key \"match-device\" in [seat seat1]\n"));
	test_assert(refused_with("[seat seat1]\nmatch-ports = pci-0000:00:07.0-usb-0:1\n", NULL,
		"@:2: unknown key \"match-ports\" in [seat seat1]\n"));
}

/* A section error is the section's line's, said once, however many keys follow. */
static void test_unknown_section(void) {
	test_assert(refused_with("[daemon]\nsource = auto\n\n[seats seat1]\ncontainer = desk1\n"
				 "hidraw = yes\n",
		NULL, "@:4: unknown section [seats seat1]\n"));
}

static void test_key_outside_section(void) {
	test_assert(refused_with("container = desk1\n[seat seat1]\nhidraw = no\n", NULL,
		"@:1: key \"container\" outside a section\n"));
}

static void test_bad_glob(void) {
	test_assert(refused_with("[seat seat1]\nmatch-id-path = [abc\n", NULL,
		"@:2: match-id-path \"[abc\": bad glob\n"));
	test_assert(refused_with("[seat seat1]\nmatch-id-path = pci-*\\\n", NULL,
		"@:2: match-id-path \"pci-*\\\": bad glob\n"));
}

static void test_bad_rule_values(void) {
	test_assert(refused_with("[seat seat1]\nmatch-usb-id = 046d\n", NULL,
		"@:2: match-usb-id \"046d\": not a USB vendor:product (such as 046d:c52b)\n"));
	test_assert(refused_with("[seat seat1]\nmatch-usb-id = 046d:c52g\n", NULL,
		"@:2: match-usb-id \"046d:c52g\": not a USB vendor:product (such as 046d:c52b)\n"));
	test_assert(refused_with("[seat seat1]\nmatch-port = pci-0000:00:07.0-usb-0:1.\n", NULL,
		"@:2: match-port \"pci-0000:00:07.0-usb-0:1.\": not an ID_PATH (such as "
		"pci-0000:00:14.0-usb-0:1)\n"));
	test_assert(refused_with("[seat seat1]\nmatch-syspath = /sys/class/drm/card0\n", NULL,
		"@:2: match-syspath \"/sys/class/drm/card0\": not a sysfs device path "
		"(/sys/devices/...)\n"));
	test_assert(refused_with("[seat seat1]\nmatch-kind = mouse\n", NULL,
		"@:2: match-kind \"mouse\": not a device kind or subsystem\n"));
	test_assert(refused_with("[seat seat1]\nmatch-udev-seat = Seat1\n", NULL,
		"@:2: match-udev-seat \"Seat1\": not a seat name\n"));
}

static void test_duplicate_seat(void) {
	test_assert(refused_with("[seat seat1]\ncontainer = desk1\n"
				 "[seat seat2]\ncontainer = desk2\n"
				 "[seat seat1]\nhidraw = yes\n",
		NULL, "@:5: duplicate seat seat1 (first defined at @:1)\n"));
}

/* The same seat twice in a row is as much a duplicate: its keys must not merge. */
static void test_duplicate_seat_consecutive(void) {
	test_assert(refused_with("[seat seat1]\ncontainer = desk1\n\n"
				 "[seat seat1]\ncontainer = desk2\n",
		NULL, "@:4: duplicate seat seat1 (first defined at @:1)\n"));
}

static void test_duplicate_seat_drop_in(void) {
	test_assert(refused_with("[seat seat1]\ncontainer = desk1\n",
		"[seat seat2]\ncontainer = desk2\n\n[seat seat1]\nhidraw = yes\n",
		"%:4: duplicate seat seat1 (first defined at @:1)\n"));
}

static void test_invalid_seat_name(void) {
	test_assert(refused_with("[seat Seat1]\ncontainer = desk1\n", NULL,
		"@:1: invalid seat name \"Seat1" INVALID_SEAT_NAME "\n"));
	test_assert(refused_with("[seat seat 1]\ncontainer = desk1\n", NULL,
		"@:1: invalid seat name \"seat 1" INVALID_SEAT_NAME "\n"));
	test_assert(refused_with("[seat seat1/x]\ncontainer = desk1\n", NULL,
		"@:1: invalid seat name \"seat1/x" INVALID_SEAT_NAME "\n"));
}

/* logind: at least one character after "seat". */
static void test_invalid_seat_name_bare(void) {
	test_assert(refused_with("[seat seat]\ncontainer = desk1\n", NULL,
		"@:1: invalid seat name \"seat" INVALID_SEAT_NAME "\n"));
}

static char *long_seat_name(size_t len) {
	char *name = malloc(len + 1);
	if (name != NULL) {
		memcpy(name, "seat", 4);
		for (size_t i = 4; i < len; i++) {
			name[i] = (char)('a' + i % 26);
		}
		name[len] = '\0';
	}
	return name;
}

static void test_invalid_seat_name_too_long(void) {
	char *name = long_seat_name(256);
	char text[512], expected[1024];
	test_assert(name != NULL);
	snprintf(text, sizeof(text), "[seat %s]\ncontainer = desk1\n", name);
	snprintf(expected, sizeof(expected), "@:1: invalid seat name \"%s" INVALID_SEAT_NAME "\n",
		name);
	free(name);
	test_assert(refused_with(text, NULL, expected));
}

/* Names up to logind's limit are taken whole: not cut, not merged with another. */
static void test_long_seat_names(void) {
	char text[1024];
	struct config config;
	char *a = long_seat_name(60), *b = long_seat_name(60);
	test_assert(a != NULL && b != NULL);
	b[59] = '_';
	snprintf(text, sizeof(text), "[seat %s]\ncontainer = desk1\n[seat %s]\ncontainer = desk2\n",
		a, b);
	bool ok = accepted(&config, text) && config.n_seats == 2 &&
		  strcmp(config.seats[0].name, a) == 0 && strcmp(config.seats[1].name, b) == 0;
	if (!ok && config.n_seats > 0) {
		fprintf(stderr, "first seat: %s\n", config.seats[0].name);
	}
	config_finish(&config);
	free(a);
	free(b);
	test_assert(ok);

	char *longest = long_seat_name(255);
	test_assert(longest != NULL);
	snprintf(text, sizeof(text), "[seat %s]\ncontainer = desk1\nhidraw = yes\n", longest);
	ok = accepted(&config, text) && config.n_seats == 1 &&
	     strcmp(config.seats[0].name, longest) == 0 && config.seats[0].hidraw;
	config_finish(&config);
	free(longest);
	test_assert(ok);
}

/*
 * Whether every error line of config names line `line` of path, except those that contain
 * `other`, which must name line other_line.
 */
static bool errors_at(const struct config *config, const char *path, int line, const char *other,
	int other_line) {
	bool ok = true;
	for (const char *p = config->errors; p != NULL && *p != '\0'; p = strchr(p, '\n') + 1) {
		size_t len = strcspn(p, "\n");
		int at = -1;
		if (strncmp(p, path, strlen(path)) == 0 && p[strlen(path)] == ':') {
			at = atoi(p + strlen(path) + 1);
		}
		const char *found = other != NULL ? strstr(p, other) : NULL;
		int want = found != NULL && found < p + len ? other_line : line;
		if (at != want) {
			fprintf(stderr, "at line %d, expected %d: %.*s\n", at, want, (int)len, p);
			ok = false;
		}
	}
	return ok;
}

/*
 * A line longer than inih's line buffer is taken whole or refused with an error on that
 * line, never cut silently; the lines after it keep their numbers.
 */
static void test_long_line(void) {
	char glob[300];
	memset(glob, 'a', sizeof(glob));
	memcpy(glob, "pci-", 4);
	glob[sizeof(glob) - 2] = '*';
	glob[sizeof(glob) - 1] = '\0';
	char text[512];
	struct config config;

	char *dir = make_dir();
	snprintf(text, sizeof(text), "[seat seat1]\nmatch-id-path = %s\ncolour = blue\n", glob);
	char *path = dir ? write_file(dir, "seats.conf", text) : NULL;
	free(dir);
	test_assert(path != NULL);
	config_init(&config);
	int r = config_load(&config, path, true);
	bool ok = r == -1 && has_error_line(config.errors, path,
				     "3: unknown key \"colour\" in [seat seat1]") &&
		  errors_at(&config, path, 2, "colour", 3);
	bool intact = config.rules.n_rules == 0 ||
		      (config.rules.n_rules == 1 && strcmp(config.rules.rules[0].value, glob) == 0);
	config_finish(&config);
	free(path);
	test_assert(ok);
	test_assert(intact);

	dir = make_dir();
	snprintf(text, sizeof(text), "[seat seat1]\nmatch-id-path = %s\n", glob);
	path = dir ? write_file(dir, "seats.conf", text) : NULL;
	free(dir);
	test_assert(path != NULL);
	config_init(&config);
	r = config_load(&config, path, true);
	if (r == 0) {
		ok = config.rules.n_rules == 1 && strcmp(config.rules.rules[0].value, glob) == 0;
	} else {
		ok = config.rules.n_rules == 0 && errors_at(&config, path, 2, NULL, 0);
	}
	config_finish(&config);
	free(path);
	test_assert(ok);
}

/* A section without keys is still a section: checked, and a seat when it names one. */
static void test_empty_sections(void) {
	test_assert(refused_with("[seat Seat1]\n\n[seat seat2]\ncontainer = desk2\n", NULL,
		"@:1: invalid seat name \"Seat1" INVALID_SEAT_NAME "\n"));
	test_assert(refused_with("[bogus]\n[seat seat2]\ncontainer = desk2\n", NULL,
		"@:1: unknown section [bogus]\n"));
	struct config config;
	test_assert(accepted(&config, "[seat seat1]\ncontainer = desk1\n[seat seat3]\n"));
	test_assert(config.n_seats == 2);
	test_assert(config_find_seat(&config, "seat3") != NULL);
	config_finish(&config);
}

static void test_conflicting_rules(void) {
	test_assert(refused_with("[seat seat1]\nmatch-port = pci-0000:00:07.0-usb-0:1\n\n"
				 "[seat seat2]\nmatch-port = pci-0000:00:07.0-usb-0:1\n",
		NULL,
		"@:5: match-port \"pci-0000:00:07.0-usb-0:1\" for seat2 conflicts with @:2 "
		"(seat1)\n"));
	/* Compared after normalization. */
	test_assert(refused_with("[seat seat1]\n"
				 "match-syspath = /sys/devices/pci0000:00/0000:00:05.0\n"
				 "[seat seat2]\n"
				 "match-syspath = /devices/pci0000:00/0000:00:05.0\n",
		NULL,
		"@:4: match-syspath \"/devices/pci0000:00/0000:00:05.0\" for seat2 conflicts with "
		"@:2 (seat1)\n"));
	test_assert(refused_with("[seat seat1]\nmatch-usb-id = 046D:C52B\n"
				 "[seat seat2]\nmatch-usb-id = 046d:c52b\n",
		NULL, "@:4: match-usb-id \"046d:c52b\" for seat2 conflicts with @:2 (seat1)\n"));
	test_assert(refused_with("[seat seat1]\nmatch-port = pci-0000:00:07.0-usb-0:1\n",
		"[seat seat2]\nmatch-port = pci-0000:00:07.0-usb-0:1\n",
		"%:2: match-port \"pci-0000:00:07.0-usb-0:1\" for seat2 conflicts with @:2 "
		"(seat1)\n"));

	/* Not conflicts: the same rule twice in one seat, or different selectors. */
	struct config config;
	test_assert(accepted(&config, "[seat seat1]\nmatch-port = pci-0000:00:07.0-usb-0:1\n"
				      "match-port = pci-0000:00:07.0-usb-0:1\n"
				      "[seat seat2]\nmatch-port = pci-0000:00:07.0-usb-0:1.1\n"
				      "match-id-path = pci-0000:00:07.0-usb-0:1\n"));
	config_finish(&config);
}

static void test_bad_bool(void) {
	test_assert(refused_with("[seat seat1]\nhidraw = maybe\n", NULL,
		"@:2: hidraw must be yes or no, not \"maybe\"\n"));
	test_assert(refused_with("[seat seat1]\nshared-sound = 2\n", NULL,
		"@:2: shared-sound must be yes or no, not \"2\"\n"));
	test_assert(refused_with("[seat seat1]\nhidraw =\n", NULL,
		"@:2: hidraw must be yes or no, not \"\"\n"));
}

static void test_bad_container(void) {
	test_assert(refused_with("[seat seat1]\ncontainer = a/b\n", NULL,
		"@:2: invalid container name \"a/b\"\n"));
	test_assert(refused_with("[seat seat1]\ncontainer = .hidden\n", NULL,
		"@:2: invalid container name \".hidden\"\n"));
	test_assert(refused_with("[seat seat1]\ncontainer = desk 1\n", NULL,
		"@:2: invalid container name \"desk 1\"\n"));
}

static void test_bad_daemon_values(void) {
	test_assert(refused_with("[daemon]\nsource = netlink\n", NULL,
		"@:2: source must be auto, kernel or udev, not \"netlink\"\n"));
	test_assert(refused_with("[daemon]\nlog-level = loud\n", NULL,
		"@:2: unknown log-level \"loud\"\n"));
	test_assert(refused_with("[daemon]\ncontrol-group =\n", NULL,
		"@:2: control-group is empty\n"));
}

static void test_syntax_error(void) {
	test_assert(refused_with("[seat seat1]\ncontainer = desk1\nthis line has no equals sign\n"
				 "hidraw = yes\n",
		NULL, "@:3: syntax error\n"));

	/* An unclosed section header is one too (the keys after it then have no section). */
	char *dir = make_dir();
	char *path = dir ? write_file(dir, "seats.conf", "[seat seat1\ncontainer = desk1\n") : NULL;
	free(dir);
	test_assert(path != NULL);
	struct config config;
	config_init(&config);
	int r = config_load(&config, path, true);
	bool ok = r == -1 && has_error_line(config.errors, path, "1: syntax error");
	config_finish(&config);
	free(path);
	test_assert(ok);
}

/* Every error, each with its line: the second syntax error too. */
static void test_every_syntax_error(void) {
	char *dir = make_dir();
	char *path = dir ? write_file(dir, "seats.conf",
				     "[seat seat1]\nbad one\ncontainer = desk1\nbad two\n")
			 : NULL;
	free(dir);
	test_assert(path != NULL);
	struct config config;
	config_init(&config);
	int r = config_load(&config, path, true);
	bool ok = r == -1 && has_error_line(config.errors, path, "2: syntax error") &&
		  has_error_line(config.errors, path, "4: syntax error");
	config_finish(&config);
	free(path);
	test_assert(ok);
}

static void test_many_errors(void) {
	test_assert(refused_with("[seat seat1]\n"
				 "colour = blue\n"
				 "hidraw = maybe\n"
				 "match-usb-id = x\n"
				 "container = a/b\n"
				 "match-kind = keyboard\n"
				 "[daemon]\n"
				 "source = netlink\n",
		NULL,
		"@:2: unknown key \"colour\" in [seat seat1]\n"
		"@:3: hidraw must be yes or no, not \"maybe\"\n"
		"@:4: match-usb-id \"x\": not a USB vendor:product (such as 046d:c52b)\n"
		"@:5: invalid container name \"a/b\"\n"
		"@:8: source must be auto, kernel or udev, not \"netlink\"\n"));
}

static void test_drop_in_order(void) {
	char *dir = make_dir();
	test_assert(dir != NULL);
	char *paths[] = {
		write_file(dir, "seats.conf", "[seat seat1]\ncontainer = desk1\n"),
		write_file(dir, "seats.d/20-b.conf", "[seat seat3]\ncontainer = desk3\n"),
		write_file(dir, "seats.d/10-a.conf",
			"[seat seat2]\nmatch-port = pci-0000:00:07.0-usb-0:2\n"),
		write_file(dir, "seats.d/README", "not a configuration\n"),
		write_file(dir, "seats.d/30-c.conf.disabled", "[seat Broken]\nx = y\n"),
	};
	bool written = true;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		written &= paths[i] != NULL;
	}
	struct config config;
	config_init(&config);
	int r = written ? config_load(&config, paths[0], true) : -1;
	bool ok = r == 0 && config.errors == NULL && config.n_seats == 3 &&
		  strcmp(config.seats[0].name, "seat1") == 0 &&
		  strcmp(config.seats[1].name, "seat2") == 0 &&
		  strcmp(config.seats[2].name, "seat3") == 0 &&
		  strcmp(config.seats[1].file, paths[2]) == 0 &&
		  config.rules.n_rules == 1 && strcmp(config.rules.rules[0].file, paths[2]) == 0 &&
		  config.rules.rules[0].line == 2 && config.n_files == 3;
	if (!ok) {
		fprintf(stderr, "r=%d, %zu seats, errors:\n%s", r, config.n_seats,
			config.errors ? config.errors : "");
	}
	config_finish(&config);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		free(paths[i]);
	}
	free(dir);
	test_assert(ok);
}

static void test_missing_file(void) {
	char *dir = make_dir();
	char *path;
	test_assert(dir != NULL && asprintf(&path, "%s/seats.conf", dir) != -1);
	struct config config;

	/* Named by the user: an error. */
	config_init(&config);
	char *expected = expand("@: No such file or directory\n", path, NULL);
	bool ok = config_load(&config, path, true) == -1 &&
		  same_text("errors", config.errors, expected);
	free(expected);
	config_finish(&config);
	test_assert(ok);

	/* The default path: the built-in defaults. */
	config_init(&config);
	ok = config_load(&config, path, false) == 0 && config.errors == NULL &&
	     config.n_seats == 0 && config.rules.n_rules == 0 &&
	     config.source == CONFIG_SOURCE_AUTO;
	config_finish(&config);
	test_assert(ok);

	/* Drop-ins still apply without the main file. */
	char *drop_in = write_file(dir, "seats.d/10-a.conf", "[seat seat2]\ncontainer = desk2\n");
	config_init(&config);
	ok = drop_in != NULL && config_load(&config, path, false) == 0 && config.n_seats == 1;
	config_finish(&config);
	free(drop_in);
	free(path);
	free(dir);
	test_assert(ok);
}

/* A refused configuration is refused as a whole; the one in use stays as it was. */
static void test_no_half_state(void) {
	struct config current, fresh;
	test_assert(accepted(&current, "[seat seat1]\ncontainer = desk1\n"
				       "match-port = pci-0000:00:07.0-usb-0:1\n"));

	char *dir = make_dir();
	char *path = dir ? write_file(dir, "seats.conf",
				     "[seat seat1]\ncontainer = desk9\n"
				     "match-port = pci-0000:00:07.0-usb-0:2\n")
			 : NULL;
	char *drop_in = dir ? write_file(dir, "seats.d/50-x.conf", "[seat seat2]\nhidraw = maybe\n")
			    : NULL;
	test_assert(path != NULL && drop_in != NULL);
	config_init(&fresh);
	/* An error anywhere, even in the last drop-in, refuses the whole. */
	test_assert(config_load(&fresh, path, true) == -1);
	char *expected = expand("@:2: hidraw must be yes or no, not \"maybe\"\n", drop_in, NULL);
	bool ok = same_text("errors", fresh.errors, expected);
	free(expected);
	config_finish(&fresh);
	test_assert(ok);
	test_assert(fresh.n_seats == 0 && fresh.rules.n_rules == 0 && fresh.errors == NULL &&
		    fresh.files == NULL && fresh.control_group == NULL);

	test_assert(current.n_seats == 1);
	test_assert_str(current.seats[0].container, "desk1");
	test_assert(current.rules.n_rules == 1);
	test_assert_str(current.rules.rules[0].value, "pci-0000:00:07.0-usb-0:1");
	config_finish(&current);
	free(path);
	free(drop_in);
	free(dir);
}

/* ---- state ---- */

/* Runs state_load with stderr (the log) going to a file; *log gets what was logged. */
static int load_logged(struct state *state, const char *dir, char **log) {
	char *log_path;
	if (asprintf(&log_path, "%s/log", tmp_dir) == -1) {
		return -1;
	}
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (saved == -1 || fd == -1) {
		free(log_path);
		return -1;
	}
	dup2(fd, STDERR_FILENO);
	close(fd);
	int r = state_load(state, dir);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	*log = read_file(log_path);
	unlink(log_path);
	free(log_path);
	return r;
}

static int add_assignment(struct state *state, enum rule_kind kind, const char *value,
	const char *subsystem, const char *seat) {
	struct rule rule;
	const char *why;
	if (rule_init(&rule, kind, value, subsystem, seat, &why) == -1) {
		return -1;
	}
	return rule_set_add(&state->rules, &rule);
}

/* The file's lines that are not comments. */
static char *decisions(const char *path) {
	char *text = read_file(path);
	if (text == NULL) {
		return NULL;
	}
	char *out = text, *w = text;
	for (char *line = text; *line != '\0';) {
		char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line + 1) : strlen(line);
		if (line[0] != '#') {
			memmove(w, line, len);
			w += len;
		}
		line += len;
	}
	*w = '\0';
	return out;
}

static void test_state_round_trip(void) {
	char *dir = make_dir();
	test_assert(dir != NULL);
	struct state state;
	char *log = NULL;
	/* No file yet: an empty state. */
	test_assert(load_logged(&state, dir, &log) == 0);
	test_assert_str(log, "");
	free(log);
	test_assert(state.n_seats == 0 && state.rules.n_rules == 0 && state.n_attachments == 0);

	test_assert(state_add_seat(&state, "seat5") == 0);
	test_assert(state_add_seat(&state, "seat6") == 0);
	test_assert(state_add_seat(&state, "seat5") == 0);
	test_assert(add_assignment(&state, RULE_SYSPATH, "/sys/devices/pci0000:00/0000:00:05.0",
			    NULL, "seat5") == 0);
	test_assert(add_assignment(&state, RULE_DEVICE, "pci-0000:00:07.0-usb-0:1.1:1.0", "input",
			    "seat6") == 0);
	test_assert(add_assignment(&state, RULE_PORT, "pci-0000:00:07.0-usb-0:2", NULL, "seat5") ==
		    0);
	const char *desks[] = {"desk1"};
	test_assert(state_set_attachment(&state, "seat5", desks, 1, 0) == 0);
	test_assert(state_set_attachment(&state, "seat6", NULL, 0, 0) == 0);
	const char *three[] = {"desk2", "desk3", "desk4"};
	test_assert(state_set_attachment(&state, "seat7", three, 3, 1) == 0);
	test_assert(state_save(&state) == 0);
	state_finish(&state);

	char *path;
	test_assert(asprintf(&path, "%s/state", dir) != -1);
	char *written = decisions(path);
	bool same = same_text("state file", written,
		"seat\tseat5\n"
		"seat\tseat6\n"
		"assign\tsyspath\tseat5\t/devices/pci0000:00/0000:00:05.0\n"
		"assign\tdevice\tseat6\tpci-0000:00:07.0-usb-0:1.1:1.0\tinput\n"
		"assign\tport\tseat5\tpci-0000:00:07.0-usb-0:2\n"
		"attach\tseat5\tdesk1\n"
		"detach\tseat6\n"
		"attach\tseat7\tdesk2\n"
		"attach\tseat7\tdesk3\n"
		"attach\tseat7\tdesk4\n"
		"active\tseat7\tdesk3\n");
	free(written);
	free(path);
	test_assert(same);

	test_assert(load_logged(&state, dir, &log) == 0);
	test_assert_str(log, "");
	free(log);
	test_assert(state.n_seats == 2);
	test_assert(state_has_seat(&state, "seat5") && state_has_seat(&state, "seat6"));
	test_assert(state.rules.n_rules == 3);
	const struct rule *r = state.rules.rules;
	test_assert(r[0].kind == RULE_SYSPATH && r[0].subsystem == NULL);
	test_assert_str(r[0].value, "/devices/pci0000:00/0000:00:05.0");
	test_assert_str(r[0].seat, "seat5");
	test_assert(r[1].kind == RULE_DEVICE);
	test_assert_str(r[1].value, "pci-0000:00:07.0-usb-0:1.1:1.0");
	test_assert_str(r[1].subsystem, "input");
	test_assert_str(r[1].seat, "seat6");
	test_assert(r[2].kind == RULE_PORT && r[2].subsystem == NULL);
	test_assert_str(r[2].value, "pci-0000:00:07.0-usb-0:2");
	test_assert(r[0].specificity > r[1].specificity && r[1].specificity > r[2].specificity);
	test_assert(state.n_attachments == 3);
	const struct attachment *a = state_find_attachment(&state, "seat5");
	test_assert(a != NULL && a->n_containers == 1 && a->active == 0);
	test_assert_str(a->containers[0], "desk1");
	a = state_find_attachment(&state, "seat6");
	test_assert(a != NULL && a->n_containers == 0);
	a = state_find_attachment(&state, "seat7");
	test_assert(a != NULL && a->n_containers == 3 && a->active == 1);
	test_assert_str(a->containers[0], "desk2");
	test_assert_str(a->containers[1], "desk3");
	test_assert_str(a->containers[2], "desk4");
	state_clear_attachment(&state, "seat7");

	/* Undoing decisions is saved too. */
	state_remove_seat(&state, "seat6");
	state_clear_attachment(&state, "seat6");
	struct rule like;
	const char *why;
	test_assert(rule_init(&like, RULE_PORT, "pci-0000:00:07.0-usb-0:2", NULL, "seat5", &why) ==
		    0);
	test_assert(rule_set_remove(&state.rules, &like) == 0);
	rule_finish(&like);
	test_assert(state_save(&state) == 0);
	state_finish(&state);
	test_assert(load_logged(&state, dir, &log) == 0);
	free(log);
	test_assert(state.n_seats == 1 && state.rules.n_rules == 2 && state.n_attachments == 1);
	test_assert(!state_has_seat(&state, "seat6"));
	test_assert(state_find_attachment(&state, "seat6") == NULL);
	state_finish(&state);
	free(dir);
}

static bool dir_has(const char *dir, const char *prefix, char **found) {
	DIR *d = opendir(dir);
	if (d == NULL) {
		return false;
	}
	bool has = false;
	for (struct dirent *e; !has && (e = readdir(d)) != NULL;) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
			has = true;
			if (found != NULL && asprintf(found, "%s/%s", dir, e->d_name) == -1) {
				*found = NULL;
			}
		}
	}
	closedir(d);
	return has;
}

static void test_state_atomic(void) {
	char *dir = make_dir();
	char *path = dir ? write_file(dir, "state", "seat\tseat1\n") : NULL;
	test_assert(path != NULL);
	test_assert(chmod(path, 0644) == 0);
	struct stat before, after;
	test_assert(stat(path, &before) == 0);
	int old_fd = open(path, O_RDONLY | O_CLOEXEC);
	test_assert(old_fd != -1);

	struct state state;
	char *log;
	test_assert(load_logged(&state, dir, &log) == 0);
	free(log);
	test_assert(state_add_seat(&state, "seat2") == 0);
	mode_t old_umask = umask(0);
	int r = state_save(&state);
	umask(old_umask);
	test_assert(r == 0);

	/* A new file took the old one's name: a reader of the old one saw it whole. */
	test_assert(stat(path, &after) == 0);
	test_assert(after.st_ino != before.st_ino);
	char old_text[64];
	ssize_t n = read(old_fd, old_text, sizeof(old_text) - 1);
	close(old_fd);
	test_assert(n == (ssize_t)strlen("seat\tseat1\n"));
	test_assert((after.st_mode & 07777) == 0600);
	test_assert(!dir_has(dir, "state.tmp", NULL));
	test_assert(!dir_has(dir, "state.broken", NULL));
	char *text = decisions(path);
	bool same = same_text("state file", text, "seat\tseat1\nseat\tseat2\n");
	free(text);
	test_assert(same);

	/* A failed save leaves nothing behind and says why. */
	char *missing;
	test_assert(asprintf(&missing, "%s/missing", dir) != -1);
	struct state elsewhere;
	test_assert(load_logged(&elsewhere, missing, &log) == 0);
	free(log);
	free(missing);
	test_assert(state_add_seat(&elsewhere, "seat3") == 0);
	errno = 0;
	test_assert(state_save(&elsewhere) == -1 && errno == ENOENT);
	state_finish(&elsewhere);

	state_finish(&state);
	free(path);
	free(dir);
}

#define LONG_LINE_LEN 5000

static void test_state_broken_lines(void) {
	char *long_line = malloc(LONG_LINE_LEN + 1);
	test_assert(long_line != NULL);
	memset(long_line, 'x', LONG_LINE_LEN);
	long_line[LONG_LINE_LEN] = '\0';
	char *content;
	test_assert(asprintf(&content,
			    "# comment\n"
			    "seat\tseat1\n"
			    "seat\tSeat1\n"
			    "assign\tport\tseat1\tpci-0000:00:07.0-usb-0:1\n"
			    "assign\tusb-id\tseat1\t046d:c52b\n"
			    "frobnicate\tseat1\n"
			    "attach\tseat1\ta/b\n"
			    "assign\tdevice\tseat2\tpci-0000:00:07.0-usb-0:2.1:1.0\n"
			    "\n"
			    "%s\n"
			    "detach\tseat2\n"
			    "assign\tsyspath\tseat2\t/sys/devices/pci0000:00/0000:00:06.0\n"
			    "attach\tseat1\tdesk1\n"
			    "active\tseat2\tdesk1\n"
			    "attach\tseat1\tdesk1\n",
			    long_line) != -1);
	free(long_line);
	char *dir = make_dir();
	char *path = dir ? write_file(dir, "state", content) : NULL;
	test_assert(path != NULL);

	struct state state;
	char *log;
	test_assert(load_logged(&state, dir, &log) == 0);
	char *expected = expand("<3>error: @:3: invalid seat name, skipped\n"
				"<3>error: @:5: unknown assignment kind, skipped\n"
				"<3>error: @:6: unknown line, skipped\n"
				"<3>error: @:7: invalid seat or container name, skipped\n"
				"<3>error: @:8: not a device's subsystem and ID_PATH, skipped\n"
				"<3>error: @:10: line too long, skipped\n"
				"<3>error: @:14: the active container is not attached, skipped\n"
				"<3>error: @:15: container attached twice, skipped\n"
				"<3>error: kept the unreadable state as @.broken\n",
		path, NULL);
	bool same = same_text("log", log, expected);
	free(expected);
	free(log);
	test_assert(same);

	/* The good lines, all of them. */
	test_assert(state.n_seats == 1 && state_has_seat(&state, "seat1"));
	test_assert(state.rules.n_rules == 2);
	test_assert(state.rules.rules[0].kind == RULE_PORT);
	test_assert_str(state.rules.rules[0].seat, "seat1");
	test_assert(state.rules.rules[1].kind == RULE_SYSPATH);
	test_assert_str(state.rules.rules[1].value, "/devices/pci0000:00/0000:00:06.0");
	test_assert(state.n_attachments == 2);
	test_assert(state_find_attachment(&state, "seat2")->n_containers == 0);
	test_assert(state_find_attachment(&state, "seat1")->n_containers == 1);
	test_assert_str(state_find_attachment(&state, "seat1")->containers[0], "desk1");

	/* The broken file is kept as it was, and survives the next save. */
	char *kept;
	test_assert(asprintf(&kept, "%s.broken", path) != -1);
	test_assert(state_save(&state) == 0);
	char *kept_text = read_file(kept);
	same = same_text("state.broken", kept_text, content);
	free(kept_text);
	free(kept);
	test_assert(same);
	state_finish(&state);
	free(content);
	free(path);
	free(dir);
}

/* A second breakage is kept too: the first kept copy must not hide it. */
static void test_state_broken_twice(void) {
	char *dir = make_dir();
	char *path = dir ? write_file(dir, "state", "seat\tseat1\nbroken one\n") : NULL;
	test_assert(path != NULL);
	struct state state;
	char *log;
	test_assert(load_logged(&state, dir, &log) == 0);
	free(log);
	test_assert(state_save(&state) == 0);
	state_finish(&state);

	char *again = write_file(dir, "state", "seat\tseat1\nbroken two\n");
	test_assert(again != NULL);
	free(again);
	test_assert(load_logged(&state, dir, &log) == 0);
	free(log);
	state_finish(&state);

	/* Some state.broken* file holds the second broken content. */
	bool kept = false;
	DIR *d = opendir(dir);
	test_assert(d != NULL);
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		char *file;
		if (strncmp(e->d_name, "state.broken", 12) != 0 ||
			asprintf(&file, "%s/%s", dir, e->d_name) == -1) {
			continue;
		}
		char *text = read_file(file);
		kept |= text != NULL && strcmp(text, "seat\tseat1\nbroken two\n") == 0;
		free(text);
		free(file);
	}
	closedir(d);
	free(path);
	free(dir);
	test_assert(kept);
}

int main(void) {
	tmp_dir = fixture_scratch_dir();

	test_run(test_good_config);
	test_run(test_booleans);
	test_run(test_defaults);
	test_run(test_seat_defined_at_header);
	test_run(test_unknown_key);
	test_run(test_unknown_section);
	test_run(test_key_outside_section);
	test_run(test_bad_glob);
	test_run(test_bad_rule_values);
	test_run(test_duplicate_seat);
	test_run(test_duplicate_seat_consecutive);
	test_run(test_duplicate_seat_drop_in);
	test_run(test_invalid_seat_name);
	test_run(test_invalid_seat_name_bare);
	test_run(test_invalid_seat_name_too_long);
	test_run(test_long_seat_names);
	test_run(test_long_line);
	test_run(test_empty_sections);
	test_run(test_conflicting_rules);
	test_run(test_bad_bool);
	test_run(test_bad_container);
	test_run(test_bad_daemon_values);
	test_run(test_syntax_error);
	test_run(test_every_syntax_error);
	test_run(test_many_errors);
	test_run(test_drop_in_order);
	test_run(test_missing_file);
	test_run(test_no_half_state);
	test_run(test_state_round_trip);
	test_run(test_state_atomic);
	test_run(test_state_broken_lines);
	test_run(test_state_broken_twice);

	return test_main_end();
}
