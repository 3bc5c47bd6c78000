#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

/* The fields every device has, in the order JSON and tables show them. */
static const char *const device_keys[] = {
	"syspath", "subsystem", "devnode", "devnum", "kind", "id_path", "seat",
};
#define N_DEVICE_KEYS (sizeof(device_keys) / sizeof(device_keys[0]))

static void usage(FILE *out) {
	fprintf(out,
		"Usage: seat-assign [--socket PATH] [--json] COMMAND\n"
		"\n"
		"Commands:\n"
		"  devices   list the seat devices the daemon sees\n"
		"  status    daemon status and counters\n"
		"  monitor   print device events as they happen, until interrupted\n"
		"\n"
		"  --socket PATH  control socket (default " CONTROL_DEFAULT_SOCKET ")\n"
		"  --json         machine-readable output (monitor: one object per line)\n");
}

static void json_string(const char *s) {
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			printf("\\%c", c);
		} else if (c < 0x20 || c == 0x7f) {
			printf("\\u%04x", c);
		} else {
			putchar(c);
		}
	}
	putchar('"');
}

static bool is_number(const char *s) {
	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0')) {
		return false;
	}
	return strspn(s, "0123456789") == strlen(s);
}

static void json_value(const char *key, const char *value, bool numbers) {
	if (value == NULL) {
		fputs("null", stdout);
	} else if (strcmp(key, "input_class") == 0) {
		/* Space-separated property names become a list. */
		putchar('[');
		char copy[CONTROL_MAX_MESSAGE];
		snprintf(copy, sizeof(copy), "%s", value);
		const char *sep = "";
		for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " ")) {
			fputs(sep, stdout);
			json_string(tok);
			sep = ",";
		}
		putchar(']');
	} else if (numbers && is_number(value)) {
		fputs(value, stdout);
	} else {
		json_string(value);
	}
}

static bool is_device_key(const char *key) {
	for (size_t i = 0; i < N_DEVICE_KEYS; i++) {
		if (strcmp(key, device_keys[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* A record as a JSON object: the device keys first (null when absent), then the rest. */
static void json_record(const struct control_record *rec, bool device, bool numbers) {
	const char *sep = "";
	putchar('{');
	const char *action = control_record_get(rec, "action");
	if (action != NULL) {
		fputs("\"action\":", stdout);
		json_string(action);
		sep = ",";
	}
	if (device) {
		for (size_t i = 0; i < N_DEVICE_KEYS; i++) {
			printf("%s\"%s\":", sep, device_keys[i]);
			json_value(device_keys[i], control_record_get(rec, device_keys[i]), false);
			sep = ",";
		}
	}
	for (size_t i = 0; i < rec->n_fields; i++) {
		const struct control_field *f = &rec->fields[i];
		if (strcmp(f->key, "action") == 0 || (device && is_device_key(f->key))) {
			continue;
		}
		printf("%s\"%s\":", sep, f->key);
		json_value(f->key, f->value, numbers);
		sep = ",";
	}
	putchar('}');
}

static const char *or_dash(const char *s) {
	return s != NULL ? s : "-";
}

/* A device's name for people: its node, or its sysfs name when it has none. */
static const char *device_label(const struct control_record *rec) {
	const char *devnode = control_record_get(rec, "devnode");
	if (devnode != NULL) {
		return devnode;
	}
	const char *syspath = control_record_get(rec, "syspath");
	return syspath != NULL ? strrchr(syspath, '/') + 1 : "-";
}

static void table_header(void) {
	printf("%-22s %-14s %-8s %-8s %s\n", "DEVICE", "KIND", "SEAT", "DEVNUM", "ID_PATH");
}

static void table_row(const struct control_record *rec) {
	printf("%-22s %-14s %-8s %-8s %s\n", device_label(rec),
		or_dash(control_record_get(rec, "kind")), or_dash(control_record_get(rec, "seat")),
		or_dash(control_record_get(rec, "devnum")),
		or_dash(control_record_get(rec, "id_path")));
}

static int connect_daemon(const char *path) {
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Receives one record into buf; 0 at end of connection, -1 on error. */
static int receive(int fd, char *buf, size_t size, struct control_record *rec) {
	ssize_t n = recv(fd, buf, size - 1, MSG_TRUNC);
	if (n <= 0) {
		return (int)n;
	}
	if ((size_t)n > size - 1 || control_record_parse(rec, buf, (size_t)n) == -1) {
		fprintf(stderr, "seat-assign: malformed reply from the daemon\n");
		return -1;
	}
	return 1;
}

int main(int argc, char *argv[]) {
	enum { OPT_SOCKET = 256, OPT_JSON, OPT_HELP };
	static const struct option long_options[] = {
		{"socket", required_argument, NULL, OPT_SOCKET},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	const char *socket_path = CONTROL_DEFAULT_SOCKET;
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET:
			socket_path = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_HELP:
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return EXIT_FAILURE;
	}
	const char *command = argv[optind];
	if (strcmp(command, "devices") != 0 && strcmp(command, "status") != 0 &&
		strcmp(command, "monitor") != 0) {
		fprintf(stderr, "seat-assign: unknown command \"%s\"\n", command);
		usage(stderr);
		return EXIT_FAILURE;
	}
	int fd = connect_daemon(socket_path);
	if (fd == -1) {
		fprintf(stderr, "seat-assign: cannot connect to %s: %s\n", socket_path,
			strerror(errno));
		return EXIT_FAILURE;
	}
	struct control_builder request;
	control_builder_init(&request, command);
	/* A refused client may find the socket closed, with the daemon's reason waiting. */
	int send_errno = send(fd, request.buf, request.len, MSG_NOSIGNAL) == -1 ? errno : 0;

	bool monitor = strcmp(command, "monitor") == 0, subscribed = false;
	int status = EXIT_FAILURE;
	size_t n_devices = 0;
	static char buf[CONTROL_MAX_MESSAGE + 1];
	struct control_record rec;
	int r;
	while ((r = receive(fd, buf, sizeof(buf), &rec)) == 1) {
		if (strcmp(rec.type, "error") == 0) {
			fprintf(stderr, "seat-assign: %s\n", or_dash(control_record_get(&rec, "message")));
			break;
		}
		if (strcmp(rec.type, "end") == 0) {
			if (!monitor) {
				status = EXIT_SUCCESS;
				break;
			}
			subscribed = true;
			continue;
		}
		if (strcmp(rec.type, "device") == 0) {
			if (json) {
				fputs(n_devices == 0 ? "[\n" : ",\n", stdout);
				json_record(&rec, true, false);
			} else {
				if (n_devices == 0) {
					table_header();
				}
				table_row(&rec);
			}
			n_devices++;
		} else if (strcmp(rec.type, "event") == 0) {
			if (json) {
				json_record(&rec, true, false);
				putchar('\n');
			} else {
				printf("%-7s ", or_dash(control_record_get(&rec, "action")));
				table_row(&rec);
			}
			fflush(stdout);
		} else if (strcmp(rec.type, "status") == 0) {
			if (json) {
				json_record(&rec, false, true);
				putchar('\n');
			} else {
				for (size_t i = 0; i < rec.n_fields; i++) {
					printf("%-18s %s\n", rec.fields[i].key, rec.fields[i].value);
				}
			}
		}
	}
	if (r == 0 && send_errno != 0) {
		fprintf(stderr, "seat-assign: %s\n", strerror(send_errno));
	} else if (r == 0 && monitor && subscribed) {
		fprintf(stderr, "seat-assign: the daemon closed the connection\n");
	} else if (r == 0 && status != EXIT_SUCCESS) {
		fprintf(stderr, "seat-assign: the daemon closed the connection early\n");
	} else if (r == -1 && errno != 0) {
		fprintf(stderr, "seat-assign: %s\n", strerror(errno));
	}
	if (status == EXIT_SUCCESS && strcmp(command, "devices") == 0) {
		if (json) {
			puts(n_devices == 0 ? "[]" : "\n]");
		} else if (n_devices == 0) {
			puts("no seat devices");
		}
	}
	close(fd);
	return status;
}
