#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd_store.h"
#include "log.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

bool fd_store_enabled(void) {
	return getenv("NOTIFY_SOCKET") != NULL;
}

static void notify(const char *state, const int *fd) {
	int r = sd_pid_notify_with_fds(0, 0, state, fd, fd != NULL ? 1 : 0);
	if (r < 0) {
		log_warnf("fd store: cannot tell the service manager \"%s\": %s", state,
			strerror(-r));
	}
}

void fd_store_put(const char *name, int fd) {
	if (!fd_store_enabled()) {
		return;
	}
	char state[FD_STORE_NAME_MAX + 32];
	/* FDPOLL=0: systemd would drop a socket on its hangup, but a device's error is no end. */
	snprintf(state, sizeof(state), "FDSTORE=1\nFDPOLL=0\nFDNAME=%s", name);
	notify(state, &fd);
}

void fd_store_remove(const char *name) {
	if (!fd_store_enabled()) {
		return;
	}
	char state[FD_STORE_NAME_MAX + 32];
	snprintf(state, sizeof(state), "FDSTOREREMOVE=1\nFDNAME=%s", name);
	notify(state, NULL);
}

int fd_store_take_kept(struct fd_store_kept *kept) {
	*kept = (struct fd_store_kept){0};
	char **names = NULL;
	int n = sd_listen_fds_with_names(1, &names);
	if (n <= 0) {
		if (n < 0) {
			log_warnf("fd store: cannot take what the service manager kept: %s",
				strerror(-n));
		}
		return 0;
	}
	kept->fds = calloc((size_t)n, sizeof(*kept->fds));
	if (kept->fds == NULL) {
		for (int i = 0; i < n; i++) {
			close(SD_LISTEN_FDS_START + i);
			free(names[i]);
		}
		free(names);
		errno = ENOMEM;
		return -1;
	}
	for (int i = 0; i < n; i++) {
		kept->fds[i] = SD_LISTEN_FDS_START + i;
	}
	kept->names = names;
	kept->n = (size_t)n;
	log_infof("fd store: %d fds kept from the daemon before", n);
	return 0;
}
#else
bool fd_store_enabled(void) {
	return false;
}

void fd_store_put(const char *name, int fd) {
	(void)name;
	(void)fd;
}

void fd_store_remove(const char *name) {
	(void)name;
}

int fd_store_take_kept(struct fd_store_kept *kept) {
	*kept = (struct fd_store_kept){0};
	return 0;
}
#endif

const char *fd_store_next(const struct fd_store_kept *kept, const char *prefix, size_t *i) {
	size_t len = strlen(prefix);
	for (; *i < kept->n; (*i)++) {
		if (kept->fds[*i] != -1 && strncmp(kept->names[*i], prefix, len) == 0) {
			return kept->names[*i];
		}
	}
	return NULL;
}

int fd_store_claim(struct fd_store_kept *kept, size_t i) {
	int fd = kept->fds[i];
	kept->fds[i] = -1;
	return fd;
}

void fd_store_kept_finish(struct fd_store_kept *kept) {
	for (size_t i = 0; i < kept->n; i++) {
		if (kept->fds[i] != -1) {
			log_infof("fd store: %s is no one's any more; closed", kept->names[i]);
			fd_store_remove(kept->names[i]);
			close(kept->fds[i]);
		}
		free(kept->names[i]);
	}
	free(kept->names);
	free(kept->fds);
	*kept = (struct fd_store_kept){0};
}
