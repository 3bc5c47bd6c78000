/*
 * container-run: a minimal real container for the tests, as an LXC desktop container is
 * made: its own user namespace (ids shifted: container root is host uid SHIFT), network,
 * mount and pid namespaces, and its own tmpfs /dev and /run, mounted by the container.
 *
 *   container-run [--shift N] [--share-userns] [--cgroup NAME] --pid-file FILE -- COMMAND...
 *
 * Writes the host pid of the container's init (COMMAND, pid 1 inside) to FILE once the
 * container is set up, and exits with COMMAND's status. --share-userns keeps the host's user
 * namespace (a "privileged" container, which the daemon must warn about). --cgroup puts the
 * container in a cgroup v2 of its own, NAME below ours, as LXC does, and removes it after.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what) {
	perror(what);
	_exit(125);
}

static volatile sig_atomic_t stopping;

static void on_stop(int sig) {
	(void)sig;
	stopping = 1;
}

/* Makes NAME below this process's cgroup v2 (from mountinfo and /proc/self/cgroup). */
static void make_cgroup(const char *name, char *path, size_t size) {
	char line[4096], mount_point[1024] = "", own[1024] = "";
	FILE *f = fopen("/proc/self/mountinfo", "re");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *dash = strstr(line, " - cgroup2 ");
		char mp[1024];
		if (dash != NULL && sscanf(line, "%*s %*s %*s %*s %1023s", mp) == 1) {
			strcpy(mount_point, mp);
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	f = fopen("/proc/self/cgroup", "re");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "0::", 3) == 0) {
			snprintf(own, sizeof(own), "%.1000s", line + 3);
			own[strcspn(own, "\n")] = '\0';
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	if (mount_point[0] == '\0') {
		errno = ENOENT;
		die("cgroup2");
	}
	snprintf(path, size, "%s%s/%s", mount_point, strcmp(own, "/") == 0 ? "" : own, name);
	if (mkdir(path, 0755) == -1 && errno != EEXIST) {
		die(path);
	}
}

static void write_file(pid_t pid, const char *name, const char *text) {
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		die(path);
	}
	close(fd);
}

int main(int argc, char *argv[]) {
	unsigned long shift = 200000;
	bool share_userns = false;
	const char *pid_file = NULL, *cgroup = NULL;
	int i = 1;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--shift") == 0 && i + 1 < argc) {
			shift = strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--share-userns") == 0) {
			share_userns = true;
		} else if (strcmp(argv[i], "--cgroup") == 0 && i + 1 < argc) {
			cgroup = argv[++i];
		} else if (strcmp(argv[i], "--pid-file") == 0 && i + 1 < argc) {
			pid_file = argv[++i];
		} else {
			break;
		}
	}
	if (i >= argc - 1 || strcmp(argv[i], "--") != 0 || pid_file == NULL) {
		fprintf(stderr, "usage: container-run [--shift N] [--share-userns] [--cgroup NAME]"
				" --pid-file FILE -- COMMAND [ARG]...\n");
		return 2;
	}
	char **command = argv + i + 1;
	int to_child[2], from_child[2];
	if (pipe2(to_child, O_CLOEXEC) == -1 || pipe2(from_child, O_CLOEXEC) == -1) {
		die("pipe");
	}
	pid_t child = fork();
	if (child == -1) {
		die("fork");
	}
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int flags = CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID | (share_userns ? 0 : CLONE_NEWUSER);
		char go;
		if (unshare(flags) == -1) {
			die("unshare");
		}
		/* Let the parent write the id maps, then become the container's root. */
		if (write(from_child[1], "u", 1) != 1 || read(to_child[0], &go, 1) != 1) {
			die("sync");
		}
		/* Changing credentials clears the death signal: arm it again after. */
		if (setgid(0) == -1 || setuid(0) == -1 || prctl(PR_SET_PDEATHSIG, SIGKILL) == -1) {
			die("setuid");
		}
		pid_t init = fork();
		if (init == -1) {
			die("fork");
		}
		if (init == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
				mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=755") == -1 ||
				mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755") == -1) {
				die("mount");
			}
			execvp(command[0], command);
			die(command[0]);
		}
		/* The host pid of init, as fork returned it in our (the parent's) pid namespace. */
		if (write(from_child[1], &init, sizeof(init)) != sizeof(init)) {
			die("sync");
		}
		int status;
		waitpid(init, &status, 0);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
	struct sigaction sa = {.sa_handler = on_stop};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	char ready, cgroup_path[2048] = "";
	if (read(from_child[0], &ready, 1) != 1) {
		die("child");
	}
	if (cgroup != NULL) {
		/* Before init is forked, so that it and all it starts are in the cgroup. */
		char procs[2100], pid_text[32];
		make_cgroup(cgroup, cgroup_path, sizeof(cgroup_path));
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup_path);
		snprintf(pid_text, sizeof(pid_text), "%d\n", (int)child);
		int fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd == -1 || write(fd, pid_text, strlen(pid_text)) == -1) {
			die(procs);
		}
		close(fd);
	}
	if (!share_userns) {
		char map[64];
		snprintf(map, sizeof(map), "0 %lu 65536\n", shift);
		write_file(child, "uid_map", map);
		write_file(child, "gid_map", map);
	}
	pid_t init = -1;
	if (write(to_child[1], "g", 1) != 1 || read(from_child[0], &init, sizeof(init)) != sizeof(init)) {
		die("child");
	}
	/* The container is up once its init has mounted /dev and /run: wait for that. */
	char probe[64];
	snprintf(probe, sizeof(probe), "/proc/%d/root/run", (int)init);
	for (int tries = 0; tries < 500; tries++) {
		char mountinfo[64], line[512];
		snprintf(mountinfo, sizeof(mountinfo), "/proc/%d/mountinfo", (int)init);
		FILE *f = fopen(mountinfo, "re");
		bool mounted = false;
		while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			mounted |= strstr(line, " /run ") != NULL && strstr(line, " - tmpfs ") != NULL;
		}
		if (f != NULL) {
			fclose(f);
		}
		if (mounted) {
			break;
		}
		usleep(10000);
	}
	FILE *f = fopen(pid_file, "we");
	if (f == NULL || fprintf(f, "%d\n", (int)init) < 0 || fclose(f) != 0) {
		die(pid_file);
	}
	int status;
	while (waitpid(child, &status, 0) == -1) {
		if (errno == EINTR && stopping) {
			kill(child, SIGKILL);
		} else if (errno != EINTR) {
			die("waitpid");
		}
	}
	/* The cgroup can go once every process in it is gone (init dies with its parent). */
	for (int tries = 0; cgroup_path[0] != '\0' && tries < 200; tries++) {
		if (rmdir(cgroup_path) == 0 || errno == ENOENT) {
			break;
		}
		usleep(10000);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
