#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "path_id.h"
#include "sysfs.h"

/*
 * Follows path_id of systemd 252 (the udev of Debian 12) for the buses that seat devices sit
 * on. Left out: scsi (with ata, fc, sas, iscsi, hyperv), cciss, nvme, bcma and the s390 buses
 * (ap, ccw, ccwgroup, iucv, scm): a device below one of them gets no or a different ID_PATH
 * here. virtio adds no element (path_id only notes it as a transport for block devices), nor
 * do i2c, hid and pnp, which path_id walks through without a word.
 */

enum subsys {
	SUBSYS_OTHER,
	SUBSYS_PCI,
	SUBSYS_USB,
	SUBSYS_PLATFORM,
	SUBSYS_SERIO,
	SUBSYS_ACPI,
	SUBSYS_XEN,
	SUBSYS_SPI,
};

static const struct {
	const char *name;
	enum subsys subsys;
} subsys_names[] = {
	{"pci", SUBSYS_PCI},
	{"usb", SUBSYS_USB},
	{"platform", SUBSYS_PLATFORM},
	{"serio", SUBSYS_SERIO},
	{"acpi", SUBSYS_ACPI},
	{"xen", SUBSYS_XEN},
	{"spi", SUBSYS_SPI},
};

/* Skips a decimal number of up to 3 digits without a leading zero; NULL if there is none. */
static const char *skip_decimal(const char *s, unsigned int *value) {
	if (s[0] == '0') {
		*value = 0;
		return s + 1;
	}
	*value = 0;
	int len = 0;
	for (; *s >= '0' && *s <= '9'; s++, len++) {
		*value = *value * 10 + (unsigned int)(*s - '0');
	}
	return len > 0 && len <= 3 ? s : NULL;
}

/* Number of lowercase hex digits at the start of s. */
static size_t hex_run(const char *s) {
	size_t n = 0;
	while ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')) {
		n++;
	}
	return n;
}

/* "DDDD:BB:DD.F", as the kernel's pci_name() prints it. */
static bool is_pci_name(const char *s) {
	size_t domain = hex_run(s);
	if (domain < 4 || domain > 8 || s[domain] != ':') {
		return false;
	}
	s += domain + 1;
	if (hex_run(s) != 2 || s[2] != ':' || hex_run(s + 3) != 2 || s[5] != '.') {
		return false;
	}
	return s[6] >= '0' && s[6] <= '7' && s[7] == '\0';
}

/*
 * Skips a USB device name "N-P.P...", bus N and ports counting from 1; with root_port, "N-0"
 * (the root hub, in its interfaces' names) too. Returns the end, or NULL.
 */
static const char *skip_usb_device(const char *s, bool root_port) {
	unsigned int n;
	s = skip_decimal(s, &n);
	if (s == NULL || n == 0 || *s != '-') {
		return NULL;
	}
	s = skip_decimal(s + 1, &n);
	if (s == NULL || n == 0) {
		return s != NULL && root_port ? s : NULL;
	}
	while (*s == '.') {
		s = skip_decimal(s + 1, &n);
		if (s == NULL || n == 0) {
			return NULL;
		}
	}
	return s;
}

/* "usbN", "N-P.P..." or "N-P.P...:C.I". */
static bool is_usb_name(const char *name) {
	unsigned int n;
	const char *end;
	if (strncmp(name, "usb", 3) == 0) {
		end = skip_decimal(name + 3, &n);
		return end != NULL && n > 0 && *end == '\0';
	}
	end = skip_usb_device(name, false);
	if (end != NULL && *end == '\0') {
		return true;
	}
	end = skip_usb_device(name, true);
	if (end == NULL || *end != ':') {
		return false;
	}
	end = skip_decimal(end + 1, &n);
	if (end == NULL || *end != '.') {
		return false;
	}
	end = skip_decimal(end + 1, &n);
	return end != NULL && *end == '\0';
}

/*
 * The subsystem of a device that is gone from sysfs, from the shape of its name: the kernel
 * names devices of these buses so. Anything else is taken for a device of no subsystem that
 * path_id would use, which is what class devices and hid devices are to it.
 */
static enum subsys infer_subsys(const char *devpath) {
	const char *name = strrchr(devpath, '/') + 1;
	unsigned int n;
	if (is_pci_name(name)) {
		return SUBSYS_PCI;
	}
	if (is_usb_name(name)) {
		return SUBSYS_USB;
	}
	if (strncmp(name, "serio", 5) == 0) {
		const char *end = skip_decimal(name + 5, &n);
		if (end != NULL && *end == '\0') {
			return SUBSYS_SERIO;
		}
	}
	if ((size_t)(name - devpath) == strlen("/devices/platform/") &&
		strncmp(devpath, "/devices/platform/", strlen("/devices/platform/")) == 0) {
		return SUBSYS_PLATFORM;
	}
	return SUBSYS_OTHER;
}

static int subsys_of(int root_fd, const char *devpath, enum subsys *subsys) {
	char name[256];
	*subsys = SUBSYS_OTHER;
	if (sysfs_read_link_name(root_fd, devpath, "subsystem", name, sizeof(name)) == 0) {
		for (size_t i = 0; i < sizeof(subsys_names) / sizeof(subsys_names[0]); i++) {
			if (strcmp(name, subsys_names[i].name) == 0) {
				*subsys = subsys_names[i].subsys;
			}
		}
		return 0;
	}
	if (errno != ENOENT) {
		return -1;
	}
	if (!sysfs_device_exists(root_fd, devpath)) {
		*subsys = infer_subsys(devpath);
	}
	return 0;
}

/* Prepends "<prefix><value>-" to out; udev turns a '!' in a device name into '/'. */
static int prepend(char *out, size_t size, const char *prefix, const char *value) {
	size_t len = strlen(out), prefix_len = strlen(prefix), value_len = strlen(value);
	size_t add = prefix_len + value_len + (len > 0 ? 1 : 0);
	if (len + add >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memmove(out + add, out, len + 1);
	memcpy(out, prefix, prefix_len);
	for (size_t i = 0; i < value_len; i++) {
		out[prefix_len + i] = value[i] == '!' ? '/' : value[i];
	}
	if (len > 0) {
		out[prefix_len + value_len] = '-';
	}
	return 0;
}

/* The trailing digits of a device name ("0" of "serio0"), or NULL: udev's sysnum. */
static const char *sysnum(const char *name) {
	size_t len = strlen(name), n = len;
	while (n > 0 && name[n - 1] >= '0' && name[n - 1] <= '9') {
		n--;
	}
	return n > 0 && n < len ? name + n : NULL;
}

int path_id_compute(int root_fd, const char *devpath, char *out, size_t size) {
	char dir[4096];
	size_t len = strlen(devpath);
	if (devpath[0] != '/') {
		errno = EINVAL;
		return -1;
	}
	if (len >= sizeof(dir) || size == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, devpath, len + 1);
	out[0] = '\0';

	/* Without a parent of a known place, the path would not be unique: no ID_PATH. */
	bool supported_parent = false;
	enum subsys subsys;
	if (subsys_of(root_fd, dir, &subsys) == -1) {
		return -1;
	}
	while (dir[0] != '\0') {
		const char *name = strrchr(dir, '/') + 1;
		const char *prefix = NULL, *value = name;
		switch (subsys) {
		case SUBSYS_PCI:
			prefix = "pci-";
			supported_parent = true;
			break;
		case SUBSYS_PLATFORM:
			prefix = "platform-";
			supported_parent = true;
			break;
		case SUBSYS_ACPI:
			prefix = "acpi-";
			supported_parent = true;
			break;
		case SUBSYS_XEN:
			prefix = "xen-";
			supported_parent = true;
			break;
		case SUBSYS_USB:
			/* The bus number may change across boots, the ports do not. */
			value = strchr(name, '-');
			prefix = value != NULL ? "usb-0:" : NULL;
			value = value != NULL ? value + 1 : NULL;
			break;
		case SUBSYS_SERIO:
			value = sysnum(name);
			prefix = value != NULL ? "serio-" : NULL;
			break;
		case SUBSYS_SPI:
			value = sysnum(name);
			prefix = value != NULL ? "cs-" : NULL;
			break;
		case SUBSYS_OTHER:
			break;
		}
		if (prefix != NULL && prepend(out, size, prefix, value) == -1) {
			return -1;
		}

		/* One element per run of ancestors of the bus: the one nearest to the device. */
		enum subsys current = subsys;
		do {
			*strrchr(dir, '/') = '\0';
			if (dir[0] == '\0') {
				break;
			}
			if (subsys_of(root_fd, dir, &subsys) == -1) {
				return -1;
			}
		} while (prefix != NULL && subsys == current);
	}

	if (out[0] == '\0' || !supported_parent) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}
