/* fuzz_reader.c: fuzz target for the JSONL reader (read.c over
 * read_stream.c): line splitting, the line-length limit, BOM handling,
 * JSON parsing with cJSON, and gzip / zstd decompression. The first byte
 * chooses how the rest is served: plain, gzip- or zstd-compressed here (so
 * the decoders see real streams), then optionally truncated or with one
 * byte corrupted; and the options (a small --max-doc-bytes, no id field).
 * The bytes go to a memory file (memfd) opened by path, as the CLI does.
 * Oracle: for an intact stream every line the reader returns is exactly
 * the input's line of that number (blank lines skipped, a first BOM
 * dropped, lines over the limit reported as such); for any stream
 * cd_reader_next_line sees the same lines as cd_reader_next; failures are
 * sticky and carry a "FILE:LINE: " message. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "copydesk/copydesk.h"
#include "fuzz.h"

enum { MODE_PLAIN, MODE_GZIP, MODE_ZSTD };

typedef struct line_seen {
    cd_status status;
    uint64_t line;
    size_t offset, len; /* raw bytes in the seen buffer */
} line_seen;

typedef struct reading {
    line_seen *lines;
    size_t count, cap;
    char *bytes;
    size_t bytes_len, bytes_cap;
    cd_status end; /* CD_END or the sticky failure */
} reading;

static void keep_line(reading *r, cd_status st, const cd_record *rec)
{
    if (r->count == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->lines = realloc(r->lines, r->cap * sizeof *r->lines);
        FUZZ_CHECK(r->lines);
    }
    if (r->bytes_len + rec->raw.len > r->bytes_cap) {
        while (r->bytes_len + rec->raw.len > r->bytes_cap)
            r->bytes_cap = r->bytes_cap ? 2 * r->bytes_cap : 4096;
        r->bytes = realloc(r->bytes, r->bytes_cap);
        FUZZ_CHECK(r->bytes);
    }
    if (rec->raw.len)
        memcpy(r->bytes + r->bytes_len, rec->raw.ptr, rec->raw.len);
    r->lines[r->count++] = (line_seen){st, rec->line, r->bytes_len, rec->raw.len};
    r->bytes_len += rec->raw.len;
}

static int is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

/* Reads the whole file with cd_reader_next (parse) or cd_reader_next_line. */
static void read_all(const char *path, const cd_read_options *o, int parse, reading *out)
{
    memset(out, 0, sizeof *out);
    char err[512];
    cd_reader *r = NULL;
    cd_status st = cd_reader_open(path, o, &r, err, sizeof err);
    if (st != CD_OK) {
        /* Only a corrupt compressed header can fail an open of a good path. */
        FUZZ_CHECK(st == CD_ERR_FORMAT && r == NULL && strlen(err) > 0);
        out->end = st;
        return;
    }
    uint64_t last_line = 0;
    for (;;) {
        cd_record rec;
        st = parse ? cd_reader_next(r, &rec) : cd_reader_next_line(r, &rec);
        if (st == CD_END)
            break;
        if (st == CD_OK || st == CD_ERR_INPUT || st == CD_ERR_LIMIT) {
            FUZZ_CHECK(rec.line > last_line);
            last_line = rec.line;
            FUZZ_CHECK(rec.raw.ptr != NULL && memchr(rec.raw.ptr, '\n', rec.raw.len) == NULL);
            if (st == CD_ERR_LIMIT)
                FUZZ_CHECK(rec.raw.len == 0 && rec.raw.len <= o->max_doc_bytes);
            else
                FUZZ_CHECK(!is_blank(rec.raw.ptr, rec.raw.len) && rec.raw.len <= o->max_doc_bytes);
            if (st == CD_OK && parse) {
                FUZZ_CHECK(rec.doc.text.ptr != NULL);
                FUZZ_CHECK(strlen(rec.doc.text.ptr) == rec.doc.text.len);
                FUZZ_CHECK(!rec.doc.id.ptr || strlen(rec.doc.id.ptr) == rec.doc.id.len);
            }
            if (st != CD_OK)
                FUZZ_CHECK(strncmp(cd_reader_errmsg(r), path, strlen(path)) == 0);
            keep_line(out, st, &rec);
            continue;
        }
        /* A failure the reader cannot go past: sticky, with a message. */
        FUZZ_CHECK(st == CD_ERR_FORMAT || st == CD_ERR_IO);
        FUZZ_CHECK(strncmp(cd_reader_errmsg(r), path, strlen(path)) == 0);
        cd_record again;
        FUZZ_CHECK(cd_reader_next(r, &again) == st && cd_reader_next_line(r, &again) == st);
        break;
    }
    out->end = st;
    cd_reader_free(r);
}

static void free_reading(reading *r)
{
    free(r->lines);
    free(r->bytes);
}

/* 1 when the reader takes in[0..len) for a gzip or zstd stream (magic bytes). */
static int looks_compressed(const uint8_t *in, size_t len)
{
    return (len >= 2 && in[0] == 0x1f && in[1] == 0x8b) ||
           (len >= 4 && ((in[0] == 0x28 && in[1] == 0xb5 && in[2] == 0x2f && in[3] == 0xfd) ||
                         ((in[0] & 0xf0) == 0x50 && in[1] == 0x2a && in[2] == 0x4d && in[3] == 0x18)));
}

/* The lines of an intact plain input, as the reader must see them. */
static void check_against_input(const reading *got, const uint8_t *in, size_t len,
                                const cd_read_options *o, int parse)
{
    if (len >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0) {
        in += 3;
        len -= 3;
    }
    size_t k = 0, pos = 0;
    uint64_t number = 0;
    while (pos < len) {
        const uint8_t *nl = memchr(in + pos, '\n', len - pos);
        size_t seg = nl ? (size_t)(nl - (in + pos)) : len - pos;
        number++;
        if (seg > o->max_doc_bytes) {
            FUZZ_CHECK(k < got->count && got->lines[k].status == CD_ERR_LIMIT);
            FUZZ_CHECK(got->lines[k].line == number);
            k++;
        } else if (!is_blank((const char *)in + pos, seg)) {
            FUZZ_CHECK(k < got->count && got->lines[k].line == number);
            FUZZ_CHECK(got->lines[k].len == seg);
            FUZZ_CHECK(memcmp(got->bytes + got->lines[k].offset, in + pos, seg) == 0);
            FUZZ_CHECK(parse ? got->lines[k].status != CD_ERR_LIMIT
                             : got->lines[k].status == CD_OK);
            k++;
        }
        pos += seg + (nl != NULL);
    }
    FUZZ_CHECK(k == got->count && got->end == CD_END);
}

static size_t compress_gzip(const uint8_t *in, size_t len, uint8_t **out)
{
    z_stream z = {0};
    FUZZ_CHECK(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    size_t cap = deflateBound(&z, (uLong)len) + 64;
    *out = malloc(cap);
    FUZZ_CHECK(*out);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = *out;
    z.avail_out = (uInt)cap;
    FUZZ_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    return n;
}

static size_t compress_zstd(const uint8_t *in, size_t len, uint8_t **out)
{
    size_t cap = ZSTD_compressBound(len);
    *out = malloc(cap ? cap : 1);
    FUZZ_CHECK(*out);
    size_t n = ZSTD_compress(*out, cap, in, len, 3);
    FUZZ_CHECK(!ZSTD_isError(n));
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t mode = fuzz_byte(&in);
    cd_read_options o;
    cd_read_options_init(&o);
    if (mode & 0x10)
        o.max_doc_bytes = 1 + fuzz_byte(&in);
    if (mode & 0x20)
        o.id_field = NULL;
    int kind = (mode & 3) == 3 ? MODE_PLAIN : mode & 3;
    int truncate = kind != MODE_PLAIN && (mode & 0x04);
    int corrupt = kind != MODE_PLAIN && (mode & 0x08);
    size_t cut = (size_t)fuzz_uint(&in, 2);
    size_t flip_at = (size_t)fuzz_uint(&in, 2);
    uint8_t flip = fuzz_byte(&in) | 1;

    const uint8_t *payload = in.p;
    size_t payload_len = in.left;
    uint8_t *file = NULL;
    size_t file_len = payload_len;
    if (kind == MODE_GZIP)
        file_len = compress_gzip(payload, payload_len, &file);
    else if (kind == MODE_ZSTD)
        file_len = compress_zstd(payload, payload_len, &file);
    const uint8_t *bytes = file ? file : payload;
    if (truncate && file_len > 0)
        file_len = cut % file_len;
    if (corrupt && file_len > 0)
        file[flip_at % file_len] ^= flip;

    int fd = memfd_create("fuzz_reader", 0);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(file_len == 0 || write(fd, bytes, file_len) == (ssize_t)file_len);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    reading parsed, lines;
    read_all(path, &o, 1, &parsed);
    read_all(path, &o, 0, &lines);
    /* Both ways of reading see the same lines and end the same way. */
    FUZZ_CHECK(parsed.count == lines.count && parsed.end == lines.end);
    for (size_t i = 0; i < parsed.count; i++) {
        const line_seen *a = &parsed.lines[i], *b = &lines.lines[i];
        FUZZ_CHECK(a->line == b->line && a->len == b->len);
        FUZZ_CHECK(a->len == 0 ||
                   memcmp(parsed.bytes + a->offset, lines.bytes + b->offset, a->len) == 0);
        FUZZ_CHECK((a->status == CD_ERR_LIMIT) == (b->status == CD_ERR_LIMIT));
    }
    if (!truncate && !corrupt && (kind != MODE_PLAIN || !looks_compressed(payload, payload_len))) {
        check_against_input(&parsed, payload, payload_len, &o, 1);
        check_against_input(&lines, payload, payload_len, &o, 0);
    }
    free_reading(&parsed);
    free_reading(&lines);
    close(fd);
    free(file);
    return 0;
}
