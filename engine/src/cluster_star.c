/* cluster_star.c: star clustering (see cluster_star.h), the --cluster star
 * stage after verification. Centres are chosen greedily in keep-rule order
 * over a compressed adjacency list; members then pick their best centre. */
#include "cluster_star.h"

#include <stdlib.h>

#include "alloc.h"

typedef struct ranked {
    int64_t rank;
    uint32_t doc;
} ranked;

static int cmp_ranked(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return a->doc < b->doc ? -1 : a->doc > b->doc;
}

cd_status cd__cluster_star(size_t n, const cd__edge *edges, size_t n_edges, const int64_t *rank,
                           uint32_t *representative)
{
    if (cd__cluster_check_args(n, edges, n_edges, representative) != CD_OK)
        return CD_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        representative[i] = (uint32_t)i;
    if (n_edges == 0)
        return CD_OK;

    cd_status st = CD_ERR_NOMEM;
    size_t *first = cd__calloc(n + 1, sizeof *first);
    uint32_t *adjacent = cd__malloc(2 * n_edges * sizeof *adjacent);
    float *score = cd__malloc(2 * n_edges * sizeof *score);
    ranked *order = cd__malloc(n * sizeof *order);
    uint32_t *position = cd__malloc(n * sizeof *position);
    uint8_t *centre = cd__calloc(n, 1);
    if (!first || !adjacent || !score || !order || !position || !centre)
        goto done;

    /* adjacency lists (CSR) */
    for (size_t e = 0; e < n_edges; e++) {
        first[edges[e].a + 1]++;
        first[edges[e].b + 1]++;
    }
    for (size_t i = 0; i < n; i++)
        first[i + 1] += first[i];
    for (size_t e = 0; e < n_edges; e++) {
        uint32_t a = edges[e].a, b = edges[e].b;
        size_t pa = first[a]++, pb = first[b]++;
        adjacent[pa] = b;
        score[pa] = edges[e].similarity;
        adjacent[pb] = a;
        score[pb] = edges[e].similarity;
    }
    for (size_t i = n; i > 0; i--) /* the fill moved each start to the next list's */
        first[i] = first[i - 1];
    first[0] = 0;

    for (size_t i = 0; i < n; i++)
        order[i] = (ranked){rank ? rank[i] : 0, (uint32_t)i};
    qsort(order, n, sizeof *order, cmp_ranked);
    for (size_t i = 0; i < n; i++)
        position[order[i].doc] = (uint32_t)i;

    /* centres, greedily in keep-rule order */
    for (size_t i = 0; i < n; i++) {
        uint32_t doc = order[i].doc;
        int beside_centre = 0;
        for (size_t k = first[doc]; k < first[doc + 1] && !beside_centre; k++)
            beside_centre = centre[adjacent[k]] && adjacent[k] != doc;
        centre[doc] = !beside_centre;
    }
    /* members: the most similar neighbouring centre */
    for (size_t doc = 0; doc < n; doc++) {
        if (centre[doc])
            continue;
        uint32_t best = (uint32_t)doc;
        float best_score = -1.0f;
        for (size_t k = first[doc]; k < first[doc + 1]; k++) {
            uint32_t c = adjacent[k];
            if (!centre[c] || c == doc)
                continue;
            if (score[k] > best_score ||
                (score[k] == best_score && position[c] < position[best])) {
                best = c;
                best_score = score[k];
            }
        }
        representative[doc] = best;
    }
    st = CD_OK;
done:
    cd__free(first);
    cd__free(adjacent);
    cd__free(score);
    cd__free(order);
    cd__free(position);
    cd__free(centre);
    return st;
}
