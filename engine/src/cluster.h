/* cluster.h: connected components over verified edges, the stage after
 * verification. Union-find groups documents joined by any chain of edges;
 * each component's representative is chosen by a rank the caller computes
 * from the keep rule. */
#ifndef CD_CLUSTER_H
#define CD_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "copydesk/copydesk.h"

/* The root of x in a union-find parent array (parent[r] == r at a root),
 * halving the path on the way: every node visited then points to its
 * grandparent. */
static inline uint32_t cd__find_root(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* A verified pair of documents and its similarity (not used by the
 * components clustering; carried for the caller). */
typedef struct cd__edge {
    uint32_t a, b;
    float similarity;
} cd__edge;

/* Groups documents 0..n-1 into the connected components of the graph with
 * the given edges (in any order; repeats and self-loops are harmless) and
 * writes, for every document i, representative[i] = the member m of i's
 * component with the smallest (rank[m], m). A document on no edge
 * represents itself.
 *   rank  n values encoding the keep rule (earliest: epoch seconds,
 *         undated INT64_MAX; longest: -length; first: 0), or NULL for all
 *         equal (the smallest document number wins).
 * Runs in O((n + n_edges) α(n)) time with one n-element scratch array
 * (none when there are no edges): union by size, path halving.
 * Errors: CD_ERR_ARG (n over UINT32_MAX, NULL representative with n > 0,
 * NULL edges with n_edges > 0, or an edge end >= n; nothing is written),
 * CD_ERR_NOMEM (representative is then unspecified). Thread-safe. */
cd_status cd__cluster(size_t n, const cd__edge *edges, size_t n_edges, const int64_t *rank,
                      uint32_t *representative);

/* The argument check shared by cd__cluster and cd__cluster_star: CD_ERR_ARG
 * when n is over UINT32_MAX, representative is NULL with n > 0, edges is
 * NULL with n_edges > 0 or an edge end is >= n; CD_OK otherwise. Reads
 * only. Thread-safe. */
cd_status cd__cluster_check_args(size_t n, const cd__edge *edges, size_t n_edges,
                                 const uint32_t *representative);

#endif
