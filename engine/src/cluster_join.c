/* cluster_join.c: verification during LSH grouping for components
 * clustering (see cluster_join.h). A union-find over the documents says
 * whether a pair can still change the clusters; a set of the pairs found
 * below the threshold keeps a pair that collides in several bands from
 * being verified again. */
#include "cluster_join.h"

#include <string.h>

#include "alloc.h"

cd_status cd__joiner_init(cd__joiner *j, size_t n, double threshold, cd__similarity_fn similarity,
                          const void *ctx)
{
    *j = (cd__joiner){.n = n, .threshold = threshold, .similarity = similarity, .ctx = ctx};
    if ((uint64_t)n > UINT32_MAX || !similarity)
        return CD_ERR_ARG;
    j->parent = cd__malloc((n ? n : 1) * sizeof *j->parent);
    if (!j->parent)
        return CD_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        j->parent[i] = (uint32_t)i;
    return CD_OK;
}

void cd__joiner_free(cd__joiner *j)
{
    cd__free(j->parent);
    cd__free(j->failed);
    cd__free(j->edges);
    *j = (cd__joiner){0};
}

/* Slot of pair key (never 0: a < b) in the failed set: its own slot, or
 * the empty slot where it would go. failed_slots is a power of two. */
static size_t failed_slot(const cd__joiner *j, uint64_t key)
{
    size_t mask = j->failed_slots - 1;
    size_t i = (size_t)((key * 0x9e3779b97f4a7c15u) >> 17) & mask;
    while (j->failed[i] != 0 && j->failed[i] != key)
        i = (i + 1) & mask;
    return i;
}

static int failed_contains(const cd__joiner *j, uint64_t key)
{
    return j->failed_slots && j->failed[failed_slot(j, key)] == key;
}

/* The failed set stops growing at this many slots (64 MiB): past it a pair
 * that collides again is verified again, which costs time, never results. */
enum { MAX_FAILED_SLOTS = 1 << 23 };

/* Adds key to the failed set, doubling it past half full. Returns 0 or -1. */
static int failed_insert(cd__joiner *j, uint64_t key)
{
    if (2 * (j->failed_count + 1) > j->failed_slots && j->failed_slots >= MAX_FAILED_SLOTS)
        return 0;
    if (2 * (j->failed_count + 1) > j->failed_slots) {
        size_t slots = j->failed_slots ? 2 * j->failed_slots : 1024;
        uint64_t *old = j->failed;
        size_t old_slots = j->failed_slots;
        j->failed = cd__calloc(slots, sizeof *j->failed);
        if (!j->failed) {
            j->failed = old;
            return -1;
        }
        j->failed_slots = slots;
        for (size_t i = 0; i < old_slots; i++)
            if (old[i])
                j->failed[failed_slot(j, old[i])] = old[i];
        cd__free(old);
    }
    j->failed[failed_slot(j, key)] = key;
    j->failed_count++;
    return 0;
}

/* Checks the pair a < b unless it cannot change the components. */
static cd_status check_pair(cd__joiner *j, uint32_t a, uint32_t b)
{
    uint32_t ra = cd__find_root(j->parent, a), rb = cd__find_root(j->parent, b);
    if (ra == rb)
        return CD_OK;
    uint64_t key = (uint64_t)a << 32 | b;
    if (failed_contains(j, key))
        return CD_OK;
    double s = j->similarity(j->ctx, a, b);
    j->checked++;
    if (!(s + 1e-9 >= j->threshold))
        return failed_insert(j, key) == 0 ? CD_OK : CD_ERR_NOMEM;
    if (cd__grow((void **)&j->edges, &j->edge_capacity, j->edge_count + 1, sizeof *j->edges) != 0)
        return CD_ERR_NOMEM;
    j->edges[j->edge_count++] = (cd__edge){a, b, (float)s};
    if (ra < rb) /* the smaller root stays: the result never depends on timing */
        j->parent[rb] = ra;
    else
        j->parent[ra] = rb;
    return CD_OK;
}

/* 1 when docs[0..m) are all in one component already. */
static int one_component(cd__joiner *j, const uint32_t *docs, size_t m)
{
    uint32_t r = cd__find_root(j->parent, docs[0]);
    for (size_t i = 1; i < m; i++)
        if (cd__find_root(j->parent, docs[i]) != r)
            return 0;
    return 1;
}

cd_status cd__joiner_bucket(void *joiner, const uint32_t *docs, size_t m, int capped)
{
    cd__joiner *j = joiner;
    if (one_component(j, docs, m))
        return CD_OK;
    size_t firsts = capped ? 1 : m - 1;
    for (size_t i = 0; i < firsts; i++)
        for (size_t k = i + 1; k < m; k++) {
            cd_status st = check_pair(j, docs[i], docs[k]);
            if (st != CD_OK)
                return st;
        }
    return CD_OK;
}
