/* dedup.c: the batch engine (cd_dedup). Collects documents with their
 * signatures (signed in parallel), then runs the back half of the pipeline:
 * LSH candidates -> verification against the threshold -> clusters (union-
 * find or star) -> representatives by the keep rule. With boilerplate
 * learning on, adding a document only extracts its text and counts its
 * lines; the chrome is decided and the documents are signed at the start of
 * cd_dedup_run, from the texts kept until then. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "alloc.h"
#include "boilerplate.h"
#include "cluster.h"
#include "cluster_join.h"
#include "cluster_star.h"
#include "idset.h"
#include "lsh.h"
#include "signer.h"

#define NO_DOC UINT32_MAX

/* The bands LSH groups: the signature's b x r, then with lead_shingles the
 * lead signature's own b x r, chosen for lead_threshold, so that one
 * grouping finds both. */
typedef struct band_plan {
    unsigned bands, rows, lead_bands, lead_rows;
    unsigned all; /* bands + lead_bands */
} band_plan;

struct cd_dedup {
    cd_params params;
    band_plan plan;
    char errmsg[CD_ERRMSG_SIZE];
    int ran;

    /* Per document, indexed by document number. */
    size_t count, capacity;
    uint32_t *signatures; /* count × perm */
    size_t *id_offsets;   /* into id_pool */
    int64_t *dates;       /* epoch seconds; INT64_MAX when undated */
    uint64_t *text_bytes;
    uint8_t *empty;
    uint64_t **band_keys; /* plan.all arrays of count: LSH band keys, the signature's bands
                             then the lead's, band by band so grouping reads them in order */
    uint32_t **sets;      /* sorted distinct 32-bit shingle hashes (verify exact) */
    uint32_t *sizes;      /* distinct shingles (exact) or shingles (estimate) */
    unsigned char **kept; /* learning: the document's fields until it is signed */

    char *id_pool;
    size_t id_pool_used, id_pool_capacity;

    cd__idset ids; /* document numbers by id */

    unsigned thread_count;
    cd_signer **signers; /* one per thread, created on the first add */

    /* Boilerplate. */
    const cd_boilerplate *model; /* the model signing uses: given or learned */
    cd_boilerplate *learned;     /* owned */
    cd__bp_learner *learner;     /* learning: counts until the run */
    size_t bytes_kept;           /* bytes of kept texts now */
    pthread_t learner_thread;    /* counts the last batch while the caller reads the next */
    int learner_running;
    struct learn_batch *learning; /* the batch it counts */
    cd_status learner_status;    /* the first failure of a learner thread */
    int two_pass;                /* cd_dedup_learn registered the documents */
    size_t signed_count;         /* two passes: documents the second has signed */

    /* Results of cd_dedup_run. */
    uint32_t *representative;
    float *similarity;
    uint32_t *cluster_size;
    size_t cluster_count;
    size_t *cluster_offsets; /* cluster_count + 1 */
    size_t *cluster_members;
    int keep_pairs; /* 1: every verified pair is kept (cd_dedup_pair) */
    cd_pair *pairs;
    size_t pair_count;

    cd_dedup_stats stats;
};

/* Learning mode: texts are kept and signed once the chrome is known. */
static int learning(const cd_dedup *d) { return d->learner != NULL; }

static int keeps_sets(const cd_dedup *d) { return d->params.verify == CD_VERIFY_EXACT; }

static cd_status learner_wait(cd_dedup *d);

static uint64_t id_hash(const char *id, size_t len) { return XXH3_64bits(id, len); }

static const char *id_of(const cd_dedup *d, uint32_t doc) { return d->id_pool + d->id_offsets[doc]; }

/* The slot holding id, or the empty slot where it would go. */
static size_t id_slot_find(const cd_dedup *d, const char *id, size_t len)
{
    size_t slot = cd__idset_first(&d->ids, id_hash(id, len));
    while (d->ids.slots[slot] != CD__IDSET_EMPTY) {
        const char *other = id_of(d, d->ids.slots[slot]);
        if (strlen(other) == len && memcmp(other, id, len) == 0)
            return slot;
        slot = cd__idset_next(&d->ids, slot);
    }
    return slot;
}

/* The hash of the id of doc (a cd__idset_hash_fn over the engine). */
static uint64_t doc_id_hash(const void *d, uint32_t doc)
{
    const char *id = id_of(d, doc);
    return id_hash(id, strlen(id));
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
    if (!(p = cd__realloc(d->sizes, cap * sizeof *d->sizes)))
        return -1;
    d->sizes = p;
    for (unsigned j = 0; j < d->plan.all; j++) {
        if (!(p = cd__realloc(d->band_keys[j], cap * sizeof(uint64_t))))
            return -1;
        d->band_keys[j] = p;
    }
    if (keeps_sets(d)) {
        if (!(p = cd__realloc(d->sets, cap * sizeof *d->sets)))
            return -1;
        d->sets = p;
    }
    if (learning(d)) {
        if (!(p = cd__realloc(d->kept, cap * sizeof *d->kept)))
            return -1;
        d->kept = p;
    }
    d->capacity = cap;
    return 0;
}

static band_plan plan_bands(const cd_params *params)
{
    band_plan plan = {params->bands, params->rows, 0, 0, 0};
    if (params->lead_shingles &&
        cd_lsh_choose(params->lead_threshold, params->perm, params->fp_weight, params->fn_weight,
                      &plan.lead_bands, &plan.lead_rows) != CD_OK)
        plan.lead_bands = 0;
    plan.all = plan.bands + plan.lead_bands;
    return plan;
}

/* Stores the band keys of document number: its signature's bands, then
 * its lead's (the lead seed differs, so equal bands of the two never meet). */
static void store_band_keys(cd_dedup *d, uint32_t number, const uint32_t *sig,
                            const uint32_t *lead)
{
    const band_plan *plan = &d->plan;
    uint64_t keys[1024]; /* bands, lead bands <= perm <= 1024 */
    cd__lsh_band_keys(sig, plan->bands, plan->rows, d->params.seed, keys);
    if (plan->lead_bands)
        cd__lsh_band_keys(lead, plan->lead_bands, plan->lead_rows,
                          d->params.seed ^ 0x1eadbeefcafef00dull, keys + plan->bands);
    for (unsigned j = 0; j < plan->all; j++)
        d->band_keys[j][number] = keys[j];
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
    d->params.threads = d->thread_count;
    d->keep_pairs = 1;
    d->plan = plan_bands(&d->params);
    d->band_keys = cd__calloc(d->plan.all ? d->plan.all : 1, sizeof *d->band_keys);
    if (!d->band_keys ||
        (d->params.boilerplate &&
         cd__bp_learner_create(d->params.boilerplate_min_stories,
                               d->params.boilerplate_min_sources, &d->learner) != CD_OK)) {
        cd__free(d->band_keys);
        cd__free(d);
        return CD_ERR_NOMEM;
    }
    *out = d;
    return CD_OK;
}

cd_status cd_dedup_set_boilerplate(cd_dedup *d, const cd_boilerplate *model)
{
    if (d->count > 0 || d->ran) {
        cd__set_error(d->errmsg, "a boilerplate model must be set before documents are added");
        return CD_ERR_STATE;
    }
    if (model) {
        cd__bp_learner_free(d->learner);
        d->learner = NULL;
    } else if (d->params.boilerplate && !d->learner &&
               cd__bp_learner_create(d->params.boilerplate_min_stories,
                                     d->params.boilerplate_min_sources, &d->learner) != CD_OK) {
        cd__set_error(d->errmsg, "out of memory");
        return CD_ERR_NOMEM;
    }
    d->model = model;
    if (d->signers)
        for (unsigned t = 0; t < d->thread_count; t++)
            cd_signer_set_boilerplate(d->signers[t], model);
    return CD_OK;
}

const cd_boilerplate *cd_dedup_boilerplate(const cd_dedup *d) { return d->model; }

void cd_dedup_free(cd_dedup *d)
{
    if (!d)
        return;
    learner_wait(d);
    if (d->signers)
        for (unsigned t = 0; t < d->thread_count; t++)
            cd_signer_free(d->signers[t]);
    cd__free(d->signers);
    cd__free(d->signatures);
    cd__free(d->id_offsets);
    cd__free(d->dates);
    cd__free(d->text_bytes);
    cd__free(d->empty);
    cd__free(d->sizes);
    for (unsigned j = 0; d->band_keys && j < d->plan.all; j++)
        cd__free(d->band_keys[j]);
    cd__free(d->band_keys);
    if (d->sets)
        for (size_t doc = 0; doc < d->count; doc++)
            cd__free(d->sets[doc]);
    cd__free(d->sets);
    if (d->kept)
        for (size_t doc = 0; doc < d->count; doc++)
            cd__free(d->kept[doc]);
    cd__free(d->kept);
    cd__bp_learner_free(d->learner);
    cd_boilerplate_free(d->learned);
    cd__free(d->id_pool);
    cd__idset_free(&d->ids);
    cd__free(d->representative);
    cd__free(d->similarity);
    cd__free(d->cluster_size);
    cd__free(d->cluster_offsets);
    cd__free(d->cluster_members);
    cd__free(d->pairs);
    cd__free(d);
}

const cd_params *cd_dedup_params(const cd_dedup *d) { return &d->params; }

cd_status cd_dedup_keep_pairs(cd_dedup *d, int keep)
{
    if (d->ran) {
        cd__set_error(d->errmsg, "cd_dedup_keep_pairs called after the run");
        return CD_ERR_STATE;
    }
    d->keep_pairs = keep != 0;
    return CD_OK;
}

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
        cd_signer_set_boilerplate(d->signers[t], d->model);
    }
    return CD_OK;
}

/* What the threads do with each document. */
typedef enum work_kind {
    WORK_SIGN,       /* sign the batch's documents */
    WORK_KEEP,       /* learning: extract, keep the fields, split into lines */
    WORK_SIGN_KEPT   /* the run: sign every kept document, then drop it */
} work_kind;

/* A kept document: five counts (title, text, source and url lengths, and
 * lines), title, text, source, url, then (8-aligned) its lines with their
 * keys, so that signing need not split it again. */
enum { KEPT_HEADER = 8 * sizeof(uint32_t) };

static size_t kept_lines_offset(const uint32_t *len)
{
    size_t off = KEPT_HEADER + (size_t)len[0] + len[1] + len[2] + len[3];
    return (off + 7) & ~(size_t)7;
}

/* Lines of one kept document, for the learner (WORK_KEEP). */
typedef struct kept_lines {
    cd__bp_line *lines;
    size_t count;
} kept_lines;

/* One signing thread's part of a batch: it takes the next CHUNK entries
 * not yet taken by any thread until none are left, so a thread that draws
 * long documents does fewer of them. Each document has slots of its own,
 * so which thread signs it never changes a result. */
enum { CHUNK = 16 };

typedef struct sign_job {
    cd_dedup *dedup;
    cd_signer *signer;
    work_kind kind;
    const cd_doc *docs;
    const uint32_t *numbers; /* document number per batch entry, NO_DOC = skipped */
    kept_lines *lines;       /* WORK_KEEP: per batch entry */
    size_t n;
    atomic_size_t *next; /* the first entry no thread has taken */
    cd_sign_stats totals;
    size_t html, chrome_lines, chrome_documents, all_chrome, bytes_kept;
    cd_status status;
} sign_job;

static cd_doc kept_doc(const unsigned char *kept)
{
    uint32_t len[5];
    memcpy(len, kept, sizeof len);
    const char *p = (const char *)kept + KEPT_HEADER;
    cd_doc doc = {0};
    doc.title = (cd_str){p, len[0]};
    doc.text = (cd_str){p + len[0], len[1]};
    doc.source = (cd_str){p + len[0] + len[1], len[2]};
    doc.url = (cd_str){p + len[0] + len[1] + len[2], len[3]};
    return doc;
}

static kept_lines kept_doc_lines(unsigned char *kept)
{
    uint32_t len[5];
    memcpy(len, kept, sizeof len);
    return (kept_lines){(cd__bp_line *)(void *)(kept + kept_lines_offset(len)), len[4]};
}

/* Bytes of a kept document with these five counts. */
static size_t kept_bytes(const uint32_t *len)
{
    return kept_lines_offset(len) + (size_t)len[4] * sizeof(cd__bp_line);
}

/* Bytes of one kept document. */
static size_t kept_size(const unsigned char *kept)
{
    uint32_t len[5];
    memcpy(len, kept, sizeof len);
    return kept_bytes(len);
}

/* Keeps doc's title, extracted text, source and url; its lines go to *out. */
static cd_status keep_document(sign_job *job, const cd_doc *doc, uint32_t number, kept_lines *out)
{
    cd_dedup *d = job->dedup;
    cd_str text;
    const cd__bp_scratch *lines;
    int html;
    cd_status st = cd__signer_extract(job->signer, doc, &text, &lines, &html);
    if (st != CD_OK)
        return st;
    job->html += html;
    cd_str fields[4] = {doc->title, text, doc->source, doc->url};
    uint32_t len[5];
    for (int f = 0; f < 4; f++) {
        if (!fields[f].ptr || fields[f].len > UINT32_MAX / 8)
            fields[f] = (cd_str){"", 0};
        len[f] = (uint32_t)fields[f].len;
    }
    len[4] = lines->count > UINT32_MAX ? UINT32_MAX : (uint32_t)lines->count;
    size_t total = kept_bytes(len);
    unsigned char *kept = cd__malloc(total);
    if (!kept)
        return CD_ERR_NOMEM;
    memcpy(kept, len, sizeof len);
    unsigned char *p = kept + KEPT_HEADER;
    for (int f = 0; f < 4; f++) {
        memcpy(p, fields[f].ptr, fields[f].len);
        p += fields[f].len;
    }
    if (len[4]) /* lines->lines may be NULL when there are none */
        memcpy(kept + kept_lines_offset(len), lines->lines, (size_t)len[4] * sizeof(cd__bp_line));
    d->kept[number] = kept;
    job->bytes_kept += total;
    *out = kept_doc_lines(kept);
    return CD_OK;
}

/* Signs one document into its slots. */
static cd_status sign_document(sign_job *job, const cd_doc *doc, int extract, uint32_t number,
                               const kept_lines *lines)
{
    cd_dedup *d = job->dedup;
    unsigned perm = d->params.perm;
    cd__signed out = {0};
    if (lines) {
        out.lines = lines->lines;
        out.line_count = lines->count;
    }
    out.sig = d->signatures + (size_t)number * perm;
    uint32_t lead[1024]; /* perm <= 1024 (cd_params_resolve) */
    out.lead = d->plan.lead_bands ? lead : NULL;
    out.lead_shingles = d->params.lead_shingles;
    out.want_set = keeps_sets(d);
    cd_status st = cd__signer_run(job->signer, doc, extract, &out);
    if (st != CD_OK)
        return st;
    if (keeps_sets(d)) {
        uint32_t *set = cd__malloc((out.set_count ? out.set_count : 1) * sizeof *set);
        if (!set)
            return CD_ERR_NOMEM;
        memcpy(set, out.set, out.set_count * sizeof *set);
        d->sets[number] = set;
    }
    store_band_keys(d, number, out.sig, lead);
    size_t size = keeps_sets(d) ? out.set_count : out.shingles;
    d->sizes[number] = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
    d->empty[number] = out.shingles == 0;
    job->totals.tokens += out.tokens;
    job->totals.shingles += out.shingles;
    job->totals.invalid_utf8 += out.invalid_utf8;
    job->html += out.html;
    job->chrome_lines += out.chrome_lines;
    job->chrome_documents += out.chrome_lines > 0;
    job->all_chrome += out.all_chrome;
    return CD_OK;
}

static void *sign_range(void *arg)
{
    sign_job *job = arg;
    cd_dedup *d = job->dedup;
    for (size_t i = 0, end = 0;; i++) {
        if (i == end) {
            i = atomic_fetch_add(job->next, CHUNK);
            if (i >= job->n)
                return NULL;
            end = i + CHUNK < job->n ? i + CHUNK : job->n;
        }
        uint32_t number = job->numbers ? job->numbers[i] : (uint32_t)i;
        if (number == NO_DOC)
            continue;
        cd_status st = CD_OK;
        switch (job->kind) {
        case WORK_SIGN: st = sign_document(job, &job->docs[i], 1, number, NULL); break;
        case WORK_KEEP: st = keep_document(job, &job->docs[i], number, &job->lines[i]); break;
        case WORK_SIGN_KEPT: {
            cd_doc doc = kept_doc(d->kept[number]);
            kept_lines lines = kept_doc_lines(d->kept[number]);
            st = sign_document(job, &doc, 0, number, &lines);
            if (st == CD_OK) {
                cd__free(d->kept[number]);
                d->kept[number] = NULL;
            }
            break;
        }
        }
        if (st != CD_OK) {
            job->status = st;
            return NULL;
        }
    }
    return NULL;
}

/* Runs kind over n entries (docs/numbers of a batch, or every document) on
 * up to thread_count threads. */
static cd_status run_threads(cd_dedup *d, work_kind kind, const cd_doc *docs,
                             const uint32_t *numbers, kept_lines *lines, size_t n)
{
    enum { MAX_THREADS = 256 };
    unsigned threads = d->thread_count < MAX_THREADS ? d->thread_count : MAX_THREADS;
    if (n < 2 * (size_t)threads)
        threads = 1;
    sign_job jobs[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    int running[MAX_THREADS] = {0};
    atomic_size_t next = 0;
    for (unsigned t = 0; t < threads; t++)
        jobs[t] = (sign_job){.dedup = d, .signer = d->signers[t], .kind = kind, .docs = docs,
                             .numbers = numbers, .lines = lines, .n = n, .next = &next,
                             .status = CD_OK};
    for (unsigned t = 1; t < threads; t++)
        running[t] = pthread_create(&tids[t], NULL, sign_range, &jobs[t]) == 0;
    sign_range(&jobs[0]);
    for (unsigned t = 1; t < threads; t++) {
        if (running[t])
            pthread_join(tids[t], NULL);
        else
            sign_range(&jobs[t]); /* no thread was made: take what is left */
    }
    cd_status status = CD_OK;
    for (unsigned t = 0; t < threads; t++) {
        if (jobs[t].status != CD_OK)
            status = jobs[t].status;
        d->stats.tokens += jobs[t].totals.tokens;
        d->stats.shingles += jobs[t].totals.shingles;
        d->stats.invalid_utf8 += jobs[t].totals.invalid_utf8;
        d->stats.html_extracted += jobs[t].html;
        d->stats.chrome_lines += jobs[t].chrome_lines;
        d->stats.chrome_documents += jobs[t].chrome_documents;
        d->stats.all_chrome += jobs[t].all_chrome;
        d->bytes_kept += jobs[t].bytes_kept;
    }
    return status;
}

/* A batch of kept documents for the learner, counted on a thread of its
 * own while the caller reads the next batch. Batches are counted one after
 * the other, in order. The batch holds its own pointers to the kept
 * documents (which never move), not to the engine's arrays (which do). */
typedef struct learn_batch {
    cd_dedup *dedup;
    unsigned char **kept;
    kept_lines *lines;
    size_t n;
    size_t bytes;   /* of the kept documents */
    int owns_kept;  /* two passes: the documents are freed once counted */
} learn_batch;

static void *learn_batch_run(void *arg)
{
    learn_batch *b = arg;
    cd_dedup *d = b->dedup;
    cd_status st = CD_OK;
    for (size_t i = 0; i < b->n && st == CD_OK; i++) {
        cd_doc kept = kept_doc(b->kept[i]);
        cd_str name;
        uint64_t source = cd__bp_source_hash(&kept, &name);
        st = cd__bp_learner_add(d->learner, source, name, kept.text.ptr, b->lines[i].lines,
                                b->lines[i].count);
    }
    if (st != CD_OK && d->learner_status == CD_OK)
        d->learner_status = st;
    return NULL;
}

static void learn_batch_free(learn_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; b->owns_kept && i < b->n; i++)
        cd__free(b->kept[i]);
    cd__free(b->kept);
    cd__free(b->lines);
    cd__free(b);
}

/* Waits for the learner thread; returns the first failure of any. The
 * wait counts as boilerplate time. */
static cd_status learner_wait(cd_dedup *d)
{
    if (d->learner_running) {
        double t0 = cd__now();
        pthread_join(d->learner_thread, NULL);
        d->stats.seconds_boilerplate += cd__now() - t0;
        d->learner_running = 0;
    }
    if (d->learner) {
        size_t memory = d->bytes_kept + cd__bp_learner_memory(d->learner);
        if (memory > d->stats.bytes_learning)
            d->stats.bytes_learning = memory;
    }
    if (d->learning && d->learning->owns_kept)
        d->bytes_kept -= d->learning->bytes;
    learn_batch_free(d->learning);
    d->learning = NULL;
    return d->learner_status;
}

/* Learning: keeps the batch's texts, then counts their lines on the
 * learner thread; without keep (the first of two passes) the texts are
 * freed once counted. */
static cd_status keep_batch(cd_dedup *d, const cd_doc *docs, const uint32_t *numbers, size_t n,
                            int keep)
{
    learn_batch *b = cd__calloc(1, sizeof *b);
    kept_lines *lines = cd__calloc(n, sizeof *lines);
    if (!b || !lines) {
        cd__free(b);
        cd__free(lines);
        return CD_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        if (numbers[i] != NO_DOC)
            d->kept[numbers[i]] = NULL;
    cd_status st = run_threads(d, WORK_KEEP, docs, numbers, lines, n);
    b->kept = cd__malloc((n ? n : 1) * sizeof *b->kept);
    if (st == CD_OK && !b->kept)
        st = CD_ERR_NOMEM;
    if (st != CD_OK) {
        cd__free(lines);
        cd__free(b->kept);
        cd__free(b);
        return st;
    }
    *b = (learn_batch){d, b->kept, lines, 0, 0, !keep};
    for (size_t i = 0; i < n; i++)
        if (numbers[i] != NO_DOC) {
            b->kept[b->n] = d->kept[numbers[i]];
            b->bytes += kept_size(b->kept[b->n]);
            if (!keep)
                d->kept[numbers[i]] = NULL; /* the batch's now */
            b->lines[b->n++] = lines[i]; /* compacted: lines[i] moves only down */
        }
    learner_wait(d); /* the previous batch first: counts go in input order */
    d->learning = b;
    d->learner_running = pthread_create(&d->learner_thread, NULL, learn_batch_run, b) == 0;
    if (!d->learner_running)
        learn_batch_run(b); /* no thread to be had: count it here */
    return CD_OK;
}

/* Undoes the id-set insertions of a failed batch, newest first, so that
 * clearing each slot keeps every remaining probe sequence intact. */
static void forget_batch(cd_dedup *d, size_t first_doc)
{
    while (d->count > first_doc) {
        d->count--;
        if (d->kept) {
            cd__free(d->kept[d->count]);
            d->kept[d->count] = NULL;
        }
        if (d->sets) {
            cd__free(d->sets[d->count]);
            d->sets[d->count] = NULL;
        }
        const char *id = id_of(d, (uint32_t)d->count);
        cd__idset_remove(&d->ids, id_hash(id, strlen(id)), (uint32_t)d->count);
        d->id_pool_used = d->id_offsets[d->count];
    }
}

/* Numbers and registers a batch (ids, dates, lengths), then signs it, or
 * keeps it for learning, or with learn_only counts its lines and keeps
 * nothing. */
static cd_status add_batch(cd_dedup *d, const cd_doc *docs, size_t n, cd_status *statuses,
                           int learn_only)
{
    size_t id_bytes = 0;
    for (size_t i = 0; i < n; i++)
        id_bytes += (docs[i].id.ptr ? docs[i].id.len : 20) + 1;
    uint32_t *numbers = cd__malloc(n * sizeof *numbers);
    if (!numbers || create_signers(d) != CD_OK || reserve_documents(d, n) != 0 ||
        cd__idset_reserve(&d->ids, d->count, n, doc_id_hash, d) != 0 ||
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
        if (d->ids.slots[slot] != CD__IDSET_EMPTY || memchr(id, '\0', id_len)) {
            statuses[i] = CD_ERR_DUPLICATE_ID;
            numbers[i] = NO_DOC;
            continue;
        }
        uint32_t number = (uint32_t)d->count++;
        d->id_offsets[number] = d->id_pool_used;
        memcpy(d->id_pool + d->id_pool_used, id, id_len);
        d->id_pool[d->id_pool_used + id_len] = '\0';
        d->id_pool_used += id_len + 1;
        d->ids.slots[slot] = number;
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
    for (size_t doc = first_doc; doc < d->count; doc++) {
        if (d->sets)
            d->sets[doc] = NULL;
        if (d->kept)
            d->kept[doc] = NULL;
        d->empty[doc] = 0;
        d->sizes[doc] = 0;
    }
    double start = cd__now(), learned_before = d->stats.seconds_boilerplate;
    cd_status st = learning(d) ? keep_batch(d, docs, numbers, n, !learn_only)
                               : run_threads(d, WORK_SIGN, docs, numbers, NULL, n);
    d->stats.seconds_sign += cd__now() - start - (d->stats.seconds_boilerplate - learned_before);
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

cd_status cd_dedup_learn(cd_dedup *d, const cd_doc *docs, size_t n, cd_status *statuses)
{
    if (d->ran || !learning(d) || (d->count > 0 && !d->two_pass)) {
        cd__set_error(d->errmsg, "cd_dedup_learn: %s",
                      d->ran              ? "called after the run"
                      : !learning(d)      ? "not learning boilerplate (off, or a model given)"
                                          : "documents were added before");
        return CD_ERR_STATE;
    }
    if (n == 0)
        return CD_OK;
    d->two_pass = 1;
    size_t html = d->stats.html_extracted; /* counted when the second pass signs */
    double signing = d->stats.seconds_sign;
    cd_status st = add_batch(d, docs, n, statuses, 1);
    d->stats.html_extracted = html;
    d->stats.seconds_boilerplate += d->stats.seconds_sign - signing; /* the first pass learns */
    d->stats.seconds_sign = signing;
    return st;
}

/* Two passes: the chrome is decided before the second pass signs. */
static cd_status finish_learning(cd_dedup *d)
{
    cd_status st = learner_wait(d);
    if (st != CD_OK)
        return st;
    double t0 = cd__now();
    st = cd__bp_learner_finish(d->learner, d->thread_count, &d->learned);
    cd__bp_learner_free(d->learner);
    d->learner = NULL;
    d->stats.seconds_boilerplate += cd__now() - t0;
    if (st == CD_OK)
        st = create_signers(d);
    if (st != CD_OK) {
        d->learner_status = st; /* the counts are gone: every later call fails */
        return st;
    }
    d->model = d->learned;
    for (unsigned t = 0; t < d->thread_count; t++)
        cd_signer_set_boilerplate(d->signers[t], d->model);
    return CD_OK;
}

/* Learning in one pass: decides the chrome, then signs every kept
 * document with it. */
static cd_status learn_and_sign(cd_dedup *d)
{
    cd_status st = finish_learning(d);
    if (st != CD_OK || d->count == 0)
        return st;
    double t0 = cd__now();
    st = run_threads(d, WORK_SIGN_KEPT, NULL, NULL, NULL, d->count);
    d->stats.seconds_sign += cd__now() - t0;
    return st;
}

/* Second pass: whether the first rejected a document with this id (a NUL
 * in it, or an id of a document the second pass has signed already). */
static int rejected_before(const cd_dedup *d, const char *id, size_t len)
{
    if (memchr(id, '\0', len))
        return 1;
    return d->ids.slot_count && d->ids.slots[id_slot_find(d, id, len)] < d->signed_count;
}

/* The second of two passes: each document is the next one the first pass
 * registered (signed now), or a repeat of an id (rejected again). */
static cd_status sign_second_pass(cd_dedup *d, const cd_doc *docs, size_t n,
                                  cd_status *statuses)
{
    cd_status st = learning(d) ? finish_learning(d) : d->learner_status;
    uint32_t *numbers = st == CD_OK ? cd__malloc((n ? n : 1) * sizeof *numbers) : NULL;
    if (!numbers) {
        cd__set_error(d->errmsg, "%s finishing the boilerplate model",
                      cd_strerror(st == CD_OK ? CD_ERR_NOMEM : st));
        return st == CD_OK ? CD_ERR_NOMEM : st;
    }
    size_t first = d->signed_count;
    for (size_t i = 0; i < n; i++) {
        char generated[24];
        const char *id = docs[i].id.ptr;
        size_t len = docs[i].id.len;
        if (!id) {
            len = (size_t)snprintf(generated, sizeof generated, "%zu", d->signed_count + 1);
            id = generated;
        }
        const char *next = d->signed_count < d->count ? id_of(d, (uint32_t)d->signed_count) : "";
        if (d->signed_count < d->count && strlen(next) == len && memcmp(next, id, len) == 0) {
            statuses[i] = CD_OK;
            numbers[i] = (uint32_t)d->signed_count++;
        } else if (rejected_before(d, id, len)) {
            statuses[i] = CD_ERR_DUPLICATE_ID; /* as the first pass said */
            numbers[i] = NO_DOC;
        } else {
            cd__free(numbers);
            d->signed_count = first;
            cd__set_error(d->errmsg,
                          "document \"%.*s\" is not the next document of the learning pass",
                          (int)(len > 200 ? 200 : len), id);
            return CD_ERR_STATE;
        }
    }
    double start = cd__now();
    st = run_threads(d, WORK_SIGN, docs, numbers, NULL, n);
    d->stats.seconds_sign += cd__now() - start;
    cd__free(numbers);
    if (st != CD_OK) {
        d->signed_count = first;
        cd__set_error(d->errmsg, "%s while signing documents", cd_strerror(st));
    }
    return st;
}

cd_status cd_dedup_add(cd_dedup *d, const cd_doc *docs, size_t n, cd_status *statuses)
{
    if (d->ran) {
        cd__set_error(d->errmsg, "documents added after the run");
        return CD_ERR_STATE;
    }
    if (n == 0)
        return CD_OK;
    if (d->two_pass)
        return sign_second_pass(d, docs, n, statuses);
    return add_batch(d, docs, n, statuses, 0);
}

/* LSH for runs that keep every pair: the distinct candidate pairs. */
static cd_status find_candidates(cd_dedup *d, cd__pair32 **pairs, size_t *count)
{
    return cd__lsh_candidates_banded((const uint64_t *const *)d->band_keys, d->plan.all, 1,
                                     d->count, d->empty, d->params.max_bucket, pairs, count,
                                     &d->stats.oversized_buckets);
}

/* |A ∩ B| of two sorted sets. */
static size_t intersection(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    size_t i = 0, j = 0, both = 0;
    while (i < na && j < nb) { /* branch-free merge */
        uint32_t x = a[i], y = b[j];
        both += x == y;
        i += x <= y;
        j += y <= x;
    }
    return both;
}

/* The score of a pair: Jaccard, or with match containment the share of the
 * smaller document's shingles found in the larger (when the smaller has at
 * least min_containment_shingles); exact from the sets or estimated from the
 * signatures and sizes. */
static double similarity(const cd_dedup *d, size_t a, size_t b)
{
    unsigned perm = d->params.perm;
    double na = d->sizes[a], nb = d->sizes[b];
    double small = na < nb ? na : nb;
    int contain = d->params.match == CD_MATCH_CONTAINMENT &&
                  small >= d->params.min_containment_shingles && small > 0;
    if (keeps_sets(d)) {
        if (na == 0 || nb == 0)
            return 0.0;
        double both = (double)intersection(d->sets[a], d->sizes[a], d->sets[b], d->sizes[b]);
        return contain ? both / small : both / (na + nb - both);
    }
    double j = cd_signature_similarity(d->signatures + a * perm, d->signatures + b * perm, perm);
    if (!contain)
        return j;
    /* |A∩B| = J (|A| + |B|) / (1 + J) */
    double c = j * (na + nb) / (1.0 + j) / small;
    return c > 1.0 ? 1.0 : c;
}

/* Verification: a candidate becomes an edge when its score reaches t. */
static cd_status verify_candidates(cd_dedup *d, const cd__pair32 *candidates, size_t count,
                                   cd__edge **edges, size_t *edge_count)
{
    *edges = cd__malloc((count ? count : 1) * sizeof **edges);
    if (!*edges)
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

/* cd__similarity_fn for the joiner: the pair's score, timed as
 * verification. */
static double timed_similarity(const void *ctx, uint32_t a, uint32_t b)
{
    cd_dedup *d = (cd_dedup *)ctx;
    double t0 = cd__now();
    double s = similarity(d, a, b);
    d->stats.seconds_verify += cd__now() - t0;
    return s;
}

/* LSH and verification together, for components without kept pairs: one
 * band at a time, each bucket's pairs are verified unless their documents
 * are in one cluster already (cluster_join.h). *edges receives the pairs
 * that joined two clusters. */
static cd_status join_candidates(cd_dedup *d, cd__edge **edges, size_t *edge_count)
{
    cd__lsh_grouper grouper = {0};
    cd__joiner joiner;
    cd_status st = cd__joiner_init(&joiner, d->count, d->params.threshold, timed_similarity, d);
    for (unsigned j = 0; j < d->plan.all && st == CD_OK; j++)
        st = cd__lsh_group_band(&grouper, d->band_keys[j], 1, d->count, d->empty,
                                d->params.max_bucket, cd__joiner_bucket, &joiner,
                                &d->stats.oversized_buckets);
    d->stats.candidate_pairs = joiner.checked;
    *edges = joiner.edges;
    *edge_count = joiner.edge_count;
    joiner.edges = NULL;
    if (st != CD_OK) {
        cd__free(*edges);
        *edges = NULL;
    }
    cd__joiner_free(&joiner);
    cd__lsh_grouper_free(&grouper);
    return st;
}

/* Candidates, then the verified pairs among them: every one of them when
 * pairs are kept or clustering needs them (star), else only those that
 * join two clusters. Times both stages. */
static cd_status find_edges(cd_dedup *d, cd__edge **edges, size_t *edge_count)
{
    double t0 = cd__now();
    if (!d->keep_pairs && d->params.cluster == CD_CLUSTER_COMPONENTS) {
        cd_status st = join_candidates(d, edges, edge_count);
        d->stats.seconds_lsh = cd__now() - t0 - d->stats.seconds_verify;
        return st;
    }
    cd__pair32 *candidates = NULL;
    size_t count = 0;
    cd_status st = find_candidates(d, &candidates, &count);
    double t1 = cd__now();
    d->stats.seconds_lsh = t1 - t0;
    d->stats.candidate_pairs = count;
    if (st == CD_OK)
        st = verify_candidates(d, candidates, count, edges, edge_count);
    cd__free(candidates);
    d->stats.seconds_verify = cd__now() - t1;
    return st;
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
    cd__edge *edges = NULL;
    int64_t *rank = NULL;
    size_t edge_count = 0;

    cd_status st = CD_OK;
    if (learning(d) && (st = learn_and_sign(d)) != CD_OK)
        goto done;
    st = find_edges(d, &edges, &edge_count);
    if (st != CD_OK)
        goto done;
    d->stats.verified_pairs = edge_count;
    if (d->keep_pairs) {
        d->pairs = cd__malloc((edge_count ? edge_count : 1) * sizeof *d->pairs);
        if (!d->pairs) {
            st = CD_ERR_NOMEM;
            goto done;
        }
        for (size_t i = 0; i < edge_count; i++)
            d->pairs[i] = (cd_pair){edges[i].a, edges[i].b, edges[i].similarity};
        d->pair_count = edge_count;
    }
    double t2 = cd__now();

    rank = cd__malloc((n ? n : 1) * sizeof *rank);
    d->representative = cd__malloc((n ? n : 1) * sizeof *d->representative);
    d->similarity = cd__malloc((n ? n : 1) * sizeof *d->similarity);
    if (!rank || !d->representative || !d->similarity) {
        st = CD_ERR_NOMEM;
        goto done;
    }
    for (size_t doc = 0; doc < n; doc++)
        rank[doc] = keep_rank(d, doc);
    st = d->params.cluster == CD_CLUSTER_STAR
             ? cd__cluster_star(n, edges, edge_count, rank, d->representative)
             : cd__cluster(n, edges, edge_count, rank, d->representative);
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
    if (d->two_pass && d->signed_count != d->count) {
        cd__set_error(d->errmsg, "the second pass added %zu of the %zu documents of the learning "
                                 "pass", d->signed_count, d->count);
        return CD_ERR_STATE;
    }
    if (d->two_pass && learning(d)) { /* no document at all */
        cd_status st = finish_learning(d);
        if (st != CD_OK)
            return st;
    }
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
