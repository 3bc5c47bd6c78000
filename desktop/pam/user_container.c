#include <errno.h>
#include <lxc/lxccontainer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "user_container.h"

/* How long a container gets to reach RUNNING, and its init to shut down. */
#define START_TIMEOUT 30
#define SHUTDOWN_TIMEOUT 5

static int append(char *out, size_t size, size_t *off, char kind, unsigned long ns,
	unsigned long host, unsigned long count) {
	int n = snprintf(out + *off, size - *off, "%c %lu %lu %lu\n", kind, ns, host, count);
	if (n < 0 || (size_t)n >= size - *off) {
		errno = ENOSPC;
		return -1;
	}
	*off += (size_t)n;
	return 0;
}

int idmap_map_through(const char *idmap, char kind, unsigned long id, char *out, size_t size) {
	size_t off = 0;
	bool has_kind = false, mapped = false;
	if (size == 0) {
		errno = ENOSPC;
		return -1;
	}
	out[0] = '\0';
	for (const char *line = idmap; *line != '\0';) {
		size_t n = strcspn(line, "\n");
		char copy[128], k;
		unsigned long ns, host, count;
		int used = 0;
		if (n >= sizeof(copy)) {
			goto invalid;
		}
		memcpy(copy, line, n);
		copy[n] = '\0';
		line += n + (line[n] == '\n');
		if (strspn(copy, " \t") == n) {
			continue;
		}
		if (sscanf(copy, " %c %lu %lu %lu %n", &k, &ns, &host, &count, &used) != 4 ||
			copy[used] != '\0' || (k != 'u' && k != 'g' && k != 'b') || count == 0) {
			goto invalid;
		}
		if (k != kind && k != 'b') {
			if (append(out, size, &off, k, ns, host, count) == -1) {
				return -1;
			}
			continue;
		}
		if (k == 'b') {
			/* Both kinds in one line: the caller splits them first. */
			goto invalid;
		}
		has_kind = true;
		if (id >= ns && id - ns < count) {
			unsigned long before = id - ns, after = count - before - 1;
			if ((before > 0 && append(out, size, &off, k, ns, host, before) == -1) ||
				append(out, size, &off, k, id, id, 1) == -1 ||
				(after > 0 && append(out, size, &off, k, id + 1, host + before + 1, after) == -1)) {
				return -1;
			}
			mapped = true;
		} else if (id >= host && id - host < count) {
			/* id's host id stands for another id inside: it cannot be id's too. */
			goto invalid;
		} else if (append(out, size, &off, k, ns, host, count) == -1) {
			return -1;
		}
	}
	/* A container that maps no ids of this kind is privileged: its ids are the host's. */
	if (has_kind && !mapped && append(out, size, &off, kind, id, id, 1) == -1) {
		return -1;
	}
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}

int user_container_open(struct user_container *uc, const char *name, const char *lxcpath,
	char *why, size_t len) {
	*uc = (struct user_container){0};
	uc->c = lxc_container_new(name, lxcpath);
	if (uc->c == NULL) {
		snprintf(why, len, "LXC cannot handle a container %s%s%s", name,
			lxcpath != NULL ? " in " : "", lxcpath != NULL ? lxcpath : "");
		errno = EINVAL;
		return -1;
	}
	return 0;
}

bool user_container_exists(const struct user_container *uc) {
	return uc->c->is_defined(uc->c);
}

bool user_container_running(const struct user_container *uc) {
	return uc->c->is_running(uc->c);
}

struct lxc_container *user_container_lxc(const struct user_container *uc) {
	return uc->c;
}

/* Rewrites c's lxc.idmap with uid and gid mapped through. */
static int map_user(struct lxc_container *c, const struct passwd *pw, char *why, size_t len) {
	char idmap[4096], with_uid[4096], with_both[4096];
	int n = c->get_config_item(c, "lxc.idmap", idmap, sizeof(idmap));
	if (n < 0) {
		n = 0;
		idmap[0] = '\0';
	}
	if ((size_t)n >= sizeof(idmap)) {
		snprintf(why, len, "the template's lxc.idmap is too long");
		errno = ENOSPC;
		return -1;
	}
	if (idmap_map_through(idmap, 'u', pw->pw_uid, with_uid, sizeof(with_uid)) == -1 ||
		idmap_map_through(with_uid, 'g', pw->pw_gid, with_both, sizeof(with_both)) == -1) {
		snprintf(why, len, "cannot map uid %u and gid %u through the template's lxc.idmap "
			"(%s): %s", (unsigned)pw->pw_uid, (unsigned)pw->pw_gid, idmap,
			errno == EINVAL ? "malformed, or their host ids stand for other ids" :
			strerror(errno));
		return -1;
	}
	if (!c->clear_config_item(c, "lxc.idmap")) {
		goto fail;
	}
	for (char *line = with_both, *next; *line != '\0'; line = next) {
		next = line + strcspn(line, "\n");
		if (*next == '\n') {
			*next++ = '\0';
		}
		if (!c->set_config_item(c, "lxc.idmap", line)) {
			goto fail;
		}
	}
	return 0;
fail:
	snprintf(why, len, "LXC refused the idmap of %s", c->name);
	errno = EINVAL;
	return -1;
}

/* Binds pw's home at the same path inside (made if missing); none if it has no home. */
static int bind_home(struct lxc_container *c, const struct passwd *pw, char *why, size_t len) {
	struct stat st;
	if (pw->pw_dir == NULL || pw->pw_dir[0] != '/' || strcmp(pw->pw_dir, "/") == 0 ||
		stat(pw->pw_dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		return 0;
	}
	char entry[4096];
	int n = snprintf(entry, sizeof(entry), "%s %s none bind,create=dir 0 0", pw->pw_dir,
		pw->pw_dir + 1);
	if (n < 0 || (size_t)n >= sizeof(entry) || strpbrk(pw->pw_dir, " \t\n") != NULL) {
		snprintf(why, len, "the home %s cannot be named in an LXC mount entry", pw->pw_dir);
		errno = EINVAL;
		return -1;
	}
	if (!c->set_config_item(c, "lxc.mount.entry", entry)) {
		snprintf(why, len, "LXC refused the mount entry of the home %s", pw->pw_dir);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int user_container_create(struct user_container *uc, const char *template,
	const struct passwd *pw, char *why, size_t len) {
	const char *lxcpath = uc->c->config_path;
	struct lxc_container *t = lxc_container_new(template, lxcpath), *clone = NULL;
	if (t == NULL || !t->is_defined(t)) {
		snprintf(why, len, "the template container %s does not exist in %s", template, lxcpath);
		errno = ENOENT;
		goto fail;
	}
	clone = t->clone(t, uc->c->name, lxcpath, 0, NULL, NULL, 0, NULL);
	if (clone == NULL) {
		snprintf(why, len, "LXC could not copy the template %s to %s (LXC's log says why)",
			template, uc->c->name);
		errno = EIO;
		goto fail;
	}
	uc->created = true;
	if (map_user(clone, pw, why, len) == -1 || bind_home(clone, pw, why, len) == -1) {
		goto fail;
	}
	if (!clone->save_config(clone, NULL)) {
		snprintf(why, len, "LXC could not save the configuration of %s", clone->name);
		errno = EIO;
		goto fail;
	}
	/*
	 * Neither the handle opened before the clone existed nor the clone's is fit to start
	 * it: clearing lxc.idmap leaves liblxc's pointer to the freed root mapping, and the
	 * start fails. A new handle reads the saved configuration.
	 */
	struct lxc_container *fresh = lxc_container_new(clone->name, lxcpath);
	if (fresh == NULL || !fresh->is_defined(fresh)) {
		snprintf(why, len, "LXC cannot read the new container %s back", clone->name);
		if (fresh != NULL) {
			lxc_container_put(fresh);
		}
		errno = EIO;
		goto fail;
	}
	lxc_container_put(t);
	lxc_container_put(clone);
	lxc_container_put(uc->c);
	uc->c = fresh;
	return 0;
fail:;
	int saved = errno;
	if (clone != NULL) {
		clone->destroy(clone);
		lxc_container_put(clone);
		uc->created = false;
	}
	if (t != NULL) {
		lxc_container_put(t);
	}
	errno = saved;
	return -1;
}

int user_container_start(struct user_container *uc, char *why, size_t len) {
	struct lxc_container *c = uc->c;
	if (c->is_running(c)) {
		return 0;
	}
	c->want_daemonize(c, true);
	c->want_close_all_fds(c, true);
	if (!c->start(c, 0, NULL)) {
		snprintf(why, len, "the container %s failed to start (LXC's log says why)", c->name);
		goto fail;
	}
	uc->started = true;
	if (!c->wait(c, "RUNNING", START_TIMEOUT)) {
		snprintf(why, len, "the container %s did not reach RUNNING in %d s", c->name,
			START_TIMEOUT);
		goto fail;
	}
	return 0;
fail:
	if (uc->started) {
		user_container_stop(uc);
	}
	errno = EIO;
	return -1;
}

void user_container_stop(struct user_container *uc) {
	struct lxc_container *c = uc->c;
	if (c->is_running(c) && !c->shutdown(c, SHUTDOWN_TIMEOUT)) {
		c->stop(c);
	}
	uc->started = false;
}

void user_container_destroy(struct user_container *uc) {
	struct lxc_container *c = uc->c;
	user_container_stop(uc);
	if (c->is_defined(c)) {
		c->destroy(c);
	}
	uc->created = false;
}

void user_container_close(struct user_container *uc) {
	if (uc->c != NULL) {
		lxc_container_put(uc->c);
		uc->c = NULL;
	}
}
