/* fuzz_dedup.c: fuzz target for the whole batch engine (cd_dedup) on a
 * handful of fuzzed documents: signing, LSH, verification, union-find and
 * the keep rule. The first bytes choose the parameters (threshold, n-gram,
 * perm, bands x rows, keep rule, threads, bucket cap, title) and the number
 * of batches; the rest is documents separated by 0xFF, each "id 0xFE text
 * 0xFE title 0xFE date" (no 0xFE: text only, no id).
 * Oracle: duplicate ids are exactly the repeats (a missing id is its number
 * + 1); every document's representative represents itself and wins its
 * cluster by the keep rule; clusters partition the documents in input
 * order; pairs are sorted, at the threshold and inside one cluster; the
 * counters add up; a second run or add is refused. Differential: the same
 * documents through a second engine that keeps no pairs (verification
 * while grouping) and, when boilerplate is learned, learns in a pass of its
 * own (cd_dedup_learn) give every document the same result. */
#include "copydesk/copydesk.h"
#include "fuzz.h"

enum { MAX_DOCS = 48 };

typedef struct fuzz_doc {
    cd_doc doc;
    char generated[24]; /* the id the engine gives a document without one */
} fuzz_doc;

static int64_t rank_of(cd_keep_rule keep, const cd_doc *doc)
{
    int64_t date;
    switch (keep) {
    case CD_KEEP_EARLIEST:
        return doc->date.ptr && cd_parse_date(doc->date, &date) ? date : INT64_MAX;
    case CD_KEEP_LONGEST: return -(int64_t)doc->text.len;
    case CD_KEEP_FIRST: return 0;
    }
    return 0;
}

/* docs[first .. first + count) copied into batch; returns batch. */
static cd_doc *docs_of(const fuzz_doc *docs, cd_doc *batch, size_t first, size_t count)
{
    for (size_t i = 0; i < count; i++)
        batch[i] = docs[first + i].doc;
    return batch;
}

/* Splits s[0..len) at the first byte sep: *head before it, the rest after. */
static int split(const uint8_t **s, size_t *len, uint8_t sep, cd_str *head)
{
    const uint8_t *at = memchr(*s, sep, *len);
    size_t n = at ? (size_t)(at - *s) : *len;
    *head = (cd_str){(const char *)*s, n};
    *s += n + (at != NULL);
    *len -= n + (at != NULL);
    return at != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = fuzz_byte(&in);
    cd_params p;
    cd_params_init(&p);
    p.threshold = (1 + b[0] % 100) / 100.0;
    p.ngram = 1 + b[1] % 4;
    p.perm = 1 + b[2] % 64;
    if (b[3] != 0xFF) { /* else chosen from the threshold, which takes milliseconds */
        p.bands = 1 + b[3] % p.perm;
        p.rows = 1 + b[4] % (p.perm / p.bands);
    }
    p.keep = (cd_keep_rule)(b[5] % 3);
    p.threads = 1 + (b[5] >> 2) % 3;
    p.with_title = (b[5] >> 4) & 1;
    p.max_bucket = b[6] % 5;
    unsigned batches = 1 + b[7] % 3;

    fuzz_doc *docs = calloc(MAX_DOCS, sizeof *docs);
    FUZZ_CHECK(docs);
    size_t n = 0;
    const uint8_t *s = in.p;
    size_t left = in.left;
    while (left > 0 && n < MAX_DOCS) {
        cd_str whole;
        split(&s, &left, 0xFF, &whole);
        const uint8_t *f = (const uint8_t *)whole.ptr;
        size_t flen = whole.len;
        cd_doc *d = &docs[n++].doc;
        cd_str first;
        if (!split(&f, &flen, 0xFE, &first)) {
            d->text = first;
            continue;
        }
        d->id = first;
        if (split(&f, &flen, 0xFE, &d->text) && split(&f, &flen, 0xFE, &d->title))
            split(&f, &flen, 0xFE, &d->date);
    }

    cd_dedup *dd = NULL;
    FUZZ_CHECK(cd_dedup_create(&p, &dd) == CD_OK);
    const cd_params *resolved = cd_dedup_params(dd);
    FUZZ_CHECK(resolved->bands * resolved->rows <= resolved->perm);

    /* Add in batches; check each status against the ids accepted so far. */
    cd_doc *batch = calloc(n ? n : 1, sizeof *batch);
    cd_status *statuses = calloc(n ? n : 1, sizeof *statuses);
    size_t *number_of = calloc(n ? n : 1, sizeof *number_of); /* input -> doc number */
    size_t *input_of = calloc(n ? n : 1, sizeof *input_of);   /* doc number -> input */
    FUZZ_CHECK(batch && statuses && number_of && input_of);
    size_t accepted = 0, start = 0;
    for (unsigned k = 0; k < batches; k++) {
        size_t end = k + 1 == batches ? n : n * (k + 1) / batches;
        for (size_t i = start; i < end; i++)
            batch[i - start] = docs[i].doc;
        FUZZ_CHECK(cd_dedup_add(dd, batch, end - start, statuses) == CD_OK);
        for (size_t i = start; i < end; i++) {
            cd_str id = docs[i].doc.id;
            if (!id.ptr) {
                int len = snprintf(docs[i].generated, sizeof docs[i].generated, "%zu", accepted + 1);
                id = (cd_str){docs[i].generated, (size_t)len};
            }
            int repeat = memchr(id.ptr, '\0', id.len) != NULL;
            for (size_t j = 0; j < accepted && !repeat; j++) {
                const char *other = cd_dedup_id(dd, j);
                repeat = strlen(other) == id.len && memcmp(other, id.ptr, id.len) == 0;
            }
            FUZZ_CHECK(statuses[i - start] == (repeat ? CD_ERR_DUPLICATE_ID : CD_OK));
            number_of[i] = repeat ? SIZE_MAX : accepted;
            if (!repeat)
                input_of[accepted++] = i;
        }
        FUZZ_CHECK(cd_dedup_count(dd) == accepted);
        start = end;
    }

    FUZZ_CHECK(cd_dedup_run(dd) == CD_OK);
    FUZZ_CHECK(cd_dedup_run(dd) == CD_ERR_STATE);
    FUZZ_CHECK(cd_dedup_add(dd, batch, n, statuses) == CD_ERR_STATE || n == 0);

    /* Representatives: each is its own, and wins its cluster by the rule. */
    size_t reps = 0, in_clusters = 0;
    for (size_t doc = 0; doc < accepted; doc++) {
        cd_doc_result r, rr;
        FUZZ_CHECK(cd_dedup_result(dd, doc, &r) == CD_OK);
        FUZZ_CHECK(r.representative < accepted);
        FUZZ_CHECK(cd_dedup_result(dd, r.representative, &rr) == CD_OK);
        FUZZ_CHECK(rr.representative == r.representative && rr.cluster_size == r.cluster_size);
        FUZZ_CHECK(r.similarity >= 0.0 && r.similarity <= 1.0);
        if (r.representative == doc) {
            reps++;
            FUZZ_CHECK(r.similarity == 1.0);
        }
        if (r.empty)
            FUZZ_CHECK(r.representative == doc && r.cluster_size == 1);
        if (r.cluster_size == 1)
            FUZZ_CHECK(r.representative == doc);
        else
            in_clusters++;
        int64_t mine = rank_of(p.keep, &docs[input_of[doc]].doc);
        int64_t theirs = rank_of(p.keep, &docs[input_of[r.representative]].doc);
        FUZZ_CHECK(theirs < mine || (theirs == mine && r.representative <= doc));
    }
    FUZZ_CHECK(cd_dedup_result(dd, accepted, &(cd_doc_result){0}) == CD_ERR_ARG);

    /* Clusters: sizes >= 2, members ascending, ordered by first member. */
    size_t members_total = 0, last_first = 0;
    for (size_t c = 0; c < cd_dedup_cluster_count(dd); c++) {
        size_t rep, csize;
        const size_t *members;
        FUZZ_CHECK(cd_dedup_cluster(dd, c, &rep, &members, &csize) == CD_OK);
        FUZZ_CHECK(csize >= 2);
        FUZZ_CHECK(c == 0 || members[0] > last_first);
        last_first = members[0];
        for (size_t i = 0; i < csize; i++) {
            cd_doc_result r;
            FUZZ_CHECK(cd_dedup_result(dd, members[i], &r) == CD_OK);
            FUZZ_CHECK(r.representative == rep && r.cluster_size == csize);
            FUZZ_CHECK(i == 0 || members[i] > members[i - 1]);
        }
        members_total += csize;
    }
    FUZZ_CHECK(members_total == in_clusters);

    /* Pairs: sorted, a < b, at the threshold, within one cluster. */
    for (size_t i = 0; i < cd_dedup_pair_count(dd); i++) {
        cd_pair pr, prev;
        FUZZ_CHECK(cd_dedup_pair(dd, i, &pr) == CD_OK);
        FUZZ_CHECK(pr.a < pr.b && pr.b < accepted);
        FUZZ_CHECK(pr.similarity + 1e-6 >= resolved->threshold && pr.similarity <= 1.0);
        if (i > 0) {
            FUZZ_CHECK(cd_dedup_pair(dd, i - 1, &prev) == CD_OK);
            FUZZ_CHECK(prev.a < pr.a || (prev.a == pr.a && prev.b < pr.b));
        }
        cd_doc_result ra, rb;
        cd_dedup_result(dd, pr.a, &ra);
        cd_dedup_result(dd, pr.b, &rb);
        FUZZ_CHECK(ra.representative == rb.representative && !ra.empty && !rb.empty);
    }

    cd_dedup_stats st;
    cd_dedup_get_stats(dd, &st);
    FUZZ_CHECK(st.documents == accepted && st.removed == accepted - reps);
    FUZZ_CHECK(st.clusters == cd_dedup_cluster_count(dd));
    FUZZ_CHECK(st.verified_pairs == cd_dedup_pair_count(dd));
    FUZZ_CHECK(st.verified_pairs <= st.candidate_pairs);
    FUZZ_CHECK(st.empty <= accepted && st.undated <= accepted);

    /* The second engine: no kept pairs, and two passes when learning. */
    cd_dedup *other = NULL;
    FUZZ_CHECK(cd_dedup_create(&p, &other) == CD_OK);
    FUZZ_CHECK(cd_dedup_keep_pairs(other, 0) == CD_OK);
    for (int pass = p.boilerplate ? 0 : 1; pass < 2; pass++)
        for (size_t first = 0; first < n; first += n / batches + 1) {
            size_t count = n - first < n / batches + 1 ? n - first : n / batches + 1;
            cd_status got = pass ? cd_dedup_add(other, docs_of(docs, batch, first, count), count,
                                                statuses)
                                 : cd_dedup_learn(other, docs_of(docs, batch, first, count),
                                                  count, statuses);
            FUZZ_CHECK(got == CD_OK);
            for (size_t i = 0; i < count; i++)
                FUZZ_CHECK((statuses[i] == CD_OK) == (number_of[first + i] != SIZE_MAX));
        }
    FUZZ_CHECK(cd_dedup_run(other) == CD_OK);
    FUZZ_CHECK(cd_dedup_count(other) == accepted && cd_dedup_pair_count(other) == 0);
    for (size_t doc = 0; doc < accepted; doc++) {
        cd_doc_result r1, r2;
        FUZZ_CHECK(cd_dedup_result(dd, doc, &r1) == CD_OK);
        FUZZ_CHECK(cd_dedup_result(other, doc, &r2) == CD_OK);
        FUZZ_CHECK(r1.representative == r2.representative && r1.similarity == r2.similarity &&
                   r1.cluster_size == r2.cluster_size && r1.empty == r2.empty);
    }
    cd_dedup_free(other);

    cd_dedup_free(dd);
    free(batch);
    free(statuses);
    free(number_of);
    free(input_of);
    free(docs);
    return 0;
}
