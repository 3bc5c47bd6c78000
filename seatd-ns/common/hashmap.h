#ifndef _SEATD_NS_HASHMAP_H
#define _SEATD_NS_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * An intrusive hash map with string keys: the value embeds a struct hashmap_entry and owns
 * the key string, so an entry costs no allocation beyond its value. Lookup and removal are
 * O(1) on average whatever the number of entries, which keeps the per-event cost flat.
 */

struct hashmap_entry {
	struct hashmap_entry *next;
	const char *key;
	uint32_t hash;
};

struct hashmap {
	struct hashmap_entry **buckets;
	size_t n_buckets;
	size_t n_entries;
};

#define hashmap_container_of(ptr, type, member)                                               \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

void hashmap_init(struct hashmap *map);
/* Frees the bucket array; the entries belong to their owners. */
void hashmap_finish(struct hashmap *map);

struct hashmap_entry *hashmap_get(const struct hashmap *map, const char *key);

/* Inserts entry under key (which must outlive the entry); -1 with ENOMEM, EEXIST. */
int hashmap_put(struct hashmap *map, struct hashmap_entry *entry, const char *key);

void hashmap_remove(struct hashmap *map, struct hashmap_entry *entry);

/* Iteration in no particular order; take the next entry before removing the current one. */
struct hashmap_entry *hashmap_first(const struct hashmap *map);
struct hashmap_entry *hashmap_next(const struct hashmap *map, const struct hashmap_entry *entry);

#endif
