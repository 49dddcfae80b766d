/* test_findings.c: one regression test per bug found by fuzzing, the
 * allocation-failure sweep (test_oom.c) or the bad-input corpus
 * (tests/bad-input). Each says what went wrong before the fix. The inputs
 * that found them are also in tests/fuzz/corpus (finding-*), replayed under
 * ctest. Findings whose regression test lives elsewhere:
 *   - dedup --removed F > /dev/full committed F although the run failed
 *     (run.c): bad-input case stdout_full_removed.
 *   - -o and --removed files were created 0600 (mkstemp), not 0666 less
 *     the umask (output.c): bad-input case output_files checks the mode.
 *   - cd_index_free leaked the batch's shingle counts and lead signatures
 *     (index.c): test_oom's index sweep counts every allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "copydesk/copydesk.h"
#include "support.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/copydesk-findings-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(tmpdir);
}

/* Writes data to tmpdir/name; returns the path (static buffer). */
static const char *write_file(const char *name, const void *data, size_t len)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* Reads every record of path; counts OK records and returns the last status
 * (CD_END when the whole file was read), with the message of the last
 * failure in msg. */
static cd_status read_all(const char *path, size_t *ok, size_t *bad, char *msg, size_t msg_size)
{
    cd_reader *r = NULL;
    char err[512];
    cd_status st = cd_reader_open(path, NULL, &r, err, sizeof err);
    assert_int_equal(st, CD_OK);
    *ok = *bad = 0;
    cd_record rec;
    while ((st = cd_reader_next(r, &rec)) == CD_OK || st == CD_ERR_INPUT) {
        if (st == CD_OK) {
            (*ok)++;
        } else {
            (*bad)++;
            snprintf(msg, msg_size, "%s", cd_reader_errmsg(r));
        }
    }
    if (st != CD_END)
        snprintf(msg, msg_size, "%s", cd_reader_errmsg(r));
    cd_reader_free(r);
    return st;
}

/* fuzz_reader (zstd, small buffers): a zstd stream whose last frame ended
 * exactly when the reader's buffer filled was reported as "truncated zstd
 * stream": the next call started a new frame with no input left. With the
 * reader's 1 MiB chunks, any .zst whose content is exactly 1 MiB failed. */
static void test_zstd_ending_on_a_chunk_boundary(void **state)
{
    (void)state;
    const size_t size = (size_t)1 << 20;
    char *plain = malloc(size);
    assert_non_null(plain);
    size_t n = 0, docs = 0;
    while (size - n > 200)
        n += (size_t)snprintf(plain + n, size - n, "{\"id\":\"d%zu\",\"text\":\"word %zu\"}\n", docs,
                              docs), docs++;
    /* The last line pads the content to exactly 1 MiB. */
    int head = snprintf(plain + n, size - n, "{\"id\":\"last\",\"text\":\"");
    n += (size_t)head;
    memset(plain + n, 'x', size - n - 3);
    memcpy(plain + size - 3, "\"}\n", 3);
    docs++;

    size_t cap = ZSTD_compressBound(size);
    char *packed = malloc(cap);
    assert_non_null(packed);
    size_t packed_len = ZSTD_compress(packed, cap, plain, size, 1);
    assert_false(ZSTD_isError(packed_len));
    const char *path = write_file("exact.jsonl.zst", packed, packed_len);

    size_t ok, bad;
    char msg[512] = "";
    cd_status st = read_all(path, &ok, &bad, msg, sizeof msg);
    if (st != CD_END)
        fail_msg("%s", msg);
    assert_int_equal(ok, docs);
    assert_int_equal(bad, 0);
    unlink(path);
    free(plain);
    free(packed);
}

/* bad-input corpus: cJSON keeps a NUL character (a raw byte or \u0000) in
 * its NUL-terminated strings, so a text was silently cut short and ids that
 * differ after a NUL ("a\u0000b", "a\u0000c") were rejected as duplicates
 * of "a". Such a line is now bad input, with a message saying why. */
static void test_nul_characters_are_bad_input(void **state)
{
    (void)state;
    static const char input[] = "{\"id\":\"a\\u0000b\",\"text\":\"one\"}\n"
                                "{\"id\":\"c\",\"text\":\"cut \\u0000 short\"}\n"
                                "{\"id\":\"d\",\"text\":\"raw \0 byte\"}\n"
                                "{\"id\":\"e\",\"text\":\"an escaped backslash \\\\u0000 is text\"}\n";
    const char *path = write_file("nul.jsonl", input, sizeof input - 1);
    cd_reader *r = NULL;
    char err[512];
    assert_int_equal(cd_reader_open(path, NULL, &r, err, sizeof err), CD_OK);
    cd_record rec;
    static const char *expected[] = {":1: \\u0000 at byte 9: documents may not contain NUL",
                                     ":2: \\u0000 at byte 23: documents may not contain NUL",
                                     ":3: NUL byte at byte 23: documents may not contain NUL"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cd_reader_next(r, &rec), CD_ERR_INPUT);
        if (!strstr(cd_reader_errmsg(r), expected[i]))
            fail_msg("got \"%s\", want \"%s\"", cd_reader_errmsg(r), expected[i]);
    }
    assert_int_equal(cd_reader_next(r, &rec), CD_OK);
    assert_int_equal(rec.doc.text.len, strlen("an escaped backslash \\u0000 is text"));
    assert_int_equal(cd_reader_next(r, &rec), CD_END);
    cd_reader_free(r);
    unlink(path);
}

/* bad-input corpus: a line nested deeper than cJSON's limit said only
 * "malformed JSON"; the limit now has its own message. */
static void test_deep_nesting_has_its_own_message(void **state)
{
    (void)state;
    char line[4096];
    size_t n = (size_t)snprintf(line, sizeof line, "{\"text\":\"x\",\"deep\":");
    for (int i = 0; i < 1500; i++)
        line[n++] = '[';
    line[n++] = '\n';
    const char *path = write_file("deep.jsonl", line, n);
    size_t ok, bad;
    char msg[512] = "";
    assert_int_equal(read_all(path, &ok, &bad, msg, sizeof msg), CD_END);
    assert_int_equal(bad, 1);
    if (!strstr(msg, ":1: JSON nested more than 1000 levels deep"))
        fail_msg("got \"%s\"", msg);
    unlink(path);
}

/* test_oom: cJSON reports a failed allocation as a parse failure, so the
 * reader called a good line "malformed JSON" (CD_ERR_INPUT) when memory ran
 * out, and a run with --on-error skip lost the record without saying why.
 * The reader now returns CD_ERR_NOMEM, "out of memory". */
static void test_json_allocation_failure_is_out_of_memory(void **state)
{
    (void)state;
    static const char input[] = "{\"id\":\"a\",\"text\":\"one two three\",\"title\":\"t\"}\n";
    const char *path = write_file("one.jsonl", input, sizeof input - 1);
    int saw_parse_failure = 0;
    for (long fail_at = 1; fail_at < 200; fail_at++) {
        counting_alloc_start(fail_at, 0);
        cd_reader *r = NULL;
        char err[512];
        cd_status st = cd_reader_open(path, NULL, &r, err, sizeof err);
        if (st == CD_OK) {
            cd_record rec;
            st = cd_reader_next(r, &rec);
            if (st == CD_ERR_NOMEM) {
                assert_non_null(strstr(cd_reader_errmsg(r), ":1: out of memory"));
                saw_parse_failure |= counting_alloc_count() == fail_at;
            } else {
                assert_int_equal(st, CD_OK); /* never CD_ERR_INPUT */
            }
            cd_reader_free(r);
        }
        counting_alloc_stop();
        if (counting_alloc_count() < fail_at)
            break; /* nothing failed: every allocation has been tried */
    }
    assert_true(saw_parse_failure);
    unlink(path);
}

/* fuzz_extract: decoding a page from a charset (cd_article_text) printed
 * "encoding error : input conversion failed ..." on stderr for each byte
 * the charset does not define: libxml2 reports them to its generic error
 * handler. The engine never prints; the bytes become U+FFFD. */
static void test_charset_errors_are_not_printed(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/stderr.txt", tmpdir);
    fflush(stderr);
    int saved = dup(2);
    FILE *capture = fopen(path, "w+");
    assert_non_null(capture);
    assert_true(saved >= 0 && dup2(fileno(capture), 2) == 2);

    static const char page[] = "<html><body><p>\x8f\x64\x3e\x79 and \xff\xfe\x80 bytes</p></body></html>";
    static const char *const charsets[] = {"shift_jis", "gb18030", "koi8-r", "utf-16", "ascii"};
    for (size_t i = 0; i < sizeof charsets / sizeof charsets[0]; i++) {
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(cd_article_text(page, sizeof page - 1, charsets[i], &text, &len), CD_OK);
        assert_non_null(text);
        cd_text_free(text);
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    struct stat st;
    assert_int_equal(fstat(fileno(capture), &st), 0);
    long printed = (long)st.st_size;
    fclose(capture);
    unlink(path);
    assert_int_equal(printed, 0);
}

/* fuzz_dedup (UBSan): with boilerplate learning on, a document without
 * lines (an empty text) made dedup.c copy its zero lines with
 * memcpy(dst, NULL, 0), which is undefined behaviour. Runs clean under the
 * sanitizer build. */
static void test_empty_document_with_boilerplate(void **state)
{
    (void)state;
    cd_params p;
    cd_params_init(&p);
    p.threads = 1;
    p.boilerplate = 1;
    cd_dedup *d = NULL;
    assert_int_equal(cd_dedup_create(&p, &d), CD_OK);
    cd_doc docs[3] = {
        {.id = {"a", 1}, .text = {"", 0}},
        {.id = {"b", 1}, .text = {"some text here", 14}},
        {.id = {"c", 1}, .text = {NULL, 0}},
    };
    cd_status statuses[3];
    assert_int_equal(cd_dedup_add(d, docs, 3, statuses), CD_OK);
    assert_int_equal(cd_dedup_run(d), CD_OK);
    assert_int_equal(cd_dedup_count(d), 3);
    cd_dedup_free(d);
}

/* fuzz_json: the reader's JSON fast path (read_json.c) gave a key's first
 * value to the first field of that name only, so with two fields named
 * alike (--id-field text) and the key twice in a line, the second field got
 * the second value where cJSON, and the reader without the fast path, give
 * the first. */
static void test_two_fields_with_one_name(void **state)
{
    (void)state;
    static const char input[] = "{\"text\":\"first\",\"id\":\"x\",\"text\":\"second\"}\n";
    const char *path = write_file("twice.jsonl", input, sizeof input - 1);
    cd_read_options o;
    cd_read_options_init(&o);
    o.id_field = "text";
    o.title_field = "text";
    cd_reader *r = NULL;
    char err[512];
    assert_int_equal(cd_reader_open(path, &o, &r, err, sizeof err), CD_OK);
    cd_record rec;
    assert_int_equal(cd_reader_next(r, &rec), CD_OK);
    const cd_str fields[] = {rec.doc.id, rec.doc.text, rec.doc.title};
    for (int f = 0; f < 3; f++) {
        assert_int_equal(fields[f].len, 5);
        assert_memory_equal(fields[f].ptr, "first", 5);
    }
    cd_reader_free(r);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zstd_ending_on_a_chunk_boundary),
        cmocka_unit_test(test_nul_characters_are_bad_input),
        cmocka_unit_test(test_deep_nesting_has_its_own_message),
        cmocka_unit_test(test_json_allocation_failure_is_out_of_memory),
        cmocka_unit_test(test_charset_errors_are_not_printed),
        cmocka_unit_test(test_empty_document_with_boilerplate),
        cmocka_unit_test(test_two_fields_with_one_name),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
