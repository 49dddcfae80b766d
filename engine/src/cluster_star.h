/* cluster_star.h: star clustering over verified edges, the alternative to
 * connected components (cluster.h) that stops chaining: every member of a
 * cluster is itself a verified pair with the cluster's representative. */
#ifndef CD_CLUSTER_STAR_H
#define CD_CLUSTER_STAR_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"

/* Documents are taken in keep-rule order, (rank[i], i) ascending. A
 * document becomes a centre unless one of its neighbours already is; then
 * every other document joins the neighbouring centre it is most similar to
 * (ties: the centre that comes first in keep-rule order). A centre is its
 * cluster's representative, so representative[i] is i for centres and
 * documents on no edge, else a neighbour of i.
 *   rank  n values as for cd__cluster, or NULL for input order.
 * Runs in O(n log n + n_edges) time and O(n + n_edges) memory.
 * Errors: CD_ERR_ARG (n over UINT32_MAX, NULL arrays, an edge end >= n),
 * CD_ERR_NOMEM. Thread-safe. */
cd_status cd__cluster_star(size_t n, const cd__edge *edges, size_t n_edges, const int64_t *rank,
                           uint32_t *representative);

#endif
