/* read.c: the reader, first stage of the pipeline (read ─► extract ─► ...).
 * Splits the bytes of a JSONL file or stdin (decompressed by read_stream.c)
 * into lines without copying them in the common case, and parses each line
 * into a cd_doc with cJSON. With read_stream.c, the only stage that touches
 * files. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "read_dir.h"
#include "read_json.h"
#include "read_stream.h"

/* Decompressed bytes handed out by the stream per call, and the first size
 * of the line buffer, used only by lines that cross a chunk. The fuzz
 * targets build with tiny ones so every input crosses chunks. */
#ifndef READ_CHUNK_SIZE
#define READ_CHUNK_SIZE ((size_t)1 << 20)
#endif
#ifndef LINE_INITIAL_CAP
#define LINE_INITIAL_CAP ((size_t)4096)
#endif

struct cd_reader {
    cd__stream *stream;
    cd__dir *dir; /* directory mode (read_dir.h): one record per file */
    const char *path;        /* for messages; "<stdin>" for "-" */
    cd_read_options options; /* field names point into storage */

    char *chunk;     /* the bytes being split: own_chunk, or a block the
                        stream lends (each with room for a NUL after it) */
    char *own_chunk; /* READ_CHUNK_SIZE + 1 bytes, for a stream that cannot lend */
    size_t chunk_len;
    size_t chunk_pos;
    int started; /* the first bytes were checked for a BOM */
    int at_end;  /* the stream said end of input */

    char *line;       /* a line that crossed a chunk boundary */
    size_t line_cap;  /* at most max_doc_bytes + 1 */
    uint64_t line_no; /* lines read so far, blank ones included */

    cd_status failed; /* sticky: CD_ERR_FORMAT, CD_ERR_IO or CD_ERR_NOMEM */
    cJSON *json;      /* tree of the current record */
    cd__json_scanner scanner; /* the fast path (read_json.h) */
    int cjson_only;           /* COPYDESK_READ_JSON=cjson: no fast path */
    char number[32];  /* an id given as a JSON number, printed */
    char errmsg[CD_ERRMSG_SIZE];
    char storage[]; /* path and field names, each NUL-terminated */
};

void cd_read_options_init(cd_read_options *options)
{
    *options = (cd_read_options){
        .id_field = "id",
        .text_field = "text",
        .title_field = "title",
        .date_field = "date",
        .source_field = "source",
        .url_field = "url",
        .max_doc_bytes = (size_t)16 << 20,
    };
}

/* ------------------------------------------------------------------ open */

static size_t stored_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copies s into *cursor and advances it; NULL stays NULL. */
static const char *store(char **cursor, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *copy = memcpy(*cursor, s, n);
    *cursor += n;
    return copy;
}

/* Writes "FILE: reason" into the caller's err buffer. Returns status. */
static cd_status open_failed(cd_status status, char *err, size_t err_size, const char *file,
                             const char *reason)
{
    if (err && err_size > 0)
        snprintf(err, err_size, "%s: %s", file, reason);
    return status;
}

cd_status cd_reader_open(const char *path, const cd_read_options *options, cd_reader **out,
                         char *err, size_t err_size)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return open_failed(CD_ERR_ARG, err, err_size, "cd_reader_open",
                           "path and out must not be NULL");

    cd_read_options opts;
    if (options)
        opts = *options;
    else
        cd_read_options_init(&opts);
    const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
    if (!opts.text_field)
        return open_failed(CD_ERR_ARG, err, err_size, shown, "the text field name is NULL");
    if (opts.max_doc_bytes == 0)
        return open_failed(CD_ERR_ARG, err, err_size, shown, "max_doc_bytes must be at least 1");
    if (opts.max_doc_bytes == SIZE_MAX)
        opts.max_doc_bytes = SIZE_MAX - 1; /* room for the NUL after a line */

    size_t storage = stored_size(shown) + stored_size(opts.id_field) +
                     stored_size(opts.text_field) + stored_size(opts.title_field) +
                     stored_size(opts.date_field) + stored_size(opts.source_field) +
                     stored_size(opts.url_field);
    cd_reader *r = cd__calloc(1, sizeof *r + storage);
    if (!r)
        return open_failed(CD_ERR_NOMEM, err, err_size, shown, "out of memory");

    char *cursor = r->storage;
    r->path = store(&cursor, shown);
    r->options = opts;
    r->options.id_field = store(&cursor, opts.id_field);
    r->options.text_field = store(&cursor, opts.text_field);
    r->options.title_field = store(&cursor, opts.title_field);
    r->options.date_field = store(&cursor, opts.date_field);
    r->options.source_field = store(&cursor, opts.source_field);
    r->options.url_field = store(&cursor, opts.url_field);
    const char *json_mode = getenv("COPYDESK_READ_JSON");
    r->cjson_only = json_mode && strcmp(json_mode, "cjson") == 0;

    cd_status status;
    char reason[CD_ERRMSG_SIZE];
    if (cd__is_directory(path)) {
        status = cd__dir_open(path, opts.max_doc_bytes, &r->dir, reason);
        if (status != CD_OK) {
            open_failed(status, err, err_size, shown, reason);
            goto fail;
        }
        *out = r;
        return CD_OK;
    }
    status = cd__stream_open(path, &r->stream, reason);
    if (status != CD_OK) {
        open_failed(status, err, err_size, shown, reason);
        goto fail;
    }
    if (!cd__stream_can_lend(r->stream) && !(r->own_chunk = cd__malloc(READ_CHUNK_SIZE + 1))) {
        status = open_failed(CD_ERR_NOMEM, err, err_size, shown, "out of memory");
        goto fail;
    }
    *out = r;
    return CD_OK;

fail:
    cd_reader_free(r);
    return status;
}

void cd_reader_free(cd_reader *reader)
{
    if (!reader)
        return;
    cJSON_Delete(reader->json);
    cd__json_scanner_free(&reader->scanner);
    cd__stream_close(reader->stream);
    cd__dir_close(reader->dir);
    cd__free(reader->own_chunk);
    cd__free(reader->line);
    cd__free(reader);
}

const char *cd_reader_path(const cd_reader *reader)
{
    return reader ? reader->path : "";
}

const char *cd_reader_errmsg(const cd_reader *reader)
{
    return reader ? reader->errmsg : "";
}

/* ----------------------------------------------------------------- lines */

/* A failure the reader cannot go past: every later call repeats it. */
static cd_status stop(cd_reader *r, cd_status status, uint64_t line, const char *reason)
{
    r->failed = status;
    cd__set_error(r->errmsg, "%s:%llu: %s", r->path, (unsigned long long)line, reason);
    return status;
}

/* Refills the chunk from the stream once it is used up. At the start of the
 * input it reads at least 3 bytes (or all there is) and drops a UTF-8 BOM.
 * chunk_len == 0 afterwards means the end of the input. */
static cd_status refill(cd_reader *r, uint64_t line)
{
    r->chunk_pos = r->chunk_len = 0;
    char reason[CD_ERRMSG_SIZE];
    if (r->own_chunk)
        r->chunk = r->own_chunk;
    else if (!r->at_end) { /* a whole block: a BOM is in the first one */
        cd_status status = cd__stream_borrow(r->stream, &r->chunk, &r->chunk_len, reason);
        if (status != CD_OK)
            return stop(r, status, line, reason);
        r->at_end = r->chunk_len == 0;
    }
    while (r->own_chunk && !r->at_end) {
        size_t got;
        cd_status status = cd__stream_read(r->stream, r->chunk + r->chunk_len,
                                           READ_CHUNK_SIZE - r->chunk_len, &got, reason);
        if (status != CD_OK)
            return stop(r, status, line, reason);
        if (got == 0)
            r->at_end = 1;
        r->chunk_len += got;
        if (r->started || r->chunk_len >= 3)
            break;
    }
    if (!r->started) {
        r->started = 1;
        if (r->chunk_len >= 3 && memcmp(r->chunk, "\xEF\xBB\xBF", 3) == 0)
            r->chunk_pos = 3;
    }
    return CD_OK;
}

/* Makes the line buffer hold needed bytes (needed <= max_doc_bytes + 1). */
static int reserve_line(cd_reader *r, size_t needed)
{
    if (needed <= r->line_cap)
        return 0;
    size_t limit = r->options.max_doc_bytes + 1;
    size_t cap = r->line_cap ? r->line_cap : LINE_INITIAL_CAP;
    if (cap > limit)
        cap = limit;
    while (cap < needed)
        cap = cap > limit / 2 ? limit : cap * 2;
    char *p = cd__realloc(r->line, cap);
    if (!p)
        return -1;
    r->line = p;
    r->line_cap = cap;
    return 0;
}

static int is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

/* Reads the next non-blank line into rec->raw (NUL-terminated in memory,
 * the NUL not counted) and rec->line. A line that fits in the current chunk
 * is returned in place; one that crosses chunks is copied into the line
 * buffer; one over max_doc_bytes is skipped without being kept, counting
 * its bytes for the message. Returns CD_OK, CD_END, CD_ERR_LIMIT or a
 * sticky failure. */
static cd_status read_line(cd_reader *r, cd_record *rec)
{
    if (r->failed)
        return r->failed; /* the message is still in errmsg */

    const size_t max = r->options.max_doc_bytes;
    for (;;) {
        uint64_t number = r->line_no + 1;
        const char *in_place = NULL;
        size_t total = 0; /* bytes of the line seen so far */
        int over = 0, newline = 0;

        while (!newline) {
            if (r->chunk_pos == r->chunk_len) {
                cd_status status = refill(r, number);
                if (status != CD_OK) {
                    rec->line = number;
                    return status;
                }
                if (r->chunk_len == 0)
                    break; /* end of input */
            }
            char *start = r->chunk + r->chunk_pos;
            size_t avail = r->chunk_len - r->chunk_pos;
            char *nl = memchr(start, '\n', avail);
            size_t seg = nl ? (size_t)(nl - start) : avail;
            r->chunk_pos += seg + (nl != NULL);
            newline = nl != NULL;

            if (!over && seg > max - total) {
                over = 1;
            } else if (!over && newline && total == 0) {
                *nl = '\0';
                in_place = start;
            } else if (!over && seg > 0) {
                if (reserve_line(r, total + seg + 1) != 0) {
                    rec->line = number;
                    return stop(r, CD_ERR_NOMEM, number, "out of memory");
                }
                memcpy(r->line + total, start, seg);
            }
            total = seg > SIZE_MAX - total ? SIZE_MAX : total + seg;
        }

        if (!newline && total == 0)
            return CD_END;
        r->line_no = number;
        rec->line = number;

        if (over) {
            rec->raw = (cd_str){"", 0};
            cd__set_error(r->errmsg, "%s:%llu: line is %zu bytes, over --max-doc-bytes (%zu)",
                          r->path, (unsigned long long)number, total, max);
            return CD_ERR_LIMIT;
        }
        if (in_place) {
            rec->raw = (cd_str){in_place, total};
        } else if (total > 0) {
            r->line[total] = '\0';
            rec->raw = (cd_str){r->line, total};
        } else {
            rec->raw = (cd_str){"", 0};
        }
        if (!is_blank(rec->raw.ptr, rec->raw.len))
            return CD_OK;
    }
}

/* ------------------------------------------------------------------ JSON */

static cd_status bad_record(cd_reader *r, const cd_record *rec, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static cd_status bad_record(cd_reader *r, const cd_record *rec, const char *format, ...)
{
    char reason[CD_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, format);
    vsnprintf(reason, sizeof reason, format, ap);
    va_end(ap);
    cd__set_error(r->errmsg, "%s:%llu: %s", r->path, (unsigned long long)rec->line, reason);
    return CD_ERR_INPUT;
}

/* Prints v as an integer when it is one, else in the fewest significant
 * digits (up to 17) that read back as the same double. */
static void print_number(double v, char *buf, size_t size)
{
    if (v == floor(v) && v > -9.2e18 && v < 9.2e18) {
        snprintf(buf, size, "%lld", (long long)v);
        return;
    }
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static cd_str string_of(const cJSON *item)
{
    return (cd_str){item->valuestring, strlen(item->valuestring)};
}

/* An optional field: a string sets it; absent, null or any other type
 * leaves it absent. */
static cd_str optional_field(const cJSON *object, const char *name)
{
    const cJSON *item = name ? cJSON_GetObjectItemCaseSensitive(object, name) : NULL;
    if (cJSON_IsString(item) && item->valuestring)
        return string_of(item);
    return (cd_str){NULL, 0};
}

/* How deep s[0..len) nests arrays and objects at its deepest (strings
 * skipped), for the message when cJSON refuses a line nested too deeply. */
static size_t nesting_depth(const char *s, size_t len)
{
    size_t depth = 0, deepest = 0;
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest)
                deepest = depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

/* Offset of the first NUL character of a parsed JSON line, a raw byte or
 * written \u0000, or len when there is none. cJSON keeps such a character
 * in its NUL-terminated strings, which would cut an id or a text short. */
static size_t find_nul(const char *s, size_t len)
{
    const char *raw = memchr(s, '\0', len);
    size_t limit = raw ? (size_t)(raw - s) : len;
    const char *p = memchr(s, '\\', limit);
    while (p) {
        size_t at = (size_t)(p - s);
        if (at + 6 <= limit && memcmp(p + 1, "u0000", 5) == 0)
            return at;
        if (at + 2 >= limit)
            break;
        p = memchr(p + 2, '\\', limit - at - 2); /* past the escaped character */
    }
    return limit;
}

static cd_status parse_record(cd_reader *r, cd_record *rec)
{
    const cd_read_options *o = &r->options;
    /* The fast path takes the lines cJSON would accept with these same
     * values; everything else, errors included, goes on to cJSON. */
    const char *const names[CD__JSON_FIELDS] = {o->id_field,   o->text_field,   o->title_field,
                                                o->date_field, o->source_field, o->url_field};
    cd__json_fields fast;
    int accepted =
        r->cjson_only ? 0 : cd__json_scan(&r->scanner, rec->raw.ptr, rec->raw.len, names, &fast);
    if (accepted < 0)
        return stop(r, CD_ERR_NOMEM, rec->line, "out of memory");
    if (accepted) {
        rec->doc.id = fast.value[CD__JSON_ID];
        if (fast.id_is_number) {
            print_number(fast.id_number, r->number, sizeof r->number);
            rec->doc.id = (cd_str){r->number, strlen(r->number)};
        }
        rec->doc.text = fast.value[CD__JSON_TEXT];
        rec->doc.title = fast.value[CD__JSON_TITLE];
        rec->doc.date = fast.value[CD__JSON_DATE];
        rec->doc.source = fast.value[CD__JSON_SOURCE];
        rec->doc.url = fast.value[CD__JSON_URL];
        return CD_OK;
    }
    const char *end = NULL;
    size_t failures = cd__alloc_failures();
    cJSON *json = cJSON_ParseWithLengthOpts(rec->raw.ptr, rec->raw.len, &end, 0);
    if (!json && cd__alloc_failures() != failures)
        return stop(r, CD_ERR_NOMEM, rec->line, "out of memory");
    if (!json) {
        size_t at = end ? (size_t)(end - rec->raw.ptr) + 1 : 1;
        if (nesting_depth(rec->raw.ptr, at < rec->raw.len ? at : rec->raw.len) >
            CJSON_NESTING_LIMIT)
            return bad_record(r, rec, "JSON nested more than %d levels deep (at byte %zu)",
                              CJSON_NESTING_LIMIT, at);
        return bad_record(r, rec, "malformed JSON (at byte %zu)", at);
    }
    r->json = json;

    const char *stop_at = rec->raw.ptr + rec->raw.len;
    for (const char *p = end; p < stop_at; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r')
            return bad_record(r, rec, "malformed JSON (text after the value at byte %zu)",
                              (size_t)(p - rec->raw.ptr) + 1);
    if (!cJSON_IsObject(json))
        return bad_record(r, rec, "not a JSON object");
    size_t nul = find_nul(rec->raw.ptr, rec->raw.len);
    if (nul < rec->raw.len)
        return bad_record(r, rec, "%s at byte %zu: documents may not contain NUL characters",
                          rec->raw.ptr[nul] ? "\\u0000" : "NUL byte", nul + 1);

    const cJSON *text = cJSON_GetObjectItemCaseSensitive(json, o->text_field);
    if (!text)
        return bad_record(r, rec, "field \"%s\" is missing", o->text_field);
    if (!cJSON_IsString(text) || !text->valuestring)
        return bad_record(r, rec, "field \"%s\" is not a string", o->text_field);

    const cJSON *id = o->id_field ? cJSON_GetObjectItemCaseSensitive(json, o->id_field) : NULL;
    if (cJSON_IsString(id) && id->valuestring) {
        rec->doc.id = string_of(id);
    } else if (cJSON_IsNumber(id)) {
        print_number(id->valuedouble, r->number, sizeof r->number);
        rec->doc.id = (cd_str){r->number, strlen(r->number)};
    } else if (id) {
        return bad_record(r, rec, "field \"%s\" is not a string or a number", o->id_field);
    }

    rec->doc.text = string_of(text);
    rec->doc.title = optional_field(json, o->title_field);
    rec->doc.date = optional_field(json, o->date_field);
    rec->doc.source = optional_field(json, o->source_field);
    rec->doc.url = optional_field(json, o->url_field);
    return CD_OK;
}

/* ---------------------------------------------------------------- public */

static cd_status begin(cd_reader *r, cd_record *rec)
{
    if (!r || !rec)
        return CD_ERR_ARG;
    *rec = (cd_record){.raw = {"", 0}};
    cJSON_Delete(r->json);
    r->json = NULL;
    return CD_OK;
}

cd_status cd_reader_next(cd_reader *reader, cd_record *rec)
{
    cd_status status = begin(reader, rec);
    if (status == CD_OK && reader->dir)
        return cd__dir_next(reader->dir, rec, 1, reader->errmsg);
    if (status == CD_OK)
        status = read_line(reader, rec);
    if (status == CD_OK)
        status = parse_record(reader, rec); /* sets rec->doc only on success */
    return status;
}

cd_status cd_reader_next_line(cd_reader *reader, cd_record *rec)
{
    cd_status status = begin(reader, rec);
    if (status == CD_OK && reader->dir)
        return cd__dir_next(reader->dir, rec, 0, reader->errmsg);
    if (status == CD_OK)
        status = read_line(reader, rec);
    return status;
}
