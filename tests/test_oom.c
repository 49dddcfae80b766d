/* test_oom.c: allocation-failure injection over a full pipeline run, the
 * way the CLI drives the engine: a reader over a small gzip (and zstd) file
 * -> cd_dedup_add in batches -> cd_dedup_run -> every result, cluster and
 * pair. Through cd_set_allocator, allocation number N fails (alone, or with
 * every later one) for N = 1, 2, ... until a run needs fewer than N
 * allocations. Each run must end with CD_ERR_NOMEM and a message saying
 * "out of memory" and free everything it allocated (counted by support.h; the ASan
 * build's leak checker runs too), or, when the failure is one the engine can
 * do without, give the same results as a run with the C library's
 * allocator. The same sweep covers the index: open (log replay) -> add (and
 * the checkpoint it triggers) -> query, after which the index on disk must
 * still open, verify and hold exactly the documents acknowledged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "copydesk/copydesk.h"
#include "support.h"

/* -------------------------------------------------------------- fixture */

static char tmpdir[256], gz_path[300], zst_path[300];

static const char *story_a =
    "The Prime Minister told the president that Ukraine must be put in the strongest possible "
    "position in order to secure a just and lasting peace in the war with Russia. Both leaders "
    "are due to speak on Tuesday about the plan for a thirty day ceasefire, officials said.";
static const char *story_b =
    "Heavy rain caused flooding across the north of the county overnight, closing roads and "
    "leaving hundreds of homes without power while crews worked to clear fallen trees and the "
    "council opened two rest centres for families forced to leave their houses.";
static const char *story_c = "東京都は金曜日、新しい防災計画を発表した。計画では避難所の数を増やし、"
                             "高齢者の避難を支援する体制を整えるという。";

/* The corpus: copies with outlet chrome, HTML, CJK, invalid UTF-8, an
 * empty text, a bad line and a repeated id, so every stage allocates. */
static size_t fixture(char *buf, size_t cap)
{
    static const char *chrome[] = {"Sign up to our newsletter for the latest news.",
                                   "Related stories: more from our reporters.",
                                   "Follow us on social media for updates."};
    static const char *sources[] = {"pa", "bbc", "agg", "mirror"};
    size_t n = 0;
    for (int i = 0; i < 16; i++) {
        const char *story = i % 3 == 0 ? story_a : i % 3 == 1 ? story_b : story_c;
        const char *source = sources[i % 4];
        char text[2048];
        if (i % 5 == 4)
            snprintf(text, sizeof text,
                     "<html><body><nav>Home | News</nav><p>%s</p><p>%s</p><footer>(c)</footer>"
                     "</body></html>",
                     story, chrome[i % 3]);
        else
            snprintf(text, sizeof text, "%s\\n\\n%s\\n%s", story, chrome[i % 3],
                     chrome[(i + 1) % 3]);
        n += (size_t)snprintf(buf + n, cap - n,
                              "{\"id\":\"d%d\",\"text\":\"%s\",\"title\":\"Story %d\","
                              "\"date\":\"2026-03-%02dT08:00:00Z\",\"source\":\"%s\"}\n",
                              i, text, i % 3, 1 + i, source);
    }
    n += (size_t)snprintf(buf + n, cap - n,
                          "{\"id\":\"bad\",\"text\":\"unterminated}\n"
                          "{\"id\":\"d3\",\"text\":\"a repeated id\"}\n"
                          "{\"id\":\"empty\",\"text\":\"\",\"title\":\"\"}\n"
                          "{\"id\":17,\"text\":\"invalid \xff\xfe utf-8 \xc0\x80 text\"}\n");
    assert_true(n < cap);
    return n;
}

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/copydesk-oom-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir))
        return -1;
    static char plain[64 << 10];
    size_t len = fixture(plain, sizeof plain);

    snprintf(gz_path, sizeof gz_path, "%s/corpus.jsonl.gz", tmpdir);
    gzFile gz = gzopen(gz_path, "wb");
    if (!gz || gzwrite(gz, plain, (unsigned)len) != (int)len || gzclose(gz) != Z_OK)
        return -1;

    snprintf(zst_path, sizeof zst_path, "%s/corpus.jsonl.zst", tmpdir);
    static char packed[64 << 10];
    size_t packed_len = ZSTD_compress(packed, sizeof packed, plain, len, 3);
    FILE *f = fopen(zst_path, "wb");
    if (ZSTD_isError(packed_len) || !f || fwrite(packed, 1, packed_len, f) != packed_len ||
        fclose(f) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(gz_path);
    unlink(zst_path);
    return rmdir(tmpdir);
}

/* ------------------------------------------------------------- pipeline */

enum { BATCH = 8, MAX_DOCS = 64 };

typedef struct outcome {
    cd_status status;
    char message[600];
    size_t read, rejected, added;
    uint64_t checksum; /* of every result, cluster and pair */
} outcome;

static uint64_t mix(uint64_t h, uint64_t v)
{
    return (h ^ v) * 0x100000001b3ull;
}

/* A copy of a record's fields, owned by the test (not the engine). */
typedef struct doc_copy {
    char *field[6];
    size_t len[6];
} doc_copy;

static void copy_doc(doc_copy *c, const cd_doc *d)
{
    const cd_str f[6] = {d->id, d->text, d->title, d->date, d->source, d->url};
    for (int i = 0; i < 6; i++) {
        c->field[i] = NULL;
        c->len[i] = f[i].len;
        if (f[i].ptr) {
            c->field[i] = malloc(f[i].len + 1);
            assert_non_null(c->field[i]);
            memcpy(c->field[i], f[i].ptr, f[i].len);
            c->field[i][f[i].len] = '\0';
        }
    }
}

static cd_doc as_doc(const doc_copy *c)
{
    cd_str f[6];
    for (int i = 0; i < 6; i++)
        f[i] = (cd_str){c->field[i], c->len[i]};
    return (cd_doc){f[0], f[1], f[2], f[3], f[4], f[5]};
}

static void free_copy(doc_copy *c)
{
    for (int i = 0; i < 6; i++)
        free(c->field[i]);
}

static cd_status add_batch(cd_dedup *d, doc_copy *copies, size_t n, outcome *o)
{
    cd_doc docs[BATCH];
    cd_status statuses[BATCH];
    for (size_t i = 0; i < n; i++)
        docs[i] = as_doc(&copies[i]);
    cd_status st = cd_dedup_add(d, docs, n, statuses);
    if (st != CD_OK) {
        snprintf(o->message, sizeof o->message, "%s", cd_dedup_errmsg(d));
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        if (statuses[i] == CD_OK)
            o->added++;
        else
            o->rejected++;
        free_copy(&copies[i]);
    }
    return CD_OK;
}

/* Reads path into an engine, runs it and reads every result back. */
static outcome run_pipeline(const char *path, unsigned threads)
{
    outcome o = {CD_OK, "", 0, 0, 0, 0};
    cd_reader *r = NULL;
    cd_dedup *d = NULL;
    doc_copy batch[BATCH];
    size_t pending = 0;
    char err[512] = "";

    cd_status st = cd_reader_open(path, NULL, &r, err, sizeof err);
    if (st != CD_OK) {
        assert_null(r);
        snprintf(o.message, sizeof o.message, "%s", err);
        goto done;
    }
    cd_params p;
    cd_params_init(&p);
    p.threads = threads;
    p.perm = 64;
    p.threshold = 0.6;
    st = cd_dedup_create(&p, &d);
    if (st != CD_OK) {
        assert_null(d);
        snprintf(o.message, sizeof o.message, "cd_dedup_create: %s", cd_strerror(st));
        goto done;
    }
    for (;;) {
        cd_record rec;
        st = cd_reader_next(r, &rec);
        if (st == CD_END)
            break;
        if (st == CD_ERR_INPUT || st == CD_ERR_LIMIT) {
            o.read++;
            o.rejected++;
            continue;
        }
        if (st != CD_OK) {
            snprintf(o.message, sizeof o.message, "%s", cd_reader_errmsg(r));
            goto done;
        }
        o.read++;
        copy_doc(&batch[pending++], &rec.doc);
        if (pending == BATCH) {
            st = add_batch(d, batch, pending, &o);
            if (st != CD_OK)
                goto done;
            pending = 0;
        }
    }
    if (pending) {
        st = add_batch(d, batch, pending, &o);
        if (st != CD_OK)
            goto done;
        pending = 0;
    }
    st = cd_dedup_run(d);
    if (st != CD_OK) {
        snprintf(o.message, sizeof o.message, "%s", cd_dedup_errmsg(d));
        goto done;
    }
    uint64_t h = 14695981039346656037ull;
    for (size_t doc = 0; doc < cd_dedup_count(d); doc++) {
        cd_doc_result res;
        assert_int_equal(cd_dedup_result(d, doc, &res), CD_OK);
        h = mix(h, res.representative);
        h = mix(h, (uint64_t)(res.similarity * 1e6));
        for (const char *id = cd_dedup_id(d, doc); *id; id++)
            h = mix(h, (unsigned char)*id);
    }
    for (size_t c = 0; c < cd_dedup_cluster_count(d); c++) {
        size_t rep, size;
        const size_t *members;
        assert_int_equal(cd_dedup_cluster(d, c, &rep, &members, &size), CD_OK);
        h = mix(h, rep);
        for (size_t i = 0; i < size; i++)
            h = mix(h, members[i]);
    }
    for (size_t i = 0; i < cd_dedup_pair_count(d); i++) {
        cd_pair pair;
        assert_int_equal(cd_dedup_pair(d, i, &pair), CD_OK);
        h = mix(mix(h, pair.a), pair.b);
    }
    o.checksum = h;
done:
    for (size_t i = 0; i < pending; i++)
        free_copy(&batch[i]);
    o.status = st == CD_END ? CD_OK : st;
    cd_dedup_free(d);
    cd_reader_free(r);
    return o;
}

/* Runs the pipeline with allocation fail_at failing (0: none). Returns 1
 * when no allocation failed. */
static int run_failing(const char *path, unsigned threads, long fail_at, int after,
                       const outcome *reference)
{
    counting_alloc_start(fail_at, after);
    outcome o = run_pipeline(path, threads);
    counting_alloc_stop();
    if (counting_alloc_live() != 0)
        fail_msg("%s, allocation %ld failing%s: %ld allocations not freed", path, fail_at,
                 after ? " (and every later one)" : "", counting_alloc_live());
    if (o.status == CD_OK) {
        /* No failure, or one the engine can do without (giving back slack
         * with a shrinking realloc): the results must not change. */
        assert_int_equal(o.read, reference->read);
        assert_int_equal(o.rejected, reference->rejected);
        assert_int_equal(o.added, reference->added);
        assert_true(o.checksum == reference->checksum);
        return counting_alloc_failed() == 0;
    }
    if (counting_alloc_failed() == 0 || o.status != CD_ERR_NOMEM ||
        strstr(o.message, "out of memory") == NULL)
        fail_msg("%s, allocation %ld failing%s: status %d (%s), message \"%s\"", path, fail_at,
                 after ? " (and every later one)" : "", o.status, cd_strerror(o.status),
                 o.message);
    return 0;
}

static void sweep(const char *path, unsigned threads, int after)
{
    outcome reference = run_pipeline(path, threads);
    assert_int_equal(reference.status, CD_OK);
    assert_int_equal(reference.read, 20);
    assert_int_equal(reference.rejected, 2); /* the bad line and the repeated id */
    assert_int_equal(reference.added, 18);
    long n = 1;
    while (!run_failing(path, threads, n, after, &reference)) {
        n++;
        assert_true(n < 100000);
    }
    print_message("%s, %u thread(s), failing allocation %s1..%ld: clean\n", path, threads,
                  after ? "(and every later one) " : "", n - 1);
    assert_true(n > 20);
}

static void test_gzip_one_failure(void **state)
{
    (void)state;
    sweep(gz_path, 1, 0);
}

static void test_gzip_failures_from_n_on(void **state)
{
    (void)state;
    sweep(gz_path, 1, 1);
}

static void test_zstd_one_failure(void **state)
{
    (void)state;
    sweep(zst_path, 1, 0);
}

/* Two signing threads: which allocation is number N varies from run to
 * run, but every failure must still be clean. */
static void test_gzip_two_threads(void **state)
{
    (void)state;
    sweep(gz_path, 2, 0);
    sweep(gz_path, 2, 1);
}

/* ---------------------------------------------------------------- index */

static char index_template[300], index_work[300];

static void remove_index(const char *dir)
{
    static const char *const files[] = {"checkpoint", "log", "lock", "checkpoint.tmp", "log.tmp"};
    char path[400];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_true(in && out);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

static void index_docs(cd_doc *docs, char ids[][16], size_t n, int first)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "doc-%d", first + (int)i);
        const char *text = (first + i) % 3 == 0 ? story_a : (first + i) % 3 == 1 ? story_b : story_c;
        docs[i] = (cd_doc){.id = {ids[i], strlen(ids[i])}, .text = {text, strlen(text)}};
    }
    if (n > 2)
        docs[2].text = (cd_str){"", 0}; /* an empty document */
}

static void index_options(cd_index_options *o)
{
    cd_index_options_init(o);
    o->writable = 1;
    o->sync = 0;
    o->threads = 1;
    o->checkpoint_docs = 6;
}

/* The index every run starts from: 8 documents checkpointed, 2 in the log. */
static void make_index_template(void)
{
    snprintf(index_template, sizeof index_template, "%s/index-template", tmpdir);
    snprintf(index_work, sizeof index_work, "%s/index-work", tmpdir);
    cd_params p;
    cd_params_init(&p);
    p.perm = 32;
    p.bands = 8;
    p.rows = 4;
    p.threshold = 0.6;
    cd_index_options o;
    index_options(&o);
    cd_index *x = NULL;
    char err[512];
    assert_int_equal(cd_index_create(index_template, &p, &o, &x, err, sizeof err), CD_OK);
    cd_doc docs[10];
    char ids[10][16];
    index_docs(docs, ids, 10, 0);
    cd_index_result r[10];
    size_t added;
    assert_int_equal(cd_index_add(x, docs, 8, 1767225600, r, &added), CD_OK);
    assert_int_equal(cd_index_add(x, docs + 8, 2, 1767225600, r, &added), CD_OK);
    cd_index_free(x);
}

typedef struct index_outcome {
    cd_status status;
    char message[600];
    size_t added;
} index_outcome;

/* Opens the work copy, adds 4 documents (the log then reaches the
 * checkpoint size), queries 2 and reads the stats. */
static index_outcome index_run(void)
{
    index_outcome o = {CD_OK, "", 0};
    cd_index_options opts;
    index_options(&opts);
    cd_index *x = NULL;
    o.status = cd_index_open(index_work, &opts, &x, o.message, sizeof o.message);
    if (o.status != CD_OK) {
        assert_null(x);
        return o;
    }
    cd_doc docs[4];
    char ids[4][16];
    index_docs(docs, ids, 4, 10);
    cd_index_result r[4];
    o.status = cd_index_add(x, docs, 4, 1767225600, r, &o.added);
    if (o.status == CD_OK)
        o.status = cd_index_query(x, docs, 2, 1767225600, r);
    cd_index_stats stats;
    if (o.status == CD_OK)
        o.status = cd_index_get_stats(x, &stats);
    if (o.status != CD_OK)
        snprintf(o.message, sizeof o.message, "%s", cd_index_errmsg(x));
    cd_index_free(x);
    return o;
}

/* A fresh copy of the template, run with allocation fail_at failing.
 * Returns 1 when no allocation failed. */
static int index_failing(long fail_at, int after)
{
    char from[400], to[400];
    remove_index(index_work);
    assert_int_equal(mkdir(index_work, 0755), 0);
    static const char *const files[] = {"checkpoint", "log", "lock"};
    for (int i = 0; i < 3; i++) {
        snprintf(from, sizeof from, "%s/%s", index_template, files[i]);
        snprintf(to, sizeof to, "%s/%s", index_work, files[i]);
        copy_file(from, to);
    }
    counting_alloc_start(fail_at, after);
    index_outcome o = index_run();
    counting_alloc_stop();
    const char *how = after ? " (and every later one)" : "";
    if (counting_alloc_live() != 0)
        fail_msg("index, allocation %ld failing%s: %ld allocations not freed", fail_at, how,
                 counting_alloc_live());
    if (o.status != CD_OK && (counting_alloc_failed() == 0 || o.status != CD_ERR_NOMEM ||
                              strstr(o.message, "out of memory") == NULL))
        fail_msg("index, allocation %ld failing%s: status %d (%s), message \"%s\"", fail_at, how,
                 o.status, cd_strerror(o.status), o.message);
    /* What is on disk opens, verifies and holds what was acknowledged: the
     * whole batch, or none of it (a failure before it was durable). */
    cd_index_options opts;
    index_options(&opts);
    cd_index *x = NULL;
    char err[512];
    cd_status st = cd_index_open(index_work, &opts, &x, err, sizeof err);
    if (st != CD_OK)
        fail_msg("index, allocation %ld failing%s: reopen: %s", fail_at, how, err);
    assert_int_equal(cd_index_verify(x), CD_OK);
    size_t count = cd_index_doc_count(x);
    if (o.status == CD_OK || o.added > 0)
        assert_int_equal(count, 14);
    else if (count != 10 && count != 14)
        fail_msg("index, allocation %ld failing%s: %zu documents after a failed add", fail_at,
                 how, count);
    cd_index_free(x);
    return counting_alloc_failed() == 0;
}

static void test_index_open_add_query(void **state)
{
    (void)state;
    make_index_template();
    for (int after = 0; after <= 1; after++) {
        long n = 1;
        while (!index_failing(n, after)) {
            n++;
            assert_true(n < 100000);
        }
        print_message("index open + add + checkpoint + query, failing allocation %s1..%ld: clean\n",
                      after ? "(and every later one) " : "", n - 1);
        assert_true(n > 20);
    }
    remove_index(index_work);
    remove_index(index_template);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gzip_one_failure),
        cmocka_unit_test(test_gzip_failures_from_n_on),
        cmocka_unit_test(test_zstd_one_failure),
        cmocka_unit_test(test_gzip_two_threads),
        cmocka_unit_test(test_index_open_add_query),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
