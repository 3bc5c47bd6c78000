#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sysfs.h"
#include "verbs.h"

static bool has_path_prefix(const char *path, const char *prefix, const char *separators) {
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || strchr(separators, path[n]));
}

/*
 * What a DEVICE argument designates, as a runtime rule: a device node or a seat device's sysfs
 * path stands for that device at its port (subsystem and ID_PATH, as logind's ID_FOR_SEAT, so a
 * replaced keyboard stays put), through the card it belongs to for sound and render nodes;
 * another sysfs path (a hub) or an ID_PATH (a port) covers everything behind it.
 */
static int rule_for_device(struct control_verbs *verbs, const char *spec, const char *seat,
	struct rule *rule, const char **why) {
	struct device *dev = NULL;
	const char *devpath = NULL;
	if (strncmp(spec, "/dev/", 5) == 0) {
		dev = devtable_find_by_devname(verbs->devices, spec + 5);
	} else if (strncmp(spec, "/sys/", 5) == 0 || strncmp(spec, "/devices/", 9) == 0) {
		devpath = strncmp(spec, "/sys/", 5) == 0 ? spec + 4 : spec;
		dev = devtable_find(verbs->devices, devpath);
	}
	if (dev != NULL) {
		struct policy_subject subject;
		char buf[UEVENT_MAX_SIZE];
		seats_subject(verbs->devices, dev, &subject, buf, sizeof(buf));
		if (subject.id_path != NULL) {
			return rule_init(rule, RULE_DEVICE, subject.id_path, subject.subsystem, seat, why);
		}
		return rule_init(rule, RULE_SYSPATH, subject.devpath, NULL, seat, why);
	}
	/* A hub or port: valid only if something is, or can be, behind it. */
	for (struct hashmap_entry *e = hashmap_first(&verbs->devices->devices); e;
		e = hashmap_next(&verbs->devices->devices, e)) {
		const struct device *d = hashmap_container_of(e, struct device, entry);
		if (devpath != NULL && has_path_prefix(d->devpath, devpath, "/")) {
			return rule_init(rule, RULE_SYSPATH, devpath, NULL, seat, why);
		}
		if (devpath == NULL && d->id_path != NULL && has_path_prefix(d->id_path, spec, "-.:")) {
			return rule_init(rule, RULE_PORT, spec, NULL, seat, why);
		}
	}
	if (devpath != NULL && uevent_devpath_is_valid(devpath) &&
		sysfs_device_exists(verbs->devices->sysfs_fd, devpath)) {
		return rule_init(rule, RULE_SYSPATH, devpath, NULL, seat, why);
	}
	*why = "unknown device (give a /dev node, a /sys path, or the ID_PATH of a port)";
	errno = ENOENT;
	return -1;
}

/* "input device at pci-...", "port pci-...", "syspath /devices/..." */
static void describe_rule(const struct rule *rule, char *buf, size_t size) {
	if (rule->kind == RULE_DEVICE) {
		snprintf(buf, size, "%s device at %s", rule->subsystem, rule->value);
	} else {
		snprintf(buf, size, "%s %s", rule_kind_name(rule->kind), rule->value);
	}
}

int verb_assign(struct control_verbs *verbs, struct control_client *client, const char *spec,
	const char *seat) {
	if (spec == NULL || seat == NULL) {
		return send_error(client, "usage: assign DEVICE SEAT");
	}
	if (!seat_name_is_valid(seat)) {
		return send_error(client, "invalid seat name: it must start with \"seat\", then "
					  "letters, digits, _ or -, at most 255 characters");
	}
	struct rule rule;
	const char *why = NULL;
	if (rule_for_device(verbs, spec, seat, &rule, &why) == -1) {
		return send_error(client, why ? why : "out of memory");
	}
	enum seat_origin origin;
	bool new_seat = !seats_find(verbs->seats, verbs->devices, seat, &origin);
	char message[512];
	char what[256];
	describe_rule(&rule, what, sizeof(what));
	snprintf(message, sizeof(message), "%s assigned to %s%s", what, seat,
		new_seat ? " (new seat)" : "");
	/* Keep the rule it replaces, to put it back if the state cannot be saved. */
	struct rule old = {0};
	for (size_t i = 0; i < verbs->state->rules.n_rules; i++) {
		const struct rule *r = &verbs->state->rules.rules[i];
		if (rule_same_selector(r, &rule)) {
			rule_init(&old, r->kind, r->value, r->subsystem, r->seat, &why);
		}
	}
	rule_set_remove(&verbs->state->rules, &rule);
	if (rule_set_add(&verbs->state->rules, &rule) == -1) {
		if (old.value != NULL) {
			rule_set_add(&verbs->state->rules, &old);
		}
		return send_error(client, "out of memory");
	}
	if ((new_seat && state_add_seat(verbs->state, seat) == -1) ||
		save_state(verbs, message, sizeof(message)) == -1) {
		/* Undo: the new rule is the last one; the one it replaced goes back. */
		struct rule_set *rules = &verbs->state->rules;
		rule_finish(&rules->rules[--rules->n_rules]);
		if (old.value != NULL) {
			rule_set_add(rules, &old);
		}
		if (new_seat) {
			state_remove_seat(verbs->state, seat);
		}
		return send_error(client, message);
	}
	rule_finish(&old);
	devtable_reseat(verbs->devices);
	log_infof("%s", message);
	return send_done(client, message);
}

int verb_unassign(struct control_verbs *verbs, struct control_client *client, const char *spec) {
	if (spec == NULL) {
		return send_error(client, "usage: unassign DEVICE");
	}
	struct rule like;
	const char *why = NULL;
	if (rule_for_device(verbs, spec, "seat0", &like, &why) == -1) {
		return send_error(client, why ? why : "out of memory");
	}
	struct rule *found = NULL;
	for (size_t i = 0; i < verbs->state->rules.n_rules; i++) {
		if (rule_same_selector(&verbs->state->rules.rules[i], &like)) {
			found = &verbs->state->rules.rules[i];
		}
	}
	char message[512];
	if (found == NULL) {
		snprintf(message, sizeof(message), "%s has no runtime assignment", spec);
		rule_finish(&like);
		return send_error(client, message);
	}
	struct rule saved = *found;
	/* Take it out without freeing, so it can go back if saving fails. */
	*found = verbs->state->rules.rules[--verbs->state->rules.n_rules];
	char what[256];
	describe_rule(&saved, what, sizeof(what));
	snprintf(message, sizeof(message), "%s no longer assigned to %s", what, saved.seat);
	rule_finish(&like);
	if (save_state(verbs, message, sizeof(message)) == -1) {
		rule_set_add(&verbs->state->rules, &saved);
		return send_error(client, message);
	}
	rule_finish(&saved);
	devtable_reseat(verbs->devices);
	log_infof("%s", message);
	return send_done(client, message);
}
