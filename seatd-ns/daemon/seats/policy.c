#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "uevent.h"

static const char *const subsystems[] = {"input", "hidraw", "drm", "sound"};

static const char *const rule_kind_names[] = {
	[RULE_SYSPATH] = "syspath",
	[RULE_DEVICE] = "device",
	[RULE_PORT] = "port",
	[RULE_ID_PATH] = "id-path",
	[RULE_USB_ID] = "usb-id",
	[RULE_KIND] = "kind",
	[RULE_UDEV_SEAT] = "udev-seat",
};

bool seat_name_is_valid(const char *name) {
	size_t len = strlen(name);
	if (strncmp(name, "seat", 4) != 0 || len == 4 || len > SEAT_NAME_MAX) {
		return false;
	}
	return strspn(name + 4,
		       "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == len - 4;
}

bool container_name_is_valid(const char *name) {
	size_t len = strlen(name);
	return len > 0 && len <= CONTAINER_NAME_MAX && name[0] != '.' &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
		       len;
}

const char *rule_kind_name(enum rule_kind kind) {
	return rule_kind_names[kind];
}

int rule_kind_parse(const char *name, enum rule_kind *kind) {
	for (size_t i = 0; i < sizeof(rule_kind_names) / sizeof(rule_kind_names[0]); i++) {
		if (strcmp(name, rule_kind_names[i]) == 0) {
			*kind = (enum rule_kind)i;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

static bool is_id_path_separator(char c) {
	return c == '-' || c == '.' || c == ':';
}

static unsigned count_chars(const char *s, bool (*pick)(char)) {
	unsigned n = 0;
	for (; *s != '\0'; s++) {
		n += pick(*s);
	}
	return n;
}

static bool is_slash(char c) {
	return c == '/';
}

static bool is_literal(char c) {
	return c != '*' && c != '?' && c != '[' && c != ']';
}

static bool id_path_is_valid(const char *id_path) {
	size_t len = strlen(id_path);
	return len > 0 && len < 512 && !is_id_path_separator(id_path[len - 1]) &&
	       strspn(id_path, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:._-") ==
		       len;
}

/* A glob fnmatch accepts as we mean it: brackets closed, no trailing escape. */
static bool glob_is_valid(const char *glob) {
	size_t len = strlen(glob);
	if (len == 0 || len >= 512 || glob[len - 1] == '\\') {
		return false;
	}
	for (const char *p = glob; *p != '\0'; p++) {
		if (*p == '\\') {
			p++;
		} else if (*p == '[') {
			/* "[]...]" has "]" as its first member: look for the close after it */
			const char *close = p[1] != '\0' ? strchr(p + 2, ']') : NULL;
			if (close == NULL) {
				return false;
			}
			p = close;
		} else if ((unsigned char)*p < 0x20) {
			return false;
		}
	}
	return true;
}

static bool usb_id_normalize(const char *value, char out[10]) {
	if (strlen(value) != 9 || value[4] != ':') {
		return false;
	}
	for (int i = 0; i < 9; i++) {
		if (i != 4 && !isxdigit((unsigned char)value[i])) {
			return false;
		}
		out[i] = (char)tolower((unsigned char)value[i]);
	}
	out[9] = '\0';
	return true;
}

static bool is_subsystem(const char *value) {
	for (size_t i = 0; i < sizeof(subsystems) / sizeof(subsystems[0]); i++) {
		if (strcmp(value, subsystems[i]) == 0) {
			return true;
		}
	}
	return false;
}

static bool kind_is_valid(const char *value) {
	if (is_subsystem(value)) {
		return true;
	}
	for (enum device_kind k = DEVICE_KIND_KEYBOARD; k <= DEVICE_KIND_SOUND_OTHER; k++) {
		if (strcmp(value, device_kind_name(k)) == 0) {
			return true;
		}
	}
	return false;
}

/* Tiers keep kinds apart; within one, the deeper or longer selector is the more specific. */
static unsigned specificity(const struct rule *rule) {
	unsigned tier = (unsigned)(RULE_UDEV_SEAT - rule->kind) * 10000;
	unsigned within = 0;
	switch (rule->kind) {
	case RULE_SYSPATH:
		within = count_chars(rule->value, is_slash);
		break;
	case RULE_PORT:
		within = count_chars(rule->value, is_id_path_separator);
		break;
	case RULE_ID_PATH:
		within = count_chars(rule->value, is_literal);
		break;
	case RULE_KIND:
		/* A kind ("keyboard") narrows more than a subsystem ("input"). */
		within = !is_subsystem(rule->value);
		break;
	case RULE_DEVICE:
	case RULE_USB_ID:
	case RULE_UDEV_SEAT:
		break;
	}
	return tier + (within < 9999 ? within : 9999);
}

int rule_init(struct rule *rule, enum rule_kind kind, const char *value, const char *subsystem,
	const char *seat, const char **why) {
	memset(rule, 0, sizeof(*rule));
	char usb_id[10];
	*why = NULL;
	if (!seat_name_is_valid(seat)) {
		*why = "invalid seat name (it must start with \"seat\", then letters, digits, _ or -)";
	}
	switch (kind) {
	case RULE_SYSPATH:
		if (strncmp(value, "/sys/", 5) == 0) {
			value += 4;
		}
		if (!uevent_devpath_is_valid(value)) {
			*why = "not a sysfs device path (/sys/devices/...)";
		}
		break;
	case RULE_DEVICE:
		if (subsystem == NULL || !kind_is_valid(subsystem) || !id_path_is_valid(value)) {
			*why = "not a device's subsystem and ID_PATH";
		}
		break;
	case RULE_PORT:
		if (!id_path_is_valid(value)) {
			*why = "not an ID_PATH (such as pci-0000:00:14.0-usb-0:1)";
		}
		break;
	case RULE_ID_PATH:
		if (!glob_is_valid(value)) {
			*why = "bad glob";
		}
		break;
	case RULE_USB_ID:
		if (!usb_id_normalize(value, usb_id)) {
			*why = "not a USB vendor:product (such as 046d:c52b)";
		}
		value = usb_id;
		break;
	case RULE_KIND:
		if (!kind_is_valid(value)) {
			*why = "not a device kind or subsystem";
		}
		break;
	case RULE_UDEV_SEAT:
		if (!seat_name_is_valid(value)) {
			*why = "not a seat name";
		}
		break;
	}
	if (*why != NULL) {
		errno = EINVAL;
		return -1;
	}
	rule->kind = kind;
	rule->value = strdup(value);
	rule->subsystem = subsystem != NULL && kind == RULE_DEVICE ? strdup(subsystem) : NULL;
	rule->seat = strdup(seat);
	if (rule->value == NULL || rule->seat == NULL || (kind == RULE_DEVICE && !rule->subsystem)) {
		rule_finish(rule);
		errno = ENOMEM;
		return -1;
	}
	rule->specificity = specificity(rule);
	return 0;
}

void rule_finish(struct rule *rule) {
	free(rule->value);
	free(rule->subsystem);
	free(rule->seat);
	rule->value = rule->subsystem = rule->seat = NULL;
}

/* prefix is s, or s up to a separator that pick accepts. */
static bool has_component_prefix(const char *s, const char *prefix, bool (*pick)(char)) {
	size_t n = strlen(prefix);
	return strncmp(s, prefix, n) == 0 && (s[n] == '\0' || pick(s[n]));
}

bool rule_matches(const struct rule *rule, const struct policy_subject *s) {
	switch (rule->kind) {
	case RULE_SYSPATH:
		return has_component_prefix(s->devpath, rule->value, is_slash);
	case RULE_DEVICE:
		return s->id_path != NULL && strcmp(s->subsystem, rule->subsystem) == 0 &&
		       strcmp(s->id_path, rule->value) == 0;
	case RULE_PORT:
		return s->id_path != NULL &&
		       has_component_prefix(s->id_path, rule->value, is_id_path_separator);
	case RULE_ID_PATH:
		return s->id_path != NULL && fnmatch(rule->value, s->id_path, 0) == 0;
	case RULE_USB_ID:
		return s->usb_id != NULL && strcmp(s->usb_id, rule->value) == 0;
	case RULE_KIND:
		return strcmp(rule->value, s->subsystem) == 0 ||
		       strcmp(rule->value, device_kind_name(s->kind)) == 0;
	case RULE_UDEV_SEAT:
		return s->udev_seat != NULL && strcmp(s->udev_seat, rule->value) == 0;
	}
	return false;
}

static bool str_equal(const char *a, const char *b) {
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool rule_same_selector(const struct rule *a, const struct rule *b) {
	return a->kind == b->kind && strcmp(a->value, b->value) == 0 &&
	       str_equal(a->subsystem, b->subsystem);
}

int rule_set_add(struct rule_set *set, struct rule *rule) {
	struct rule *rules = realloc(set->rules, (set->n_rules + 1) * sizeof(*rules));
	if (rules == NULL) {
		rule_finish(rule);
		return -1;
	}
	set->rules = rules;
	set->rules[set->n_rules++] = *rule;
	return 0;
}

int rule_set_remove(struct rule_set *set, const struct rule *like) {
	for (size_t i = 0; i < set->n_rules; i++) {
		if (rule_same_selector(&set->rules[i], like)) {
			rule_finish(&set->rules[i]);
			memmove(&set->rules[i], &set->rules[i + 1],
				(set->n_rules - i - 1) * sizeof(set->rules[0]));
			set->n_rules--;
			return 0;
		}
	}
	errno = ENOENT;
	return -1;
}

void rule_set_finish(struct rule_set *set) {
	for (size_t i = 0; i < set->n_rules; i++) {
		rule_finish(&set->rules[i]);
	}
	free(set->rules);
	set->rules = NULL;
	set->n_rules = 0;
}

const struct rule *rule_set_best(const struct rule_set *set,
	const struct policy_subject *subject, const struct rule **conflict) {
	const struct rule *best = NULL;
	*conflict = NULL;
	for (size_t i = 0; i < set->n_rules; i++) {
		const struct rule *r = &set->rules[i];
		if (!rule_matches(r, subject)) {
			continue;
		}
		if (best == NULL || r->specificity > best->specificity) {
			best = r;
			*conflict = NULL;
		} else if (r->specificity == best->specificity && strcmp(r->seat, best->seat) != 0) {
			*conflict = r;
		}
	}
	return best;
}
