/* cluster.c: union-find over verified edges, the stage after verification;
 * picks each component's representative by the caller's keep-rule rank.
 * The output array doubles as the parent array, so the only scratch is one
 * array of component sizes, reused afterwards for the best member. */
#include "cluster.h"

#include "alloc.h"

/* (rank[a], a) < (rank[b], b) */
static int ranks_before(const int64_t *rank, uint32_t a, uint32_t b)
{
    if (rank && rank[a] != rank[b])
        return rank[a] < rank[b];
    return a < b;
}

cd_status cd__cluster_check_args(size_t n, const cd__edge *edges, size_t n_edges,
                                 const uint32_t *representative)
{
    if ((uint64_t)n > UINT32_MAX || (n > 0 && !representative) || (n_edges > 0 && !edges))
        return CD_ERR_ARG;
    for (size_t e = 0; e < n_edges; e++)
        if (edges[e].a >= n || edges[e].b >= n)
            return CD_ERR_ARG;
    return CD_OK;
}

cd_status cd__cluster(size_t n, const cd__edge *edges, size_t n_edges, const int64_t *rank,
                      uint32_t *representative)
{
    if (cd__cluster_check_args(n, edges, n_edges, representative) != CD_OK)
        return CD_ERR_ARG;

    uint32_t *parent = representative;
    for (size_t i = 0; i < n; i++)
        parent[i] = (uint32_t)i;
    if (n_edges == 0)
        return CD_OK;

    /* size[root] = members of the component; later best[root]. */
    uint32_t *size = cd__malloc(n * sizeof *size);
    if (!size)
        return CD_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        size[i] = 1;

    for (size_t e = 0; e < n_edges; e++) {
        uint32_t ra = cd__find_root(parent, edges[e].a);
        uint32_t rb = cd__find_root(parent, edges[e].b);
        if (ra == rb)
            continue;
        if (size[ra] < size[rb]) {
            uint32_t t = ra;
            ra = rb;
            rb = t;
        }
        parent[rb] = ra;
        size[ra] += size[rb];
    }

    /* Point every document straight at its root. Documents already done
     * keep pointing at a root: cd__find_root never moves a root. */
    for (size_t i = 0; i < n; i++)
        parent[i] = cd__find_root(parent, (uint32_t)i);

    /* best[root]: the member with the smallest (rank, number). Scanning in
     * number order, the first member seen is the smallest number, so only
     * a strictly smaller rank replaces it. */
    uint32_t *best = size;
    for (size_t i = 0; i < n; i++)
        best[i] = UINT32_MAX; /* no member seen; n <= UINT32_MAX, so never a member */
    for (size_t i = 0; i < n; i++) {
        uint32_t r = parent[i];
        if (best[r] == UINT32_MAX || ranks_before(rank, (uint32_t)i, best[r]))
            best[r] = (uint32_t)i;
    }
    for (size_t i = 0; i < n; i++)
        representative[i] = best[parent[i]];

    cd__free(size);
    return CD_OK;
}
