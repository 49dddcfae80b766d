/* test_dedup.c: the batch engine end to end in memory: copies cluster,
 * different stories stay apart, keep rules, duplicate ids, empty documents,
 * thread-count invariance, learning the chrome in a pass of its own, and
 * allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "copydesk/copydesk.h"
#include "support.h"

static cd_str str(const char *s) { return (cd_str){s, s ? strlen(s) : 0}; }

static const char *story_a =
    "The Prime Minister told the president that Ukraine must be put in the strongest possible "
    "position in order to secure a just and lasting peace in the war with Russia. Both leaders "
    "are due to speak on Tuesday about the plan for a thirty day ceasefire, officials said.";
static const char *story_a_edited =
    "The Prime Minister told the president that Ukraine must be put in the strongest possible "
    "position in order to secure a just and lasting peace in the war with Russia. Both leaders "
    "are due to speak on Tuesday about the plan for a thirty day ceasefire, officials added.";
static const char *story_b =
    "Heavy rain caused flooding across the north of the county overnight, closing roads and "
    "leaving hundreds of homes without power while crews worked to clear fallen trees and the "
    "council opened two rest centres for families forced to leave their houses.";

typedef struct fixture_doc {
    const char *id, *text, *date;
} fixture_doc;

static cd_dedup *run_docs(const fixture_doc *fx, size_t n, cd_keep_rule keep, unsigned threads)
{
    cd_params p;
    cd_params_init(&p);
    p.keep = keep;
    p.threads = threads;
    cd_dedup *d = NULL;
    assert_int_equal(cd_dedup_create(&p, &d), CD_OK);
    cd_doc *docs = calloc(n, sizeof *docs);
    cd_status *statuses = calloc(n, sizeof *statuses);
    for (size_t i = 0; i < n; i++) {
        docs[i].id = str(fx[i].id);
        docs[i].text = str(fx[i].text);
        docs[i].date = str(fx[i].date);
    }
    assert_int_equal(cd_dedup_add(d, docs, n, statuses), CD_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(statuses[i], CD_OK);
    assert_int_equal(cd_dedup_run(d), CD_OK);
    free(docs);
    free(statuses);
    return d;
}

static const fixture_doc corpus[] = {
    {"b1", NULL, "2026-03-18T09:00:00Z"},
    {"a1", NULL, "2026-03-18T08:00:00Z"},
    {"a2", NULL, "Tue, 18 Mar 2026 07:30:00 +0000"},
    {"a3", NULL, "not a date"},
    {"b2", NULL, NULL},
};

static void fill_corpus(fixture_doc *fx)
{
    memcpy(fx, corpus, sizeof corpus);
    fx[0].text = story_b;
    fx[1].text = story_a;
    fx[2].text = story_a_edited;
    fx[3].text = story_a;
    fx[4].text = story_b;
}

static void test_copies_cluster_and_stories_stay_apart(void **state)
{
    (void)state;
    fixture_doc fx[5];
    fill_corpus(fx);
    cd_dedup *d = run_docs(fx, 5, CD_KEEP_EARLIEST, 1);
    assert_int_equal(cd_dedup_count(d), 5);
    assert_int_equal(cd_dedup_cluster_count(d), 2);
    size_t rep, size;
    const size_t *members;
    /* Cluster order: by first member in input order: b1's story first. */
    assert_int_equal(cd_dedup_cluster(d, 0, &rep, &members, &size), CD_OK);
    assert_int_equal(size, 2);
    assert_int_equal(members[0], 0);
    assert_int_equal(members[1], 4);
    assert_string_equal(cd_dedup_id(d, rep), "b1"); /* b2 is undated: sorts last */
    assert_int_equal(cd_dedup_cluster(d, 1, &rep, &members, &size), CD_OK);
    assert_int_equal(size, 3);
    assert_string_equal(cd_dedup_id(d, rep), "a2"); /* earliest date */
    cd_doc_result r;
    assert_int_equal(cd_dedup_result(d, 1, &r), CD_OK);
    assert_int_equal(r.representative, 2);
    assert_true(r.similarity >= 0.8 && r.similarity < 1.0);
    assert_int_equal(r.cluster_size, 3);
    cd_dedup_stats st;
    cd_dedup_get_stats(d, &st);
    assert_int_equal(st.documents, 5);
    assert_int_equal(st.removed, 3);
    assert_int_equal(st.clusters, 2);
    assert_int_equal(st.largest_cluster, 3);
    assert_int_equal(st.undated, 2);
    /* pairs: a1-a2, a1-a3, a2-a3, b1-b2, sorted by (a, b) */
    assert_int_equal(cd_dedup_pair_count(d), 4);
    cd_pair p;
    assert_int_equal(cd_dedup_pair(d, 0, &p), CD_OK);
    assert_int_equal(p.a, 0);
    assert_int_equal(p.b, 4);
    assert_int_equal(cd_dedup_pair(d, 3, &p), CD_OK);
    assert_int_equal(p.a, 2);
    assert_int_equal(p.b, 3);
    cd_dedup_free(d);
}

static void test_keep_rules(void **state)
{
    (void)state;
    fixture_doc fx[5];
    fill_corpus(fx);
    fx[3].text = "The Prime Minister told the president that Ukraine must be put in the strongest "
                 "possible position in order to secure a just and lasting peace in the war with "
                 "Russia. Both leaders are due to speak on Tuesday about the plan for a thirty day "
                 "ceasefire, officials said. Extra.";
    cd_dedup *d = run_docs(fx, 5, CD_KEEP_LONGEST, 1);
    cd_doc_result r;
    assert_int_equal(cd_dedup_result(d, 1, &r), CD_OK);
    assert_string_equal(cd_dedup_id(d, r.representative), "a3");
    cd_dedup_free(d);
    d = run_docs(fx, 5, CD_KEEP_FIRST, 1);
    assert_int_equal(cd_dedup_result(d, 3, &r), CD_OK);
    assert_string_equal(cd_dedup_id(d, r.representative), "a1");
    assert_int_equal(cd_dedup_result(d, 4, &r), CD_OK);
    assert_string_equal(cd_dedup_id(d, r.representative), "b1");
    cd_dedup_free(d);
}

static void test_duplicate_ids_and_missing_ids(void **state)
{
    (void)state;
    cd_params p;
    cd_params_init(&p);
    cd_dedup *d;
    assert_int_equal(cd_dedup_create(&p, &d), CD_OK);
    cd_doc docs[4] = {{.id = str("x"), .text = str(story_a)},
                      {.id = str("x"), .text = str(story_b)},
                      {.text = str(story_b)},
                      {.id = str("y"), .text = str("")}};
    cd_status statuses[4];
    assert_int_equal(cd_dedup_add(d, docs, 4, statuses), CD_OK);
    assert_int_equal(statuses[0], CD_OK);
    assert_int_equal(statuses[1], CD_ERR_DUPLICATE_ID);
    assert_int_equal(statuses[2], CD_OK);
    assert_int_equal(statuses[3], CD_OK);
    assert_int_equal(cd_dedup_count(d), 3);
    assert_string_equal(cd_dedup_id(d, 1), "2"); /* its number + 1 */
    /* the same id in a later batch is a duplicate too */
    assert_int_equal(cd_dedup_add(d, docs, 1, statuses), CD_OK);
    assert_int_equal(statuses[0], CD_ERR_DUPLICATE_ID);
    assert_int_equal(cd_dedup_run(d), CD_OK);
    assert_int_equal(cd_dedup_add(d, docs, 1, statuses), CD_ERR_STATE);
    assert_int_equal(cd_dedup_run(d), CD_ERR_STATE);
    cd_doc_result r;
    assert_int_equal(cd_dedup_result(d, 2, &r), CD_OK);
    assert_int_equal(r.empty, 1);
    assert_int_equal(r.representative, 2);
    cd_dedup_stats st;
    cd_dedup_get_stats(d, &st);
    assert_int_equal(st.empty, 1);
    cd_dedup_free(d);
}

static void test_empty_documents_never_match(void **state)
{
    (void)state;
    fixture_doc fx[3] = {{"e1", "", NULL}, {"e2", "...", NULL}, {"e3", " ", NULL}};
    cd_dedup *d = run_docs(fx, 3, CD_KEEP_FIRST, 1);
    assert_int_equal(cd_dedup_cluster_count(d), 0);
    assert_int_equal(cd_dedup_pair_count(d), 0);
    cd_dedup_free(d);
}

/* Many generated documents: the result must not depend on the thread count. */
static void test_threads_do_not_change_results(void **state)
{
    (void)state;
    enum { N = 3000 };
    static char texts[N][400];
    static char ids[N][16];
    fixture_doc fx[N];
    unsigned long long x = 88172645463325252ULL;
    for (size_t i = 0; i < N; i++) {
        size_t story = i / 3; /* three near-copies per story */
        size_t len = 0;
        for (int w = 0; w < 40; w++) {
            unsigned long long v = story * 1000003ULL + (unsigned long long)w * 7919ULL;
            if (w == 39 && i % 3 == 2) { /* the third copy changes its last word */
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                v = x;
            }
            len += (size_t)snprintf(texts[i] + len, sizeof texts[i] - len, "w%llx ", v % 100000);
        }
        snprintf(ids[i], sizeof ids[i], "d%zu", i);
        fx[i] = (fixture_doc){ids[i], texts[i], NULL};
    }
    cd_dedup *one = run_docs(fx, N, CD_KEEP_FIRST, 1);
    cd_dedup *four = run_docs(fx, N, CD_KEEP_FIRST, 4);
    assert_int_equal(cd_dedup_pair_count(one), cd_dedup_pair_count(four));
    assert_true(cd_dedup_cluster_count(one) >= N / 3 - 5);
    for (size_t i = 0; i < N; i++) {
        cd_doc_result a, b;
        cd_dedup_result(one, i, &a);
        cd_dedup_result(four, i, &b);
        assert_int_equal(a.representative, b.representative);
        assert_true(a.similarity == b.similarity);
    }
    cd_dedup_free(one);
    cd_dedup_free(four);
}

/* ---------------------------------------------------- two passes */

enum { CHROME_DOCS = 16 };

/* Eight stories, two copies each, of one source whose every page ends with
 * the same sign-up line (chrome once learned); each page has a long line
 * of its own (a story context, docs/boilerplate.md); document 5 repeats
 * the id of document 4, so story 2 has one copy. */
typedef struct chrome_fixture {
    char texts[CHROME_DOCS][1024], ids[CHROME_DOCS][16];
    cd_doc docs[CHROME_DOCS];
} chrome_fixture;

/* Fills the corpus, and p with the parameters that learn its chrome. */
static void chrome_corpus(chrome_fixture *f, cd_params *p, unsigned threads)
{
    cd_params_init(p);
    p->threads = threads;
    p->boilerplate_min_stories = 4;
    static const char *const words[] = {"harbour", "council", "budget", "storm", "railway",
                                        "school",  "hospital", "festival"};
    for (int i = 0; i < CHROME_DOCS; i++) {
        int story = i / 2;
        snprintf(f->texts[i], 1024,
                 "The %s of the town was the subject of a long meeting on Tuesday, where the %s "
                 "plans were set out by officials for the %s year ahead in %d steps. Residents "
                 "asked many questions about the cost and the timetable, and the officials "
                 "promised a full report on the %s before the end of the month.\n\n"
                 "Correspondent%02dReportingFromTheNorthernBureauDesk\n\n"
                 "Sign up to our morning newsletter for the latest local news every day",
                 words[story], words[story], words[story], story, words[story], i);
        snprintf(f->ids[i], 16, "doc-%d", i == 5 ? 4 : i);
        f->docs[i] = (cd_doc){.id = str(f->ids[i]), .text = str(f->texts[i]), .source = str("outlet")};
    }
}

/* The corpus added once, or learned first then added again. */
static cd_dedup *run_chrome(int two_passes, cd_status *statuses)
{
    static chrome_fixture f;
    cd_params p;
    chrome_corpus(&f, &p, 2);
    cd_doc *docs = f.docs;
    cd_dedup *d = NULL;
    assert_int_equal(cd_dedup_create(&p, &d), CD_OK);
    if (two_passes) {
        assert_int_equal(cd_dedup_learn(d, docs, 7, statuses), CD_OK); /* in two batches */
        assert_int_equal(cd_dedup_learn(d, docs + 7, CHROME_DOCS - 7, statuses + 7), CD_OK);
        assert_int_equal(statuses[5], CD_ERR_DUPLICATE_ID);
        assert_int_equal(cd_dedup_add(d, docs, 5, statuses), CD_OK);
        assert_int_equal(cd_dedup_add(d, docs + 5, CHROME_DOCS - 5, statuses + 5), CD_OK);
    } else {
        assert_int_equal(cd_dedup_add(d, docs, CHROME_DOCS, statuses), CD_OK);
    }
    assert_int_equal(cd_dedup_run(d), CD_OK);
    return d;
}

static void test_two_passes_give_the_same_results(void **state)
{
    (void)state;
    cd_status once[CHROME_DOCS], twice[CHROME_DOCS];
    cd_dedup *a = run_chrome(0, once), *b = run_chrome(1, twice);
    assert_memory_equal(once, twice, sizeof once);
    assert_int_equal(once[5], CD_ERR_DUPLICATE_ID);
    assert_int_equal(cd_dedup_count(a), CHROME_DOCS - 1);
    assert_int_equal(cd_dedup_count(b), CHROME_DOCS - 1);
    cd_dedup_stats sa, sb;
    cd_dedup_get_stats(a, &sa);
    cd_dedup_get_stats(b, &sb);
    assert_true(sa.chrome_lines > 0); /* the sign-up line was learned */
    assert_int_equal(sa.chrome_lines, sb.chrome_lines);
    assert_int_equal(sa.clusters, sb.clusters);
    assert_int_equal(sa.undated, sb.undated);
    assert_int_equal(sa.tokens, sb.tokens);
    for (size_t i = 0; i < cd_dedup_count(a); i++) {
        cd_doc_result x, y;
        assert_int_equal(cd_dedup_result(a, i, &x), CD_OK);
        assert_int_equal(cd_dedup_result(b, i, &y), CD_OK);
        assert_int_equal(x.representative, y.representative);
        assert_true(x.similarity == y.similarity);
        assert_string_equal(cd_dedup_id(a, i), cd_dedup_id(b, i));
    }
    cd_dedup_free(a);
    cd_dedup_free(b);
}

static void test_two_passes_misused(void **state)
{
    (void)state;
    static chrome_fixture f;
    cd_params p;
    chrome_corpus(&f, &p, 1);
    cd_doc *docs = f.docs;
    cd_status st[CHROME_DOCS];
    cd_dedup *d = NULL;

    /* Learning after documents were added, or with boilerplate off. */
    assert_int_equal(cd_dedup_create(&p, &d), CD_OK);
    assert_int_equal(cd_dedup_add(d, docs, 2, st), CD_OK);
    assert_int_equal(cd_dedup_learn(d, docs + 2, 2, st), CD_ERR_STATE);
    cd_dedup_free(d);
    p.boilerplate = 0;
    assert_int_equal(cd_dedup_create(&p, &d), CD_OK);
    assert_int_equal(cd_dedup_learn(d, docs, 2, st), CD_ERR_STATE);
    cd_dedup_free(d);
    p.boilerplate = 1;

    /* A document the first pass did not have fails its batch, and nothing
     * of it counts; the run needs every document again. */
    assert_int_equal(cd_dedup_create(&p, &d), CD_OK);
    assert_int_equal(cd_dedup_learn(d, docs, 4, st), CD_OK);
    assert_int_equal(cd_dedup_add(d, docs + 2, 2, st), CD_ERR_STATE);
    assert_non_null(strstr(cd_dedup_errmsg(d), "doc-2"));
    assert_int_equal(cd_dedup_add(d, docs, 3, st), CD_OK);
    assert_int_equal(cd_dedup_run(d), CD_ERR_STATE);
    assert_non_null(strstr(cd_dedup_errmsg(d), "3 of the 4"));
    cd_dedup_free(d);

    /* An id holding a NUL is rejected in both passes. */
    assert_int_equal(cd_dedup_create(&p, &d), CD_OK);
    cd_doc nul = docs[0];
    nul.id = (cd_str){"a\0b", 3};
    cd_doc two[2] = {nul, docs[1]};
    assert_int_equal(cd_dedup_learn(d, two, 2, st), CD_OK);
    assert_int_equal(st[0], CD_ERR_DUPLICATE_ID);
    assert_int_equal(cd_dedup_add(d, two, 2, st), CD_OK);
    assert_int_equal(st[0], CD_ERR_DUPLICATE_ID);
    assert_int_equal(st[1], CD_OK);
    assert_int_equal(cd_dedup_run(d), CD_OK);
    cd_dedup_free(d);

    /* Learning only, then the run: nothing was signed. */
    assert_int_equal(cd_dedup_create(&p, &d), CD_OK);
    assert_int_equal(cd_dedup_learn(d, docs, 4, st), CD_OK);
    assert_int_equal(cd_dedup_run(d), CD_ERR_STATE);
    cd_dedup_free(d);
}

/* Every allocation of two passes fails in turn: a failure is reported,
 * nothing leaks, and once memory is back the results are right. */
static void test_two_passes_out_of_memory(void **state)
{
    (void)state;
    static chrome_fixture f;
    cd_params p;
    chrome_corpus(&f, &p, 2);
    cd_doc *docs = f.docs;
    cd_status st[CHROME_DOCS];
    int succeeded = 0;
    for (long fail_at = 1; !succeeded && fail_at < 2000; fail_at++) {
        counting_alloc_start(fail_at, 0);
        cd_dedup *d = NULL;
        cd_status s = cd_dedup_create(&p, &d);
        if (s == CD_OK)
            s = cd_dedup_learn(d, docs, CHROME_DOCS, st);
        if (s == CD_OK)
            s = cd_dedup_add(d, docs, CHROME_DOCS, st);
        if (s == CD_OK)
            s = cd_dedup_run(d);
        if (s == CD_OK) {
            succeeded = 1;
            assert_int_equal(cd_dedup_cluster_count(d), 7); /* story 2 lost its copy */
        } else {
            assert_int_equal(s, CD_ERR_NOMEM);
        }
        cd_dedup_free(d);
        counting_alloc_stop();
        assert_int_equal(counting_alloc_live(), 0);
    }
    assert_true(succeeded);
}

/* Every allocation of a run fails in turn, with every pair kept (keep 1)
 * or only the clusters (keep 0: verification while grouping). */
static void allocation_failures(int keep_pairs)
{
    fixture_doc fx[5];
    fill_corpus(fx);
    int succeeded = 0;
    long fail_at;
    for (fail_at = 1; !succeeded && fail_at < 500; fail_at++) {
        counting_alloc_start(fail_at, 0);
        cd_params p;
        cd_params_init(&p);
        p.threads = 2;
        cd_dedup *d = NULL;
        cd_status st = cd_dedup_create(&p, &d);
        if (st == CD_OK)
            assert_int_equal(cd_dedup_keep_pairs(d, keep_pairs), CD_OK);
        if (st == CD_OK) {
            cd_doc docs[5];
            cd_status statuses[5];
            for (int i = 0; i < 5; i++)
                docs[i] = (cd_doc){.id = str(fx[i].id), .text = str(fx[i].text)};
            st = cd_dedup_add(d, docs, 5, statuses);
            if (st == CD_OK)
                st = cd_dedup_run(d);
            else
                assert_int_equal(cd_dedup_count(d), 0); /* a failed batch adds nothing */
        }
        if (st == CD_OK) {
            succeeded = 1;
            assert_int_equal(cd_dedup_cluster_count(d), 2);
        } else {
            assert_int_equal(st, CD_ERR_NOMEM);
        }
        cd_dedup_free(d);
        counting_alloc_stop();
        assert_int_equal(counting_alloc_live(), 0);
    }
    assert_true(succeeded);
    assert_true(fail_at > 5);
}

static void test_allocation_failures(void **state)
{
    (void)state;
    allocation_failures(1);
    allocation_failures(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copies_cluster_and_stories_stay_apart),
        cmocka_unit_test(test_keep_rules),
        cmocka_unit_test(test_duplicate_ids_and_missing_ids),
        cmocka_unit_test(test_empty_documents_never_match),
        cmocka_unit_test(test_threads_do_not_change_results),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_two_passes_give_the_same_results),
        cmocka_unit_test(test_two_passes_misused),
        cmocka_unit_test(test_two_passes_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
