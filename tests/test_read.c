/* test_read.c: tests of the reader stage (read.c, read_stream.c): line
 * splitting, BOM, blank lines, limits, gzip/zstd by magic bytes (members,
 * frames, truncation, corruption), JSON field rules, messages, stdin, and
 * failure of every allocation in turn. Fixtures are written to a temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "copydesk/copydesk.h"
#include "support.h"

/* ------------------------------------------------------------- fixtures */

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/copydesk-read-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

/* The fixtures are plain files in one flat directory. */
static int teardown_dir(void **state)
{
    (void)state;
    DIR *dir = opendir(tmpdir);
    if (!dir)
        return -1;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    closedir(dir);
    return rmdir(tmpdir);
}

/* A growable byte buffer for building fixtures. */
typedef struct bytes {
    unsigned char *data;
    size_t len, cap;
} bytes;

static void bytes_add(bytes *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + len)
            cap *= 2;
        b->data = realloc(b->data, cap);
        assert_non_null(b->data);
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void bytes_str(bytes *b, const char *s)
{
    bytes_add(b, s, strlen(s));
}

/* Writes a fixture file and returns its path (static storage, one of 8). */
static const char *write_file(const char *name, const void *data, size_t len)
{
    static char paths[8][512];
    static int next;
    char *path = paths[next++ % 8];
    snprintf(path, 512, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static const char *write_text(const char *name, const char *text)
{
    return write_file(name, text, strlen(text));
}

static bytes gzip_bytes(const void *data, size_t len)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    bytes out = {0};
    out.cap = deflateBound(&z, len);
    out.data = malloc(out.cap);
    assert_non_null(out.data);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = out.data;
    z.avail_out = (uInt)out.cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.len = out.cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static bytes zstd_bytes(const void *data, size_t len)
{
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    assert_non_null(cctx);
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)));
    bytes out = {0};
    out.cap = ZSTD_compressBound(len);
    out.data = malloc(out.cap);
    assert_non_null(out.data);
    size_t n = ZSTD_compress2(cctx, out.data, out.cap, data, len);
    assert_false(ZSTD_isError(n));
    out.len = n;
    ZSTD_freeCCtx(cctx);
    return out;
}

static cd_reader *open_ok(const char *path, const cd_read_options *options)
{
    char err[512] = "";
    cd_reader *r = NULL;
    cd_status st = cd_reader_open(path, options, &r, err, sizeof err);
    if (st != CD_OK)
        fail_msg("cd_reader_open(%s): %s: %s", path, cd_strerror(st), err);
    return r;
}

static void expect_str(cd_str s, const char *want)
{
    if (want == NULL) {
        assert_null(s.ptr);
        assert_int_equal(s.len, 0);
        return;
    }
    assert_non_null(s.ptr);
    assert_int_equal(s.len, strlen(want));
    assert_memory_equal(s.ptr, want, s.len);
}

/* Reads one record with cd_reader_next and checks status and line. */
static void expect_next(cd_reader *r, cd_record *rec, cd_status want, uint64_t line)
{
    cd_status st = cd_reader_next(r, rec);
    if (st != want)
        fail_msg("got %s, want %s (%s)", cd_strerror(st), cd_strerror(want), cd_reader_errmsg(r));
    assert_int_equal(rec->line, line);
}

static void expect_errmsg(cd_reader *r, const char *path, const char *format, ...)
{
    char tail[512], want[1024];
    va_list ap;
    va_start(ap, format);
    vsnprintf(tail, sizeof tail, format, ap);
    va_end(ap);
    snprintf(want, sizeof want, "%s:%s", path, tail);
    assert_string_equal(cd_reader_errmsg(r), want);
}

/* ------------------------------------------------------ reference lines */

/* What the reader should produce for content, computed the obvious way:
 * status, line number and raw bytes of each non-blank line. */
typedef struct expected_line {
    cd_status status;
    uint64_t line;
    const unsigned char *raw;
    size_t len;
} expected_line;

static size_t reference_lines(const unsigned char *p, size_t len, size_t max, expected_line **out)
{
    size_t n = 0, cap = 64;
    expected_line *v = malloc(cap * sizeof *v);
    assert_non_null(v);
    size_t pos = 0;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    uint64_t line = 0;
    while (pos < len) {
        const unsigned char *nl = memchr(p + pos, '\n', len - pos);
        size_t seg = nl ? (size_t)(nl - (p + pos)) : len - pos;
        line++;
        int blank = 1;
        for (size_t i = 0; i < seg; i++)
            if (p[pos + i] != ' ' && p[pos + i] != '\t' && p[pos + i] != '\r')
                blank = 0;
        if (seg > max || !blank) {
            if (n == cap) {
                cap *= 2;
                v = realloc(v, cap * sizeof *v);
                assert_non_null(v);
            }
            v[n++] = (expected_line){seg > max ? CD_ERR_LIMIT : CD_OK, line,
                                     seg > max ? NULL : p + pos, seg > max ? 0 : seg};
        }
        pos += seg + 1;
    }
    *out = v;
    return n;
}

/* Reads path with cd_reader_next_line and compares with the reference. */
static void expect_lines(const char *path, const unsigned char *content, size_t len, size_t max)
{
    expected_line *want;
    size_t n = reference_lines(content, len, max, &want);
    cd_read_options o;
    cd_read_options_init(&o);
    o.max_doc_bytes = max;
    cd_reader *r = open_ok(path, &o);
    cd_record rec;
    for (size_t i = 0; i < n; i++) {
        cd_status st = cd_reader_next_line(r, &rec);
        if (st != want[i].status)
            fail_msg("line %zu: got %s, want %s (%s)", (size_t)want[i].line, cd_strerror(st),
                     cd_strerror(want[i].status), cd_reader_errmsg(r));
        assert_int_equal(rec.line, want[i].line);
        assert_int_equal(rec.raw.len, want[i].len);
        if (want[i].len)
            assert_memory_equal(rec.raw.ptr, want[i].raw, want[i].len);
        expect_str(rec.doc.text, NULL);
    }
    assert_int_equal(cd_reader_next_line(r, &rec), CD_END);
    assert_int_equal(cd_reader_next_line(r, &rec), CD_END);
    cd_reader_free(r);
    free(want);
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* About 4 MiB of JSONL: BOM, short and long lines, CRLF, blank lines, two
 * lines over 1 MiB (so lines cross the reader's 1 MiB chunks), no final
 * newline. */
static bytes big_corpus(void)
{
    bytes b = {0};
    bytes_str(&b, "\xEF\xBB\xBF");
    char buf[128];
    for (int i = 0; i < 4000; i++) {
        snprintf(buf, sizeof buf, "{\"id\":%d,\"text\":\"", i);
        bytes_str(&b, buf);
        size_t words = rng() % (i % 1000 == 999 ? 200000 : 120);
        for (size_t w = 0; w < words; w++)
            bytes_str(&b, (rng() & 1) ? "wire " : "story ");
        bytes_str(&b, "\"}");
        switch (rng() % 8) {
        case 0:
            bytes_str(&b, "\r\n");
            break;
        case 1:
            bytes_str(&b, "\n \t\n");
            break;
        default:
            bytes_str(&b, "\n");
            break;
        }
    }
    bytes_str(&b, "{\"text\":\"last\"}");
    return b;
}

/* ---------------------------------------------------------------- tests */

static void test_options_defaults(void **state)
{
    (void)state;
    cd_read_options o;
    cd_read_options_init(&o);
    assert_string_equal(o.id_field, "id");
    assert_string_equal(o.text_field, "text");
    assert_string_equal(o.title_field, "title");
    assert_string_equal(o.date_field, "date");
    assert_string_equal(o.source_field, "source");
    assert_string_equal(o.url_field, "url");
    assert_int_equal(o.max_doc_bytes, 16u << 20);
}

static void test_plain_fields(void **state)
{
    (void)state;
    const char *path = write_text(
        "fields.jsonl",
        "\xEF\xBB\xBF{\"id\":\"a1\",\"text\":\"Body one\",\"title\":\"T\",\"date\":\"2026-11-27\","
        "\"source\":\"AP\",\"url\":\"https://x/1\"}\r\n"
        "\n"
        "   \t\r\n"
        "{\"text\":\"no id\",\"title\":7,\"date\":null,\"extra\":[1,2]}\n"
        "{\"id\":42,\"text\":\"\"}\n"
        "{\"id\":1.5,\"text\":\"x\"}\n"
        "{\"id\":-7,\"text\":\"x\"}\n"
        "{\"id\":0.1,\"text\":\"x\"}\n"
        "{\"id\":1e3,\"text\":\"x\"}\n"
        "{\"id\":1e300,\"text\":\"x\"}\n"
        "  {\"text\":\"last, no newline\"}  ");
    cd_reader *r = open_ok(path, NULL);
    assert_string_equal(cd_reader_path(r), path);
    cd_record rec;

    expect_next(r, &rec, CD_OK, 1);
    const char *line1 =
        "{\"id\":\"a1\",\"text\":\"Body one\",\"title\":\"T\",\"date\":\"2026-11-27\","
        "\"source\":\"AP\",\"url\":\"https://x/1\"}\r";
    expect_str(rec.raw, line1); /* BOM dropped, '\r' kept */
    expect_str(rec.doc.id, "a1");
    expect_str(rec.doc.text, "Body one");
    expect_str(rec.doc.title, "T");
    expect_str(rec.doc.date, "2026-11-27");
    expect_str(rec.doc.source, "AP");
    expect_str(rec.doc.url, "https://x/1");

    expect_next(r, &rec, CD_OK, 4); /* blank lines 2 and 3 counted, skipped */
    expect_str(rec.doc.id, NULL);
    expect_str(rec.doc.text, "no id");
    expect_str(rec.doc.title, NULL); /* not a string: ignored */
    expect_str(rec.doc.date, NULL);  /* null */
    expect_str(rec.doc.source, NULL);
    expect_str(rec.doc.url, NULL);

    expect_next(r, &rec, CD_OK, 5);
    expect_str(rec.doc.id, "42");
    expect_str(rec.doc.text, "");
    expect_next(r, &rec, CD_OK, 6);
    expect_str(rec.doc.id, "1.5");
    expect_next(r, &rec, CD_OK, 7);
    expect_str(rec.doc.id, "-7");
    expect_next(r, &rec, CD_OK, 8);
    expect_str(rec.doc.id, "0.1");
    expect_next(r, &rec, CD_OK, 9);
    expect_str(rec.doc.id, "1000");
    expect_next(r, &rec, CD_OK, 10);
    expect_str(rec.doc.id, "1e+300");
    expect_next(r, &rec, CD_OK, 11);
    expect_str(rec.raw, "  {\"text\":\"last, no newline\"}  ");
    expect_str(rec.doc.text, "last, no newline");
    expect_next(r, &rec, CD_END, 0);
    expect_next(r, &rec, CD_END, 0);
    cd_reader_free(r);
}

static void test_custom_field_names(void **state)
{
    (void)state;
    char idf[] = "guid", textf[] = "body";
    cd_read_options o;
    cd_read_options_init(&o);
    o.id_field = idf;
    o.text_field = textf;
    o.title_field = NULL; /* not read */
    const char *path =
        write_text("custom.jsonl", "{\"guid\":\"g\",\"body\":\"b\",\"title\":\"t\",\"text\":5}\n"
                                   "{\"guid\":\"g2\",\"text\":\"t\"}\n");
    cd_reader *r = open_ok(path, &o);
    idf[0] = textf[0] = 'X'; /* the reader keeps its own copies */
    cd_record rec;
    expect_next(r, &rec, CD_OK, 1);
    expect_str(rec.doc.id, "g");
    expect_str(rec.doc.text, "b");
    expect_str(rec.doc.title, NULL);
    expect_next(r, &rec, CD_ERR_INPUT, 2);
    expect_errmsg(r, path, "2: field \"body\" is missing");
    cd_reader_free(r);
}

static void test_bad_records(void **state)
{
    (void)state;
    const char *path =
        write_text("bad.jsonl", "{\"text\": }\n"                 /* 1 malformed */
                                "{\"text\":\"ok\"}\n"            /* 2 */
                                "{\"title\":\"no text\"}\n"      /* 3 missing */
                                "{\"text\":[\"a\"]}\n"           /* 4 not a string */
                                "{\"text\":null}\n"              /* 5 not a string */
                                "[{\"text\":\"a\"}]\n"           /* 6 not an object */
                                "{\"text\":\"a\",\"id\":true}\n" /* 7 bad id */
                                "{\"text\":\"a\",\"id\":null}\n" /* 8 bad id */
                                "{\"text\":\"a\",\"id\":{}}\n"   /* 9 bad id */
                                "{\"text\":\"a\"} trailing\n"    /* 10 text after the object */
                                "{\"text\":\"a\"}\r\n"           /* 11 ok */
                                "{\"text\":\"unterminated\n"     /* 12 malformed */
                                "\"just a string\"\n"            /* 13 not an object */
                                "{\"text\":\"end\"}\n");         /* 14 ok */
    cd_reader *r = open_ok(path, NULL);
    cd_record rec;

    expect_next(r, &rec, CD_ERR_INPUT, 1);
    expect_str(rec.raw, "{\"text\": }");
    expect_str(rec.doc.text, NULL);
    expect_errmsg(r, path, "1: malformed JSON (at byte 10)");
    expect_next(r, &rec, CD_OK, 2);
    expect_str(rec.doc.text, "ok");
    expect_next(r, &rec, CD_ERR_INPUT, 3);
    expect_errmsg(r, path, "3: field \"text\" is missing");
    expect_next(r, &rec, CD_ERR_INPUT, 4);
    expect_errmsg(r, path, "4: field \"text\" is not a string");
    expect_next(r, &rec, CD_ERR_INPUT, 5);
    expect_errmsg(r, path, "5: field \"text\" is not a string");
    expect_next(r, &rec, CD_ERR_INPUT, 6);
    expect_errmsg(r, path, "6: not a JSON object");
    expect_next(r, &rec, CD_ERR_INPUT, 7);
    expect_errmsg(r, path, "7: field \"id\" is not a string or a number");
    expect_str(rec.doc.id, NULL);
    expect_next(r, &rec, CD_ERR_INPUT, 8);
    expect_next(r, &rec, CD_ERR_INPUT, 9);
    expect_next(r, &rec, CD_ERR_INPUT, 10);
    expect_errmsg(r, path, "10: malformed JSON (text after the value at byte 14)");
    expect_next(r, &rec, CD_OK, 11);
    expect_next(r, &rec, CD_ERR_INPUT, 12);
    assert_non_null(strstr(cd_reader_errmsg(r), ":12: malformed JSON (at byte "));
    expect_next(r, &rec, CD_ERR_INPUT, 13);
    expect_next(r, &rec, CD_OK, 14);
    expect_str(rec.doc.text, "end");
    expect_next(r, &rec, CD_END, 0);
    cd_reader_free(r);
}

static void test_line_limit(void **state)
{
    (void)state;
    bytes b = {0};
    bytes_str(&b, "{\"text\":\"short\"}\n");
    bytes_str(&b, "{\"text\":\"");
    for (int i = 0; i < 240; i++)
        bytes_str(&b, "x");
    bytes_str(&b, "\"}\n"); /* line 2: 251 bytes */
    bytes_str(&b, "{\"text\":\"after\"}\n");
    char exact[101];
    memset(exact, ' ', 100);
    memcpy(exact, "{\"text\":\"fits\"}", 15);
    exact[100] = '\0';
    bytes_str(&b, exact); /* line 4: exactly 100 bytes */
    bytes_str(&b, "\n");
    bytes_str(&b, exact);
    bytes_str(&b, " \n"); /* line 5: one byte over */
    for (int i = 0; i < 150; i++)
        bytes_str(&b, "y"); /* line 6: over, no final newline */
    const char *path = write_file("limit.jsonl", b.data, b.len);

    cd_read_options o;
    cd_read_options_init(&o);
    o.max_doc_bytes = 100;
    cd_reader *r = open_ok(path, &o);
    cd_record rec;
    expect_next(r, &rec, CD_OK, 1);
    expect_next(r, &rec, CD_ERR_LIMIT, 2);
    assert_int_equal(rec.raw.len, 0);
    expect_errmsg(r, path, "2: line is 251 bytes, over --max-doc-bytes (100)");
    expect_next(r, &rec, CD_OK, 3);
    expect_str(rec.doc.text, "after");
    expect_next(r, &rec, CD_OK, 4);
    expect_str(rec.doc.text, "fits");
    assert_int_equal(rec.raw.len, 100);
    expect_next(r, &rec, CD_ERR_LIMIT, 5);
    expect_errmsg(r, path, "5: line is 101 bytes, over --max-doc-bytes (100)");
    expect_next(r, &rec, CD_ERR_LIMIT, 6);
    expect_errmsg(r, path, "6: line is 150 bytes, over --max-doc-bytes (100)");
    expect_next(r, &rec, CD_END, 0);
    cd_reader_free(r);

    o.max_doc_bytes = 0;
    char err[256];
    assert_int_equal(cd_reader_open(path, &o, &r, err, sizeof err), CD_ERR_ARG);
    assert_null(r);
    free(b.data);
}

static void test_big_plain_gzip_zstd(void **state)
{
    (void)state;
    bytes plain = big_corpus();
    const char *path = write_file("big.jsonl", plain.data, plain.len);
    expect_lines(path, plain.data, plain.len, 16u << 20);
    expect_lines(path, plain.data, plain.len, 3000); /* the 1 MiB lines go over */

    bytes gz = gzip_bytes(plain.data, plain.len);
    path = write_file("big.jsonl.gz", gz.data, gz.len);
    expect_lines(path, plain.data, plain.len, 16u << 20);
    expect_lines(path, plain.data, plain.len, 3000);
    path = write_file("big-gzip-named.zst", gz.data, gz.len); /* magic, not name */
    expect_lines(path, plain.data, plain.len, 16u << 20);

    bytes zs = zstd_bytes(plain.data, plain.len);
    path = write_file("big.jsonl.zst", zs.data, zs.len);
    expect_lines(path, plain.data, plain.len, 16u << 20);
    expect_lines(path, plain.data, plain.len, 3000);
    free(gz.data);
    free(zs.data);
    free(plain.data);
}

static void test_gzip_members_and_zstd_frames(void **state)
{
    (void)state;
    const char *a = "{\"text\":\"one\"}\n{\"text\":\"two\"}\n{\"text\":\"thr";
    const char *b = "ee\"}\n\n{\"text\":\"four\"}\n";
    const char *c = "";
    const char *d = "{\"text\":\"five\"}";
    bytes all = {0};
    bytes_str(&all, a);
    bytes_str(&all, b);
    bytes_str(&all, c);
    bytes_str(&all, d);

    bytes gz = {0};
    bytes zs = {0};
    /* A zstd skippable frame first, as pzstd writes. */
    const unsigned char skippable[] = {0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'a', 'b', 'c'};
    bytes_add(&zs, skippable, sizeof skippable);
    const char *parts[] = {a, b, c, d};
    for (int i = 0; i < 4; i++) {
        bytes g = gzip_bytes(parts[i], strlen(parts[i]));
        bytes_add(&gz, g.data, g.len);
        free(g.data);
        bytes z = zstd_bytes(parts[i], strlen(parts[i]));
        bytes_add(&zs, z.data, z.len);
        free(z.data);
    }
    const char *path = write_file("members.jsonl.gz", gz.data, gz.len);
    expect_lines(path, all.data, all.len, 1000);
    path = write_file("frames.jsonl.zst", zs.data, zs.len);
    expect_lines(path, all.data, all.len, 1000);

    cd_reader *r = open_ok(path, NULL);
    cd_record rec;
    expect_next(r, &rec, CD_OK, 1);
    expect_next(r, &rec, CD_OK, 2);
    expect_next(r, &rec, CD_OK, 3);
    expect_str(rec.doc.text, "three");
    expect_next(r, &rec, CD_OK, 5);
    expect_next(r, &rec, CD_OK, 6);
    expect_str(rec.doc.text, "five");
    expect_next(r, &rec, CD_END, 0);
    cd_reader_free(r);
    free(gz.data);
    free(zs.data);
    free(all.data);
}

/* Reads path to the end or a stop; returns the last status. */
static cd_status drain(const char *path, size_t *ok_count, char *msg, size_t msg_size)
{
    cd_reader *r = open_ok(path, NULL);
    cd_record rec;
    cd_status st;
    size_t ok = 0, calls = 0;
    while ((st = cd_reader_next(r, &rec)) == CD_OK || st == CD_ERR_INPUT || st == CD_ERR_LIMIT) {
        ok += st == CD_OK;
        assert_true(++calls < 1000000); /* never loops forever */
    }
    snprintf(msg, msg_size, "%s", cd_reader_errmsg(r));
    if (st != CD_END) /* a stop is sticky */
        assert_int_equal(cd_reader_next(r, &rec), st);
    cd_reader_free(r);
    if (ok_count)
        *ok_count = ok;
    return st;
}

static void test_truncated(void **state)
{
    (void)state;
    bytes plain = {0};
    for (int i = 0; i < 300; i++) {
        char line[64];
        snprintf(line, sizeof line, "{\"id\":%d,\"text\":\"line %d of the story\"}\n", i, i);
        bytes_str(&plain, line);
    }
    bytes gz = gzip_bytes(plain.data, plain.len);
    bytes zs = zstd_bytes(plain.data, plain.len);
    char msg[1024], want[1024];

    /* Cut in half: the lines before the cut, then a clear stop. */
    const char *path = write_file("half.jsonl.gz", gz.data, gz.len / 2);
    size_t ok;
    assert_int_equal(drain(path, &ok, msg, sizeof msg), CD_ERR_FORMAT);
    assert_true(ok < 300);
    snprintf(want, sizeof want, "%s:%zu: truncated gzip stream", path, ok + 1);
    assert_string_equal(msg, want);

    path = write_file("half.jsonl.zst", zs.data, zs.len / 2);
    assert_int_equal(drain(path, &ok, msg, sizeof msg), CD_ERR_FORMAT);
    assert_true(ok < 300);
    snprintf(want, sizeof want, "%s:%zu: truncated zstd stream", path, ok + 1);
    assert_string_equal(msg, want);

    /* Every cut of the compressed bytes stops with CD_ERR_FORMAT. */
    for (size_t cut = 2; cut < gz.len; cut++) {
        path = write_file("cut.gz", gz.data, cut);
        if (drain(path, NULL, msg, sizeof msg) != CD_ERR_FORMAT)
            fail_msg("gzip cut at %zu: %s", cut, msg);
    }
    for (size_t cut = 4; cut < zs.len; cut++) {
        path = write_file("cut.zst", zs.data, cut);
        if (drain(path, NULL, msg, sizeof msg) != CD_ERR_FORMAT)
            fail_msg("zstd cut at %zu: %s", cut, msg);
    }
    /* The full files read to the end. */
    path = write_file("full.gz", gz.data, gz.len);
    assert_int_equal(drain(path, &ok, msg, sizeof msg), CD_END);
    assert_int_equal(ok, 300);
    free(plain.data);
    free(gz.data);
    free(zs.data);
}

static void test_corrupt(void **state)
{
    (void)state;
    bytes plain = {0};
    for (int i = 0; i < 200; i++) {
        char line[64];
        snprintf(line, sizeof line, "{\"id\":%d,\"text\":\"corrupt %d\"}\n", i, i * 7);
        bytes_str(&plain, line);
    }
    bytes gz = gzip_bytes(plain.data, plain.len);
    bytes zs = zstd_bytes(plain.data, plain.len);
    char msg[1024];

    bytes bad = {0};
    bytes_add(&bad, gz.data, gz.len);
    bad.data[gz.len / 2] ^= 0x55;
    const char *path = write_file("bad.jsonl.gz", bad.data, bad.len);
    assert_int_equal(drain(path, NULL, msg, sizeof msg), CD_ERR_FORMAT);
    assert_non_null(strstr(msg, ": corrupt gzip stream: "));

    bad.len = 0;
    bytes_add(&bad, zs.data, zs.len);
    bad.data[zs.len / 2] ^= 0x55;
    path = write_file("bad.jsonl.zst", bad.data, bad.len);
    assert_int_equal(drain(path, NULL, msg, sizeof msg), CD_ERR_FORMAT);
    assert_non_null(strstr(msg, ": corrupt zstd stream: "));

    /* Garbage after a complete gzip member. */
    bad.len = 0;
    bytes_add(&bad, gz.data, gz.len);
    bytes_str(&bad, "garbage");
    path = write_file("trailing.jsonl.gz", bad.data, bad.len);
    size_t ok;
    assert_int_equal(drain(path, &ok, msg, sizeof msg), CD_ERR_FORMAT);
    assert_int_equal(ok, 200);

    /* Any one flipped byte: no crash, no endless loop, a clean ending. The
     * gzip header's time and OS bytes are not checked, so END is allowed. */
    for (size_t i = 0; i < gz.len; i++) {
        bad.len = 0;
        bytes_add(&bad, gz.data, gz.len);
        bad.data[i] ^= 0xa5;
        path = write_file("flip.gz", bad.data, bad.len);
        cd_status st = drain(path, NULL, msg, sizeof msg);
        assert_true(st == CD_ERR_FORMAT || st == CD_END);
        if (i >= 10)
            assert_int_equal(st, CD_ERR_FORMAT); /* body or trailer: checked by CRC */
    }
    for (size_t i = 4; i < zs.len; i++) {
        bad.len = 0;
        bytes_add(&bad, zs.data, zs.len);
        bad.data[i] ^= 0xa5;
        path = write_file("flip.zst", bad.data, bad.len);
        cd_status st = drain(path, NULL, msg, sizeof msg);
        assert_true(st == CD_ERR_FORMAT || st == CD_END);
    }
    free(bad.data);
    free(plain.data);
    free(gz.data);
    free(zs.data);
}

static void test_open_errors(void **state)
{
    (void)state;
    char err[1024], want[1024];
    cd_reader *r = (cd_reader *)&err; /* must be reset to NULL */
    /* A directory is read in directory mode (test_directory_file_with_nul);
     * this one holds no .html, .htm or .txt file. */
    assert_int_equal(cd_reader_open(tmpdir, NULL, &r, err, sizeof err), CD_ERR_IO);
    assert_null(r);
    snprintf(want, sizeof want, "%s: is a directory without .html, .htm or .txt files", tmpdir);
    assert_string_equal(err, want);

    char missing[512];
    snprintf(missing, sizeof missing, "%s/no-such-file.jsonl", tmpdir);
    r = (cd_reader *)&err;
    assert_int_equal(cd_reader_open(missing, NULL, &r, err, sizeof err), CD_ERR_IO);
    assert_null(r);
    snprintf(want, sizeof want, "%s: No such file or directory", missing);
    assert_string_equal(err, want);

    /* err_size 0: nothing written. */
    strcpy(err, "untouched");
    assert_int_equal(cd_reader_open(missing, NULL, &r, err, 0), CD_ERR_IO);
    assert_string_equal(err, "untouched");

    /* Short or empty files are plain, whatever their first bytes. */
    const char *path = write_file("empty.jsonl", "", 0);
    r = open_ok(path, NULL);
    cd_record rec;
    expect_next(r, &rec, CD_END, 0);
    cd_reader_free(r);
    path = write_file("bom-only.jsonl", "\xEF\xBB\xBF", 3);
    expect_lines(path, (const unsigned char *)"\xEF\xBB\xBF", 3, 100);
    path = write_file("one-byte.jsonl", "\x1f", 1);
    r = open_ok(path, NULL);
    expect_next(r, &rec, CD_ERR_INPUT, 1);
    cd_reader_free(r);
    cd_reader_free(NULL);
}

static void test_next_line_numbering(void **state)
{
    (void)state;
    const char *text =
        "\n{\"text\":\"a\"}\n  \n{bad json\n"
        "{\"text\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n"
        "{\"id\":true,\"text\":\"b\"}\r\n\r\n{\"text\":\"c\"}";
    bytes gz = gzip_bytes(text, strlen(text));
    const char *path = write_file("numbering.jsonl.gz", gz.data, gz.len);
    cd_read_options o;
    cd_read_options_init(&o);
    o.max_doc_bytes = 40;
    cd_reader *a = open_ok(path, &o);
    cd_reader *b = open_ok(path, &o);
    cd_record ra, rb;
    uint64_t want_lines[] = {2, 4, 5, 6, 8};
    cd_status want_a[] = {CD_OK, CD_ERR_INPUT, CD_ERR_LIMIT, CD_ERR_INPUT, CD_OK};
    cd_status want_b[] = {CD_OK, CD_OK, CD_ERR_LIMIT, CD_OK, CD_OK};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(cd_reader_next(a, &ra), want_a[i]);
        assert_int_equal(cd_reader_next_line(b, &rb), want_b[i]);
        assert_int_equal(ra.line, want_lines[i]);
        assert_int_equal(rb.line, want_lines[i]);
        assert_int_equal(ra.raw.len, rb.raw.len);
        if (ra.raw.len)
            assert_memory_equal(ra.raw.ptr, rb.raw.ptr, ra.raw.len);
    }
    assert_int_equal(cd_reader_next(a, &ra), CD_END);
    assert_int_equal(cd_reader_next_line(b, &rb), CD_END);
    cd_reader_free(a);
    cd_reader_free(b);
    free(gz.data);
}

/* Directory mode: a file holding a NUL byte is bad input, as a JSONL line
 * holding one is (it used to be cut at the NUL); the next file goes on, and
 * cd_reader_next_line, which never rejects, numbers the files the same. */
static void test_directory_file_with_nul(void **state)
{
    (void)state;
    char dir[512], path[3][600];
    snprintf(dir, sizeof dir, "%s/nul-pages", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    static const char *const names[] = {"a.txt", "b.txt", "c.txt"};
    static const char content[3][16] = {"before", "cut \0 short", "after"};
    static const size_t lengths[] = {6, 12, 5};
    for (int i = 0; i < 3; i++) {
        snprintf(path[i], sizeof path[i], "%s/%s", dir, names[i]);
        FILE *f = fopen(path[i], "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(content[i], 1, lengths[i], f), lengths[i]);
        assert_int_equal(fclose(f), 0);
    }
    cd_reader *r = open_ok(dir, NULL);
    cd_record rec;
    expect_next(r, &rec, CD_OK, 1);
    expect_str(rec.doc.text, "before");
    expect_next(r, &rec, CD_ERR_INPUT, 2);
    char want[700];
    snprintf(want, sizeof want,
             "%s: NUL byte at byte 5: documents may not contain NUL characters", path[1]);
    assert_string_equal(cd_reader_errmsg(r), want);
    expect_next(r, &rec, CD_OK, 3);
    expect_str(rec.doc.id, path[2]);
    expect_str(rec.doc.text, "after");
    assert_int_equal(cd_reader_next(r, &rec), CD_END);
    cd_reader_free(r);

    r = open_ok(dir, NULL);
    for (uint64_t line = 1; line <= 3; line++) {
        assert_int_equal(cd_reader_next_line(r, &rec), CD_OK);
        assert_int_equal(rec.line, line);
    }
    assert_int_equal(cd_reader_next_line(r, &rec), CD_END);
    cd_reader_free(r);
    for (int i = 0; i < 3; i++)
        assert_int_equal(unlink(path[i]), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* Runs body with fd as stdin, then restores stdin. */
static void with_stdin(int fd, void (*body)(const void *), const void *arg)
{
    int saved = dup(STDIN_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDIN_FILENO) >= 0);
    close(fd);
    body(arg);
    assert_true(dup2(saved, STDIN_FILENO) >= 0);
    close(saved);
}

static void read_stdin_story(const void *arg)
{
    (void)arg;
    cd_reader *r = open_ok("-", NULL);
    assert_string_equal(cd_reader_path(r), "<stdin>");
    cd_record rec;
    expect_next(r, &rec, CD_OK, 1);
    expect_str(rec.doc.text, "from stdin");
    expect_next(r, &rec, CD_ERR_INPUT, 2);
    assert_string_equal(cd_reader_errmsg(r), "<stdin>:2: field \"text\" is missing");
    expect_next(r, &rec, CD_END, 0);
    cd_reader_free(r);
}

static void test_stdin(void **state)
{
    (void)state;
    const char *text = "{\"text\":\"from stdin\"}\n{\"id\":1}\n";
    bytes gz = gzip_bytes(text, strlen(text));
    const char *path = write_file("stdin.jsonl.gz", gz.data, gz.len);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    with_stdin(fd, read_stdin_story, NULL);
    assert_true(fcntl(STDIN_FILENO, F_GETFD) >= 0); /* stdin was not closed */

    /* A pipe that delivers the magic one byte at a time. */
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        for (size_t i = 0; i < gz.len; i++) {
            if (write(p[1], gz.data + i, 1) != 1)
                _exit(1);
            if (i < 6)
                usleep(2000);
        }
        _exit(0);
    }
    close(p[1]);
    with_stdin(p[0], read_stdin_story, NULL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    free(gz.data);
}

/* ----------------------------------------------------- allocation faults */

/* Reads path fully, failing allocation number fail_at (0 = none). Returns
 * 1 when no allocation failed. Checks: a failed allocation always shows as
 * a status (never silent), nothing leaks, and no crash. */
static int run_with_failure(const char *path, const cd_read_options *o, long fail_at,
                            size_t *ok_out)
{
    counting_alloc_start(fail_at, 0);

    char err[512] = "";
    cd_reader *r = NULL;
    cd_status st = cd_reader_open(path, o, &r, err, sizeof err);
    size_t ok = 0, errors = 0;
    if (st == CD_OK) {
        cd_record rec;
        while ((st = cd_reader_next(r, &rec)) != CD_END) {
            if (st == CD_OK)
                ok++;
            else if (st == CD_ERR_INPUT)
                errors++; /* cJSON reports an allocation failure as a parse failure */
            else
                break;
        }
        if (st != CD_END) {
            assert_int_equal(st, CD_ERR_NOMEM);
            assert_non_null(strstr(cd_reader_errmsg(r), "out of memory"));
        }
        cd_reader_free(r);
    } else {
        assert_int_equal(st, CD_ERR_NOMEM);
        assert_null(r);
        assert_non_null(strstr(err, "out of memory"));
    }
    counting_alloc_stop();
    assert_int_equal(counting_alloc_live(), 0);
    if (counting_alloc_failed())
        assert_true(st == CD_ERR_NOMEM || errors > 0);
    else
        assert_int_equal(errors, 0);
    *ok_out = ok;
    return counting_alloc_failed() == 0;
}

static void test_allocation_failures(void **state)
{
    (void)state;
    bytes plain = {0};
    for (int i = 0; i < 10; i++) {
        char line[96];
        snprintf(line, sizeof line, "{\"id\":%d,\"text\":\"story %d\",\"title\":\"t\"}\n", i, i);
        bytes_str(&plain, line);
    }
    /* A line that crosses the reader's 1 MiB chunk, to use the line buffer. */
    bytes_str(&plain, "{\"text\":\"");
    for (int i = 0; i < (1 << 20) / 8; i++)
        bytes_str(&plain, "longtext");
    bytes_str(&plain, "\"}\n{\"text\":\"after\"}\n");
    bytes gz = gzip_bytes(plain.data, plain.len);
    bytes zs = zstd_bytes(plain.data, plain.len);
    const char *paths[3];
    paths[0] = write_file("oom.jsonl", plain.data, plain.len);
    paths[1] = write_file("oom.jsonl.gz", gz.data, gz.len);
    paths[2] = write_file("oom.jsonl.zst", zs.data, zs.len);

    for (int f = 0; f < 3; f++) {
        size_t ok;
        long n = 1;
        while (!run_with_failure(paths[f], NULL, n, &ok)) {
            assert_true(ok <= 12);
            n++;
            assert_true(n < 100000);
        }
        assert_int_equal(ok, 12); /* no failure: everything read */
        assert_true(n > 3);       /* several allocations were exercised */
    }
    free(plain.data);
    free(gz.data);
    free(zs.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_defaults),
        cmocka_unit_test(test_plain_fields),
        cmocka_unit_test(test_custom_field_names),
        cmocka_unit_test(test_bad_records),
        cmocka_unit_test(test_line_limit),
        cmocka_unit_test(test_big_plain_gzip_zstd),
        cmocka_unit_test(test_gzip_members_and_zstd_frames),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_next_line_numbering),
        cmocka_unit_test(test_directory_file_with_nul),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
