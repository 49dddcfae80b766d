/* cluster_join.h: connected components found while LSH groups, for runs
 * that need the clusters but not every verified pair. A candidate pair is
 * verified only when its two documents are not yet in one component, so a
 * story copied 200 times costs about 200 verifications instead of 20 000;
 * the components are the same as those of every verified pair (an edge
 * inside a component never changes the components). */
#ifndef CD_CLUSTER_JOIN_H
#define CD_CLUSTER_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "copydesk/copydesk.h"

/* The similarity of documents a < b; called from one thread. */
typedef double (*cd__similarity_fn)(const void *ctx, uint32_t a, uint32_t b);

typedef struct cd__joiner {
    size_t n;
    double threshold;
    cd__similarity_fn similarity;
    const void *ctx;
    uint32_t *parent;                  /* union-find over the n documents */
    uint64_t *failed;                  /* open-addressing set of pairs below the threshold */
    size_t failed_count, failed_slots; /* slots: a power of two, or 0 */
    cd__edge *edges;                   /* the pairs that joined two components */
    size_t edge_count, edge_capacity;
    size_t checked; /* similarities computed */
} cd__joiner;

/* Sets up j for documents 0..n-1 and a pair threshold: a pair joins when
 * similarity + 1e-9 >= threshold. ctx is passed to similarity.
 * Errors: CD_ERR_ARG (n over UINT32_MAX, NULL similarity), CD_ERR_NOMEM;
 * j is then safe to free. */
cd_status cd__joiner_init(cd__joiner *j, size_t n, double threshold, cd__similarity_fn similarity,
                          const void *ctx);

/* A cd__bucket_fn (lsh.h) with ctx = the joiner: checks the bucket's pairs
 * (every pair, or with capped the pairs (docs[0], other)) whose documents
 * are in different components and were not found below the threshold
 * before; a pair at or above it joins the components and is appended to
 * edges. The set of failed pairs holds at most 2^22 pairs (64 MiB); later
 * failures are not remembered. Errors: CD_ERR_NOMEM (j stays consistent). */
cd_status cd__joiner_bucket(void *joiner, const uint32_t *docs, size_t m, int capped);

/* Frees j's memory; j may be zeroed or initialised. */
void cd__joiner_free(cd__joiner *j);

#endif
