/* dedup.c: the batch engine (cd_dedup). Collects documents with their
 * signatures (signed in parallel), then runs the back half of the pipeline:
 * LSH candidates -> verification against the threshold -> union-find
 * clusters -> representatives by the keep rule. */
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "alloc.h"
#include "cluster.h"
#include "lsh.h"

#define NO_DOC UINT32_MAX

struct cd_dedup {
    cd_params params;
    char errmsg[CD_ERRMSG_SIZE];
    int ran;

    /* Per document, indexed by document number. */
    size_t count, capacity;
    uint32_t *signatures; /* count × perm */
    size_t *id_offsets;   /* into id_pool */
    int64_t *dates;       /* epoch seconds; INT64_MAX when undated */
    uint64_t *text_bytes;
    uint8_t *empty;

    char *id_pool;
    size_t id_pool_used, id_pool_capacity;

    /* Open-addressing set of ids (linear probing), slots hold doc numbers. */
    uint32_t *id_slots;
    size_t id_slot_count; /* a power of two, or 0 */

    unsigned thread_count;
    cd_signer **signers; /* one per thread, created on the first add */

    /* Results of cd_dedup_run. */
    uint32_t *representative;
    float *similarity;
    uint32_t *cluster_size;
    size_t cluster_count;
    size_t *cluster_offsets; /* cluster_count + 1 */
    size_t *cluster_members;
    cd_pair *pairs;
    size_t pair_count;

    cd_dedup_stats stats;
};

static uint64_t id_hash(const char *id, size_t len) { return XXH3_64bits(id, len); }

static const char *id_of(const cd_dedup *d, uint32_t doc) { return d->id_pool + d->id_offsets[doc]; }

/* The slot holding id, or the empty slot where it would go. */
static size_t id_slot_find(const cd_dedup *d, const char *id, size_t len)
{
    size_t mask = d->id_slot_count - 1;
    size_t slot = (size_t)id_hash(id, len) & mask;
    while (d->id_slots[slot] != NO_DOC) {
        const char *other = id_of(d, d->id_slots[slot]);
        if (strlen(other) == len && memcmp(other, id, len) == 0)
            return slot;
        slot = (slot + 1) & mask;
    }
    return slot;
}

/* Makes room in the id set for `extra` more ids at a load factor <= 1/2. */
static int id_set_reserve(cd_dedup *d, size_t extra)
{
    size_t needed = (d->count + extra) * 2;
    if (needed <= d->id_slot_count)
        return 0;
    size_t slots = d->id_slot_count ? d->id_slot_count : 1024;
    while (slots < needed)
        slots *= 2;
    uint32_t *fresh = cd__malloc(slots * sizeof *fresh);
    if (!fresh)
        return -1;
    memset(fresh, 0xff, slots * sizeof *fresh);
    uint32_t *old = d->id_slots;
    d->id_slots = fresh;
    d->id_slot_count = slots;
    for (uint32_t doc = 0; doc < d->count; doc++) {
        const char *id = id_of(d, doc);
        d->id_slots[id_slot_find(d, id, strlen(id))] = doc;
    }
    cd__free(old);
    return 0;
}

static int reserve_documents(cd_dedup *d, size_t extra)
{
    size_t needed = d->count + extra;
    if (needed > UINT32_MAX - 1)
        return -1;
    if (needed <= d->capacity)
        return 0;
    size_t cap = d->capacity ? d->capacity : 1024;
    while (cap < needed)
        cap *= 2;
    size_t perm = d->params.perm;
    void *p;
    if (!(p = cd__realloc(d->signatures, cap * perm * sizeof(uint32_t))))
        return -1;
    d->signatures = p;
    if (!(p = cd__realloc(d->id_offsets, cap * sizeof(size_t))))
        return -1;
    d->id_offsets = p;
    if (!(p = cd__realloc(d->dates, cap * sizeof(int64_t))))
        return -1;
    d->dates = p;
    if (!(p = cd__realloc(d->text_bytes, cap * sizeof(uint64_t))))
        return -1;
    d->text_bytes = p;
    if (!(p = cd__realloc(d->empty, cap)))
        return -1;
    d->empty = p;
    d->capacity = cap;
    return 0;
}

static unsigned online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

cd_status cd_dedup_create(const cd_params *params, cd_dedup **out)
{
    *out = NULL;
    cd_dedup *d = cd__calloc(1, sizeof *d);
    if (!d)
        return CD_ERR_NOMEM;
    d->params = *params;
    if (cd_params_resolve(&d->params, d->errmsg, sizeof d->errmsg) != CD_OK) {
        cd__free(d);
        return CD_ERR_ARG;
    }
    d->thread_count = d->params.threads ? d->params.threads : online_cores();
    *out = d;
    return CD_OK;
}

void cd_dedup_free(cd_dedup *d)
{
    if (!d)
        return;
    if (d->signers)
        for (unsigned t = 0; t < d->thread_count; t++)
            cd_signer_free(d->signers[t]);
    cd__free(d->signers);
    cd__free(d->signatures);
    cd__free(d->id_offsets);
    cd__free(d->dates);
    cd__free(d->text_bytes);
    cd__free(d->empty);
    cd__free(d->id_pool);
    cd__free(d->id_slots);
    cd__free(d->representative);
    cd__free(d->similarity);
    cd__free(d->cluster_size);
    cd__free(d->cluster_offsets);
    cd__free(d->cluster_members);
    cd__free(d->pairs);
    cd__free(d);
}

const cd_params *cd_dedup_params(const cd_dedup *d) { return &d->params; }

static cd_status create_signers(cd_dedup *d)
{
    if (d->signers)
        return CD_OK;
    d->signers = cd__calloc(d->thread_count, sizeof *d->signers);
    if (!d->signers)
        return CD_ERR_NOMEM;
    for (unsigned t = 0; t < d->thread_count; t++) {
        cd_status st = cd_signer_create(&d->params, &d->signers[t]);
        if (st != CD_OK)
            return st; /* the signers made so far are freed with the engine */
    }
    return CD_OK;
}

/* One signing thread's share of a batch: documents first, first+step, ... */
typedef struct sign_job {
    cd_dedup *dedup;
    cd_signer *signer;
    const cd_doc *docs;
    const uint32_t *numbers; /* document number per batch entry, NO_DOC = skipped */
    size_t n, first, step;
    cd_sign_stats totals;
    cd_status status;
} sign_job;

static void *sign_range(void *arg)
{
    sign_job *job = arg;
    cd_dedup *d = job->dedup;
    unsigned perm = d->params.perm;
    for (size_t i = job->first; i < job->n; i += job->step) {
        uint32_t doc = job->numbers[i];
        if (doc == NO_DOC)
            continue;
        cd_sign_stats s;
        cd_status st = cd_signer_sign(job->signer, &job->docs[i], d->signatures + (size_t)doc * perm, &s);
        if (st != CD_OK) {
            job->status = st;
            return NULL;
        }
        d->empty[doc] = s.shingles == 0;
        job->totals.tokens += s.tokens;
        job->totals.shingles += s.shingles;
        job->totals.invalid_utf8 += s.invalid_utf8;
    }
    return NULL;
}

/* Signs the accepted documents of a batch on up to thread_count threads. */
static cd_status sign_batch(cd_dedup *d, const cd_doc *docs, const uint32_t *numbers, size_t n)
{
    enum { MAX_THREADS = 256 };
    unsigned threads = d->thread_count < MAX_THREADS ? d->thread_count : MAX_THREADS;
    if (n < 2 * (size_t)threads)
        threads = 1;
    sign_job jobs[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    int running[MAX_THREADS] = {0};
    for (unsigned t = 0; t < threads; t++)
        jobs[t] = (sign_job){d, d->signers[t], docs, numbers, n, t, threads, {0, 0, 0}, CD_OK};
    for (unsigned t = 1; t < threads; t++)
        running[t] = pthread_create(&tids[t], NULL, sign_range, &jobs[t]) == 0;
    sign_range(&jobs[0]);
    for (unsigned t = 1; t < threads; t++) {
        if (running[t])
            pthread_join(tids[t], NULL);
        else
            sign_range(&jobs[t]); /* no thread available: do its share here */
    }
    cd_status status = CD_OK;
    for (unsigned t = 0; t < threads; t++) {
        if (jobs[t].status != CD_OK)
            status = jobs[t].status;
        d->stats.tokens += jobs[t].totals.tokens;
        d->stats.shingles += jobs[t].totals.shingles;
        d->stats.invalid_utf8 += jobs[t].totals.invalid_utf8;
    }
    return status;
}

/* Undoes the id-set insertions of a failed batch, newest first, so that
 * clearing each slot keeps every remaining probe sequence intact. */
static void forget_batch(cd_dedup *d, size_t first_doc)
{
    while (d->count > first_doc) {
        d->count--;
        const char *id = id_of(d, (uint32_t)d->count);
        d->id_slots[id_slot_find(d, id, strlen(id))] = NO_DOC;
        d->id_pool_used = d->id_offsets[d->count];
    }
}

cd_status cd_dedup_add(cd_dedup *d, const cd_doc *docs, size_t n, cd_status *statuses)
{
    if (d->ran) {
        cd__set_error(d->errmsg, "documents added after the run");
        return CD_ERR_STATE;
    }
    if (n == 0)
        return CD_OK;
    size_t id_bytes = 0;
    for (size_t i = 0; i < n; i++)
        id_bytes += (docs[i].id.ptr ? docs[i].id.len : 20) + 1;
    uint32_t *numbers = cd__malloc(n * sizeof *numbers);
    if (!numbers || create_signers(d) != CD_OK || reserve_documents(d, n) != 0 ||
        id_set_reserve(d, n) != 0 ||
        cd__grow((void **)&d->id_pool, &d->id_pool_capacity, d->id_pool_used + id_bytes, 1) != 0) {
        cd__free(numbers);
        cd__set_error(d->errmsg, "out of memory adding %zu documents", n);
        return CD_ERR_NOMEM;
    }
    size_t first_doc = d->count;
    for (size_t i = 0; i < n; i++) {
        const cd_doc *doc = &docs[i];
        char generated[24];
        const char *id = doc->id.ptr;
        size_t id_len = doc->id.len;
        if (!id) {
            id_len = (size_t)snprintf(generated, sizeof generated, "%zu", d->count + 1);
            id = generated;
        }
        size_t slot = id_slot_find(d, id, id_len);
        if (d->id_slots[slot] != NO_DOC || memchr(id, '\0', id_len)) {
            statuses[i] = CD_ERR_DUPLICATE_ID;
            numbers[i] = NO_DOC;
            continue;
        }
        uint32_t number = (uint32_t)d->count++;
        d->id_offsets[number] = d->id_pool_used;
        memcpy(d->id_pool + d->id_pool_used, id, id_len);
        d->id_pool[d->id_pool_used + id_len] = '\0';
        d->id_pool_used += id_len + 1;
        d->id_slots[slot] = number;
        int64_t date;
        if (!(doc->date.ptr && cd_parse_date(doc->date, &date))) {
            date = INT64_MAX;
            d->stats.undated++;
        }
        d->dates[number] = date;
        d->text_bytes[number] = doc->text.len;
        d->stats.bytes_text += doc->text.len;
        statuses[i] = CD_OK;
        numbers[i] = number;
    }
    double start = cd__now();
    cd_status st = sign_batch(d, docs, numbers, n);
    d->stats.seconds_sign += cd__now() - start;
    cd__free(numbers);
    if (st != CD_OK) {
        for (size_t doc = first_doc; doc < d->count; doc++)
            if (d->dates[doc] == INT64_MAX)
                d->stats.undated--;
        forget_batch(d, first_doc);
        cd__set_error(d->errmsg, "%s while signing documents", cd_strerror(st));
        return st;
    }
    return CD_OK;
}

/* LSH: band keys of every non-empty document, then candidate pairs. */
static cd_status find_candidates(cd_dedup *d, cd__pair32 **pairs, size_t *count)
{
    unsigned bands = d->params.bands, rows = d->params.rows, perm = d->params.perm;
    uint64_t *keys = cd__malloc(d->count * bands * sizeof *keys);
    if (!keys && d->count > 0)
        return CD_ERR_NOMEM;
    for (size_t doc = 0; doc < d->count; doc++)
        cd__lsh_band_keys(d->signatures + doc * perm, bands, rows, d->params.seed, keys + doc * bands);
    cd_status st = cd__lsh_candidates(keys, d->count, bands, d->empty, d->params.max_bucket, pairs,
                                      count, &d->stats.oversized_buckets);
    cd__free(keys);
    return st;
}

static double similarity(const cd_dedup *d, size_t a, size_t b)
{
    unsigned perm = d->params.perm;
    return cd_signature_similarity(d->signatures + a * perm, d->signatures + b * perm, perm);
}

/* Verification: a candidate becomes an edge when its estimate reaches t. */
static cd_status verify_candidates(cd_dedup *d, const cd__pair32 *candidates, size_t count,
                                   cd__edge **edges, size_t *edge_count)
{
    /* perm agreements needed: the smallest m with m / perm >= threshold. */
    *edges = cd__malloc(count * sizeof **edges);
    if (!*edges && count > 0)
        return CD_ERR_NOMEM;
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        double s = similarity(d, candidates[i].a, candidates[i].b);
        if (s + 1e-9 >= d->params.threshold)
            (*edges)[kept++] = (cd__edge){candidates[i].a, candidates[i].b, (float)s};
    }
    *edge_count = kept;
    return CD_OK;
}

static int64_t keep_rank(const cd_dedup *d, size_t doc)
{
    switch (d->params.keep) {
    case CD_KEEP_EARLIEST: return d->dates[doc];
    case CD_KEEP_LONGEST: return -(int64_t)d->text_bytes[doc];
    case CD_KEEP_FIRST: return 0;
    }
    return 0;
}

/* Groups documents by representative into clusters of size >= 2, ordered by
 * their first member's input order. */
static cd_status build_clusters(cd_dedup *d)
{
    size_t n = d->count;
    uint32_t *cluster_of_rep = cd__malloc(n * sizeof *cluster_of_rep);
    d->cluster_size = cd__calloc(n ? n : 1, sizeof *d->cluster_size);
    if ((!cluster_of_rep && n) || !d->cluster_size) {
        cd__free(cluster_of_rep);
        return CD_ERR_NOMEM;
    }
    for (size_t doc = 0; doc < n; doc++)
        d->cluster_size[d->representative[doc]]++;
    size_t clusters = 0, members = 0;
    for (size_t doc = 0; doc < n; doc++) {
        uint32_t rep = d->representative[doc];
        cluster_of_rep[doc] = NO_DOC;
        if (d->cluster_size[rep] >= 2) {
            members++;
            if (d->stats.largest_cluster < d->cluster_size[rep])
                d->stats.largest_cluster = d->cluster_size[rep];
        }
    }
    for (size_t doc = 0; doc < n; doc++) {
        uint32_t rep = d->representative[doc];
        if (d->cluster_size[rep] >= 2 && cluster_of_rep[rep] == NO_DOC)
            cluster_of_rep[rep] = (uint32_t)clusters++;
    }
    d->cluster_offsets = cd__calloc(clusters + 1, sizeof *d->cluster_offsets);
    d->cluster_members = cd__malloc((members ? members : 1) * sizeof *d->cluster_members);
    if (!d->cluster_offsets || !d->cluster_members) {
        cd__free(cluster_of_rep);
        return CD_ERR_NOMEM;
    }
    for (size_t doc = 0; doc < n; doc++) {
        uint32_t rep = d->representative[doc];
        if (d->cluster_size[rep] >= 2)
            d->cluster_offsets[cluster_of_rep[rep] + 1] = d->cluster_size[rep];
    }
    for (size_t c = 0; c < clusters; c++)
        d->cluster_offsets[c + 1] += d->cluster_offsets[c];
    size_t *fill = cd__malloc((clusters ? clusters : 1) * sizeof *fill);
    if (!fill) {
        cd__free(cluster_of_rep);
        return CD_ERR_NOMEM;
    }
    memcpy(fill, d->cluster_offsets, clusters * sizeof *fill);
    for (size_t doc = 0; doc < n; doc++) {
        uint32_t rep = d->representative[doc];
        if (d->cluster_size[rep] >= 2)
            d->cluster_members[fill[cluster_of_rep[rep]]++] = doc;
    }
    cd__free(fill);
    cd__free(cluster_of_rep);
    d->cluster_count = clusters;
    d->stats.clusters = clusters;
    return CD_OK;
}

static cd_status run_stages(cd_dedup *d)
{
    size_t n = d->count;
    cd__pair32 *candidates = NULL;
    cd__edge *edges = NULL;
    int64_t *rank = NULL;
    size_t candidate_count = 0, edge_count = 0;

    double t0 = cd__now();
    cd_status st = find_candidates(d, &candidates, &candidate_count);
    if (st != CD_OK)
        goto done;
    d->stats.candidate_pairs = candidate_count;
    double t1 = cd__now();
    d->stats.seconds_lsh = t1 - t0;

    st = verify_candidates(d, candidates, candidate_count, &edges, &edge_count);
    cd__free(candidates);
    candidates = NULL;
    if (st != CD_OK)
        goto done;
    d->stats.verified_pairs = edge_count;
    d->pairs = cd__malloc((edge_count ? edge_count : 1) * sizeof *d->pairs);
    if (!d->pairs) {
        st = CD_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < edge_count; i++)
        d->pairs[i] = (cd_pair){edges[i].a, edges[i].b, edges[i].similarity};
    d->pair_count = edge_count;
    double t2 = cd__now();
    d->stats.seconds_verify = t2 - t1;

    rank = cd__malloc((n ? n : 1) * sizeof *rank);
    d->representative = cd__malloc((n ? n : 1) * sizeof *d->representative);
    d->similarity = cd__malloc((n ? n : 1) * sizeof *d->similarity);
    if (!rank || !d->representative || !d->similarity) {
        st = CD_ERR_NOMEM;
        goto done;
    }
    for (size_t doc = 0; doc < n; doc++)
        rank[doc] = keep_rank(d, doc);
    st = cd__cluster(n, edges, edge_count, rank, d->representative);
    if (st != CD_OK)
        goto done;
    for (size_t doc = 0; doc < n; doc++) {
        size_t rep = d->representative[doc];
        d->similarity[doc] = rep == doc ? 1.0f : (float)similarity(d, doc, rep);
        if (rep != doc)
            d->stats.removed++;
    }
    st = build_clusters(d);
    d->stats.seconds_cluster = cd__now() - t2;
done:
    cd__free(candidates);
    cd__free(edges);
    cd__free(rank);
    return st;
}

cd_status cd_dedup_run(cd_dedup *d)
{
    if (d->ran) {
        cd__set_error(d->errmsg, "cd_dedup_run called twice");
        return CD_ERR_STATE;
    }
    d->ran = 1;
    cd_status st = run_stages(d);
    if (st != CD_OK)
        cd__set_error(d->errmsg, "%s while clustering %zu documents", cd_strerror(st), d->count);
    return st;
}

size_t cd_dedup_count(const cd_dedup *d) { return d->count; }

const char *cd_dedup_id(const cd_dedup *d, size_t doc)
{
    return doc < d->count ? id_of(d, (uint32_t)doc) : NULL;
}

cd_status cd_dedup_result(const cd_dedup *d, size_t doc, cd_doc_result *out)
{
    if (!d->ran || !d->representative)
        return CD_ERR_STATE;
    if (doc >= d->count)
        return CD_ERR_ARG;
    out->representative = d->representative[doc];
    out->similarity = d->similarity[doc];
    out->cluster_size = d->cluster_size[d->representative[doc]];
    out->empty = d->empty[doc];
    return CD_OK;
}

size_t cd_dedup_cluster_count(const cd_dedup *d) { return d->cluster_count; }

cd_status cd_dedup_cluster(const cd_dedup *d, size_t index, size_t *representative,
                           const size_t **members, size_t *size)
{
    if (index >= d->cluster_count)
        return CD_ERR_ARG;
    const size_t *first = d->cluster_members + d->cluster_offsets[index];
    *members = first;
    *size = d->cluster_offsets[index + 1] - d->cluster_offsets[index];
    *representative = d->representative[first[0]];
    return CD_OK;
}

size_t cd_dedup_pair_count(const cd_dedup *d) { return d->pair_count; }

cd_status cd_dedup_pair(const cd_dedup *d, size_t index, cd_pair *out)
{
    if (index >= d->pair_count)
        return CD_ERR_ARG;
    *out = d->pairs[index];
    return CD_OK;
}

void cd_dedup_get_stats(const cd_dedup *d, cd_dedup_stats *out)
{
    *out = d->stats;
    out->documents = d->count;
    out->empty = 0;
    for (size_t doc = 0; doc < d->count; doc++)
        out->empty += d->empty[doc];
}

const char *cd_dedup_errmsg(const cd_dedup *d) { return d->errmsg; }
