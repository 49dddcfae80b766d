/* run.c: the dedup, cluster and pairs commands. Pass 1 reads every input
 * file into the engine in batches; the engine clusters; then the results are
 * written. dedup copies the kept lines byte-exact in a second pass over the
 * inputs (stdin and other non-seekable inputs are spooled to a temporary
 * file in pass 1 so they can be read twice). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "output.h"
#include "run_options.h"

/* A line that is a document: where to find it again in pass 2. */
typedef struct doc_origin {
    uint32_t file;
    uint64_t line; /* in the file, or in the file's spool */
} doc_origin;

/* A batch of documents goes to the engine at once, and the signing threads
 * share it: 1024 documents (8 MiB) per thread, up to BATCH_DOCS (32 MiB).
 * Fewer per thread and their wait at each batch's end shows (2 threads
 * signed 1.79x as fast as 1 with 512 each, 1.90x with 2048); more on one
 * thread and first touching the batch buffer shows (4096 news articles are
 * 19 MB: 10% of a 10,000-document run). */
enum { BATCH_DOCS = 4096, BATCH_DOCS_PER_THREAD = 1024, BATCH_BYTES_PER_THREAD = 8 << 20 };
enum { MAX_REPORTED = 100 };

/* Offsets of one batched document's fields in the batch buffer. */
typedef struct batch_entry {
    size_t offset[6], length[6];
    int present[6];
    uint64_t line;   /* in the input file, for messages */
    uint64_t replay; /* where pass 2 finds it: the line, or its spool line */
} batch_entry;

typedef struct run_state {
    const run_options *opts;
    cd_dedup *engine;
    doc_origin *origins; /* per document number */
    size_t origin_capacity;

    batch_entry batch[BATCH_DOCS];
    size_t batch_count, batch_docs, batch_bytes; /* count; limits */
    char *buffer;
    size_t buffer_used, buffer_capacity;

    uint32_t file;           /* index of the file being read */
    const char *file_name;   /* as the reader names it */
    char **spool_paths;      /* per file: spool of its lines, or NULL */
    FILE *spool;
    uint64_t spool_lines;

    int learning_pass;       /* the first of two passes: batches go to cd_dedup_learn */
    size_t numbered;         /* documents the engine has numbered (second pass) */
    size_t read, rejected, reported;
    uint64_t bytes_read;
    double seconds_read, last_progress, started;
    double pass_started; /* for the progress line's rate */
} run_state;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Reports a rejected line; returns the exit code to stop with, or -1 to go on. */
static int reject(run_state *s, const char *message)
{
    s->rejected++;
    if (!s->opts->skip_errors) {
        cli_error("%s", message);
        return CLI_EXIT_BAD_INPUT;
    }
    if (s->reported++ < MAX_REPORTED)
        cli_error("%s (skipped)", message);
    return -1;
}

static void progress(run_state *s, int final)
{
    if (!s->opts->progress)
        return;
    double now = now_seconds();
    if (!final && now - s->last_progress < 0.5)
        return;
    s->last_progress = now;
    fprintf(stderr, "\rcopydesk: %s %zu documents, %.1f MB, %.0f docs/s%s",
            s->learning_pass ? "learning the chrome from" : "read", s->read, s->bytes_read / 1e6,
            s->read / (now - s->pass_started + 1e-9), final ? "\n" : "");
    fflush(stderr);
}

static int remember_origin(run_state *s, size_t number, uint64_t line)
{
    if (number >= s->origin_capacity) {
        size_t cap = s->origin_capacity ? s->origin_capacity * 2 : 4096;
        doc_origin *p = realloc(s->origins, cap * sizeof *p);
        if (!p)
            return -1;
        s->origins = p;
        s->origin_capacity = cap;
    }
    s->origins[number] = (doc_origin){s->file, line};
    return 0;
}

/* Adds the batched documents to the engine; duplicates are rejected. */
static int flush_batch(run_state *s)
{
    if (s->batch_count == 0)
        return -1;
    cd_doc docs[BATCH_DOCS];
    cd_status statuses[BATCH_DOCS];
    for (size_t i = 0; i < s->batch_count; i++) {
        cd_str *fields[6] = {&docs[i].id, &docs[i].text, &docs[i].title,
                             &docs[i].date, &docs[i].source, &docs[i].url};
        for (int f = 0; f < 6; f++)
            *fields[f] = (cd_str){s->batch[i].present[f] ? s->buffer + s->batch[i].offset[f] : NULL,
                                  s->batch[i].length[f]};
    }
    cd_status st = s->learning_pass ? cd_dedup_learn(s->engine, docs, s->batch_count, statuses)
                                    : cd_dedup_add(s->engine, docs, s->batch_count, statuses);
    if (st != CD_OK) {
        cli_error("%s", cd_dedup_errmsg(s->engine));
        return CLI_EXIT_IO;
    }
    for (size_t i = 0; i < s->batch_count && !s->learning_pass; i++) {
        if (statuses[i] == CD_OK) {
            if (remember_origin(s, s->numbered++, s->batch[i].replay) != 0) {
                cli_error("out of memory");
                return CLI_EXIT_IO;
            }
            continue;
        }
        char message[512];
        snprintf(message, sizeof message, "%s:%" PRIu64 ": duplicate id \"%.*s\"", s->file_name,
                 s->batch[i].line, (int)docs[i].id.len,
                 docs[i].id.ptr);
        int code = reject(s, message);
        if (code >= 0)
            return code;
    }
    s->batch_count = 0;
    s->buffer_used = 0;
    return -1;
}

/* Copies one field into the batch buffer. */
static int batch_field(run_state *s, batch_entry *e, int field, cd_str value)
{
    e->present[field] = value.ptr != NULL;
    e->length[field] = value.len;
    e->offset[field] = s->buffer_used;
    if (!value.ptr)
        return 0;
    size_t need = s->buffer_used + value.len;
    if (need > s->buffer_capacity) {
        size_t cap = s->buffer_capacity ? s->buffer_capacity : (1 << 20);
        while (cap < need)
            cap *= 2;
        char *p = realloc(s->buffer, cap);
        if (!p)
            return -1;
        s->buffer = p;
        s->buffer_capacity = cap;
    }
    memcpy(s->buffer + s->buffer_used, value.ptr, value.len);
    s->buffer_used += value.len;
    return 0;
}

/* Queues one parsed record; flushes the batch when it is full. */
static int batch_record(run_state *s, const cd_record *rec)
{
    batch_entry *e = &s->batch[s->batch_count];
    char position[24];
    cd_str id = rec->doc.id;
    if (!id.ptr) { /* no id: its 1-based input position */
        id.len = (size_t)snprintf(position, sizeof position, "%zu", s->read);
        id.ptr = position;
    }
    cd_str fields[6] = {id, rec->doc.text, rec->doc.title, rec->doc.date, rec->doc.source, rec->doc.url};
    for (int f = 0; f < 6; f++)
        if (batch_field(s, e, f, fields[f]) != 0) {
            cli_error("out of memory");
            return CLI_EXIT_IO;
        }
    e->line = e->replay = rec->line;
    if (s->spool) {
        if (fwrite(rec->raw.ptr, 1, rec->raw.len, s->spool) != rec->raw.len ||
            putc('\n', s->spool) == EOF) {
            cli_error("temporary spool file: write failed: %s", strerror(errno));
            return CLI_EXIT_IO;
        }
        e->replay = ++s->spool_lines;
    }
    s->batch_count++;
    if (s->batch_count == s->batch_docs || s->buffer_used >= s->batch_bytes)
        return flush_batch(s);
    return -1;
}

/* A regular file (not stdin, a pipe or a device) can be read twice. */
static int can_read_again(const char *path)
{
    struct stat st;
    return strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dedup reads its inputs twice; what cannot be re-read is spooled. */
static int needs_spool(const run_state *s, const char *path)
{
    return s->opts->mode == MODE_DEDUP && !can_read_again(path);
}

static int open_spool(run_state *s)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/copydesk-spool.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0 || !(s->spool = fdopen(fd, "w"))) {
        cli_error("%s: cannot create a spool file for a non-seekable input: %s", path,
                  strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        return CLI_EXIT_IO;
    }
    s->spool_paths[s->file] = strdup(path);
    s->spool_lines = 0;
    return s->spool_paths[s->file] ? -1 : CLI_EXIT_IO;
}

/* About the bytes of text that learning in one pass keeps for a regular
 * file: its size, four times that when it is compressed. */
static unsigned long long kept_estimate(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    unsigned char magic[4] = {0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(magic, 1, sizeof magic, f) : 0;
    if (f)
        fclose(f);
    int gzip = got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    int zstd = got == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f &&
               magic[3] == 0xfd;
    return (unsigned long long)st.st_size * (gzip || zstd ? 4 : 1);
}

/* Whether the chrome is learned in a pass of its own: when learning in one
 * pass would keep more text than --memory (an eighth of the RAM by
 * default: at 1,000,000 bench documents, 4.4 GB of text, two passes took
 * half the memory and 20% less time; at 100,000, one pass was 27% faster)
 * and every input is a regular file, which can be read again. *kept
 * receives the estimate. */
static int learns_in_two_passes(const run_state *s, const cd_boilerplate *loaded,
                                unsigned long long *kept)
{
    *kept = 0;
    if (!s->opts->params.boilerplate || loaded)
        return 0;
    for (int f = 0; f < s->opts->file_count; f++) {
        if (!can_read_again(s->opts->files[f]))
            return 0;
        *kept += kept_estimate(s->opts->files[f]);
    }
    unsigned long long limit = s->opts->memory;
    if (limit == 0) {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        limit = pages > 0 && page > 0 ? (unsigned long long)pages * (unsigned long long)page / 8
                                      : 1ull << 30;
    }
    return *kept > limit;
}

/* The learning pass: every document goes to cd_dedup_learn. Bad lines are
 * skipped without a word: the reading pass meets them again and reports
 * them. */
static int learn_from_files(run_state *s)
{
    int code = -1;
    s->learning_pass = 1;
    for (int f = 0; f < s->opts->file_count && code < 0; f++) {
        char err[512];
        cd_reader *reader;
        if (cd_reader_open(s->opts->files[f], &s->opts->read, &reader, err, sizeof err) != CD_OK) {
            cli_error("%s", err);
            code = CLI_EXIT_IO;
            break;
        }
        cd_record rec;
        cd_status st;
        double t0 = now_seconds();
        while (code < 0 && (st = cd_reader_next(reader, &rec)) != CD_END) {
            s->seconds_read += now_seconds() - t0;
            s->read++; /* for the progress line only: the reading pass counts */
            s->bytes_read += rec.raw.len + 1;
            if ((s->read & 1023) == 0)
                progress(s, 0);
            if (st == CD_OK)
                code = batch_record(s, &rec);
            else if (st == CD_ERR_FORMAT)
                break; /* the rest of the file cannot be read */
            else if (st != CD_ERR_INPUT && st != CD_ERR_LIMIT) {
                cli_error("%s", cd_reader_errmsg(reader));
                code = CLI_EXIT_IO;
            }
            t0 = now_seconds();
        }
        if (code < 0)
            code = flush_batch(s);
        cd_reader_free(reader);
    }
    progress(s, 1);
    s->learning_pass = 0;
    s->read = 0;
    s->bytes_read = 0;
    s->pass_started = s->last_progress = now_seconds();
    return code;
}

/* Pass 1 over one input file. */
static int read_file(run_state *s, const char *path)
{
    char err[512];
    cd_reader *reader;
    if (cd_reader_open(path, &s->opts->read, &reader, err, sizeof err) != CD_OK) {
        cli_error("%s", err);
        return CLI_EXIT_IO;
    }
    s->file_name = cd_reader_path(reader);
    int code = needs_spool(s, path) ? open_spool(s) : -1;
    cd_record rec;
    double t0 = now_seconds();
    while (code < 0) {
        cd_status st = cd_reader_next(reader, &rec);
        if (st == CD_END)
            break;
        if (st == CD_OK || st == CD_ERR_INPUT || st == CD_ERR_LIMIT) {
            s->read++;
            s->bytes_read += rec.raw.len + 1;
        }
        if (st == CD_OK) {
            double t1 = now_seconds();
            s->seconds_read += t1 - t0;
            code = batch_record(s, &rec);
            t0 = now_seconds();
        } else if (st == CD_ERR_INPUT || st == CD_ERR_LIMIT) {
            code = reject(s, cd_reader_errmsg(reader));
        } else if (st == CD_ERR_FORMAT) {
            /* The rest of the file cannot be read: its tail is one rejection. */
            s->read++;
            code = reject(s, cd_reader_errmsg(reader));
            break;
        } else {
            cli_error("%s", cd_reader_errmsg(reader));
            code = CLI_EXIT_IO;
        }
        if ((s->read & 1023) == 0)
            progress(s, 0);
    }
    s->seconds_read += now_seconds() - t0;
    if (code < 0)
        code = flush_batch(s);
    if (s->spool) {
        if (fclose(s->spool) != 0 && code < 0) {
            cli_error("temporary spool file: write failed: %s", strerror(errno));
            code = CLI_EXIT_IO;
        }
        s->spool = NULL;
    }
    cd_reader_free(reader);
    return code;
}

static void write_similarity(FILE *out, double similarity) { fprintf(out, "%.4f", similarity); }

static void write_id(FILE *out, const cd_dedup *engine, size_t doc)
{
    const char *id = cd_dedup_id(engine, doc);
    cli_write_json_string(out, id, strlen(id));
}

/* Pass 2 of dedup: copies every representative's input line, in order. */
static int write_kept_lines(run_state *s, cli_output *out)
{
    size_t count = cd_dedup_count(s->engine);
    size_t doc = 0;
    while (doc < count) {
        uint32_t file = s->origins[doc].file;
        const char *path = s->spool_paths[file] ? s->spool_paths[file] : s->opts->files[file];
        char err[512];
        cd_reader *reader;
        if (cd_reader_open(path, &s->opts->read, &reader, err, sizeof err) != CD_OK) {
            cli_error("%s (reading it again to copy the kept lines)", err);
            return CLI_EXIT_IO;
        }
        cd_record rec;
        for (; doc < count && s->origins[doc].file == file; doc++) {
            cd_doc_result result;
            cd_dedup_result(s->engine, doc, &result);
            cd_status st;
            do
                st = cd_reader_next_line(reader, &rec);
            while ((st == CD_OK || st == CD_ERR_LIMIT) && rec.line < s->origins[doc].line);
            if (st != CD_OK || rec.line != s->origins[doc].line) {
                cli_error("%s: changed while copydesk was reading it (line %" PRIu64 ")",
                          cd_reader_path(reader), s->origins[doc].line);
                cd_reader_free(reader);
                return CLI_EXIT_IO;
            }
            if (result.representative == doc) {
                cli_output_write(out, rec.raw.ptr, rec.raw.len);
                cli_output_write(out, "\n", 1);
            }
        }
        cd_reader_free(reader);
    }
    return -1;
}

static void write_removed(const run_state *s, FILE *out)
{
    for (size_t doc = 0; doc < cd_dedup_count(s->engine); doc++) {
        cd_doc_result r;
        cd_dedup_result(s->engine, doc, &r);
        if (r.representative == doc)
            continue;
        fputs("{\"id\":", out);
        write_id(out, s->engine, doc);
        fputs(",\"duplicate_of\":", out);
        write_id(out, s->engine, r.representative);
        fputs(",\"similarity\":", out);
        write_similarity(out, r.similarity);
        fputs("}\n", out);
    }
}

static void write_cluster_line(const cd_dedup *engine, FILE *out, size_t representative,
                               const size_t *members, size_t size)
{
    fputs("{\"cluster\":", out);
    write_id(out, engine, representative);
    fputs(",\"representative\":", out);
    write_id(out, engine, representative);
    fprintf(out, ",\"size\":%zu,\"members\":[", size);
    for (size_t i = 0; i < size; i++) {
        if (i)
            putc(',', out);
        write_id(out, engine, members[i]);
    }
    fputs("]}\n", out);
}

/* cluster: clusters by their first member's input order; with --all the
 * singletons are interleaved at their own position. */
static void write_clusters(const run_state *s, FILE *out)
{
    const cd_dedup *engine = s->engine;
    size_t next = 0, clusters = cd_dedup_cluster_count(engine);
    for (size_t doc = 0; doc < cd_dedup_count(engine); doc++) {
        cd_doc_result r;
        cd_dedup_result(engine, doc, &r);
        if (s->opts->per_doc) {
            fputs("{\"id\":", out);
            write_id(out, engine, doc);
            fputs(",\"cluster\":", out);
            write_id(out, engine, r.representative);
            fputs(",\"similarity\":", out);
            write_similarity(out, r.similarity);
            fputs("}\n", out);
        } else if (r.cluster_size == 1) {
            if (s->opts->all)
                write_cluster_line(engine, out, doc, &doc, 1);
        } else if (next < clusters) {
            size_t rep, size;
            const size_t *members;
            cd_dedup_cluster(engine, next, &rep, &members, &size);
            if (members[0] == doc) {
                write_cluster_line(engine, out, rep, members, size);
                next++;
            }
        }
    }
}

static void write_pairs(const run_state *s, FILE *out)
{
    for (size_t i = 0; i < cd_dedup_pair_count(s->engine); i++) {
        cd_pair p;
        cd_dedup_pair(s->engine, i, &p);
        fputs("{\"a\":", out);
        write_id(out, s->engine, p.a);
        fputs(",\"b\":", out);
        write_id(out, s->engine, p.b);
        fputs(",\"similarity\":", out);
        write_similarity(out, p.similarity);
        fputs("}\n", out);
    }
}

static int write_results(run_state *s)
{
    cli_output out, removed = {0};
    if (cli_output_open(&out, s->opts->output) != 0)
        return CLI_EXIT_IO;
    if (s->opts->removed && cli_output_open(&removed, s->opts->removed) != 0) {
        cli_output_abort(&out);
        return CLI_EXIT_IO;
    }
    int code = -1;
    switch (s->opts->mode) {
    case MODE_DEDUP:
        code = write_kept_lines(s, &out);
        if (removed.fp)
            write_removed(s, removed.fp);
        break;
    case MODE_CLUSTER: write_clusters(s, out.fp); break;
    case MODE_PAIRS: write_pairs(s, out.fp); break;
    }
    if (code >= 0) {
        cli_output_abort(&out);
        if (removed.fp)
            cli_output_abort(&removed);
        return code;
    }
    /* The main output's data first: when it cannot be written (a full
     * disk), the --removed file of the failed run must not be left either. */
    if (removed.fp && cli_output_flush(&out) != 0) {
        cli_output_abort(&out);
        cli_output_abort(&removed);
        return CLI_EXIT_IO;
    }
    if (removed.fp && cli_output_commit(&removed) != 0) {
        cli_output_abort(&out);
        return CLI_EXIT_IO;
    }
    return cli_output_commit(&out) != 0 ? CLI_EXIT_IO : -1;
}

static void print_parameters(const cd_dedup *engine, run_mode mode)
{
    const cd_params *p = cd_dedup_params(engine);
    double aim = p->match == CD_MATCH_CONTAINMENT ? p->threshold / (2.0 - p->threshold)
                                                  : p->threshold;
    cli_error("LSH: %u bands x %u rows of %u MinHash values; S-curve 50%% point at Jaccard %.3f; "
              "P(candidate) at Jaccard %.3f%s is %.3f",
              p->bands, p->rows, p->perm, cd_lsh_midpoint(p->bands, p->rows), aim,
              p->match == CD_MATCH_CONTAINMENT ? " (containment t between equal sizes)"
                                               : " (the threshold)",
              cd_lsh_probability(aim, p->bands, p->rows));
    unsigned lead_bands = 0, lead_rows = 0;
    if (p->lead_shingles &&
        cd_lsh_choose(p->lead_threshold, p->perm, p->fp_weight, p->fn_weight, &lead_bands,
                      &lead_rows) == CD_OK)
        cli_error("leads: the first %u shingles of each document, %u bands x %u rows; S-curve 50%% "
                  "point at Jaccard %.3f",
                  p->lead_shingles, lead_bands, lead_rows, cd_lsh_midpoint(lead_bands, lead_rows));
    cli_error("matching: %s >= %.2f (%s), clusters by %s",
              p->match == CD_MATCH_CONTAINMENT ? "containment" : "Jaccard", p->threshold,
              p->verify == CD_VERIFY_EXACT ? "exact" : "estimated",
              p->cluster == CD_CLUSTER_STAR ? "star" : "connected components");
    /* The engine's arrays per document (dedup.c): the signature, every
     * band's key (the lead's too), and id offset, date, text length, size,
     * empty flag and about two id-set slots (45 bytes); dedup's line
     * positions for pass 2 (doc_origin) besides. Grouping: the sort
     * entries (2 x 8), and the union-find (4) or, with every pair kept,
     * 16 bytes per candidate pair. */
    int every_pair = mode == MODE_PAIRS || p->cluster == CD_CLUSTER_STAR;
    cli_error("memory per document: %zu bytes of signature + %zu bytes of band keys%s + %d bytes "
              "of bookkeeping + its id; grouping adds %s",
              (size_t)p->perm * 4, (size_t)(p->bands + lead_bands) * 8,
              p->verify == CD_VERIFY_EXACT ? " + 4 bytes per distinct shingle" : "",
              45 + (mode == MODE_DEDUP ? (int)sizeof(doc_origin) : 0),
              every_pair ? "16 bytes + 16 per candidate pair" : "20 bytes");
}

cd_boilerplate *cli_load_boilerplate(const char *path, int *code)
{
    *code = CLI_EXIT_IO;
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t size = 0, cap = 1 << 16;
    char *bytes = malloc(cap);
    size_t got;
    while (bytes && (got = fread(bytes + size, 1, cap - size, f)) > 0) {
        size += got;
        if (size == cap) {
            char *p = realloc(bytes, cap * 2);
            if (!p) {
                free(bytes);
                bytes = NULL;
                break;
            }
            bytes = p;
            cap *= 2;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (!bytes || failed) {
        cli_error("%s: cannot read: %s", path, bytes ? strerror(errno) : "out of memory");
        free(bytes);
        return NULL;
    }
    cd_boilerplate *model = NULL;
    char err[512];
    cd_status st = cd_boilerplate_load(bytes, size, &model, err, sizeof err);
    if (st != CD_OK) {
        cli_error("%s: %s", path, err);
        if (st == CD_ERR_FORMAT)
            *code = CLI_EXIT_BAD_INPUT;
    }
    free(bytes);
    return model;
}

int cli_save_boilerplate(const cd_boilerplate *model, const char *path)
{
    size_t size = cd_boilerplate_save_size(model);
    char *bytes = malloc(size);
    if (!bytes) {
        cli_error("%s: out of memory", path);
        return -1;
    }
    cd_boilerplate_save(model, bytes, size);
    cli_output out;
    if (cli_output_open(&out, path) != 0) {
        free(bytes);
        return -1;
    }
    int ok = fwrite(bytes, 1, size, out.fp) == size;
    free(bytes);
    if (!ok) {
        cli_error("%s: write failed: %s", path, strerror(errno));
        cli_output_abort(&out);
        return -1;
    }
    return cli_output_commit(&out);
}

static void print_boilerplate(const run_state *s, const cd_dedup_stats *st)
{
    const cd_boilerplate *model = cd_dedup_boilerplate(s->engine);
    cd_boilerplate_info info = {0};
    if (model)
        cd_boilerplate_get_info(model, &info);
    if (!s->opts->verbose && info.lines == 0 && st->html_extracted == 0)
        return;
    cli_error("boilerplate: %s %zu chrome lines of %zu sources (from %" PRIu64
              " documents); removed %zu lines from %zu documents, %zu all chrome; %zu HTML "
              "documents extracted",
              s->opts->boilerplate_load ? "loaded" : model ? "learned" : "off:", info.lines,
              info.sources, info.documents, st->chrome_lines, st->chrome_documents,
              st->all_chrome, st->html_extracted);
    if (s->opts->verbose && st->bytes_learning)
        cli_error("boilerplate learning held %.1f MB at its peak (texts kept until signing + line "
                  "counts)",
                  st->bytes_learning / 1e6);
}

static void print_summary(const run_state *s, double seconds_write, double total)
{
    cd_dedup_stats st;
    cd_dedup_get_stats(s->engine, &st);
    size_t kept = st.documents - st.removed;
    cli_error("read %zu documents: kept %zu, removed %zu, rejected %zu", s->read, kept, st.removed,
              s->rejected);
    cli_error("%zu clusters, largest %zu; %zu candidate pairs, %zu verified; %zu empty, %zu "
              "undated, %zu invalid UTF-8 sequences replaced",
              st.clusters, st.largest_cluster, st.candidate_pairs, st.verified_pairs, st.empty,
              st.undated, st.invalid_utf8);
    if (st.oversized_buckets)
        cli_error("%zu LSH buckets over --max-bucket were compared to their first member only",
                  st.oversized_buckets);
    print_boilerplate(s, &st);
    double mb = s->bytes_read / 1e6;
    cli_error("time: read %.3fs (%.0f MB/s), sign %.3fs (%.0f MB/s), boilerplate %.3fs, lsh %.3fs, "
              "verify %.3fs, cluster %.3fs, write %.3fs; total %.3fs, %.0f docs/s",
              s->seconds_read, mb / (s->seconds_read + 1e-9), st.seconds_sign,
              st.bytes_text / 1e6 / (st.seconds_sign + 1e-9), st.seconds_boilerplate,
              st.seconds_lsh, st.seconds_verify, st.seconds_cluster, seconds_write, total,
              s->read / (total + 1e-9));
}

static void free_state(run_state *s)
{
    cd_dedup_free(s->engine);
    free(s->origins);
    free(s->buffer);
    if (s->spool_paths) {
        for (int f = 0; f < s->opts->file_count; f++) {
            if (s->spool_paths[f])
                unlink(s->spool_paths[f]);
            free(s->spool_paths[f]);
        }
        free(s->spool_paths);
    }
    free(s);
}

int cli_run(int argc, char **argv)
{
    /* the run's time includes choosing the LSH parameters, which parsing
     * the options does */
    double started = now_seconds();
    run_options opts;
    int code = run_options_parse(&opts, argc, argv);
    if (code >= 0)
        return code;
    run_state *s = calloc(1, sizeof *s);
    if (!s) {
        cli_error("out of memory");
        return CLI_EXIT_IO;
    }
    s->opts = &opts;
    s->started = started;
    s->pass_started = s->last_progress = now_seconds();
    s->spool_paths = calloc((size_t)opts.file_count, sizeof *s->spool_paths);
    if (!s->spool_paths || cd_dedup_create(&opts.params, &s->engine) != CD_OK) {
        cli_error("out of memory");
        free_state(s);
        return CLI_EXIT_IO;
    }
    cd_boilerplate *loaded = NULL;
    if (opts.boilerplate_load) {
        int load_code;
        if (!(loaded = cli_load_boilerplate(opts.boilerplate_load, &load_code))) {
            free_state(s);
            return load_code;
        }
        cd_dedup_set_boilerplate(s->engine, loaded);
    }
    unsigned threads = cd_dedup_params(s->engine)->threads;
    if (threads > BATCH_DOCS / BATCH_DOCS_PER_THREAD)
        threads = BATCH_DOCS / BATCH_DOCS_PER_THREAD;
    s->batch_docs = (size_t)threads * BATCH_DOCS_PER_THREAD;
    s->batch_bytes = (size_t)threads * BATCH_BYTES_PER_THREAD;
    cd_dedup_keep_pairs(s->engine, opts.mode == MODE_PAIRS);
    if (opts.verbose)
        print_parameters(s->engine, opts.mode);
    unsigned long long kept;
    if (learns_in_two_passes(s, loaded, &kept)) {
        if (opts.verbose)
            cli_error("boilerplate: learned in a pass of its own (the texts would take about %llu "
                      "MB, over --memory)",
                      kept >> 20);
        code = learn_from_files(s);
    }
    for (int f = 0; f < opts.file_count && code < 0; f++) {
        s->file = (uint32_t)f;
        code = read_file(s, opts.files[f]);
    }
    progress(s, 1);
    if (code < 0 && cd_dedup_run(s->engine) != CD_OK) {
        cli_error("%s", cd_dedup_errmsg(s->engine));
        code = CLI_EXIT_IO;
    }
    double write_start = now_seconds();
    if (code < 0 && opts.boilerplate_save) {
        const cd_boilerplate *model = cd_dedup_boilerplate(s->engine);
        if (!model) {
            cli_error("--boilerplate-save: no model (boilerplate removal is off)");
            code = CLI_EXIT_USAGE;
        } else if (cli_save_boilerplate(model, opts.boilerplate_save) != 0) {
            code = CLI_EXIT_IO;
        }
    }
    if (code < 0)
        code = write_results(s);
    if (code < 0 && !opts.quiet)
        print_summary(s, now_seconds() - write_start, now_seconds() - s->started);
    free_state(s);
    cd_boilerplate_free(loaded);
    return code < 0 ? CLI_EXIT_OK : code;
}
