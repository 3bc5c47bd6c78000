#ifndef _SEATD_NS_POLICY_H
#define _SEATD_NS_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "device.h"

/*
 * Seat policy (DESIGN decision 3): which seat a device belongs to. In order: a runtime
 * assignment (seat-assign assign), the most specific rule of the configuration, the host's
 * ID_SEAT (logind-style udev rules), else seat0.
 *
 * Rules match a device's "subject": the device itself, or for the nodes of a sound card and
 * the render node of a GPU, the card they belong to, so that children follow their parents.
 */

#define SEAT_NAME_MAX 255
#define CONTAINER_NAME_MAX 64

/* logind's rule: "seat", then [A-Za-z0-9_-], at most 255 characters in all. */
bool seat_name_is_valid(const char *name);
/* Container names as LXC allows them, without path separators: [A-Za-z0-9_.-], 1 to 64. */
bool container_name_is_valid(const char *name);

/* Rule kinds, from the most specific tier to the least. */
enum rule_kind {
	RULE_SYSPATH,   /* a sysfs path and everything below it */
	RULE_DEVICE,    /* one device by subsystem and exact ID_PATH (logind's ID_FOR_SEAT) */
	RULE_PORT,      /* an ID_PATH prefix: a hub or port and everything behind it */
	RULE_ID_PATH,   /* an ID_PATH glob */
	RULE_USB_ID,    /* vendor:product of the nearest USB device */
	RULE_KIND,      /* a device kind ("keyboard") or subsystem ("sound") */
	RULE_UDEV_SEAT, /* the host's ID_SEAT */
};

struct rule {
	enum rule_kind kind;
	char *value;      /* devpath ("/devices/..."), ID_PATH, glob, "vvvv:pppp", kind or seat */
	char *subsystem;  /* RULE_DEVICE only */
	char *seat;
	unsigned specificity;
	const char *file; /* where the rule was written, for messages (NULL: at run time) */
	int line;
};

/* What rules look at. */
struct policy_subject {
	const char *devpath;
	const char *subsystem;
	enum device_kind kind;
	const char *id_path;
	const char *usb_id;
	const char *udev_seat;
};

const char *rule_kind_name(enum rule_kind kind);
int rule_kind_parse(const char *name, enum rule_kind *kind);

/*
 * Makes a rule, checking and normalizing its value ("/sys/devices/x" becomes "/devices/x").
 * Returns 0, or -1 with errno (EINVAL: *why says what is wrong; ENOMEM).
 */
int rule_init(struct rule *rule, enum rule_kind kind, const char *value, const char *subsystem,
	const char *seat, const char **why);
void rule_finish(struct rule *rule);
bool rule_matches(const struct rule *rule, const struct policy_subject *subject);
/* Whether two rules select by the same thing (and so cannot both stand). */
bool rule_same_selector(const struct rule *a, const struct rule *b);

struct rule_set {
	struct rule *rules;
	size_t n_rules;
};

/* Takes over *rule (on success and on failure). */
int rule_set_add(struct rule_set *set, struct rule *rule);
/* Removes the rule with the same selector as `like`; returns 0, or -1 with ENOENT. */
int rule_set_remove(struct rule_set *set, const struct rule *like);
void rule_set_finish(struct rule_set *set);

/*
 * The most specific rule that matches the subject, or NULL. When another rule of equal
 * specificity and a different seat matches too, *conflict is set to it.
 */
const struct rule *rule_set_best(const struct rule_set *set,
	const struct policy_subject *subject, const struct rule **conflict);

#endif
