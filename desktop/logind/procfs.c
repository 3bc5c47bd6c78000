#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

int proc_status_uid(const char *text, size_t len, uid_t *uid) {
	static const char key[] = "Uid:";
	const char *line = text, *end = text + len;
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *line_end = nl != NULL ? nl : end;
		if ((size_t)(line_end - line) > strlen(key) &&
			memcmp(line, key, strlen(key)) == 0) {
			const char *p = line + strlen(key);
			while (p < line_end && (*p == '\t' || *p == ' ')) {
				p++;
			}
			unsigned long long v = 0;
			const char *digits = p;
			while (p < line_end && *p >= '0' && *p <= '9' && v <= UINT_MAX) {
				v = v * 10 + (unsigned)(*p - '0');
				p++;
			}
			/* (uid_t)-1 is no uid; the number must end where its field does. */
			if (p == digits || v >= UINT_MAX ||
				(p < line_end && *p != '\t' && *p != ' ')) {
				break;
			}
			*uid = (uid_t)v;
			return 0;
		}
		line = line_end + 1;
	}
	errno = EBADMSG;
	return -1;
}

int proc_pid_uid(pid_t pid, uid_t *uid) {
	char path[64], buf[4096];
	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT) {
			errno = ESRCH;
		}
		return -1;
	}
	/* "Uid:" is within the first lines of the file, well inside one read. */
	ssize_t n = read(fd, buf, sizeof(buf));
	int saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	return proc_status_uid(buf, (size_t)n, uid);
}
