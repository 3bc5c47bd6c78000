#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "path_id.h"
#include "sysfs.h"
#include "test.h"

TEST_GLOBALS;

#define XHCI "/devices/pci0000:00/0000:00:07.0/usb1"
#define XHCI_PATH "pci-0000:00:07.0"
#define KBD1 XHCI "/1-1/1-1.1/1-1.1:1.0/0003:0627:0001.0001"
#define MOUSE1 XHCI "/1-1/1-1.2/1-1.2:1.0/0003:0627:0001.0003"
#define KBD1_HOTPLUG XHCI "/1-1/1-1.3/1-1.3:1.0/0003:0627:0001.0005"
#define AUDIO1_HOTPLUG XHCI "/1-1/1-1.4/1-1.4:1.0/sound/card2"
#define KBD2 XHCI "/1-2/1-2.1/1-2.1:1.0/0003:0627:0001.0002"
#define TABLET2 XHCI "/1-2/1-2.2/1-2.2:1.0/0003:0627:0001.0004"
#define AUDIO2 XHCI "/1-2/1-2.3/1-2.3:1.0/sound/card1"
#define ALOOP "/devices/platform/snd_aloop.0/sound/card0"
#define GPU1 "/devices/pci0000:00/0000:00:05.0"
#define GPU2 "/devices/pci0000:00/0000:00:06.0"

/* The seat devices of the recorded host, with the ID_PATH udev 252 gave them there. */
static const struct {
	const char *devpath;
	const char *id_path; /* NULL: none */
} fixture_devices[] = {
	{GPU1 "/drm/card0", "pci-0000:00:05.0"},
	{GPU1 "/drm/card0/card0-Virtual-1", "pci-0000:00:05.0"},
	{GPU1 "/drm/renderD128", "pci-0000:00:05.0"},
	{GPU1 "/graphics/fb0", "pci-0000:00:05.0"},
	{GPU2 "/drm/card1", "pci-0000:00:06.0"},
	{GPU2 "/drm/card1/card1-Virtual-2", "pci-0000:00:06.0"},
	{GPU2 "/drm/renderD129", "pci-0000:00:06.0"},
	{GPU2 "/graphics/fb1", "pci-0000:00:06.0"},
	{"/devices/platform/i8042/serio0/input/input0", "platform-i8042-serio-0"},
	{"/devices/platform/i8042/serio0/input/input0/event0", "platform-i8042-serio-0"},
	{KBD1 "/input/input2/event1", XHCI_PATH "-usb-0:1.1:1.0"},
	{KBD1 "/hidraw/hidraw0", XHCI_PATH "-usb-0:1.1:1.0"},
	{MOUSE1 "/input/input4/event3", XHCI_PATH "-usb-0:1.2:1.0"},
	{MOUSE1 "/input/input4/mouse0", XHCI_PATH "-usb-0:1.2:1.0"},
	{MOUSE1 "/hidraw/hidraw2", XHCI_PATH "-usb-0:1.2:1.0"},
	{KBD1_HOTPLUG "/input/input6/event5", XHCI_PATH "-usb-0:1.3:1.0"},
	{KBD1_HOTPLUG "/hidraw/hidraw4", XHCI_PATH "-usb-0:1.3:1.0"},
	{AUDIO1_HOTPLUG, XHCI_PATH "-usb-0:1.4:1.0"},
	{AUDIO1_HOTPLUG "/controlC2", XHCI_PATH "-usb-0:1.4:1.0"},
	{AUDIO1_HOTPLUG "/pcmC2D0p", XHCI_PATH "-usb-0:1.4:1.0"},
	{KBD2 "/input/input3/event2", XHCI_PATH "-usb-0:2.1:1.0"},
	{KBD2 "/hidraw/hidraw1", XHCI_PATH "-usb-0:2.1:1.0"},
	{TABLET2 "/input/input5/event4", XHCI_PATH "-usb-0:2.2:1.0"},
	{TABLET2 "/input/input5/mouse1", XHCI_PATH "-usb-0:2.2:1.0"},
	{TABLET2 "/hidraw/hidraw3", XHCI_PATH "-usb-0:2.2:1.0"},
	{AUDIO2, XHCI_PATH "-usb-0:2.3:1.0"},
	{AUDIO2 "/controlC1", XHCI_PATH "-usb-0:2.3:1.0"},
	{AUDIO2 "/pcmC1D0p", XHCI_PATH "-usb-0:2.3:1.0"},
	{ALOOP, "platform-snd_aloop.0"},
	{ALOOP "/controlC0", "platform-snd_aloop.0"},
	{ALOOP "/pcmC0D0c", "platform-snd_aloop.0"},
	{ALOOP "/pcmC0D0p", "platform-snd_aloop.0"},
	{ALOOP "/pcmC0D1c", "platform-snd_aloop.0"},
	{ALOOP "/pcmC0D1p", "platform-snd_aloop.0"},
	/* The hubs that make the seats, their root hub and its interface. */
	{XHCI "/1-1", XHCI_PATH "-usb-0:1"},
	{XHCI "/1-2", XHCI_PATH "-usb-0:2"},
	{XHCI, XHCI_PATH},
	{XHCI "/1-0:1.0", XHCI_PATH "-usb-0:0:1.0"},
	/* Virtual devices have no place. */
	{"/devices/virtual/sound/timer", NULL},
	{"/devices/virtual/input/mice", NULL},
	{"/devices/virtual/graphics/fbcon", NULL},
};

#define N_FIXTURE_DEVICES (sizeof(fixture_devices) / sizeof(fixture_devices[0]))

/* Makes an empty directory next to the unpacked fixture, which goes with it at exit. */
static int make_scratch_dir(char *path, size_t size, const char *name) {
	snprintf(path, size, "%s/../%s", fixture_sysfs_root(), name);
	return mkdir(path, 0755);
}

/* Whether path_id_compute gives the expected ID_PATH, or ENOENT for none; says if not. */
static bool check(int root_fd, const char *devpath, const char *expected) {
	char id_path[256];
	int r = path_id_compute(root_fd, devpath, id_path, sizeof(id_path));
	if (expected != NULL ? r == 0 && strcmp(id_path, expected) == 0
			     : r == -1 && errno == ENOENT) {
		return true;
	}
	fprintf(stderr, "%s: %s, expected %s\n", devpath, r == 0 ? id_path : strerror(errno),
		expected != NULL ? expected : "ENOENT");
	return false;
}

static size_t check_fixture_devices(int root_fd) {
	size_t wrong = 0;
	for (size_t i = 0; i < N_FIXTURE_DEVICES; i++) {
		wrong += !check(root_fd, fixture_devices[i].devpath, fixture_devices[i].id_path);
	}
	return wrong;
}

static void test_fixture(void) {
	int root_fd = sysfs_open(fixture_sysfs_root());
	test_assert(root_fd != -1);
	size_t wrong = check_fixture_devices(root_fd);
	close(root_fd);
	test_assert(wrong == 0);
}

/*
 * Devices unplugged before we look: their USB ancestors are moved out of the unpacked tree
 * (which is as good as deleted for the code under test, and puts them back for the other
 * tests), so that their subsystems must be inferred from their names.
 */
static void test_fixture_usb_gone(void) {
	static const char *const gone[] = {XHCI "/1-1", XHCI "/1-2/1-2.2"};
	const char *root = fixture_sysfs_root();
	char from[512], to[512];
	size_t moved = 0, wrong = 0;
	for (; moved < sizeof(gone) / sizeof(gone[0]); moved++) {
		snprintf(from, sizeof(from), "%s%s", root, gone[moved]);
		snprintf(to, sizeof(to), "%s/../gone%zu", root, moved);
		if (rename(from, to) == -1) {
			break;
		}
	}
	int root_fd = sysfs_open(root);
	if (moved == sizeof(gone) / sizeof(gone[0]) && root_fd != -1) {
		wrong += sysfs_device_exists(root_fd, KBD1);
		wrong += check_fixture_devices(root_fd);
	}
	if (root_fd != -1) {
		close(root_fd);
	}
	size_t restored = 0;
	for (size_t i = 0; i < moved; i++) {
		snprintf(from, sizeof(from), "%s/../gone%zu", root, i);
		snprintf(to, sizeof(to), "%s%s", root, gone[i]);
		restored += rename(from, to) == 0;
	}
	test_assert(moved == sizeof(gone) / sizeof(gone[0]));
	test_assert(restored == moved);
	test_assert(root_fd != -1);
	test_assert(wrong == 0);
}

/* An empty tree: every device and ancestor is gone, and all of ID_PATH is inferred. */
static void test_fixture_all_gone(void) {
	char empty[512];
	test_assert(make_scratch_dir(empty, sizeof(empty), "all-gone") == 0);
	int root_fd = sysfs_open(empty);
	test_assert(root_fd != -1);
	size_t wrong = check_fixture_devices(root_fd);
	close(root_fd);
	test_assert(wrong == 0);
}

/* Inference of names that look like bus devices but are not. */
static void test_inferred_names(void) {
	static const struct {
		const char *devpath;
		const char *id_path;
	} cases[] = {
		/* Only the PCI device nearest to the device counts. */
		{"/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/usb3/3-2/3-2.4/3-2.4.1/3-2.4.1:1.2/"
		 "0003:046D:C52B.0009/input/input23/event7",
			"pci-0000:02:00.0-usb-0:2.4.1:1.2"},
		{"/devices/pci10000:e0/10000:e0:06.0/10000:e1:00.0/drm/card0", "pci-10000:e1:00.0"},
		/* A PCIe port service is no PCI device. */
		{"/devices/pci0000:00/0000:00:1c.0/0000:00:1c.0:pcie002", "pci-0000:00:1c.0"},
		/* A serio port behind another (PS/2 passthrough). */
		{"/devices/platform/i8042/serio1/serio2/input/input6/event6",
			"platform-i8042-serio-2"},
		/* An I2C client "1-0050" is no USB device; i2c adds nothing. */
		{"/devices/platform/i2c_designware.0/i2c-1/1-0050/input/input9/event9",
			"platform-i2c_designware.0"},
		/* Leading zeros, port 0 outside an interface, bus 0: no USB devices either. */
		{"/devices/platform/dummy_hcd.0/usb3/3-01/input/input1", "platform-dummy_hcd.0"},
		{"/devices/platform/dummy_hcd.0/usb3/3-0/input/input1", "platform-dummy_hcd.0"},
		{"/devices/platform/dummy_hcd.0/usb0/0-1/input/input1", "platform-dummy_hcd.0"},
		{"/devices/platform/dummy_hcd.0/usb3/3-1/3-1:1.0/input/input1",
			"platform-dummy_hcd.0-usb-0:1:1.0"},
		/*
		 * Only direct children of /devices/platform are taken for platform devices: gone
		 * from sysfs, this controller is named after soc, where udev, seeing it, would
		 * have said "platform-fe980000.usb-usb-0:1:1.0".
		 */
		{"/devices/platform/soc/fe980000.usb/usb1/1-1/1-1:1.0/sound/card1",
			"platform-soc-usb-0:1:1.0"},
		/* Without a parent of a known place there is no ID_PATH. */
		{"/devices/usb1/1-1/1-1:1.0/sound/card1", NULL},
		{"/devices/virtual/input/input9/event9", NULL},
		{"/devices", NULL},
	};
	char empty[512];
	test_assert(make_scratch_dir(empty, sizeof(empty), "names") == 0);
	int root_fd = sysfs_open(empty);
	test_assert(root_fd != -1);
	size_t wrong = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wrong += !check(root_fd, cases[i].devpath, cases[i].id_path);
	}
	close(root_fd);
	test_assert(wrong == 0);
}

/* Makes devpath and its missing ancestors under root, with a subsystem link if given. */
static int make_device(const char *root, const char *devpath, const char *subsystem) {
	char path[1024];
	for (const char *p = devpath + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			snprintf(path, sizeof(path), "%s%.*s", root, (int)(p - devpath), devpath);
			if (mkdir(path, 0755) == -1 && errno != EEXIST) {
				return -1;
			}
		}
		if (*p == '\0') {
			break;
		}
	}
	if (subsystem == NULL) {
		return 0;
	}
	char target[256];
	snprintf(path, sizeof(path), "%s%s/subsystem", root, devpath);
	snprintf(target, sizeof(target), "../../bus/%s", subsystem);
	return symlink(target, path);
}

/*
 * Buses that the fixture lacks, in a tree made here: each device with the subsystem of the
 * kernel's drivers, and the ID_PATH udevadm test-builtin path_id gave for the same tree.
 */
static void test_other_buses(void) {
	static const struct {
		const char *devpath;
		const char *subsystem;
	} tree[] = {
		{"/devices/LNXSYSTM:00", "acpi"},
		{"/devices/LNXSYSTM:00/LNXPWRBN:00", "acpi"},
		{"/devices/LNXSYSTM:00/LNXPWRBN:00/input/input3", "input"},
		{"/devices/LNXSYSTM:00/LNXPWRBN:00/input/input3/event3", "input"},
		{"/devices/vkbd-0", "xen"},
		{"/devices/vkbd-0/input/input1", "input"},
		{"/devices/vkbd-0/input/input1/event1", "input"},
		{"/devices/platform/soc", "platform"},
		{"/devices/platform/soc/fe204000.spi", "platform"},
		{"/devices/platform/soc/fe204000.spi/spi_master/spi0", "spi_master"},
		{"/devices/platform/soc/fe204000.spi/spi_master/spi0/spi0.1", "spi"},
		{"/devices/platform/soc/fe204000.spi/spi_master/spi0/spi0.1/input/input4", "input"},
		{"/devices/pci0000:00/0000:00:03.0", "pci"},
		{"/devices/pci0000:00/0000:00:03.0/virtio0", "virtio"},
		{"/devices/pci0000:00/0000:00:03.0/virtio0/input/input5", "input"},
		{"/devices/pci0000:00/0000:00:15.1", "pci"},
		{"/devices/pci0000:00/0000:00:15.1/i2c_designware.1", "platform"},
		{"/devices/pci0000:00/0000:00:15.1/i2c_designware.1/i2c-2", "i2c"},
		{"/devices/pci0000:00/0000:00:15.1/i2c_designware.1/i2c-2/i2c-ELAN0001:00", "i2c"},
		{"/devices/pci0000:00/0000:00:15.1/i2c_designware.1/i2c-2/i2c-ELAN0001:00/"
		 "0018:04F3:3147.0001",
			"hid"},
		{"/devices/pci0000:00/0000:00:15.1/i2c_designware.1/i2c-2/i2c-ELAN0001:00/"
		 "0018:04F3:3147.0001/input/input20",
			"input"},
		{"/devices/pnp0/00:01", "pnp"},
		{"/devices/pnp0/00:01/rtc/rtc0", "rtc"},
		{"/devices/platform/a!b", "platform"},
		{"/devices/platform/a!b/sound/card3", "sound"},
		{"/devices/platform/i8042", "platform"},
		{"/devices/platform/i8042/serio5", NULL},
		{"/devices/platform/i8042/serio5/input/input7", "input"},
		{"/devices/platform/soc/fe204000.spi/spi_master/spi0/spi-keys", "spi"},
		{"/devices/platform/soc/fe204000.spi/spi_master/spi0/spi-keys/input/input8",
			"input"},
	};
	static const struct {
		const char *devpath;
		const char *id_path;
	} cases[] = {
		{"/devices/LNXSYSTM:00/LNXPWRBN:00/input/input3/event3", "acpi-LNXPWRBN:00"},
		{"/devices/LNXSYSTM:00", "acpi-LNXSYSTM:00"},
		{"/devices/vkbd-0/input/input1/event1", "xen-vkbd-0"},
		{"/devices/platform/soc/fe204000.spi/spi_master/spi0/spi0.1/input/input4",
			"platform-fe204000.spi-cs-1"},
		{"/devices/platform/soc/fe204000.spi/spi_master/spi0", "platform-fe204000.spi"},
		{"/devices/pci0000:00/0000:00:03.0/virtio0/input/input5", "pci-0000:00:03.0"},
		{"/devices/pci0000:00/0000:00:15.1/i2c_designware.1/i2c-2/i2c-ELAN0001:00/"
		 "0018:04F3:3147.0001/input/input20",
			"pci-0000:00:15.1-platform-i2c_designware.1"},
		{"/devices/pnp0/00:01/rtc/rtc0", NULL},
		{"/devices/platform/a!b/sound/card3", "platform-a/b"},
		/* A device that is there has the subsystem of its link, whatever its name says. */
		{"/devices/platform/i8042/serio5/input/input7", "platform-i8042"},
		/* "cs-" needs a number at the end of the SPI device's name. */
		{"/devices/platform/soc/fe204000.spi/spi_master/spi0/spi-keys/input/input8",
			"platform-fe204000.spi"},
	};
	char root[512];
	test_assert(make_scratch_dir(root, sizeof(root), "other-buses") == 0);
	for (size_t i = 0; i < sizeof(tree) / sizeof(tree[0]); i++) {
		test_assert(make_device(root, tree[i].devpath, tree[i].subsystem) == 0);
	}
	int root_fd = sysfs_open(root);
	test_assert(root_fd != -1);
	size_t wrong = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wrong += !check(root_fd, cases[i].devpath, cases[i].id_path);
	}
	close(root_fd);
	test_assert(wrong == 0);
}

static void test_errors(void) {
	int root_fd = sysfs_open(fixture_sysfs_root());
	test_assert(root_fd != -1);
	const char *devpath = KBD1 "/input/input2/event1";
	const char *expected = XHCI_PATH "-usb-0:1.1:1.0";
	char out[64];
	size_t fits = strlen(expected) + 1;

	int r_fits = path_id_compute(root_fd, devpath, out, fits);
	int r_short = path_id_compute(root_fd, devpath, out, fits - 1);
	int e_short = errno;
	int r_empty = path_id_compute(root_fd, devpath, out, 0);
	int e_empty = errno;
	int r_relative = path_id_compute(root_fd, "devices/platform/i8042", out, sizeof(out));
	int e_relative = errno;
	close(root_fd);
	test_assert(r_fits == 0);
	test_assert(r_short == -1 && e_short == ENAMETOOLONG);
	test_assert(r_empty == -1 && e_empty == ENAMETOOLONG);
	test_assert(r_relative == -1 && e_relative == EINVAL);
}

int main(void) {
	test_run(test_fixture);
	test_run(test_fixture_usb_gone);
	test_run(test_fixture_all_gone);
	test_run(test_inferred_names);
	test_run(test_other_buses);
	test_run(test_errors);
	return test_main_end();
}
