/* run_options.c: argv parsing for dedup, cluster and pairs. */
#include "run_options.h"

#include <ctype.h>
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
    "  --threshold T        score of copies (see --match), 0 < T <= 1 (0.8)\n"
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
    "  --char-ngram N       characters per shingle in Han, Kana, Hangul and Thai (3)\n"
    "  --match M            jaccard | containment: |A&B|/|A|, A the smaller (%s)\n"
    "  --min-containment N  shortest document (in shingles) matched by containment (%u)\n"
    "  --lead-shingles N    also find pairs whose first N shingles are similar; 0 = off (%u)\n"
    "  --lead-threshold T   Jaccard of those leads aimed at (%.2f)\n"
    "  --verify V           estimate (from the signatures) | exact (from the shingle\n"
    "                       sets, kept in memory) (%s)\n"
    "  --min-line-tokens N  verify exact: leave lines of fewer tokens out of the sets (%u)\n"
    "  --cluster C          components | star: members must match the representative (%s)\n"
    "boilerplate (page chrome):\n"
    "  --boilerplate on|off learn the chrome of the corpus and remove it (on)\n"
    "  --boilerplate-load FILE   remove the chrome of a saved model instead of learning\n"
    "  --boilerplate-save FILE   save the model used (atomically)\n"
    "  --boilerplate-min-stories N  a line is chrome of a source from N different\n"
    "                       stories of that source (%u)\n"
    "  --boilerplate-min-sources N  and of every source from N sources (%u)\n"
    "  --html auto|off      reduce texts that look like HTML to their main text (auto)\n"
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
    "  --memory SIZE        room for the texts kept while learning the chrome, e.g. 512M\n"
    "                       or 8G (an eighth of the RAM); past it, regular input files\n"
    "                       are read twice instead, with the same results\n"
    "  --progress, --no-progress   progress line on stderr (on when stderr is a terminal)\n"
    "  --quiet              no summary on stderr\n"
    "  --verbose            LSH parameters, S-curve midpoint and memory per document\n"
    "  -h, --help\n";

enum {
    OPT_KEEP = 256, OPT_REMOVED, OPT_ALL, OPT_PER_DOC, OPT_THREADS, OPT_PROGRESS, OPT_NO_PROGRESS,
    OPT_QUIET, OPT_VERBOSE, OPT_VERIFY, OPT_CLUSTER, OPT_BOILERPLATE, OPT_BOILERPLATE_LOAD,
    OPT_BOILERPLATE_SAVE, OPT_BP_MIN_STORIES, OPT_BP_MIN_SOURCES, OPT_HTML, OPT_MIN_LINE_TOKENS, OPT_MEMORY,
};

static const struct option long_options[] = {
    CLI_SIMILARITY_OPTIONS,
    CLI_INPUT_OPTIONS,
    {"keep", required_argument, NULL, OPT_KEEP},
    {"output", required_argument, NULL, 'o'},
    {"removed", required_argument, NULL, OPT_REMOVED},
    {"all", no_argument, NULL, OPT_ALL},
    {"per-doc", no_argument, NULL, OPT_PER_DOC},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"verify", required_argument, NULL, OPT_VERIFY},
    {"cluster", required_argument, NULL, OPT_CLUSTER},
    {"min-line-tokens", required_argument, NULL, OPT_MIN_LINE_TOKENS},
    {"boilerplate", required_argument, NULL, OPT_BOILERPLATE},
    {"boilerplate-load", required_argument, NULL, OPT_BOILERPLATE_LOAD},
    {"boilerplate-save", required_argument, NULL, OPT_BOILERPLATE_SAVE},
    {"boilerplate-min-stories", required_argument, NULL, OPT_BP_MIN_STORIES},
    {"boilerplate-min-sources", required_argument, NULL, OPT_BP_MIN_SOURCES},
    {"html", required_argument, NULL, OPT_HTML},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Parses one of two words into 0 or 1. */
static int parse_choice(const char *option, const char *text, const char *zero, const char *one,
                        int *value)
{
    if (!strcmp(text, zero))
        *value = 0;
    else if (!strcmp(text, one))
        *value = 1;
    else {
        cli_error("--%s: expected %s or %s, got '%s'", option, zero, one, text);
        return -1;
    }
    return 0;
}

/* Parses a size in bytes: digits, then optionally K, M, G or T (powers of
 * 1024). Returns 0, or -1 after a message. */
static int parse_size(const char *option, const char *text, unsigned long long *bytes)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    static const char units[] = "KMGT";
    const char *unit = *end ? strchr(units, *end) : NULL;
    unsigned shift = unit ? 10 * (unsigned)(unit - units + 1) : 0;
    if (errno || end == text || !isdigit((unsigned char)text[0]) || (*end && (!unit || end[1])) ||
        n == 0 || n > (~0ull >> shift)) {
        cli_error("--%s: expected a size such as 512M or 8G, got '%s'", option, text);
        return -1;
    }
    *bytes = n << shift;
    return 0;
}

/* The batch commands' defaults beyond the library's (cd_params_init), chosen
 * by measurement on the bench corpus (README, "Choosing the defaults"):
 * excerpts are found by containment from their leading shingles, and exact
 * verification keeps updated versions of a story apart. */
static void batch_defaults(cd_params *p)
{
    p->match = CD_MATCH_CONTAINMENT;
    p->verify = CD_VERIFY_EXACT;
    p->lead_shingles = 100;
    p->lead_threshold = 0.3;
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
    batch_defaults(&o->params);
    cd_read_options_init(&o->read);
    o->progress = isatty(STDERR_FILENO);
    unsigned long long u;
    int c, choice;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", long_options, NULL)) != -1) {
        const char *name = cli_option_name(long_options, c);
        int shared = cli_parse_shared_option(name, optarg, &o->params, &o->read, &o->skip_errors);
        if (shared < 0)
            return CLI_EXIT_USAGE;
        if (shared > 0)
            continue;
        switch (c) {
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
        case 'o': o->output = optarg; break;
        case OPT_REMOVED: o->removed = optarg; break;
        case OPT_ALL: o->all = 1; break;
        case OPT_PER_DOC: o->per_doc = 1; break;
        case OPT_THREADS:
            if (cli_parse_unsigned(name, optarg, 1, 256, &u))
                return CLI_EXIT_USAGE;
            o->params.threads = (unsigned)u;
            break;
        case OPT_PROGRESS: o->progress = 1; break;
        case OPT_NO_PROGRESS: o->progress = 0; break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_VERBOSE: o->verbose = 1; break;
        case OPT_VERIFY:
            if (parse_choice(name, optarg, "estimate", "exact", &choice))
                return CLI_EXIT_USAGE;
            o->params.verify = choice ? CD_VERIFY_EXACT : CD_VERIFY_ESTIMATE;
            break;
        case OPT_MIN_LINE_TOKENS:
            if (cli_parse_unsigned(name, optarg, 0, 1000000, &u))
                return CLI_EXIT_USAGE;
            o->params.min_line_tokens = (unsigned)u;
            break;
        case OPT_CLUSTER:
            if (parse_choice(name, optarg, "components", "star", &choice))
                return CLI_EXIT_USAGE;
            o->params.cluster = choice ? CD_CLUSTER_STAR : CD_CLUSTER_COMPONENTS;
            break;
        case OPT_BOILERPLATE:
            if (parse_choice(name, optarg, "off", "on", &o->params.boilerplate))
                return CLI_EXIT_USAGE;
            break;
        case OPT_BOILERPLATE_LOAD: o->boilerplate_load = optarg; break;
        case OPT_BOILERPLATE_SAVE: o->boilerplate_save = optarg; break;
        case OPT_BP_MIN_STORIES:
            if (cli_parse_unsigned(name, optarg, 2, 1000000, &u))
                return CLI_EXIT_USAGE;
            o->params.boilerplate_min_stories = (unsigned)u;
            break;
        case OPT_BP_MIN_SOURCES:
            if (cli_parse_unsigned(name, optarg, 2, 1000000, &u))
                return CLI_EXIT_USAGE;
            o->params.boilerplate_min_sources = (unsigned)u;
            break;
        case OPT_HTML:
            if (parse_choice(name, optarg, "off", "auto", &o->params.extract_html))
                return CLI_EXIT_USAGE;
            break;
        case OPT_MEMORY:
            if (parse_size(name, optarg, &o->memory))
                return CLI_EXIT_USAGE;
            break;
        case 'h': {
            cd_params d;
            cd_params_init(&d);
            batch_defaults(&d);
            printf(help_text, command, mode_summary(o->mode),
                   d.match == CD_MATCH_CONTAINMENT ? "containment" : "jaccard",
                   d.min_containment_shingles, d.lead_shingles, d.lead_threshold,
                   d.verify == CD_VERIFY_EXACT ? "exact" : "estimate", d.min_line_tokens,
                   d.cluster == CD_CLUSTER_STAR ? "star" : "components", d.boilerplate_min_stories,
                   d.boilerplate_min_sources);
            return CLI_EXIT_OK;
        }
        case ':': cli_error("%s: option '%s' needs a value", command, argv[optind - 1]); return CLI_EXIT_USAGE;
        default: cli_error("%s: unknown option '%s' (try --help)", command, argv[optind - 1]); return CLI_EXIT_USAGE;
        }
    }
    if (o->removed && o->mode != MODE_DEDUP) {
        cli_error("--removed is an option of dedup");
        return CLI_EXIT_USAGE;
    }
    if (o->boilerplate_load && !o->params.boilerplate) {
        cli_error("--boilerplate-load needs --boilerplate on");
        return CLI_EXIT_USAGE;
    }
    if ((o->all || o->per_doc) && o->mode != MODE_CLUSTER) {
        cli_error("--all and --per-doc are options of cluster");
        return CLI_EXIT_USAGE;
    }
    /* resolved here, once: the engine then has no bands and rows left to
     * choose (a choice takes about a millisecond) */
    if (cli_resolve_params(&o->params, "") != 0)
        return CLI_EXIT_USAGE;
    cli_input_files(argc, argv, optind, &o->files, &o->file_count);
    return -1;
}
