/* run_options.c: argv parsing for dedup, cluster and pairs. */
#include "run_options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char help_text[] =
    "usage: copydesk %s [OPTIONS] [FILE...]\n"
    "\n"
    "Reads JSONL documents (gzip/zstd detected; '-' or no FILE = stdin) and %s\n"
    "\n"
    "similarity:\n"
    "  --threshold T        Jaccard similarity for copies, 0 < T <= 1 (0.8)\n"
    "  --ngram N            words per shingle (5)\n"
    "  --perm K             MinHash values per document (128)\n"
    "  --bands B --rows R   LSH bands and rows (chosen from the threshold)\n"
    "  --fp-weight W        weight of false positives when choosing B, R (0.5)\n"
    "  --fn-weight W        weight of false negatives when choosing B, R (0.5)\n"
    "  --seed S             hash seed (0)\n"
    "  --with-title         shingle the title with the text\n"
    "  --keep RULE          representative: earliest | longest | first (earliest)\n"
    "  --max-bucket N       compare LSH buckets over N documents to their first\n"
    "                       member only; 0 = no limit (2000)\n"
    "input:\n"
    "  --id-field F --text-field F --title-field F --date-field F\n"
    "  --source-field F --url-field F      JSON field names (id text title date source url)\n"
    "  --max-doc-bytes N    longest accepted input line (16777216)\n"
    "  --on-error fail|skip stop at the first bad line (exit 1) or skip it (fail)\n"
    "output:\n"
    "  -o, --output FILE    write here instead of stdout (atomically)\n"
    "  --removed FILE       dedup: one {\"id\",\"duplicate_of\",\"similarity\"} per removed document\n"
    "  --all                cluster: print singletons too\n"
    "  --per-doc            cluster: one {\"id\",\"cluster\",\"similarity\"} per document\n"
    "  --threads N          signing threads (all cores)\n"
    "  --progress, --no-progress   progress line on stderr (on when stderr is a terminal)\n"
    "  --quiet              no summary on stderr\n"
    "  --verbose            LSH parameters, S-curve midpoint and memory per document\n"
    "  -h, --help\n";

enum {
    OPT_THRESHOLD = 256, OPT_NGRAM, OPT_PERM, OPT_BANDS, OPT_ROWS, OPT_FP_WEIGHT, OPT_FN_WEIGHT,
    OPT_SEED, OPT_WITH_TITLE, OPT_KEEP, OPT_MAX_BUCKET, OPT_ID_FIELD, OPT_TEXT_FIELD,
    OPT_TITLE_FIELD, OPT_DATE_FIELD, OPT_SOURCE_FIELD, OPT_URL_FIELD, OPT_MAX_DOC_BYTES,
    OPT_ON_ERROR, OPT_REMOVED, OPT_ALL, OPT_PER_DOC, OPT_THREADS, OPT_PROGRESS,
    OPT_NO_PROGRESS, OPT_QUIET, OPT_VERBOSE,
};

static const struct option long_options[] = {
    {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"ngram", required_argument, NULL, OPT_NGRAM},
    {"perm", required_argument, NULL, OPT_PERM},
    {"bands", required_argument, NULL, OPT_BANDS},
    {"rows", required_argument, NULL, OPT_ROWS},
    {"fp-weight", required_argument, NULL, OPT_FP_WEIGHT},
    {"fn-weight", required_argument, NULL, OPT_FN_WEIGHT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"with-title", no_argument, NULL, OPT_WITH_TITLE},
    {"keep", required_argument, NULL, OPT_KEEP},
    {"max-bucket", required_argument, NULL, OPT_MAX_BUCKET},
    {"id-field", required_argument, NULL, OPT_ID_FIELD},
    {"text-field", required_argument, NULL, OPT_TEXT_FIELD},
    {"title-field", required_argument, NULL, OPT_TITLE_FIELD},
    {"date-field", required_argument, NULL, OPT_DATE_FIELD},
    {"source-field", required_argument, NULL, OPT_SOURCE_FIELD},
    {"url-field", required_argument, NULL, OPT_URL_FIELD},
    {"max-doc-bytes", required_argument, NULL, OPT_MAX_DOC_BYTES},
    {"on-error", required_argument, NULL, OPT_ON_ERROR},
    {"output", required_argument, NULL, 'o'},
    {"removed", required_argument, NULL, OPT_REMOVED},
    {"all", no_argument, NULL, OPT_ALL},
    {"per-doc", no_argument, NULL, OPT_PER_DOC},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Parses a whole unsigned decimal number within [min, max]. */
static int parse_unsigned(const char *option, const char *text, unsigned long long min,
                          unsigned long long max, unsigned long long *value)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v < min || v > max) {
        cli_error("--%s: expected a whole number from %llu to %llu, got '%s'", option, min, max,
                  text);
        return -1;
    }
    *value = v;
    return 0;
}

static int parse_double(const char *option, const char *text, double *value)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end) {
        cli_error("--%s: expected a number, got '%s'", option, text);
        return -1;
    }
    *value = v;
    return 0;
}

static const char *mode_summary(run_mode mode)
{
    switch (mode) {
    case MODE_DEDUP: return "prints one copy per story, input lines byte-exact.";
    case MODE_CLUSTER: return "prints one JSON line per cluster of copies.";
    case MODE_PAIRS: return "prints one JSON line per verified pair of copies.";
    }
    return "";
}

int run_options_parse(run_options *o, int argc, char **argv)
{
    const char *command = argv[0];
    memset(o, 0, sizeof *o);
    o->mode = !strcmp(command, "dedup") ? MODE_DEDUP : !strcmp(command, "cluster") ? MODE_CLUSTER
                                                                                   : MODE_PAIRS;
    cd_params_init(&o->params);
    cd_read_options_init(&o->read);
    o->progress = isatty(STDERR_FILENO);
    unsigned long long u;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", long_options, NULL)) != -1) {
        const char *name = NULL;
        for (const struct option *lo = long_options; lo->name; lo++)
            if (lo->val == c)
                name = lo->name;
        switch (c) {
        case OPT_THRESHOLD:
            if (parse_double(name, optarg, &o->params.threshold))
                return CLI_EXIT_USAGE;
            break;
        case OPT_NGRAM:
            if (parse_unsigned(name, optarg, 1, 32, &u))
                return CLI_EXIT_USAGE;
            o->params.ngram = (unsigned)u;
            break;
        case OPT_PERM:
            if (parse_unsigned(name, optarg, 1, 1024, &u))
                return CLI_EXIT_USAGE;
            o->params.perm = (unsigned)u;
            break;
        case OPT_BANDS:
            if (parse_unsigned(name, optarg, 1, 1024, &u))
                return CLI_EXIT_USAGE;
            o->params.bands = (unsigned)u;
            break;
        case OPT_ROWS:
            if (parse_unsigned(name, optarg, 1, 1024, &u))
                return CLI_EXIT_USAGE;
            o->params.rows = (unsigned)u;
            break;
        case OPT_FP_WEIGHT:
            if (parse_double(name, optarg, &o->params.fp_weight))
                return CLI_EXIT_USAGE;
            break;
        case OPT_FN_WEIGHT:
            if (parse_double(name, optarg, &o->params.fn_weight))
                return CLI_EXIT_USAGE;
            break;
        case OPT_SEED:
            if (parse_unsigned(name, optarg, 0, UINT64_MAX, &u))
                return CLI_EXIT_USAGE;
            o->params.seed = u;
            break;
        case OPT_WITH_TITLE: o->params.with_title = 1; break;
        case OPT_KEEP:
            if (!strcmp(optarg, "earliest"))
                o->params.keep = CD_KEEP_EARLIEST;
            else if (!strcmp(optarg, "longest"))
                o->params.keep = CD_KEEP_LONGEST;
            else if (!strcmp(optarg, "first"))
                o->params.keep = CD_KEEP_FIRST;
            else {
                cli_error("--keep: expected earliest, longest or first, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_MAX_BUCKET:
            if (parse_unsigned(name, optarg, 0, UINT32_MAX, &u))
                return CLI_EXIT_USAGE;
            o->params.max_bucket = (size_t)u;
            break;
        case OPT_ID_FIELD: o->read.id_field = optarg; break;
        case OPT_TEXT_FIELD: o->read.text_field = optarg; break;
        case OPT_TITLE_FIELD: o->read.title_field = optarg; break;
        case OPT_DATE_FIELD: o->read.date_field = optarg; break;
        case OPT_SOURCE_FIELD: o->read.source_field = optarg; break;
        case OPT_URL_FIELD: o->read.url_field = optarg; break;
        case OPT_MAX_DOC_BYTES:
            if (parse_unsigned(name, optarg, 1, (unsigned long long)1 << 40, &u))
                return CLI_EXIT_USAGE;
            o->read.max_doc_bytes = (size_t)u;
            break;
        case OPT_ON_ERROR:
            if (!strcmp(optarg, "fail"))
                o->skip_errors = 0;
            else if (!strcmp(optarg, "skip"))
                o->skip_errors = 1;
            else {
                cli_error("--on-error: expected fail or skip, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'o': o->output = optarg; break;
        case OPT_REMOVED: o->removed = optarg; break;
        case OPT_ALL: o->all = 1; break;
        case OPT_PER_DOC: o->per_doc = 1; break;
        case OPT_THREADS:
            if (parse_unsigned(name, optarg, 1, 256, &u))
                return CLI_EXIT_USAGE;
            o->params.threads = (unsigned)u;
            break;
        case OPT_PROGRESS: o->progress = 1; break;
        case OPT_NO_PROGRESS: o->progress = 0; break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_VERBOSE: o->verbose = 1; break;
        case 'h': printf(help_text, command, mode_summary(o->mode)); return CLI_EXIT_OK;
        case ':': cli_error("%s: option '%s' needs a value", command, argv[optind - 1]); return CLI_EXIT_USAGE;
        default: cli_error("%s: unknown option '%s' (try --help)", command, argv[optind - 1]); return CLI_EXIT_USAGE;
        }
    }
    if (o->removed && o->mode != MODE_DEDUP) {
        cli_error("--removed is an option of dedup");
        return CLI_EXIT_USAGE;
    }
    if ((o->all || o->per_doc) && o->mode != MODE_CLUSTER) {
        cli_error("--all and --per-doc are options of cluster");
        return CLI_EXIT_USAGE;
    }
    char err[256];
    cd_params check = o->params;
    if (cd_params_resolve(&check, err, sizeof err) != CD_OK) {
        cli_error("%s", err);
        return CLI_EXIT_USAGE;
    }
    static const char *stdin_only[] = {"-"};
    o->files = optind < argc ? (const char **)argv + optind : stdin_only;
    o->file_count = optind < argc ? argc - optind : 1;
    return -1;
}
