#include <errno.h>
#include <fcntl.h>
#include <lxc/lxccontainer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "desktop.h"

/* /run/user/UID as logind would make it: the user's, 0700. */
static int make_runtime_dir(struct lxc_container *c, const struct passwd *pw, char *why,
	size_t len) {
	char script[256];
	unsigned uid = (unsigned)pw->pw_uid;
	snprintf(script, sizeof(script),
		"mkdir -p /run/user/%u && chown %u:%u /run/user/%u && chmod 0700 /run/user/%u", uid,
		uid, (unsigned)pw->pw_gid, uid, uid);
	lxc_attach_options_t options = LXC_ATTACH_OPTIONS_DEFAULT;
	options.env_policy = LXC_ATTACH_CLEAR_ENV;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null == -1) {
		snprintf(why, len, "cannot open /dev/null: %s", strerror(errno));
		return -1;
	}
	options.stdin_fd = options.stdout_fd = options.stderr_fd = null;
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	int status = c->attach_run_wait(c, &options, argv[0], argv);
	close(null);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(why, len, "cannot make /run/user/%u in the container %s",
			(unsigned)pw->pw_uid, c->name);
		errno = EIO;
		return -1;
	}
	return 0;
}

/*
 * liblxc's attach makes the attached process a child of its caller. The desktop must not
 * be the display manager's child: the display manager does not reap it, and its zombie,
 * which stays in the container's pid namespace, keeps the container's init from ever
 * finishing (a stop or kill of the container then hangs). A short-lived helper process
 * attaches instead and exits: the desktop goes to init (or the nearest subreaper), which
 * reaps it. *pid is the desktop's pid, read from the helper through a pipe.
 */
static int attach_orphan(struct lxc_container *c, lxc_attach_command_t *cmd,
	lxc_attach_options_t *options, pid_t *pid) {
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		return -1;
	}
	pid_t helper = fork();
	if (helper == -1) {
		int saved = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		errno = saved;
		return -1;
	}
	if (helper == 0) {
		pid_t attached = -1;
		close(pipefd[0]);
		if (c->attach(c, lxc_attach_run_command, cmd, options, &attached) < 0) {
			attached = -1;
		}
		(void)!write(pipefd[1], &attached, sizeof(attached));
		_exit(attached > 0 ? 0 : 1);
	}
	close(pipefd[1]);
	pid_t attached = -1;
	ssize_t n;
	do {
		n = read(pipefd[0], &attached, sizeof(attached));
	} while (n == -1 && errno == EINTR);
	close(pipefd[0]);
	int status;
	while (waitpid(helper, &status, 0) == -1 && errno == EINTR) {
	}
	if (n != (ssize_t)sizeof(attached) || attached <= 0) {
		errno = EIO;
		return -1;
	}
	*pid = attached;
	return 0;
}

int desktop_start(struct lxc_container *c, const struct passwd *pw, const char *command,
	const struct desktop_env *env, pid_t *pid, char *why, size_t len) {
	char vars[9][512];
	char *envp[10];
	size_t n = 0;
	char script[4096];
	int null = -1;
	if (make_runtime_dir(c, pw, why, len) == -1) {
		return -1;
	}
#define VAR(...) snprintf(vars[n], sizeof(vars[n]), __VA_ARGS__), envp[n] = vars[n], n++
	VAR("HOME=%s", pw->pw_dir);
	VAR("USER=%s", pw->pw_name);
	VAR("LOGNAME=%s", pw->pw_name);
	VAR("SHELL=%s", pw->pw_shell);
	VAR("PATH=/usr/local/bin:/usr/bin:/bin");
	VAR("XDG_SEAT=%s", env->seat);
	VAR("XDG_SESSION_ID=%s", env->session_id);
	VAR("XDG_SESSION_TYPE=%s", env->session_type);
	VAR("XDG_RUNTIME_DIR=/run/user/%u", (unsigned)pw->pw_uid);
#undef VAR
	envp[n] = NULL;
	if ((size_t)snprintf(script, sizeof(script), "exec %s", command) >= sizeof(script)) {
		snprintf(why, len, "the desktop command is too long");
		errno = E2BIG;
		return -1;
	}
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null == -1) {
		snprintf(why, len, "cannot open /dev/null: %s", strerror(errno));
		return -1;
	}
	lxc_attach_options_t options = LXC_ATTACH_OPTIONS_DEFAULT;
	options.uid = pw->pw_uid;
	options.gid = pw->pw_gid;
	options.env_policy = LXC_ATTACH_CLEAR_ENV;
	options.extra_env_vars = envp;
	options.initial_cwd = pw->pw_dir;
	options.stdin_fd = options.stdout_fd = options.stderr_fd = null;
	char *argv[] = {"/bin/sh", "-c", script, NULL};
	lxc_attach_command_t cmd = {.program = argv[0], .argv = argv};
	if (attach_orphan(c, &cmd, &options, pid) == -1) {
		snprintf(why, len, "cannot start the desktop (%s) in the container %s%s%s", command,
			c->name, errno != EIO ? ": " : "", errno != EIO ? strerror(errno) : "");
		goto fail;
	}
	close(null);
	return 0;
fail:;
	int saved = errno;
	close(null);
	errno = saved;
	return -1;
}

unsigned long long desktop_start_time(pid_t pid) {
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		return 0;
	}
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name may hold spaces and ")": the fields start after the last ")". */
	char *p = strrchr(buf, ')');
	if (p == NULL) {
		return 0;
	}
	p++;
	/* Field 3 is the first after it; 22 is the 20th. */
	for (int field = 3; field < 22 && p != NULL; field++) {
		p = strchr(p + 1, ' ');
	}
	return p != NULL ? strtoull(p + 1, NULL, 10) : 0;
}
