/* test_index.c: the persistent index (cd_index_*): create, add, query,
 * reopen, checkpoints, eviction and compaction, duplicate ids, parameter
 * mismatch, the writer lock, corruption and truncation of the checkpoint
 * and the log, allocation failures during add, and the parameter table
 * covering every byte of cd_params. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "copydesk/copydesk.h"
#include "index.h"
#include "support.h"

/* ------------------------------------------------------------ fixtures */

static char *make_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *path = malloc(4096);
    snprintf(path, 4096, "%s/copydesk-test-index.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(path));
    return path;
}

static void remove_dir(char *dir)
{
    static const char *names[] = {"checkpoint", "log", "lock", "checkpoint.tmp", "log.tmp"};
    char path[4200];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    free(dir);
}

static char *file_in(const char *dir, const char *name)
{
    char *p = malloc(4200);
    snprintf(p, 4200, "%s/%s", dir, name);
    return p;
}

/* A generated corpus: story s has a text of 400 pseudo-random words; copy c
 * of it replaces one word, so copies are about 0.96 similar. */
#define WORDS 400

typedef struct corpus {
    size_t n;
    char **ids, **texts, **dates;
    cd_doc *docs;
    size_t *story; /* the generating story */
} corpus;

static uint64_t next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static char *story_text(size_t story, size_t copy)
{
    char *text = malloc(WORDS * 8 + 1);
    size_t used = 0;
    uint64_t state = story * 7919 + 1;
    uint64_t edit_state = story * 31 + copy;
    size_t edited = copy ? (size_t)(next_random(&edit_state) % WORDS) : WORDS;
    for (size_t w = 0; w < WORDS; w++) {
        uint64_t r = next_random(&state);
        if (w == edited)
            r = next_random(&edit_state);
        used +=
            (size_t)sprintf(text + used, "%sw%llu", w ? " " : "", (unsigned long long)(r % 50000));
    }
    return text;
}

/* n documents: story i / copies_per_story, dated one hour apart from
 * 2025-01-01 (or undated when dated is 0). */
static corpus make_corpus(size_t n, size_t copies_per_story, int dated, const char *id_prefix)
{
    corpus c = {n,
                calloc(n, sizeof(char *)),
                calloc(n, sizeof(char *)),
                calloc(n, sizeof(char *)),
                calloc(n, sizeof(cd_doc)),
                calloc(n, sizeof(size_t))};
    for (size_t i = 0; i < n; i++) {
        size_t story = i / copies_per_story, copy = i % copies_per_story;
        c.story[i] = story;
        c.ids[i] = malloc(64);
        snprintf(c.ids[i], 64, "%s%zu", id_prefix, i);
        c.texts[i] = story_text(story, copy);
        c.docs[i].id = (cd_str){c.ids[i], strlen(c.ids[i])};
        c.docs[i].text = (cd_str){c.texts[i], strlen(c.texts[i])};
        if (dated) {
            c.dates[i] = malloc(64);
            snprintf(c.dates[i], 64, "2025-01-%02zuT%02zu:00:00Z", 1 + (i / 24) % 28, i % 24);
            c.docs[i].date = (cd_str){c.dates[i], strlen(c.dates[i])};
        }
    }
    return c;
}

static void free_corpus(corpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->ids[i]);
        free(c->texts[i]);
        free(c->dates[i]);
    }
    free(c->ids);
    free(c->texts);
    free(c->dates);
    free(c->docs);
    free(c->story);
}

static cd_index *create_index(const char *dir, size_t checkpoint_docs)
{
    cd_params p;
    cd_params_init(&p);
    cd_index_options o;
    cd_index_options_init(&o);
    o.threads = 2;
    o.checkpoint_docs = checkpoint_docs;
    o.sync = 0; /* durability is the crash test's job (tests/index_crash.sh) */
    cd_index *x = NULL;
    char err[512] = "";
    cd_status st = cd_index_create(dir, &p, &o, &x, err, sizeof err);
    if (st != CD_OK)
        fail_msg("create: %s", err);
    return x;
}

static cd_index *open_index(const char *dir, int writable, size_t checkpoint_docs)
{
    cd_index_options o;
    cd_index_options_init(&o);
    o.writable = writable;
    o.threads = 2;
    o.checkpoint_docs = checkpoint_docs;
    o.sync = 0;
    cd_index *x = NULL;
    char err[512] = "";
    cd_status st = cd_index_open(dir, &o, &x, err, sizeof err);
    if (st != CD_OK)
        fail_msg("open: %s", err);
    return x;
}

static void add_all(cd_index *x, const cd_doc *docs, size_t n, cd_index_result *results)
{
    size_t added = 0;
    cd_status st = cd_index_add(x, docs, n, 1700000000, results, &added);
    if (st != CD_OK)
        fail_msg("add: %s: %s", cd_strerror(st), cd_index_errmsg(x));
    assert_int_equal(added, n);
}

/* Every document's story, as representative id, into out[doc] (strdup). */
static char **story_ids(cd_index *x)
{
    size_t n = cd_index_doc_count(x);
    char **out = calloc(n + 1, sizeof *out);
    for (size_t d = 0; d < n; d++) {
        cd_index_doc_info info;
        assert_int_equal(cd_index_doc(x, d, &info), CD_OK);
        const char *rep = cd_index_doc_id(x, info.story_doc);
        assert_non_null(rep);
        size_t len = strlen(info.id) + strlen(rep) + 2;
        out[d] = malloc(len);
        snprintf(out[d], len, "%s>%s", info.id, rep);
    }
    return out;
}

static void free_strings(char **s)
{
    for (size_t i = 0; s[i]; i++)
        free(s[i]);
    free(s);
}

/* --------------------------------------------------------------- tests */

static void test_create_add_query_reopen(void **state)
{
    (void)state;
    char *dir = make_dir();
    corpus c = make_corpus(12, 3, 1, "d"); /* 4 stories of 3 */
    cd_index *x = create_index(dir, 0);
    cd_index_result r[12];
    add_all(x, c.docs, 12, r);
    for (size_t i = 0; i < 12; i++) {
        int first = i % 3 == 0;
        assert_int_equal(r[i].copy, !first);
        assert_int_equal(r[i].doc, i);
        assert_int_equal(r[i].story, i / 3);
        assert_int_equal(r[i].story_doc, i - i % 3);
        assert_int_equal(r[i].copies, i % 3 + 1);
        if (first)
            assert_true(r[i].similarity == 1.0);
        else
            assert_true(r[i].similarity >= 0.8 && r[i].similarity < 1.0);
    }
    assert_string_equal(cd_index_doc_id(x, 4), "d4");
    /* first_seen: the story's earliest document: d3 at 03:00 */
    assert_int_equal(r[5].first_seen, 1735689600 + 3 * 3600); /* 2025-01-01T03:00:00Z */
    cd_index_free(x);

    /* Reopen read-only: the log replays; a copy of story 2 finds d6. */
    x = open_index(dir, 0, 0);
    assert_string_equal(cd_index_warning(x), "");
    assert_int_equal(cd_index_doc_count(x), 12);
    cd_index_result q[2];
    char *copy = story_text(2, 9);
    cd_doc probe[2] = {{.id = {"p", 1}, .text = {copy, strlen(copy)}},
                       {.id = {"n", 1}, .text = {"nothing like the others at all", 30}}};
    assert_int_equal(cd_index_query(x, probe, 2, 1800000000, q), CD_OK);
    assert_int_equal(q[0].copy, 1);
    assert_int_equal(q[0].story, 2);
    assert_int_equal(q[0].story_doc, 6);
    assert_int_equal(q[0].copies, 4);
    assert_int_equal(q[0].doc, CD_INDEX_NONE);
    assert_int_equal(q[1].copy, 0);
    assert_int_equal(q[1].story, CD_INDEX_NONE);
    assert_int_equal(q[1].copies, 1);
    assert_int_equal(q[1].first_seen, 1800000000);
    /* Read-only handles refuse to write. */
    size_t added = 7;
    assert_int_equal(cd_index_add(x, probe, 1, 0, q, &added), CD_ERR_STATE);
    assert_int_equal(added, 0);
    cd_index_stats s;
    assert_int_equal(cd_index_get_stats(x, &s), CD_OK);
    assert_int_equal(s.documents, 12);
    assert_int_equal(s.stories, 4);
    assert_int_equal(s.live_documents, 12);
    assert_int_equal(s.log_documents, 12);
    assert_int_equal(s.generation, 1);
    assert_int_equal(s.undated_documents, 0);
    cd_index_free(x);

    /* After a checkpoint the same answers come from the mapped file. */
    x = open_index(dir, 1, 0);
    assert_int_equal(cd_index_checkpoint(x), CD_OK);
    cd_index_free(x);
    x = open_index(dir, 0, 0);
    assert_int_equal(cd_index_get_stats(x, &s), CD_OK);
    assert_int_equal(s.log_documents, 0);
    assert_int_equal(s.generation, 2);
    cd_index_result q2[2];
    assert_int_equal(cd_index_query(x, probe, 2, 1800000000, q2), CD_OK);
    assert_memory_equal(q, q2, sizeof q);
    assert_int_equal(cd_index_verify(x), CD_OK);
    cd_index_free(x);
    free(copy);
    free_corpus(&c);
    remove_dir(dir);
}

static void test_checkpoints_do_not_change_results(void **state)
{
    (void)state;
    corpus c = make_corpus(600, 4, 0, "d");
    char *dirs[2] = {make_dir(), make_dir()};
    char **stories[2];
    cd_index_result *r[2] = {calloc(600, sizeof(cd_index_result)),
                             calloc(600, sizeof(cd_index_result))};
    for (int k = 0; k < 2; k++) {
        /* k = 1: a checkpoint every ~50 documents, batches of 37. */
        cd_index *x = create_index(dirs[k], k ? 50 : 0);
        size_t step = k ? 37 : 600;
        for (size_t i = 0; i < 600; i += step)
            add_all(x, c.docs + i, i + step > 600 ? 600 - i : step, r[k] + i);
        cd_index_free(x);
        x = open_index(dirs[k], 0, 0);
        stories[k] = story_ids(x);
        cd_index_stats s;
        assert_int_equal(cd_index_get_stats(x, &s), CD_OK);
        assert_int_equal(s.stories, 150);
        assert_int_equal(s.undated_documents, 600);
        if (k)
            assert_true(s.generation > 5);
        cd_index_free(x);
    }
    for (size_t i = 0; i < 600; i++) {
        assert_string_equal(stories[0][i], stories[1][i]);
        assert_int_equal(r[0][i].story, r[1][i].story);
        assert_int_equal(r[0][i].copies, r[1][i].copies);
        assert_true(r[0][i].similarity == r[1][i].similarity);
    }
    for (int k = 0; k < 2; k++) {
        free_strings(stories[k]);
        free(r[k]);
        remove_dir(dirs[k]);
    }
    free_corpus(&c);
}

static void test_duplicate_and_missing_ids(void **state)
{
    (void)state;
    char *dir = make_dir();
    corpus c = make_corpus(6, 2, 1, "d");
    cd_index *x = create_index(dir, 0);
    cd_index_result r[6];
    add_all(x, c.docs, 2, r);
    /* d2, d3, then d0 again (indexed), then d4. */
    cd_doc batch[4] = {c.docs[2], c.docs[3], c.docs[0], c.docs[4]};
    size_t added = 0;
    assert_int_equal(cd_index_add(x, batch, 4, 0, r, &added), CD_ERR_DUPLICATE_ID);
    assert_int_equal(added, 2);
    assert_non_null(strstr(cd_index_errmsg(x), "\"d0\""));
    assert_int_equal(cd_index_doc_count(x), 4);
    /* A repeat inside one batch. */
    cd_doc again[3] = {c.docs[4], c.docs[4], c.docs[5]};
    assert_int_equal(cd_index_add(x, again, 3, 0, r, &added), CD_ERR_DUPLICATE_ID);
    assert_int_equal(added, 1);
    /* No id. */
    cd_doc no_id[2] = {c.docs[5], c.docs[5]};
    no_id[1].id = (cd_str){NULL, 0};
    assert_int_equal(cd_index_add(x, no_id, 2, 0, r, &added), CD_ERR_INPUT);
    assert_int_equal(added, 1);
    assert_int_equal(cd_index_doc_count(x), 6);
    cd_index_free(x);
    x = open_index(dir, 0, 0);
    assert_int_equal(cd_index_doc_count(x), 6);
    cd_index_free(x);
    free_corpus(&c);
    remove_dir(dir);
}

static void test_evict_and_compact(void **state)
{
    (void)state;
    char *dir = make_dir();
    /* 30 stories of 2, one hour apart: docs 0..59 on 2025-01-01..03. */
    corpus c = make_corpus(60, 2, 1, "d");
    cd_index *x = create_index(dir, 0);
    cd_index_result r[60];
    add_all(x, c.docs, 60, r);
    int64_t cutoff; /* before 2025-01-02T00:00:00Z: docs 0..23, stories 0..11 */
    assert_true(cd_parse_date((cd_str){"2025-01-02T00:00:00Z", 20}, &cutoff));
    size_t stories, docs;
    assert_int_equal(cd_index_evict(x, cutoff, &stories, &docs), CD_OK);
    assert_int_equal(stories, 12);
    assert_int_equal(docs, 24);
    /* The window only moves forward. */
    assert_int_equal(cd_index_evict(x, cutoff - 100, &stories, &docs), CD_OK);
    assert_int_equal(stories, 0);
    /* A copy of evicted story 3 starts a new story; of live story 20 joins it. */
    char *t3 = story_text(3, 5), *t20 = story_text(20, 5);
    cd_doc more[2] = {{.id = {"x3", 2}, .text = {t3, strlen(t3)}, .date = {"2025-01-05", 10}},
                      {.id = {"x20", 3}, .text = {t20, strlen(t20)}, .date = {"2025-01-05", 10}}};
    size_t added;
    assert_int_equal(cd_index_add(x, more, 2, 0, r, &added), CD_OK);
    assert_int_equal(r[0].copy, 0);
    assert_int_equal(r[1].copy, 1);
    assert_int_equal(r[1].story, 20);
    /* An evicted document's id may be indexed again. */
    cd_doc again = c.docs[0];
    assert_int_equal(cd_index_add(x, &again, 1, 0, r, &added), CD_OK);
    assert_int_equal(r[0].copy, 0); /* its story is evicted: a new story */
    cd_index_stats s;
    assert_int_equal(cd_index_get_stats(x, &s), CD_OK);
    assert_int_equal(s.documents, 63);
    assert_int_equal(s.evicted_stories, 13); /* + the re-added d0, dated 2025-01-01 */
    assert_int_equal(s.evicted_documents, 25);
    assert_int_equal(s.live_stories, 19);
    assert_int_equal(s.evict_before, cutoff);
    cd_index_free(x);

    /* Reopen (log replay), compact, reopen: the evicted are gone. */
    x = open_index(dir, 1, 0);
    assert_int_equal(cd_index_get_stats(x, &s), CD_OK);
    assert_int_equal(s.evicted_documents, 25);
    uint64_t bytes_before = s.checkpoint_bytes + s.log_bytes;
    assert_int_equal(cd_index_compact(x), CD_OK);
    cd_index_free(x);
    x = open_index(dir, 0, 0);
    assert_int_equal(cd_index_get_stats(x, &s), CD_OK);
    assert_int_equal(s.documents, 38);
    assert_int_equal(s.stories, 19);
    assert_int_equal(s.evicted_documents, 0);
    assert_true(s.checkpoint_bytes + s.log_bytes < bytes_before);
    assert_string_equal(cd_index_doc_id(x, 0), "d24");
    cd_index_result q;
    assert_int_equal(cd_index_query(x, &more[1], 1, 0, &q), CD_OK);
    assert_int_equal(q.copy, 1);
    assert_string_equal(cd_index_doc_id(x, q.story_doc), "d40");
    assert_int_equal(q.copies, 4);
    assert_int_equal(cd_index_verify(x), CD_OK);
    cd_index_free(x);
    free(t3);
    free(t20);
    free_corpus(&c);
    remove_dir(dir);
}

static void test_parameter_mismatch_and_lock(void **state)
{
    (void)state;
    char *dir = make_dir();
    cd_index *writer = create_index(dir, 0);
    cd_params p;
    cd_params_init(&p);
    p.threshold = 0.9;
    cd_index_options o;
    cd_index_options_init(&o);
    o.expect = &p;
    cd_index *x = NULL;
    char err[512];
    assert_int_equal(cd_index_open(dir, &o, &x, err, sizeof err), CD_ERR_ARG);
    assert_null(x);
    assert_non_null(strstr(err, "threshold is 0.8 in the index, 0.9 asked"));
    p.threshold = 0.8;
    p.seed = 7;
    assert_int_equal(cd_index_open(dir, &o, &x, err, sizeof err), CD_ERR_ARG);
    assert_non_null(strstr(err, "seed is 0 in the index, 7 asked"));
    p.seed = 0;
    p.threads = 3; /* not recorded: does not matter */
    assert_int_equal(cd_index_open(dir, &o, &x, err, sizeof err), CD_OK);
    cd_index_free(x);
    /* One writer at a time; readers any time. */
    o.expect = NULL;
    o.writable = 1;
    assert_int_equal(cd_index_open(dir, &o, &x, err, sizeof err), CD_ERR_IO);
    assert_non_null(strstr(err, "another process is writing this index"));
    cd_index_free(writer);
    assert_int_equal(cd_index_open(dir, &o, &x, err, sizeof err), CD_OK);
    cd_index_free(x);
    /* create over an existing index */
    assert_int_equal(cd_index_create(dir, &p, NULL, &x, err, sizeof err), CD_ERR_ARG);
    assert_non_null(strstr(err, "already holds an index"));
    /* not an index */
    char *empty = make_dir();
    assert_int_equal(cd_index_open(empty, NULL, &x, err, sizeof err), CD_ERR_IO);
    assert_non_null(strstr(err, "not a copydesk index"));
    remove_dir(empty);
    remove_dir(dir);
}

static void test_reader_beside_writer(void **state)
{
    (void)state;
    char *dir = make_dir();
    corpus c = make_corpus(40, 2, 1, "d");
    cd_index *w = create_index(dir, 0);
    cd_index_result r[40];
    add_all(w, c.docs, 20, r);
    cd_index *reader = open_index(dir, 0, 0);
    assert_int_equal(cd_index_doc_count(reader), 20);
    assert_int_equal(cd_index_checkpoint(w), CD_OK);
    add_all(w, c.docs + 20, 20, r);
    /* The old reader keeps its view; a new one sees everything. */
    cd_index_result q;
    assert_int_equal(cd_index_query(reader, &c.docs[3], 1, 0, &q), CD_OK);
    assert_int_equal(q.story_doc, 2);
    cd_index *fresh = open_index(dir, 0, 0);
    assert_int_equal(cd_index_doc_count(fresh), 40);
    cd_index_free(fresh);
    cd_index_free(reader);
    cd_index_free(w);
    free_corpus(&c);
    remove_dir(dir);
}

/* An excerpt (the first 200 of 400 words) joins its story with match
 * containment and lead bands, as the batch engine finds it; with Jaccard
 * it starts a story of its own. */
static void test_containment_and_leads_find_excerpts(void **state)
{
    (void)state;
    enum { STORIES = 20 };
    char *texts[2 * STORIES];
    char ids[2 * STORIES][16];
    cd_doc docs[2 * STORIES];
    for (size_t k = 0; k < STORIES; k++) {
        texts[2 * k] = story_text(k, 0);
        texts[2 * k + 1] = story_text(k, 0);
        char *cut = texts[2 * k + 1];
        for (int words = 0; *cut; cut++) /* keep the first 200 words */
            if (*cut == ' ' && ++words == 200)
                break;
        *cut = '\0';
        for (int c = 0; c < 2; c++) {
            snprintf(ids[2 * k + c], sizeof ids[0], "%s%zu", c ? "x" : "s", k);
            docs[2 * k + c] = (cd_doc){.id = {ids[2 * k + c], strlen(ids[2 * k + c])},
                                       .text = {texts[2 * k + c], strlen(texts[2 * k + c])}};
        }
    }
    for (int containment = 0; containment < 2; containment++) {
        char *dir = make_dir();
        cd_params p;
        cd_params_init(&p);
        if (containment) {
            p.match = CD_MATCH_CONTAINMENT;
            p.lead_shingles = 100;
        }
        cd_index_options o;
        cd_index_options_init(&o);
        o.sync = 0;
        cd_index *x = NULL;
        char err[512];
        assert_int_equal(cd_index_create(dir, &p, &o, &x, err, sizeof err), CD_OK);
        cd_index_result r[2 * STORIES];
        add_all(x, docs, 2 * STORIES, r);
        for (size_t k = 0; k < STORIES; k++) {
            assert_int_equal(r[2 * k].copy, 0);
            assert_int_equal(r[2 * k + 1].copy, containment);
            if (containment) {
                assert_int_equal(r[2 * k + 1].story_doc, 2 * k);
                assert_true(r[2 * k + 1].similarity >= 0.8);
            }
        }
        /* The same after a checkpoint, from the mapped file. */
        assert_int_equal(cd_index_checkpoint(x), CD_OK);
        cd_index_result q;
        assert_int_equal(cd_index_query(x, &docs[7], 1, 0, &q), CD_OK);
        assert_int_equal(q.copy, 1);
        assert_int_equal(q.story, containment ? 3 : 7); /* with Jaccard: its own */
        assert_int_equal(q.copies, containment ? 3 : 2);
        cd_index_free(x);
        /* exact verification needs the shingle sets: refused */
        p.verify = CD_VERIFY_EXACT;
        char *other = make_dir();
        assert_int_equal(cd_index_create(other, &p, &o, &x, err, sizeof err), CD_ERR_ARG);
        assert_non_null(strstr(err, "verify exact"));
        remove_dir(other);
        remove_dir(dir);
    }
    for (size_t i = 0; i < 2 * STORIES; i++)
        free(texts[i]);
}

/* ------------------------------------------------------- corruption */

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*len + 1);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static void write_file(const char *path, const unsigned char *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    fclose(f);
}

/* Opens with full verification; returns the status. */
static cd_status open_verified(const char *dir, char *err, size_t size)
{
    cd_index_options o;
    cd_index_options_init(&o);
    o.verify = 1;
    cd_index *x = NULL;
    cd_status st = cd_index_open(dir, &o, &x, err, size);
    if (st == CD_OK) {
        cd_index_stats s;
        st = cd_index_get_stats(x, &s);
        if (st != CD_OK)
            snprintf(err, size, "%s", cd_index_errmsg(x));
    }
    cd_index_free(x);
    return st;
}

static void test_corrupt_checkpoint_detected(void **state)
{
    (void)state;
    char *dir = make_dir();
    corpus c = make_corpus(200, 2, 1, "d");
    cd_index *x = create_index(dir, 0);
    cd_index_result r[200];
    add_all(x, c.docs, 200, r);
    assert_int_equal(cd_index_checkpoint(x), CD_OK);
    cd_index_free(x);
    char *path = file_in(dir, "checkpoint");
    size_t len;
    unsigned char *good = read_file(path, &len);
    char err[512];
    /* Flip one bit at many places: open + verify always fails, naming it. */
    size_t tried = 0;
    for (size_t at = 0; at < len; at += len / 397 + 1) {
        unsigned char *bad = malloc(len);
        memcpy(bad, good, len);
        bad[at] ^= 0x10;
        write_file(path, bad, len);
        cd_status st = open_verified(dir, err, sizeof err);
        if (st != CD_ERR_FORMAT)
            fail_msg("flipping byte %zu of %zu: status %s (%s)", at, len, cd_strerror(st), err);
        assert_true(strstr(err, "corrupt") || strstr(err, "checksum") || strstr(err, "magic") ||
                    strstr(err, "version"));
        free(bad);
        tried++;
    }
    assert_true(tried > 300);
    /* Without full verification, a query touching a bad block reports it. */
    size_t sig_offset = len / 2;
    good[sig_offset] ^= 1;
    write_file(path, good, len);
    cd_index_options o;
    cd_index_options_init(&o);
    assert_int_equal(cd_index_open(dir, &o, &x, err, sizeof err), CD_OK);
    cd_status st = CD_OK;
    for (size_t i = 0; i < 200 && st == CD_OK; i++)
        st = cd_index_query(x, &c.docs[i], 1, 0, r);
    assert_int_equal(st, CD_ERR_FORMAT);
    assert_non_null(strstr(cd_index_errmsg(x), "checksum mismatch"));
    assert_int_equal(cd_index_verify(x), CD_ERR_FORMAT);
    cd_index_free(x);
    good[sig_offset] ^= 1;
    /* Truncated anywhere: reported at open. */
    for (size_t cut = 0; cut < len; cut += len / 101 + 1) {
        write_file(path, good, cut);
        cd_status cs = open_verified(dir, err, sizeof err);
        if (cs != CD_ERR_FORMAT)
            fail_msg("truncating to %zu of %zu: status %s (%s)", cut, len, cd_strerror(cs), err);
    }
    write_file(path, good, len);
    assert_int_equal(open_verified(dir, err, sizeof err), CD_OK);
    free(good);
    free(path);
    free_corpus(&c);
    remove_dir(dir);
}

static void test_log_tail_and_corruption(void **state)
{
    (void)state;
    char *dir = make_dir();
    corpus c = make_corpus(30, 3, 1, "d");
    cd_index *x = create_index(dir, 0);
    cd_index_result r[30];
    add_all(x, c.docs, 10, r);
    cd_index_free(x);
    char *path = file_in(dir, "log");
    size_t first_len;
    free(read_file(path, &first_len));
    x = open_index(dir, 1, 0);
    add_all(x, c.docs + 10, 10, r);
    cd_index_free(x);
    size_t len;
    unsigned char *good = read_file(path, &len);
    char err[512];
    /* Cut inside the second batch: it was never acknowledged; dropped with a warning. */
    for (size_t cut = first_len; cut < len; cut += 97) {
        write_file(path, good, cut);
        cd_index *rd = open_index(dir, 0, 0);
        assert_int_equal(cd_index_doc_count(rd), 10);
        if (cut > first_len)
            assert_non_null(strstr(cd_index_warning(rd), "dropped an incomplete batch"));
        cd_index_free(rd);
    }
    /* A writer truncates the tail and goes on. */
    write_file(path, good, len - 5);
    x = open_index(dir, 1, 0);
    assert_non_null(strstr(cd_index_warning(x), "dropped"));
    add_all(x, c.docs + 10, 20, r);
    cd_index_free(x);
    x = open_index(dir, 0, 0);
    assert_string_equal(cd_index_warning(x), "");
    assert_int_equal(cd_index_doc_count(x), 30);
    cd_index_free(x);
    /* A flipped byte in the first (committed) batch followed by more: corrupt. */
    free(good);
    good = read_file(path, &len);
    good[first_len / 2] ^= 4;
    write_file(path, good, len);
    cd_index_options o;
    cd_index_options_init(&o);
    assert_int_equal(cd_index_open(dir, &o, &x, err, sizeof err), CD_ERR_FORMAT);
    assert_non_null(strstr(err, "corrupt log"));
    /* The log header. */
    good[first_len / 2] ^= 4;
    good[3] ^= 1;
    write_file(path, good, len);
    assert_int_equal(cd_index_open(dir, &o, &x, err, sizeof err), CD_ERR_FORMAT);
    free(good);
    free(path);
    free_corpus(&c);
    remove_dir(dir);
}

/* ------------------------------------------------- allocation failures */

static void test_allocation_failures_on_add(void **state)
{
    (void)state;
    corpus c = make_corpus(80, 4, 1, "d");
    /* Reference: 40 documents, then 40 more (with a checkpoint after). */
    char *ref_dir = make_dir();
    cd_index *x = create_index(ref_dir, 30);
    cd_index_result ref[80], r[80];
    add_all(x, c.docs, 40, ref);
    add_all(x, c.docs + 40, 40, ref + 40);
    cd_index_free(x);
    int succeeded = 0, failed_after_commit = 0;
    long fail_at;
    for (fail_at = 1; !succeeded && fail_at < 3000; fail_at++) {
        char *dir = make_dir();
        x = create_index(dir, 30);
        add_all(x, c.docs, 40, r);
        counting_alloc_start(fail_at, 0);
        size_t added = 99;
        cd_status st = cd_index_add(x, c.docs + 40, 40, 1700000000, r + 40, &added);
        counting_alloc_stop();
        if (st == CD_OK) {
            succeeded = 1;
        } else {
            assert_true(st == CD_ERR_NOMEM || st == CD_ERR_STATE);
            if (added == 0) {
                /* Nothing of the batch is left anywhere. */
                assert_int_equal(cd_index_doc_count(x), 40);
            } else {
                /* The batch was durable; the checkpoint after it failed. */
                assert_int_equal(added, 40);
                failed_after_commit++;
            }
        }
        cd_index_free(x);
        /* Reopen and finish: the outcome equals the reference. */
        x = open_index(dir, 1, 30);
        if (cd_index_doc_count(x) == 40)
            add_all(x, c.docs + 40, 40, r + 40);
        for (size_t i = 40; i < 80; i++) {
            assert_int_equal(r[i].story, ref[i].story);
            assert_int_equal(r[i].copies, ref[i].copies);
        }
        assert_int_equal(cd_index_verify(x), CD_OK);
        cd_index_free(x);
        remove_dir(dir);
    }
    print_message("allocation failures: %ld points swept, %d after the batch was durable\n",
                  fail_at - 1, failed_after_commit);
    assert_true(succeeded);
    assert_true(fail_at > 20);
    assert_true(failed_after_commit > 0);
    free_corpus(&c);
    remove_dir(ref_dir);
}

/* ------------------------------------------------- the parameter table */

static int by_offset(const void *a, const void *b)
{
    const cd__param_field *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Every byte of cd_params belongs to a listed field or to alignment
 * padding before the next one: a field added to cd_params without an entry
 * in index_params.c (recorded or not) fails here. */
static void test_parameter_table_covers_cd_params(void **state)
{
    (void)state;
    size_t count;
    const cd__param_field *fields = cd__index_param_fields(&count);
    cd__param_field sorted[64];
    assert_true(count <= 64);
    memcpy(sorted, fields, count * sizeof *fields);
    qsort(sorted, count, sizeof *sorted, by_offset);
    size_t end = 0;
    for (size_t i = 0; i < count; i++) {
        size_t align = sorted[i].size < 8 ? sorted[i].size : 8;
        size_t aligned = (end + align - 1) / align * align;
        if (sorted[i].offset != aligned)
            fail_msg("cd_params bytes %zu..%zu are not covered by the index parameter table "
                     "(engine/src/index_params.c): add the new field there",
                     end, sorted[i].offset);
        end = sorted[i].offset + sorted[i].size;
    }
    size_t tail = (end + 7) / 8 * 8;
    if (sizeof(cd_params) != end && sizeof(cd_params) != tail)
        fail_msg("cd_params bytes %zu..%zu are not covered by the index parameter table "
                 "(engine/src/index_params.c): add the new field there",
                 end, sizeof(cd_params));
    /* The record round-trips. */
    cd_params p, q;
    cd_params_init(&p);
    p.threshold = 0.73;
    p.seed = 0xFFFFFFFFFFFFFFFFull;
    p.with_title = 1;
    assert_int_equal(cd_params_resolve(&p, NULL, 0), CD_OK);
    char text[1024], err[CD_ERRMSG_SIZE];
    uint64_t model = 0;
    size_t len = cd__index_params_text(&p, 0x1234, text, sizeof text);
    assert_true(len > 0);
    assert_int_equal(cd__index_params_parse(text, len, &q, &model, err), 0);
    assert_int_equal(model, 0x1234);
    assert_int_equal(cd__index_params_compare(&p, &q, err), 0);
    assert_non_null(strstr(text, "threshold=0.73\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_add_query_reopen),
        cmocka_unit_test(test_checkpoints_do_not_change_results),
        cmocka_unit_test(test_duplicate_and_missing_ids),
        cmocka_unit_test(test_evict_and_compact),
        cmocka_unit_test(test_parameter_mismatch_and_lock),
        cmocka_unit_test(test_reader_beside_writer),
        cmocka_unit_test(test_containment_and_leads_find_excerpts),
        cmocka_unit_test(test_corrupt_checkpoint_detected),
        cmocka_unit_test(test_log_tail_and_corruption),
        cmocka_unit_test(test_allocation_failures_on_add),
        cmocka_unit_test(test_parameter_table_covers_cd_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
