#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

#define INITIAL_BUCKETS 64

/* FNV-1a: short keys (sysfs paths), no adversarial collisions needed beyond a bounded table. */
static uint32_t hash_string(const char *s) {
	uint32_t h = 2166136261u;
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

void hashmap_init(struct hashmap *map) {
	map->buckets = NULL;
	map->n_buckets = 0;
	map->n_entries = 0;
}

void hashmap_finish(struct hashmap *map) {
	free(map->buckets);
	hashmap_init(map);
}

struct hashmap_entry *hashmap_get(const struct hashmap *map, const char *key) {
	if (map->n_buckets == 0) {
		return NULL;
	}
	uint32_t h = hash_string(key);
	for (struct hashmap_entry *e = map->buckets[h & (map->n_buckets - 1)]; e; e = e->next) {
		if (e->hash == h && strcmp(e->key, key) == 0) {
			return e;
		}
	}
	return NULL;
}

static int grow(struct hashmap *map) {
	size_t n = map->n_buckets ? map->n_buckets * 2 : INITIAL_BUCKETS;
	struct hashmap_entry **buckets = calloc(n, sizeof(*buckets));
	if (buckets == NULL) {
		return -1;
	}
	for (size_t i = 0; i < map->n_buckets; i++) {
		struct hashmap_entry *e = map->buckets[i];
		while (e != NULL) {
			struct hashmap_entry *next = e->next;
			e->next = buckets[e->hash & (n - 1)];
			buckets[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(map->buckets);
	map->buckets = buckets;
	map->n_buckets = n;
	return 0;
}

int hashmap_put(struct hashmap *map, struct hashmap_entry *entry, const char *key) {
	if (hashmap_get(map, key) != NULL) {
		errno = EEXIST;
		return -1;
	}
	if (map->n_entries >= map->n_buckets && grow(map) == -1) {
		errno = ENOMEM;
		return -1;
	}
	entry->key = key;
	entry->hash = hash_string(key);
	struct hashmap_entry **head = &map->buckets[entry->hash & (map->n_buckets - 1)];
	entry->next = *head;
	*head = entry;
	map->n_entries++;
	return 0;
}

void hashmap_remove(struct hashmap *map, struct hashmap_entry *entry) {
	struct hashmap_entry **link = &map->buckets[entry->hash & (map->n_buckets - 1)];
	while (*link != entry) {
		link = &(*link)->next;
	}
	*link = entry->next;
	map->n_entries--;
}

static struct hashmap_entry *first_from(const struct hashmap *map, size_t bucket) {
	for (size_t i = bucket; i < map->n_buckets; i++) {
		if (map->buckets[i] != NULL) {
			return map->buckets[i];
		}
	}
	return NULL;
}

struct hashmap_entry *hashmap_first(const struct hashmap *map) {
	return first_from(map, 0);
}

struct hashmap_entry *hashmap_next(const struct hashmap *map, const struct hashmap_entry *entry) {
	if (entry->next != NULL) {
		return entry->next;
	}
	return first_from(map, (entry->hash & (map->n_buckets - 1)) + 1);
}
