/* idset.c: the open-addressing set of document numbers shared by the batch
 * engine and the index overlay (see idset.h). */
#include "idset.h"

#include <string.h>

#include "alloc.h"

int cd__idset_reserve(cd__idset *set, size_t count, size_t extra, cd__idset_hash_fn hash_of,
                      const void *owner)
{
    size_t needed = (count + extra) * 2;
    if (needed <= set->slot_count)
        return 0;
    size_t slots = set->slot_count;
    uint32_t *fresh = cd__empty_slots(&slots, needed);
    if (!fresh)
        return -1;
    cd__free(set->slots);
    set->slots = fresh;
    set->slot_count = slots;
    for (uint32_t number = 0; number < count; number++)
        cd__idset_insert(set, hash_of(owner, number), number);
    return 0;
}

void cd__idset_insert(cd__idset *set, uint64_t hash, uint32_t number)
{
    size_t slot = cd__idset_first(set, hash);
    while (set->slots[slot] != CD__IDSET_EMPTY)
        slot = cd__idset_next(set, slot);
    set->slots[slot] = number;
}

void cd__idset_remove(cd__idset *set, uint64_t hash, uint32_t number)
{
    size_t slot = cd__idset_first(set, hash);
    while (set->slots[slot] != number)
        slot = cd__idset_next(set, slot);
    set->slots[slot] = CD__IDSET_EMPTY;
}

void cd__idset_free(cd__idset *set)
{
    cd__free(set->slots);
    set->slots = NULL;
    set->slot_count = 0;
}
