/* idset.h: an open-addressing set of document numbers found by the hash of
 * their ids (linear probing, load factor at most 1/2). The batch engine
 * (dedup.c) and the index overlay (index.c) keep their ids in it; the set
 * holds only numbers, so the caller compares the ids along a probe. */
#ifndef CD_IDSET_H
#define CD_IDSET_H

#include <stddef.h>
#include <stdint.h>

#define CD__IDSET_EMPTY UINT32_MAX /* a slot holding no number */

typedef struct cd__idset {
    uint32_t *slots;   /* a number, or CD__IDSET_EMPTY */
    size_t slot_count; /* a power of two, or 0 before the first reserve */
} cd__idset;

/* The hash of the id of number (any well-mixed 64-bit hash, the same for
 * every call), for rebuilding the set. */
typedef uint64_t (*cd__idset_hash_fn)(const void *owner, uint32_t number);

/* Makes room for count + extra numbers, where the set holds exactly the
 * numbers 0 .. count-1. When it grows, the slots are reallocated and
 * numbers 0 .. count-1 put back, hashed by hash_of(owner, number). Returns
 * 0, or -1 when memory runs out (the set is then unchanged). Not
 * thread-safe: the caller owns the set. */
int cd__idset_reserve(cd__idset *set, size_t count, size_t extra, cd__idset_hash_fn hash_of,
                      const void *owner);

/* The first slot of the probe for hash; the set must have slots. Walk the
 * probe with cd__idset_next until a slot holds CD__IDSET_EMPTY: the numbers
 * met on the way are those whose ids may hash alike, and the empty slot is
 * where a number with this hash may be stored directly. */
static inline size_t cd__idset_first(const cd__idset *set, uint64_t hash)
{
    return (size_t)hash & (set->slot_count - 1);
}

static inline size_t cd__idset_next(const cd__idset *set, size_t slot)
{
    return (slot + 1) & (set->slot_count - 1);
}

/* Stores number under hash, in the first empty slot of its probe (room
 * reserved). The set does not look for an equal id: that is the caller's. */
void cd__idset_insert(cd__idset *set, uint64_t hash, uint32_t number);

/* Removes number, stored under hash. Only for undoing insertions newest
 * first: a number inserted after it may otherwise become unreachable. */
void cd__idset_remove(cd__idset *set, uint64_t hash, uint32_t number);

/* Frees the slots; the set is then empty (and may be reserved again). */
void cd__idset_free(cd__idset *set);

#endif
