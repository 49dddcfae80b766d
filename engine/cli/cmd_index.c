/* cmd_index.c: `copydesk index`, the persistent incremental index: create,
 * add, query, stats, evict, compact, verify and dump. Reads JSONL with the
 * engine's reader in batches; add acknowledges each document with one JSON
 * line on stdout only after its batch is durable (cd_index_add returns after
 * the log fsync), so a line on stdout is a promise the index keeps. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_index.h"
#include "copydesk/copydesk.h"

static const char help_text[] =
    "usage: copydesk index COMMAND INDEX [OPTIONS] [FILE...]\n"
    "\n"
    "A persistent index of documents: each added document joins the story of its\n"
    "best match (similarity at or above the threshold) or starts a new story.\n"
    "INDEX is a directory.\n"
    "\n"
    "commands:\n"
    "  create INDEX [similarity options]   create an empty index\n"
    "  add INDEX [FILE...]     add documents; one JSON line per document once it is\n"
    "                          durable: {\"id\",\"status\":\"new\"|\"copy\",\"story\",\n"
    "                          \"similarity\",\"first_seen\",\"copies\"}\n"
    "  query INDEX [FILE...]   the same lines, without adding anything (read-only)\n"
    "  stats INDEX [--json]    documents, stories, evicted, size on disk, parameters\n"
    "  evict INDEX --before DATE | --window DURATION\n"
    "                          evict the stories whose newest document is older\n"
    "  compact INDEX           rewrite the index without the evicted stories\n"
    "  verify INDEX            check every checksum\n"
    "  dump INDEX              one {\"id\",\"story\",\"similarity\",\"time\",\"evicted\"}\n"
    "                          line per document\n"
    "\n"
    "similarity options (create; add and query take them from the index):\n"
    "  --threshold T --ngram N --perm K --bands B --rows R --fp-weight W\n"
    "  --fn-weight W --seed S --with-title --max-bucket N --char-ngram N\n"
    "  --html auto|off         (as for dedup)\n"
    "  --match jaccard|containment   score of a pair (containment: the share of the\n"
    "                          smaller document found in the larger) (containment)\n"
    "  --min-containment N     shortest document scored by containment (50)\n"
    "  --lead-shingles N       also find candidates by the first N shingles (excerpts);\n"
    "                          0 = off (100)\n"
    "  --lead-threshold T      Jaccard of those leads aimed at (0.3)\n"
    "                          Scores are estimated from the signatures (verify estimate).\n"
    "  --boilerplate-model FILE   create: store this chrome model (saved by\n"
    "                          'copydesk boilerplate --save') and remove its lines\n"
    "                          from every document; the index never learns one\n"
    "input options (add, query):\n"
    "  --id-field F --text-field F --title-field F --date-field F\n"
    "  --source-field F --url-field F --max-doc-bytes N   (as for dedup)\n"
    "  --on-error fail|skip    stop at the first bad line (exit 1) or skip it (fail)\n"
    "  --batch N               documents signed, logged and fsynced together; their\n"
    "                          lines are printed when the batch is durable (4096;\n"
    "                          1 acknowledges each line of a slow pipe at once)\n"
    "  --threads N             signing threads (all cores)\n"
    "  --checkpoint-every N    add: write a checkpoint once the log holds\n"
    "                          max(N, documents/4) documents; 0 = never (65536)\n"
    "  --latency               query: one document at a time; print latency\n"
    "                          percentiles on stderr\n"
    "  --progress, --no-progress, --quiet\n"
    "A document's time is its date, or the time it was added when it has none.\n"
    "DURATION is a number with s, m, h, d or w (7d). Dates are ISO 8601 or RFC 2822.\n";

enum {
    OPT_HTML = 256,
    OPT_BATCH,
    OPT_THREADS,
    OPT_CHECKPOINT_EVERY,
    OPT_LATENCY,
    OPT_PROGRESS,
    OPT_NO_PROGRESS,
    OPT_QUIET,
    OPT_JSON,
    OPT_BEFORE,
    OPT_WINDOW,
    OPT_BOILERPLATE_MODEL,
};

static const struct option long_options[] = {
    CLI_SIMILARITY_OPTIONS,
    {"html", required_argument, NULL, OPT_HTML},
    CLI_INPUT_OPTIONS,
    {"batch", required_argument, NULL, OPT_BATCH},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"checkpoint-every", required_argument, NULL, OPT_CHECKPOINT_EVERY},
    {"latency", no_argument, NULL, OPT_LATENCY},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"json", no_argument, NULL, OPT_JSON},
    {"before", required_argument, NULL, OPT_BEFORE},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"boilerplate-model", required_argument, NULL, OPT_BOILERPLATE_MODEL},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The options that set the index's parameters, by bit of index_options.given. */
#define PARAM_OPTIONS 16
static const char *const param_names[PARAM_OPTIONS] = {
    "threshold",  "ngram",           "perm",          "bands",
    "rows",       "fp-weight",       "fn-weight",     "seed",
    "with-title", "max-bucket",      "char-ngram",    "html",
    "match",      "min-containment", "lead-shingles", "lead-threshold"};

typedef enum command {
    CMD_CREATE,
    CMD_ADD,
    CMD_QUERY,
    CMD_STATS,
    CMD_EVICT,
    CMD_COMPACT,
    CMD_VERIFY,
    CMD_DUMP
} command;

typedef struct index_options {
    command cmd;
    const char *name; /* of the command */
    const char *path;
    cd_params params;
    unsigned given; /* bit i: param_names[i] was given */
    cd_read_options read;
    int skip_errors;
    size_t batch;
    unsigned threads;
    size_t checkpoint_every;
    int latency, progress, quiet, json;
    const char *before, *window;
    const char *model; /* --boilerplate-model */
    const char **files;
    int file_count;
} index_options;

/* ------------------------------------------------------------ parsing */

static int parse_command(const char *word, command *out)
{
    static const char *names[] = {"create", "add",     "query",  "stats",
                                  "evict",  "compact", "verify", "dump"};
    for (int i = 0; i < 8; i++)
        if (!strcmp(word, names[i])) {
            *out = (command)i;
            return 0;
        }
    return -1;
}

/* Parses argv (argv[0] = "index"). Returns -1 to go on, or an exit code. */
static int parse_options(index_options *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    cd_params_init(&o->params);
    /* As the batch commands (README, "Choosing the defaults"), except that
     * the index verifies from the signatures: it keeps no shingle sets. */
    o->params.match = CD_MATCH_CONTAINMENT;
    o->params.lead_shingles = 100;
    cd_read_options_init(&o->read);
    o->batch = 4096;
    o->checkpoint_every = 65536;
    o->progress = isatty(STDERR_FILENO);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(help_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (parse_command(argv[1], &o->cmd) != 0) {
        cli_error("index: unknown command '%s' (try 'copydesk index --help')", argv[1]);
        return CLI_EXIT_USAGE;
    }
    o->name = argv[1];
    argc--;
    argv++;
    unsigned long long u;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        const char *name = cli_option_name(long_options, c);
        for (int i = 0; name && i < PARAM_OPTIONS; i++)
            if (!strcmp(name, param_names[i]))
                o->given |= 1u << i;
        int shared = cli_parse_shared_option(name, optarg, &o->params, &o->read, &o->skip_errors);
        if (shared < 0)
            return CLI_EXIT_USAGE;
        if (shared > 0)
            continue;
        switch (c) {
        case OPT_HTML:
            if (!strcmp(optarg, "auto") || !strcmp(optarg, "off"))
                o->params.extract_html = !strcmp(optarg, "auto");
            else {
                cli_error("--html: expected auto or off, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_BATCH:
            if (cli_parse_unsigned(name, optarg, 1, 1 << 20, &u))
                return CLI_EXIT_USAGE;
            o->batch = (size_t)u;
            break;
        case OPT_THREADS:
            if (cli_parse_unsigned(name, optarg, 1, 256, &u))
                return CLI_EXIT_USAGE;
            o->threads = (unsigned)u;
            break;
        case OPT_CHECKPOINT_EVERY:
            if (cli_parse_unsigned(name, optarg, 0, UINT32_MAX, &u))
                return CLI_EXIT_USAGE;
            o->checkpoint_every = (size_t)u;
            break;
        case OPT_LATENCY:
            o->latency = 1;
            break;
        case OPT_PROGRESS:
            o->progress = 1;
            break;
        case OPT_NO_PROGRESS:
            o->progress = 0;
            break;
        case OPT_QUIET:
            o->quiet = 1;
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_BEFORE:
            o->before = optarg;
            break;
        case OPT_WINDOW:
            o->window = optarg;
            break;
        case OPT_BOILERPLATE_MODEL:
            o->model = optarg;
            break;
        case 'h':
            fputs(help_text, stdout);
            return CLI_EXIT_OK;
        case ':':
            cli_error("index %s: option '%s' needs a value", o->name, argv[optind - 1]);
            return CLI_EXIT_USAGE;
        default:
            cli_error("index %s: unknown option '%s' (try --help)", o->name, argv[optind - 1]);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("index %s: missing INDEX (try 'copydesk index --help')", o->name);
        return CLI_EXIT_USAGE;
    }
    o->path = argv[optind++];
    int takes_files = o->cmd == CMD_ADD || o->cmd == CMD_QUERY;
    if (!takes_files && optind < argc) {
        cli_error("index %s: unexpected argument '%s'", o->name, argv[optind]);
        return CLI_EXIT_USAGE;
    }
    if (o->given && o->cmd != CMD_CREATE && !takes_files) {
        cli_error("index %s: similarity options belong to 'index create'", o->name);
        return CLI_EXIT_USAGE;
    }
    if ((o->before || o->window) && o->cmd != CMD_EVICT) {
        cli_error("index %s: --before and --window are options of 'index evict'", o->name);
        return CLI_EXIT_USAGE;
    }
    if (o->cmd == CMD_EVICT && !o->before == !o->window) {
        cli_error("index evict: give exactly one of --before DATE and --window DURATION");
        return CLI_EXIT_USAGE;
    }
    if (o->model && o->cmd != CMD_CREATE) {
        cli_error("index %s: --boilerplate-model is an option of 'index create'", o->name);
        return CLI_EXIT_USAGE;
    }
    if (o->latency && o->cmd != CMD_QUERY) {
        cli_error("index %s: --latency is an option of 'index query'", o->name);
        return CLI_EXIT_USAGE;
    }
    if (o->json && o->cmd != CMD_STATS) {
        cli_error("index %s: --json is an option of 'index stats'", o->name);
        return CLI_EXIT_USAGE;
    }
    if (o->latency)
        o->batch = 1;
    if (cli_check_params(&o->params, "") != 0)
        return CLI_EXIT_USAGE;
    cli_input_files(argc, argv, optind, &o->files, &o->file_count);
    return -1;
}

/* add and query take the parameters from the index: an option given anyway
 * must agree with it. Returns 0, or an exit code with the message printed. */
static int check_given_params(const index_options *o, const cd_params *p)
{
    const cd_params *g = &o->params;
    int differs[PARAM_OPTIONS] = {
        g->threshold != p->threshold,
        g->ngram != p->ngram,
        g->perm != p->perm,
        g->bands != p->bands,
        g->rows != p->rows,
        g->fp_weight != p->fp_weight,
        g->fn_weight != p->fn_weight,
        g->seed != p->seed,
        g->with_title != p->with_title,
        g->max_bucket != p->max_bucket,
        g->char_ngram != p->char_ngram,
        g->extract_html != p->extract_html,
        g->match != p->match,
        g->min_containment_shingles != p->min_containment_shingles,
        g->lead_shingles != p->lead_shingles,
        g->lead_threshold != p->lead_threshold,
    };
    char index_value[64];
    for (int i = 0; i < PARAM_OPTIONS; i++) {
        if (!(o->given & (1u << i)) || !differs[i])
            continue;
        switch (i) {
        case 0:
            snprintf(index_value, sizeof index_value, "%g", p->threshold);
            break;
        case 1:
            snprintf(index_value, sizeof index_value, "%u", p->ngram);
            break;
        case 2:
            snprintf(index_value, sizeof index_value, "%u", p->perm);
            break;
        case 3:
            snprintf(index_value, sizeof index_value, "%u", p->bands);
            break;
        case 4:
            snprintf(index_value, sizeof index_value, "%u", p->rows);
            break;
        case 5:
            snprintf(index_value, sizeof index_value, "%g", p->fp_weight);
            break;
        case 6:
            snprintf(index_value, sizeof index_value, "%g", p->fn_weight);
            break;
        case 7:
            snprintf(index_value, sizeof index_value, "%" PRIu64, p->seed);
            break;
        case 8:
            snprintf(index_value, sizeof index_value, "%s", p->with_title ? "on" : "off");
            break;
        case 9:
            snprintf(index_value, sizeof index_value, "%zu", p->max_bucket);
            break;
        case 10:
            snprintf(index_value, sizeof index_value, "%u", p->char_ngram);
            break;
        case 11:
            snprintf(index_value, sizeof index_value, "%s", p->extract_html ? "auto" : "off");
            break;
        case 12:
            snprintf(index_value, sizeof index_value, "%s",
                     p->match == CD_MATCH_CONTAINMENT ? "containment" : "jaccard");
            break;
        case 13:
            snprintf(index_value, sizeof index_value, "%u", p->min_containment_shingles);
            break;
        case 14:
            snprintf(index_value, sizeof index_value, "%u", p->lead_shingles);
            break;
        default:
            snprintf(index_value, sizeof index_value, "%g", p->lead_threshold);
            break;
        }
        cli_error("index %s: %s was created with --%s %s; add and query take the parameters "
                  "from the index (drop --%s, or create another index)",
                  o->name, o->path, param_names[i], index_value, param_names[i]);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* ---------------------------------------------------------------- dates */

/* Writes epoch seconds as "YYYY-MM-DDTHH:MM:SSZ" (Howard Hinnant's
 * civil_from_days). */
static void format_time(int64_t t, char *out, size_t size)
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m, (int)d,
             (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

static int parse_window(const char *text, int64_t *seconds)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || !(v >= 0) || strlen(end) != 1)
        return -1;
    double unit;
    switch (*end) {
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    case 'w':
        unit = 7 * 86400;
        break;
    default:
        return -1;
    }
    if (v * unit > 1e15)
        return -1;
    *seconds = (int64_t)(v * unit);
    return 0;
}

/* ------------------------------------------------------------ add / query */

enum { FIELDS = 6 };

typedef struct pending {
    size_t offset[FIELDS], length[FIELDS];
    int present[FIELDS];
    uint64_t line;
    uint32_t file;
} pending;

typedef struct run {
    const index_options *o;
    cd_index *index;
    pending *batch;
    size_t count;
    char *buffer;
    size_t used, capacity;
    cd_doc *docs;
    cd_index_result *results;
    const char **file_names; /* per input, as the reader names it */
    uint32_t file;
    size_t read, rejected, reported, added, copies, queried;
    double *latencies, *cpu_latencies;
    size_t latency_count, latency_cap;
    double started, last_progress;
} run;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this thread: latency without the time others' processes took. */
static double thread_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void progress(run *r, int final)
{
    if (!r->o->progress)
        return;
    double now = now_seconds();
    if (!final && now - r->last_progress < 0.5)
        return;
    r->last_progress = now;
    fprintf(stderr, "\rcopydesk: %zu documents, %.0f docs/s%s", r->read,
            r->read / (now - r->started + 1e-9), final ? "\n" : "");
    fflush(stderr);
}

/* Reports a bad line; returns the exit code to stop with, or -1 to go on. */
static int reject(run *r, const char *message)
{
    r->rejected++;
    if (!r->o->skip_errors) {
        cli_error("%s", message);
        return CLI_EXIT_BAD_INPUT;
    }
    if (r->reported++ < 100)
        cli_error("%s (skipped)", message);
    return -1;
}

static void write_result(const run *r, const cd_doc *doc, const cd_index_result *res)
{
    char when[64];
    format_time(res->first_seen, when, sizeof when);
    fputs("{\"id\":", stdout);
    cli_write_json_string(stdout, doc->id.ptr, doc->id.len);
    fprintf(stdout, ",\"status\":\"%s\",\"story\":", res->copy ? "copy" : "new");
    const char *story =
        res->story_doc != CD_INDEX_NONE ? cd_index_doc_id(r->index, res->story_doc) : NULL;
    if (story)
        cli_write_json_string(stdout, story, strlen(story));
    else
        cli_write_json_string(stdout, doc->id.ptr, doc->id.len);
    fprintf(stdout, ",\"similarity\":%.4f,\"first_seen\":\"%s\",\"copies\":%zu}\n", res->similarity,
            when, res->copies);
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Adds or queries the batched documents and prints their lines. */
static int flush_batch(run *r)
{
    if (r->count == 0)
        return -1;
    for (size_t i = 0; i < r->count; i++) {
        cd_str *fields[FIELDS] = {&r->docs[i].id,   &r->docs[i].text,   &r->docs[i].title,
                                  &r->docs[i].date, &r->docs[i].source, &r->docs[i].url};
        for (int f = 0; f < FIELDS; f++)
            *fields[f] = (cd_str){r->batch[i].present[f] ? r->buffer + r->batch[i].offset[f] : NULL,
                                  r->batch[i].length[f]};
    }
    int64_t now = (int64_t)time(NULL);
    int code = -1;
    if (r->o->cmd == CMD_QUERY) {
        double t0 = now_seconds(), c0 = thread_seconds();
        cd_status st = cd_index_query(r->index, r->docs, r->count, now, r->results);
        double t1 = now_seconds(), c1 = thread_seconds();
        if (st != CD_OK) {
            cli_error("%s", cd_index_errmsg(r->index));
            return CLI_EXIT_IO;
        }
        if (r->o->latency) {
            if (r->latency_count == r->latency_cap) {
                size_t cap = r->latency_cap ? r->latency_cap * 2 : 4096;
                double *p = realloc(r->latencies, cap * sizeof *p);
                double *q = p ? realloc(r->cpu_latencies, cap * sizeof *q) : NULL;
                if (!p || !q) {
                    free(p);
                    cli_error("out of memory");
                    return CLI_EXIT_IO;
                }
                r->latencies = p;
                r->cpu_latencies = q;
                r->latency_cap = cap;
            }
            r->cpu_latencies[r->latency_count] = (c1 - c0) / r->count;
            r->latencies[r->latency_count++] = (t1 - t0) / r->count;
        }
        for (size_t i = 0; i < r->count; i++) {
            write_result(r, &r->docs[i], &r->results[i]);
            r->copies += r->results[i].copy;
        }
        r->queried += r->count;
    } else {
        size_t pos = 0;
        while (pos < r->count && code < 0) {
            size_t added = 0;
            cd_status st = cd_index_add(r->index, r->docs + pos, r->count - pos, now,
                                        r->results + pos, &added);
            for (size_t i = pos; i < pos + added; i++) {
                write_result(r, &r->docs[i], &r->results[i]);
                r->copies += r->results[i].copy;
            }
            r->added += added;
            /* The lines are the acknowledgement: out they go, now. */
            if (fflush(stdout) != 0) {
                cli_error("<stdout>: write failed: %s", strerror(errno));
                return CLI_EXIT_IO;
            }
            pos += added;
            if (st == CD_OK)
                break;
            if (st == CD_ERR_DUPLICATE_ID || st == CD_ERR_INPUT) {
                char message[768];
                snprintf(message, sizeof message, "%s:%" PRIu64 ": %s",
                         r->file_names[r->batch[pos].file], r->batch[pos].line,
                         cd_index_errmsg(r->index));
                code = reject(r, message);
                pos++;
            } else {
                cli_error("%s", cd_index_errmsg(r->index));
                code = CLI_EXIT_IO;
            }
        }
    }
    r->count = 0;
    r->used = 0;
    return code;
}

static int batch_field(run *r, pending *e, int field, cd_str value)
{
    e->present[field] = value.ptr != NULL;
    e->length[field] = value.len;
    e->offset[field] = r->used;
    if (!value.ptr)
        return 0;
    if (r->used + value.len > r->capacity) {
        size_t cap = r->capacity ? r->capacity : (1 << 20);
        while (cap < r->used + value.len)
            cap *= 2;
        char *p = realloc(r->buffer, cap);
        if (!p)
            return -1;
        r->buffer = p;
        r->capacity = cap;
    }
    memcpy(r->buffer + r->used, value.ptr, value.len);
    r->used += value.len;
    return 0;
}

static int read_input(run *r, const char *path)
{
    char err[512];
    cd_reader *reader;
    if (cd_reader_open(path, &r->o->read, &reader, err, sizeof err) != CD_OK) {
        cli_error("%s", err);
        return CLI_EXIT_IO;
    }
    r->file_names[r->file] = cd_reader_path(reader);
    int code = -1;
    cd_record rec;
    while (code < 0) {
        cd_status st = cd_reader_next(reader, &rec);
        if (st == CD_END)
            break;
        if (st == CD_OK || st == CD_ERR_INPUT || st == CD_ERR_LIMIT)
            r->read++;
        if (st == CD_OK) {
            char position[24];
            cd_str id = rec.doc.id;
            if (!id.ptr || id.len == 0) {
                if (r->o->cmd == CMD_ADD) {
                    char message[600];
                    snprintf(message, sizeof message,
                             "%s:%" PRIu64 ": no id (index add needs one per document)",
                             cd_reader_path(reader), rec.line);
                    if (!r->o->skip_errors && (code = flush_batch(r)) >= 0)
                        break;
                    code = reject(r, message);
                    continue;
                }
                id.len = (size_t)snprintf(position, sizeof position, "%zu", r->read);
                id.ptr = position;
            }
            pending *e = &r->batch[r->count];
            cd_str fields[FIELDS] = {id,           rec.doc.text,   rec.doc.title,
                                     rec.doc.date, rec.doc.source, rec.doc.url};
            for (int f = 0; f < FIELDS; f++)
                if (batch_field(r, e, f, fields[f]) != 0) {
                    cli_error("out of memory");
                    code = CLI_EXIT_IO;
                    break;
                }
            if (code >= 0)
                break;
            e->line = rec.line;
            e->file = r->file;
            if (++r->count == r->o->batch || r->used >= (32u << 20))
                code = flush_batch(r);
        } else if (st == CD_ERR_INPUT || st == CD_ERR_LIMIT || st == CD_ERR_FORMAT) {
            /* Acknowledge what came before the bad line first. */
            if (!r->o->skip_errors && (code = flush_batch(r)) >= 0)
                break;
            if (st == CD_ERR_FORMAT)
                r->read++;
            code = reject(r, cd_reader_errmsg(reader));
            if (st == CD_ERR_FORMAT)
                break;
        } else {
            cli_error("%s", cd_reader_errmsg(reader));
            code = CLI_EXIT_IO;
        }
        if ((r->read & 1023) == 0)
            progress(r, 0);
    }
    if (code < 0)
        code = flush_batch(r);
    cd_reader_free(reader);
    return code;
}

static void print_warning(const cd_index *index)
{
    if (cd_index_warning(index)[0])
        cli_error("warning: %s", cd_index_warning(index));
}

static int cmd_add_query(const index_options *o)
{
    cd_index_options io;
    cd_index_options_init(&io);
    io.writable = o->cmd == CMD_ADD;
    io.threads = o->threads;
    io.checkpoint_docs = o->checkpoint_every;
    run r = {.o = o, .started = now_seconds()};
    r.last_progress = r.started;
    char err[600];
    if (cd_index_open(o->path, &io, &r.index, err, sizeof err) != CD_OK) {
        cli_error("%s", err);
        return CLI_EXIT_IO;
    }
    print_warning(r.index);
    int code = check_given_params(o, cd_index_params(r.index));
    if (code) {
        cd_index_free(r.index);
        return code;
    }
    code = -1;
    r.batch = malloc(o->batch * sizeof *r.batch);
    r.docs = malloc(o->batch * sizeof *r.docs);
    r.results = malloc(o->batch * sizeof *r.results);
    r.file_names = calloc((size_t)o->file_count, sizeof *r.file_names);
    if (!r.batch || !r.docs || !r.results || !r.file_names) {
        cli_error("out of memory");
        code = CLI_EXIT_IO;
    }
    for (int f = 0; f < o->file_count && code < 0; f++) {
        r.file = (uint32_t)f;
        code = read_input(&r, o->files[f]);
    }
    progress(&r, 1);
    if (fflush(stdout) != 0 && code < 0) {
        cli_error("<stdout>: write failed: %s", strerror(errno));
        code = CLI_EXIT_IO;
    }
    double total = now_seconds() - r.started;
    if (!o->quiet) {
        if (o->cmd == CMD_ADD)
            cli_error("read %zu documents: added %zu (%zu new stories, %zu copies), rejected %zu",
                      r.read, r.added, r.added - r.copies, r.copies, r.rejected);
        else
            cli_error("read %zu documents: queried %zu (%zu copies of indexed stories), "
                      "rejected %zu",
                      r.read, r.queried, r.copies, r.rejected);
        cli_error("time: total %.3fs, %.0f docs/s", total, r.read / (total + 1e-9));
    }
    if (o->latency && r.latency_count) {
        size_t n = r.latency_count;
        for (int k = 0; k < 2; k++) {
            double *v = k ? r.cpu_latencies : r.latencies;
            qsort(v, n, sizeof *v, compare_double);
            cli_error("time: latency per document (sign + match), %s: p50 %.1f us, p90 %.1f us, "
                      "p99 %.1f us, max %.1f us over %zu documents",
                      k ? "CPU time" : "wall clock", v[n / 2] * 1e6, v[n * 9 / 10] * 1e6,
                      v[n * 99 / 100] * 1e6, v[n - 1] * 1e6, n);
        }
    }
    free(r.batch);
    free(r.docs);
    free(r.results);
    free(r.buffer);
    free(r.file_names);
    free(r.latencies);
    free(r.cpu_latencies);
    cd_index_free(r.index);
    return code < 0 ? CLI_EXIT_OK : code;
}

/* ------------------------------------------------------- other commands */

static int open_index(const index_options *o, int writable, int verify, cd_index **index)
{
    cd_index_options io;
    cd_index_options_init(&io);
    io.writable = writable;
    io.verify = verify;
    io.threads = o->threads ? o->threads : 1;
    char err[600];
    if (cd_index_open(o->path, &io, index, err, sizeof err) != CD_OK) {
        cli_error("%s", err);
        return CLI_EXIT_IO;
    }
    print_warning(*index);
    return 0;
}

/* Reads a saved boilerplate model. Returns 0, or an exit code (printed). */
static int load_model(const char *path, cd_boilerplate **model)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("%s: cannot open: %s", path, strerror(errno));
        return CLI_EXIT_IO;
    }
    unsigned char *bytes = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            unsigned char *p = realloc(bytes, cap);
            if (!p) {
                free(bytes);
                fclose(f);
                cli_error("%s: out of memory", path);
                return CLI_EXIT_IO;
            }
            bytes = p;
        }
        size_t n = fread(bytes + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(bytes);
        cli_error("%s: read failed", path);
        return CLI_EXIT_IO;
    }
    char err[512];
    cd_status st = cd_boilerplate_load(bytes, len, model, err, sizeof err);
    free(bytes);
    if (st != CD_OK) {
        cli_error("%s: %s", path, err);
        return st == CD_ERR_FORMAT ? CLI_EXIT_BAD_INPUT : CLI_EXIT_IO;
    }
    return 0;
}

static int cmd_create(const index_options *o)
{
    cd_index_options io;
    cd_index_options_init(&io);
    io.threads = 1;
    cd_boilerplate *model = NULL;
    if (o->model) {
        int code = load_model(o->model, &model);
        if (code)
            return code;
        io.boilerplate = model;
    }
    cd_index *index;
    char err[600];
    cd_status st = cd_index_create(o->path, &o->params, &io, &index, err, sizeof err);
    cd_boilerplate_free(model);
    if (st != CD_OK) {
        cli_error("%s", err);
        return st == CD_ERR_ARG ? CLI_EXIT_USAGE : CLI_EXIT_IO;
    }
    const cd_params *p = cd_index_params(index);
    if (!o->quiet)
        cli_error("created %s: %s threshold %g, %u bands x %u rows of %u MinHash values, "
                  "%u-word shingles%s, seed %" PRIu64 "%s",
                  o->path, p->match == CD_MATCH_CONTAINMENT ? "containment" : "Jaccard",
                  p->threshold, p->bands, p->rows, p->perm, p->ngram,
                  p->lead_shingles ? ", lead bands" : "", p->seed,
                  p->with_title ? ", with titles" : "");
    cd_index_free(index);
    return CLI_EXIT_OK;
}

static void stats_time(int64_t t, char *out, size_t size)
{
    if (t == INT64_MIN)
        snprintf(out, size, "never");
    else
        format_time(t, out, size);
}

static int cmd_stats(const index_options *o)
{
    cd_index *index;
    int code = open_index(o, 0, 0, &index);
    if (code)
        return code;
    cd_index_stats s;
    if (cd_index_get_stats(index, &s) != CD_OK) {
        cli_error("%s", cd_index_errmsg(index));
        cd_index_free(index);
        return CLI_EXIT_IO;
    }
    const cd_params *p = cd_index_params(index);
    char evict[64], oldest[64], newest[64];
    stats_time(s.evict_before, evict, sizeof evict);
    format_time(s.oldest, oldest, sizeof oldest);
    format_time(s.newest, newest, sizeof newest);
    uint64_t bytes = s.checkpoint_bytes + s.log_bytes;
    if (o->json) {
        printf("{\"documents\":%zu,\"stories\":%zu,\"live_documents\":%zu,\"live_stories\":%zu,"
               "\"evicted_documents\":%zu,\"evicted_stories\":%zu,\"empty_documents\":%zu,"
               "\"undated_documents\":%zu,\"log_documents\":%zu,\"checkpoint_bytes\":%" PRIu64
               ",\"log_bytes\":%" PRIu64 ",\"generation\":%" PRIu64 ",",
               s.documents, s.stories, s.live_documents, s.live_stories, s.evicted_documents,
               s.evicted_stories, s.empty_documents, s.undated_documents, s.log_documents,
               s.checkpoint_bytes, s.log_bytes, s.generation);
        if (s.evict_before == INT64_MIN)
            printf("\"evict_before\":null,");
        else
            printf("\"evict_before\":\"%s\",", evict);
        printf("\"oldest\":\"%s\",\"newest\":\"%s\",\"parameters\":{\"threshold\":%g,"
               "\"ngram\":%u,\"perm\":%u,\"bands\":%u,\"rows\":%u,\"seed\":%" PRIu64
               ",\"with_title\":%s,\"max_bucket\":%zu,\"char_ngram\":%u,\"html\":%s,"
               "\"match\":\"%s\",\"min_containment\":%u,\"lead_shingles\":%u,"
               "\"lead_threshold\":%g,\"minhash_scheme\":%d,\"normalise_version\":%d,"
               "\"boilerplate_model\":%s}}\n",
               oldest, newest, p->threshold, p->ngram, p->perm, p->bands, p->rows, p->seed,
               p->with_title ? "true" : "false", p->max_bucket, p->char_ngram,
               p->extract_html ? "true" : "false",
               p->match == CD_MATCH_CONTAINMENT ? "containment" : "jaccard",
               p->min_containment_shingles, p->lead_shingles, p->lead_threshold,
               (int)p->minhash_scheme, CD_NORMALISE_VERSION,
               cd_index_boilerplate(index) ? "true" : "false");
    } else {
        printf("index         %s\n", o->path);
        printf("documents     %zu (live %zu, evicted %zu; %zu empty, %zu undated)\n", s.documents,
               s.live_documents, s.evicted_documents, s.empty_documents, s.undated_documents);
        printf("stories       %zu (live %zu, evicted %zu)\n", s.stories, s.live_stories,
               s.evicted_stories);
        if (s.documents)
            printf("dates         %s to %s\n", oldest, newest);
        if (s.evict_before == INT64_MIN)
            printf("evicted       nothing yet\n");
        else
            printf("evicted       stories last seen before %s\n", evict);
        printf("size on disk  %" PRIu64 " bytes (checkpoint %" PRIu64 ", log %" PRIu64
               " with %zu documents)",
               bytes, s.checkpoint_bytes, s.log_bytes, s.log_documents);
        if (s.documents)
            printf(", %.0f bytes per document", (double)bytes / s.documents);
        printf("\ncheckpoints   %" PRIu64 "\n", s.generation);
        printf("parameters    %s >= %g (estimated from the signatures",
               p->match == CD_MATCH_CONTAINMENT ? "containment" : "Jaccard", p->threshold);
        if (p->match == CD_MATCH_CONTAINMENT)
            printf("; Jaccard below %u shingles", p->min_containment_shingles);
        printf("), %u-word shingles (%u characters in Han, Kana, Hangul, Thai), %u MinHash values "
               "(scheme %d), %u bands x %u rows",
               p->ngram, p->char_ngram, p->perm, (int)p->minhash_scheme, p->bands, p->rows);
        if (p->lead_shingles)
            printf(", leads of %u shingles aimed at Jaccard %g", p->lead_shingles,
                   p->lead_threshold);
        printf(", seed %" PRIu64 ", titles %s, HTML %s, max bucket %zu, normalisation version %d\n",
               p->seed, p->with_title ? "on" : "off", p->extract_html ? "auto" : "off",
               p->max_bucket, CD_NORMALISE_VERSION);
        const cd_boilerplate *model = cd_index_boilerplate(index);
        if (model) {
            cd_boilerplate_info info;
            cd_boilerplate_get_info(model, &info);
            printf("boilerplate   a stored model: %zu chrome lines of %zu sources, learned from "
                   "%" PRIu64 " documents\n",
                   info.lines, info.sources, info.documents);
        } else {
            printf("boilerplate   no model (nothing removed)\n");
        }
    }
    cd_index_free(index);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_IO;
}

static int cmd_evict(const index_options *o)
{
    int64_t before;
    if (o->before) {
        if (!cd_parse_date((cd_str){o->before, strlen(o->before)}, &before)) {
            cli_error("--before: expected an ISO 8601 or RFC 2822 date, got '%s'", o->before);
            return CLI_EXIT_USAGE;
        }
    } else {
        int64_t window;
        if (parse_window(o->window, &window) != 0) {
            cli_error("--window: expected a number with s, m, h, d or w (7d), got '%s'", o->window);
            return CLI_EXIT_USAGE;
        }
        before = (int64_t)time(NULL) - window;
    }
    cd_index *index;
    int code = open_index(o, 1, 0, &index);
    if (code)
        return code;
    size_t stories, docs;
    if (cd_index_evict(index, before, &stories, &docs) != CD_OK) {
        cli_error("%s", cd_index_errmsg(index));
        cd_index_free(index);
        return CLI_EXIT_IO;
    }
    char when[64];
    format_time(before, when, sizeof when);
    if (!o->quiet)
        cli_error("evicted %zu stories (%zu documents) last seen before %s; 'copydesk index "
                  "compact' reclaims their space",
                  stories, docs, when);
    cd_index_free(index);
    return CLI_EXIT_OK;
}

static int cmd_compact(const index_options *o)
{
    cd_index *index;
    int code = open_index(o, 1, 0, &index);
    if (code)
        return code;
    cd_index_stats before, after;
    if (cd_index_get_stats(index, &before) != CD_OK || cd_index_compact(index) != CD_OK ||
        cd_index_get_stats(index, &after) != CD_OK) {
        cli_error("%s", cd_index_errmsg(index));
        cd_index_free(index);
        return CLI_EXIT_IO;
    }
    if (!o->quiet)
        cli_error("compacted %s: %zu documents in %zu stories kept, %zu documents of %zu evicted "
                  "stories dropped; %" PRIu64 " bytes on disk, was %" PRIu64,
                  o->path, after.documents, after.stories, before.evicted_documents,
                  before.evicted_stories, after.checkpoint_bytes + after.log_bytes,
                  before.checkpoint_bytes + before.log_bytes);
    cd_index_free(index);
    return CLI_EXIT_OK;
}

static int cmd_verify(const index_options *o)
{
    cd_index *index;
    int code = open_index(o, 0, 1, &index);
    if (code)
        return code;
    cd_index_stats s;
    if (cd_index_get_stats(index, &s) != CD_OK) {
        cli_error("%s", cd_index_errmsg(index));
        cd_index_free(index);
        return CLI_EXIT_IO;
    }
    if (!o->quiet)
        cli_error("%s: ok: %zu documents, %zu stories, every checksum verified", o->path,
                  s.documents, s.stories);
    cd_index_free(index);
    return CLI_EXIT_OK;
}

static int cmd_dump(const index_options *o)
{
    cd_index *index;
    int code = open_index(o, 0, 0, &index);
    if (code)
        return code;
    size_t n = cd_index_doc_count(index);
    for (size_t d = 0; d < n; d++) {
        cd_index_doc_info info;
        if (cd_index_doc(index, d, &info) != CD_OK) {
            cli_error("%s", cd_index_errmsg(index));
            cd_index_free(index);
            return CLI_EXIT_IO;
        }
        const char *story = cd_index_doc_id(index, info.story_doc);
        char when[64];
        format_time(info.time, when, sizeof when);
        fputs("{\"id\":", stdout);
        cli_write_json_string(stdout, info.id, strlen(info.id));
        fputs(",\"story\":", stdout);
        cli_write_json_string(stdout, story ? story : "", story ? strlen(story) : 0);
        printf(",\"similarity\":%.4f,\"time\":\"%s\",\"evicted\":%s}\n", info.similarity, when,
               info.evicted ? "true" : "false");
    }
    cd_index_free(index);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_IO;
}

int cli_index(int argc, char **argv)
{
    index_options o;
    int code = parse_options(&o, argc, argv);
    if (code >= 0)
        return code;
    switch (o.cmd) {
    case CMD_CREATE:
        return cmd_create(&o);
    case CMD_ADD:
    case CMD_QUERY:
        return cmd_add_query(&o);
    case CMD_STATS:
        return cmd_stats(&o);
    case CMD_EVICT:
        return cmd_evict(&o);
    case CMD_COMPACT:
        return cmd_compact(&o);
    case CMD_VERIFY:
        return cmd_verify(&o);
    case CMD_DUMP:
        return cmd_dump(&o);
    }
    return CLI_EXIT_USAGE;
}
