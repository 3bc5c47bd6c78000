#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logind.h"
#include "state_files.h"

static const char *const dirs[] = {"sessions", "seats", "users"};

/* Replaces DIR/NAME with what body writes, through a temporary file and a rename. */
static int write_file(const struct logind *ld, const char *dir, const char *name,
	void (*body)(const struct logind *ld, FILE *f)) {
	char path[512], tmp[520];
	snprintf(path, sizeof(path), "%s/%s/%s", ld->state_dir, dir, name);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd == -1) {
		return -errno;
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		int r = -errno;
		close(fd);
		unlink(tmp);
		return r;
	}
	fputs("# This is private data. Do not parse.\n", f);
	body(ld, f);
	int r = 0;
	if (fchmod(fd, 0644) == -1 || fflush(f) == EOF || ferror(f)) {
		r = -errno;
	}
	if (fclose(f) == EOF && r == 0) {
		r = -errno;
	}
	if (r == 0 && rename(tmp, path) == -1) {
		r = -errno;
	}
	if (r < 0) {
		unlink(tmp);
	}
	return r;
}

static void session_body(const struct logind *ld, FILE *f) {
	fprintf(f, "UID=%u\nUSER=%s\nACTIVE=%d\nIS_DISPLAY=1\nSTATE=%s\nREMOTE=0\n", ld->uid,
		ld->user_name, ld->active, session_state(ld));
	fprintf(f, "TYPE=%s\nORIGINAL_TYPE=%s\nCLASS=%s\nSEAT=%s\n", ld->type, ld->type,
		ld->class, ld->seat_id);
	if (ld->vtnr > 0) {
		fprintf(f, "VTNR=%u\n", ld->vtnr);
	}
	if (ld->leader > 0) {
		fprintf(f, "LEADER=%d\n", (int)ld->leader);
	}
	fprintf(f, "REALTIME=%llu\n", (unsigned long long)ld->timestamp_usec);
}

static void seat_body(const struct logind *ld, FILE *f) {
	fprintf(f, "IS_SEAT0=%d\nCAN_MULTI_SESSION=1\nCAN_TTY=%d\nCAN_GRAPHICAL=1\n",
		strcmp(ld->seat_id, "seat0") == 0, ld->vtnr > 0);
	if (ld->active) {
		fprintf(f, "ACTIVE=%s\nACTIVE_UID=%u\n", ld->session_id, ld->uid);
	}
	fprintf(f, "SESSIONS=%s\nUIDS=%u\n", ld->session_id, ld->uid);
}

static void user_body(const struct logind *ld, FILE *f) {
	fprintf(f, "NAME=%s\nSTATE=%s\nRUNTIME=/run/user/%u\nDISPLAY=%s\n", ld->user_name,
		ld->active ? "active" : "online", ld->uid, ld->session_id);
	fprintf(f, "REALTIME=%llu\nSESSIONS=%s\nSEATS=%s\nONLINE_SESSIONS=%s\nONLINE_SEATS=%s\n",
		(unsigned long long)ld->timestamp_usec, ld->session_id, ld->seat_id,
		ld->session_id, ld->seat_id);
	if (ld->active) {
		fprintf(f, "ACTIVE_SESSIONS=%s\nACTIVE_SEATS=%s\n", ld->session_id, ld->seat_id);
	}
}

int state_files_write(const struct logind *ld) {
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", ld->state_dir, dirs[i]);
		if (mkdir(ld->state_dir, 0755) == -1 && errno != EEXIST) {
			return -errno;
		}
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			return -errno;
		}
	}
	char uid[16];
	snprintf(uid, sizeof(uid), "%u", ld->uid);
	int r = write_file(ld, "sessions", ld->session_id, session_body);
	if (r == 0) {
		r = write_file(ld, "seats", ld->seat_id, seat_body);
	}
	if (r == 0) {
		r = write_file(ld, "users", uid, user_body);
	}
	return r;
}

void state_files_remove(const struct logind *ld) {
	char path[512];
	snprintf(path, sizeof(path), "%s/sessions/%s", ld->state_dir, ld->session_id);
	unlink(path);
	snprintf(path, sizeof(path), "%s/seats/%s", ld->state_dir, ld->seat_id);
	unlink(path);
	snprintf(path, sizeof(path), "%s/users/%u", ld->state_dir, ld->uid);
	unlink(path);
}
